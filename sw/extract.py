"""Run the fabric pipeline on a user's own recording.

Usage::

    python -m sw.extract emg RECORDING [--fs HZ] [--map SLOT=COLUMN,...]
                             [--stride-ref LG|TA|BF|RF] [--full-scale X]
                             [--engine golden|hdl] [-o OUT.csv]

Example on the shared UCI data (one leg, RF and BF only; BF onset as stride
marker because the file has no gastrocnemius)::

    python -m sw.extract emg ../shared/data/emg-lower-limb-uci/1Nmar.txt --fs 1000 \\
        --map R_RF=RF,R_BF=BF --stride-ref BF -o 1N_strides.csv

The output CSV has one row per completed stride (columns
:data:`sw.stride_indexes_model.CSV_COLUMNS`): ``leg``, ``start_s``,
``stride_time_ms``, per muscle ``{m}_contraction_ms``, ``{m}_relaxation_ms``,
``{m}_duty_pct``, ``cocon_LG_TA_ms``, ``cocon_BF_RF_ms``, ``flags``. Muscles that
are not mapped are absent: their cells are empty, never zero. A leg with no
mapped stride-reference muscle is reported absent and has no rows.

``--engine golden`` (default) runs the bit-exact model; ``--engine hdl`` replays
the samples through the simulated Amaranth gateware (needs Icarus Verilog and
cocotb: ``make setup``). Both write identical files.

Errors in the input (missing file, empty file, unknown column, NaN or empty
cells, non-monotonic time, bad sample rate) print one line on stderr and exit
with status 2; no output file is written.
"""

import argparse
import csv
import os
import sys
import tempfile

import numpy as np

from .channels import EMG_CHANNELS, MUSCLES, LEGS, FS
from .recording import (InputError, TIME_NAMES, read_recording, parse_map, mapped_matrix,
                        resample_to_fabric_rate, to_fabric)
from .stride_indexes_model import CSV_COLUMNS, record_to_row

__all__ = ["main", "prepare_emg", "write_csv_atomic"]


def _progress_printer(label):
    last = [-1]

    def show(done, total):
        pct = int(100 * done / max(total, 1))
        if pct != last[0]:
            last[0] = pct
            print(f"\r{label}: {done}/{total} samples ({pct} %)", end="", file=sys.stderr,
                  flush=True)
            if done >= total:
                print(file=sys.stderr)
    return show


def prepare_emg(path, fs=None, map_spec=None, full_scale=None):
    """Load, map, resample and scale a recording.

    Returns ``(samples int16 (n, 8), present bool (8,), info dict)``.
    """
    rec = read_recording(path)
    if map_spec:
        mapping = parse_map(map_spec, EMG_CHANNELS)
    else:
        mapping = {s: s for s in EMG_CHANNELS if s in rec.columns}
        if not mapping:
            raise InputError(f"{path}: no column is named like a muscle slot "
                             f"({', '.join(EMG_CHANNELS)}); use --map SLOT=COLUMN,... "
                             f"(columns: {', '.join(rec.names)})")
    if fs is not None and rec.fs is not None and abs(fs - rec.fs) > 0.01 * fs:
        raise InputError(f"{path}: --fs {fs:g} disagrees with the time column ({rec.fs:g} Hz)")
    rate = fs if fs is not None else rec.fs
    if rate is None:
        raise InputError(f"{path}: no time column ({'/'.join(TIME_NAMES)}); "
                         "give the sample rate with --fs HZ")
    mat, trimmed = mapped_matrix(rec, mapping)
    x = resample_to_fabric_rate(mat, rate)
    counts, scale, clipped = to_fabric(x, full_scale)
    samples = np.zeros((len(counts), 8), np.int16)
    present = np.zeros(8, bool)
    for k, slot in enumerate(mapping):
        i = EMG_CHANNELS.index(slot)
        samples[:, i] = counts[:, k]
        present[i] = True
    info = dict(fs=rate, trimmed=trimmed, mapping=mapping,
                clipped={slot: int(c) for slot, c in zip(mapping, clipped)},
                scale={slot: float(s) for slot, s in zip(mapping, scale)})
    return samples, present, info


def write_csv_atomic(path, columns, rows):
    """Write a CSV through a temporary file and rename it into place."""
    path = os.path.abspath(path)
    fd, tmp = tempfile.mkstemp(prefix=".tmp-", suffix=".csv", dir=os.path.dirname(path))
    try:
        with os.fdopen(fd, "w", newline="") as f:
            w = csv.DictWriter(f, fieldnames=columns)
            w.writeheader()
            w.writerows(rows)
        os.replace(tmp, path)
    except BaseException:
        os.unlink(tmp)
        raise


