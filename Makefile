# Two entry points for a fresh machine (see README):
#   make run   -- set up everything and run the main job on the embedded default
#   make test  -- run every test (unit tests + cocotb testbenches)
PYTHON ?= python3
OUT ?= out

.PHONY: setup run sim test bench classifiers clean

setup:
	bash .ci/setup

run: setup
	$(PYTHON) -m sw.demo --out $(OUT)
	$(PYTHON) -m sw.train_dnn --cohort $(OUT)/cohort --out $(OUT)/dnn4

sim: setup
	$(PYTHON) -m sim.summary $(if $(WAVES),--waves)

test: setup
	$(PYTHON) -m pytest -q -n 2 tests sim

bench:
	$(PYTHON) -m bench.emg_bench
	$(PYTHON) -m bench.eeg_bench
	$(PYTHON) -m bench.dnn_bench --dir $(OUT)/dnn4/c
	$(PYTHON) -m bench.dnn_compare --model $(OUT)/dnn4 --cohort $(OUT)/cohort

classifiers: setup
	$(PYTHON) -m sw.train_all --cohort $(OUT)/cohort --out $(OUT)/classifiers

clean:
	rm -rf sim_build $(OUT) .pytest_cache
