"""The main job on the embedded default (``make run``): synthetic cohort -> sim -> features.

``python -m sw.demo [--out DIR] [--seed N] [--strides N] [--hdl-samples N]``

1. Generates a small SYNTHETIC cohort with :mod:`synthetic.emg_gen` and
   :mod:`synthetic.eeg_gen`: 2 subjects (one mild, one severe) x Pre/Post L-dopa x one
   walk of 8 EMG and 7 EEG channels.
2. Runs the golden EMG pipeline on every walk and writes the per-stride CSV of
   each (``DIR/strides_<subject>_<session>.csv``, columns of ``sw.extract emg``)
   plus the generator's ground truth beside it (``..._truth.csv``); then the
   golden EEG branch, triggered by the LG onsets the EMG branch found
   (``DIR/mrp_<subject>_<session>.csv``: BP, mu, beta dBuV per trigger and site, the
   columns of ``sw.extract eeg``).
3. Replays the start of one walk through the simulated gateware of both branches
   (cocotb + Icarus) and checks that every output is identical to the golden models.
4. Prints Pre vs Post means of the features -- figures from synthetic data.

The classifier steps of the chain (cohort -> Table 1 -> DNN4 -> C for the
Cortex-A9) are ``python -m sw.train_dnn``, which ``make run`` runs next.
"""

import os
import sys
import time

import numpy as np

from golden.eeg_mrp_model import BANDS, EEGParams, db_from_q
from golden.eeg_pipeline import MRP_CSV_COLUMNS, mrp_record_to_row, run_golden_eeg
from golden.emg_pipeline import run_golden
from golden.fabric_pipeline import lg_onset_trigger
from golden.stride_indexes_model import CSV_COLUMNS, record_to_row
from spec.channels import EEG_CHANNELS, MUSCLES
from spec.cli import HANDLED, error_status, fail, parser
from spec.constants import CLOCK_HZ, DEFAULT_OUT
from spec.outputs import OutputFolder, write_csv_atomic
from synthetic.eeg_gen import generate_eeg
from synthetic.emg_gen import generate_walk, make_subject

PROG = "sw.demo"
SUBJECTS = (("S1", "mild"), ("S2", "severe"))
#: what an --out folder held before output folders carried a marker: this tool's CSVs and the
#: folders the next steps of make run write there (kept; only same-named files are replaced)
LEGACY = ("strides_*.csv", "mrp_*.csv", "cohort", "dnn*", "tuned", "classifiers", "bench")


def main(argv=None):
    ap = parser(PROG, __doc__.splitlines()[0])
    ap.add_argument("--out", default=str(DEFAULT_OUT),
                    help=f"output folder (default: {DEFAULT_OUT})")
    ap.add_argument("--force", action="store_true",
                    help="replace this tool's earlier files in --out (make run passes it)")
    ap.add_argument("--seed", type=int, default=2024)
    ap.add_argument("--strides", type=int, default=60, help="strides per walk (default 60)")
    ap.add_argument("--hdl-samples", type=int, default=3000,
                    help="samples replayed through the gateware simulation (0 = skip)")
    a = ap.parse_args(argv)
    if a.strides < 2:
        return fail(PROG, "--strides must be at least 2")
    try:
        folder = OutputFolder(a.out, PROG, force=a.force, legacy=LEGACY, shared=True)
        with folder as tmp:
            rc = _run(a, tmp)
            if rc:
                raise _Failed(rc)
    except _Failed as e:
        return e.rc
    except HANDLED as e:
        return error_status(PROG, e)
    print(f"done: outputs in {a.out}/")
    return 0


class _Failed(Exception):
    def __init__(self, rc):
        self.rc = rc