def run_emg(args):
    ref = MUSCLES.index(args.stride_ref)
    samples, present, info = prepare_emg(args.recording, args.fs, args.map, args.full_scale)
    out = args.output or os.path.splitext(os.path.basename(args.recording))[0] + "_strides.csv"
    if not os.path.isdir(os.path.dirname(os.path.abspath(out))):
        raise InputError(f"output folder of {out} does not exist")
    if os.path.isdir(out):
        raise InputError(f"output {out} is a directory; give a file name with -o")
    n = len(samples)
    say = (lambda *a: None) if args.quiet else (lambda *a: print(*a, file=sys.stderr))
    say(f"{args.recording}: {n} samples at {FS} Hz ({n / FS:.1f} s) from {info['fs']:g} Hz"
        + (f", {info['trimmed']} trailing rows without EMG trimmed" if info["trimmed"] else ""))
    for slot, c in info["clipped"].items():
        if c:
            say(f"  {slot}: {c} samples clipped at the 16-bit rails")
    for leg, name in enumerate(LEGS):
        here = [m for k, m in enumerate(MUSCLES) if present[4 * leg + k]]
        if not present[4 * leg + ref]:
            say(f"  leg {name}: absent (no {name}_{args.stride_ref} to mark strides)"
                + (f"; {', '.join(here)} ignored" if here else ""))
        else:
            missing = [m for m in MUSCLES if m not in here]
            say(f"  leg {name}: " + ", ".join(here)
                + (f" (absent: {', '.join(missing)})" if missing else ""))
    if args.engine == "golden":
        from .emg_pipeline import run_golden
        trig, records = run_golden(samples, present, ref)
    else:
        try:
            from sim.emg_hdl_engine import run_hdl
            from sim.hdl_build import simulator_missing
        except ImportError as e:
            raise InputError(f"--engine hdl needs the simulation packages ({e.name}); run `make setup`") from None
        hint = simulator_missing()
        if hint:
            raise InputError(hint)
        trig, records = run_hdl(samples, present, ref,
                                progress=None if args.quiet else _progress_printer("hdl"))
    rows = [record_to_row(r) for r in records]
    write_csv_atomic(out, CSV_COLUMNS, rows)
    for leg, name in enumerate(LEGS):
        legrows = [r for r in records if r["leg"] == leg]
        if legrows:
            st = np.array([r["stride_time"] for r in legrows]) * 2
            say(f"  leg {name}: {len(legrows)} strides, stride time median {np.median(st):.0f} ms")
    say(f"wrote {len(rows)} strides to {out}")
    return 0


def build_parser():
    ap = argparse.ArgumentParser(prog="python -m sw.extract",
                                 description="Run the fabric feature extraction on a recording.")
    sub = ap.add_subparsers(dest="branch", required=True)
    e = sub.add_parser("emg", help="EMG triggers and per-stride muscular indexes",
                       description="EMG triggers and per-stride indexes -> per-stride CSV.")
    e.add_argument("recording", help="CSV/TSV with a header row, or a UCI lower-limb EMG .txt")
    e.add_argument("--fs", type=float, help="sample rate in Hz (when there is no time column)")
    e.add_argument("--map", help="SLOT=COLUMN pairs, e.g. R_LG=GL,R_TA=TA "
                                 f"(slots: {', '.join(EMG_CHANNELS)}); default: columns named like slots")
    e.add_argument("--stride-ref", default="LG", choices=MUSCLES,
                   help="muscle whose onset starts a stride (default LG, as in the paper)")
    e.add_argument("--full-scale", type=float, default=None,
                   help="file units mapped to int16 full scale (default: per-channel auto scaling)")
    e.add_argument("--engine", choices=("golden", "hdl"), default="golden",
                   help="golden = bit-exact model (default), hdl = simulated gateware")
    e.add_argument("-o", "--output", help="output CSV (default: RECORDING_strides.csv here)")
    e.add_argument("-q", "--quiet", action="store_true", help="no progress or summary")
    e.set_defaults(func=run_emg)
    return ap


def main(argv=None):
    args = build_parser().parse_args(argv)
    try:
        return args.func(args)
    except InputError as e:
        print(f"sw.extract: error: {e}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print("sw.extract: interrupted, nothing written", file=sys.stderr)
        return 130


if __name__ == "__main__":
    sys.exit(main())
