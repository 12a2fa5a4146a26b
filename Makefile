# Two entry points for a fresh machine (see README):
#   make run   -- set up everything and run the main job on the embedded default
#   make test  -- lint (import floors, ruff), then every test (unit tests + cocotb testbenches)
PYTHON ?= python3
OUT ?= out

.PHONY: setup run sim lint test bench validate classifiers fog har stress headers clean

setup:
	bash .ci/setup

# --force: a second run replaces the files the first one wrote (and nothing else)
run: setup
	$(PYTHON) -m sw.demo --out $(OUT) --force
	$(PYTHON) -m sw.train_dnn --cohort $(OUT)/cohort --out $(OUT)/dnn4 --force

sim: setup
	$(PYTHON) -m sim.summary $(if $(WAVES),--waves)

# imports only go down the floors (pyproject [tool.importlinter]) and ruff is clean
lint: setup
	lint-imports
	ruff check

# --dist loadgroup (groups set in tests/conftest.py): all tests of a file on one worker, so what
# a file builds once (the models of tests/test_c_models.py, a system_top simulator build) is not
# built again on the other, and every test of the small synthetic cohort on one worker
test: setup lint
	$(PYTHON) -m pytest -q -n 2 --dist loadgroup --durations=15 tests

# measured figures -> bench/results/REPORT.md + bench/results/report.json + plots (a few minutes;
# uses out/cohort when `make run` built it, else a reduced cohort)
# TFLM_ARM_EXE / TFLM_SRC: TFLite Micro for the ARM (built from a tflite-micro checkout by
# bench.dnn_compare) -- its ARM instruction counts; left out when neither exists
TFLM_ARM_EXE ?= $(OUT)/tflm_arm
TFLM_SRC ?=
bench:
	$(PYTHON) -m bench.report --force --cohort $(OUT)/cohort --work $(OUT)/bench \
		--fog-model $(OUT)/fog --fog-seq-model $(OUT)/fog_yi_hwang --har-model $(OUT)/har \
		--stress-model $(OUT)/stress $(MODEL_DOCS) \
		$(if $(wildcard $(TFLM_ARM_EXE)),--tflm-arm-exe $(TFLM_ARM_EXE),$(if $(TFLM_SRC),--tflm-src $(TFLM_SRC)))

# the real-recording validation alone -> bench/results/VALIDATION.md + bench/results/validation.json
validate:
	$(PYTHON) -m bench.validate --force

# the wearable models: each run rewrites its figure blocks in README.md (one-line summary) and
# docs/wearable-models.md (full table); several minutes each
MODEL_DOCS = --readme README.md --readme docs/wearable-models.md

# stress from wrist physiology on Stress-Predict (leave-subjects-out; ~7 min)
stress: setup
	$(PYTHON) -m sw.train_stress --out $(OUT)/stress --force $(MODEL_DOCS)

# activity recognition on UCI HAPT (subject-wise 5-fold; ~7 min)
har: setup
	$(PYTHON) -m sw.train_har --out $(OUT)/har --force $(MODEL_DOCS)

# the freezing-of-gait detectors on Daphnet (leave-one-subject-out): logspec (default, ~2 min)
# and Yi & Hwang's CNN-GRU (pruned + int8 deployed; ~16 min)
fog: setup
	$(PYTHON) -m sw.train_fog --out $(OUT)/fog --force $(MODEL_DOCS)
	$(PYTHON) -m sw.train_fog --model yi_hwang --threshold train --deploy pruned_int8 \
		--out $(OUT)/fog_yi_hwang --force $(MODEL_DOCS)

classifiers: setup
	$(PYTHON) -m sw.train_all --cohort $(OUT)/cohort --out $(OUT)/classifiers --force

# boards/arm/wo_regs.h, boards/arm/wo_frames.h, docs/frames-and-registers.md from
# spec/registers.py + spec/frames.py (tests/test_generated.py fails when they are stale)
headers:
	$(PYTHON) -m boards.gen_headers

clean:
	rm -rf sim_build $(OUT) .pytest_cache