def _run(a, tmp):
    """Steps 1-3, files into the temporary folder ``tmp`` (shown to the user as ``a.out``)."""
    print(f"== 1. synthetic cohort (SYNTHETIC data): {len(SUBJECTS)} subjects x pre/post x "
          f"{a.strides} strides, seed {a.seed}")
    feats = {"pre": [], "post": []}
    mrp = {"pre": [], "post": []}
    first = None
    for k, (sid, sev) in enumerate(SUBJECTS):
        subj = make_subject(a.seed + k, sev)
        for j, session in enumerate(("pre", "post")):
            w = generate_walk(a.seed * 10 + 2 * k + j, session, a.strides, subject=subj)
            t0 = time.perf_counter()
            trig, recs = run_golden(w.emg)
            dt = time.perf_counter() - t0
            onsets = lg_onset_trigger(trig)
            eeg = generate_eeg(a.seed * 10 + 2 * k + j, n_samples=len(w.emg),
                               movement_onsets=np.flatnonzero(onsets), condition=session,
                               subject_seed=a.seed + k)
            erecs = run_golden_eeg(eeg.eeg, onsets, params=EEGParams(eeg.uv_per_lsb))
            write_csv_atomic(os.path.join(tmp, f"mrp_{sid}_{session}.csv"), MRP_CSV_COLUMNS,
                             [mrp_record_to_row(r) for r in erecs])
            mrp[session] += [r for r in erecs if not r["partial"]]
            first = first or (w, eeg, onsets)
            rows = [record_to_row(r) for r in recs]
            base = os.path.join(tmp, f"strides_{sid}_{session}")
            shown = os.path.join(a.out, f"strides_{sid}_{session}")
            write_csv_atomic(base + ".csv", CSV_COLUMNS, rows)
            truth_cols = [c for c in CSV_COLUMNS if c in w.strides[0]] if w.strides else []
            write_csv_atomic(
                base + "_truth.csv",
                ["leg", "start"] + truth_cols[1:] if truth_cols else ["leg"],
                [{c: t[c] for c in (["leg", "start"] + truth_cols[1:])} for t in w.strides],
            )
            feats[session] += [r for r in recs if not r["overflow"]]
            print(
                f"   {sid} ({sev}) {session:<4}: {len(w.emg)} samples, {len(recs)} strides "
                f"(truth {len(w.strides)}), golden model {len(w.emg) / dt:,.0f} samples/s -> "
                f"{shown}.csv; "
                f"{int(onsets.sum())} EEG triggers x {len(EEG_CHANNELS)} sites"
            )

    print("== 2. gateware simulation vs golden model")
    if a.hdl_samples > 0:
        from sim.hdl_build import simulator_missing
        hint = simulator_missing()
        if hint:
            print(f"   skipped: {hint}")
        else:
            from sim.eeg_hdl_engine import run_hdl_eeg
            from sim.emg_hdl_engine import run_hdl
            w, eeg, onsets = first
            x = w.emg[:a.hdl_samples]
            t0 = time.perf_counter()
            th, rh = run_hdl(x)
            dt = time.perf_counter() - t0
            tg, rg = run_golden(x)
            same = np.array_equal(th, tg) and rh == rg
            print(f"   {len(x)} samples in {dt:.1f} s: triggers and {len(rh)} stride records "
                  f"{'IDENTICAL' if same else 'DIFFER'} to the bit-exact model")
            if not same:
                return fail(PROG, "EMG gateware differs from the bit-exact model "
                                  f"on the first {len(x)} samples", 1)
            t0 = time.perf_counter()
            params = EEGParams(eeg.uv_per_lsb)
            eh, cycles = run_hdl_eeg(eeg.eeg[:a.hdl_samples], onsets[:a.hdl_samples], params=params,
                                     return_cycles=True)
            dt = time.perf_counter() - t0
            same = eh == run_golden_eeg(
                eeg.eeg[: a.hdl_samples], onsets[: a.hdl_samples], params=params
            )
            print(
                f"   EEG: {len(eh)} MRP records in {dt:.1f} s, "
                f"{'IDENTICAL' if same else 'DIFFER'} to the "
                f"bit-exact model; {cycles.max():.0f} cycles "
                f"({cycles.max() / (CLOCK_HZ / 1e6):.0f} us at "
                f"{CLOCK_HZ / 1e6:.0f} MHz) "
                "from trigger to last record"
            )
            if not same:
                return fail(PROG, "EEG gateware differs from the bit-exact model "
                                  f"on the first {a.hdl_samples} samples", 1)

    print("== 3. features, Pre vs Post L-dopa (SYNTHETIC cohort; means over strides)")
    cols = [("stride_time", 2, "ms")] + [(f"{m}_duty", 0.01, "%") for m in MUSCLES] + \
        [("cocon_LG_TA", 2, "ms"), ("cocon_BF_RF", 2, "ms")]
    print(f"   {'feature':<14}{'pre':>10}{'post':>10}")
    for name, scale, unit in cols:
        vals = [np.mean([r[name] for r in feats[s]]) * scale if feats[s] else float("nan")
                for s in ("pre", "post")]
        print(f"   {name + ' (' + unit + ')':<14}{vals[0]:>10.1f}{vals[1]:>10.1f}")
    print("   cortical features (SYNTHETIC; mean over triggers and sites, dBuV)")
    for b in BANDS:
        vals = [np.mean(db_from_q([r[b] for r in mrp[s]])) if mrp[s] else float("nan")
                for s in ("pre", "post")]
        print(f"   {b + ' (dBuV)':<14}{vals[0]:>10.1f}{vals[1]:>10.1f}")
    print("== next: python -m sw.train_dnn (cohort -> Table 1 -> DNN4 -> C), run by make run")
    return 0


if __name__ == "__main__":
    sys.exit(main())
