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
:data:`golden.stride_indexes_model.CSV_COLUMNS`): ``leg``, ``start_s``,
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

EEG branch::

    python -m sw.extract eeg RECORDING [--fs HZ] [--map SITE=LABEL,...] [--unit uV|mV|V]
                             [--uv-per-lsb X]
                             [--triggers-from annotations [--events T1,T2]
                              | --triggers FILE.csv
                              | --emg EMGFILE [--emg-fs HZ] [--emg-map SLOT=COLUMN,...]]
                             [--engine golden|hdl] [-o OUT.csv] [-q]

e.g. on the shared PhysioNet file (sites found under T7/T8/C3/C4/Cz/P3/P4, one
trigger per left/right fist cue)::

    python -m sw.extract eeg ../shared/data/eeg-motor-physionet/S001R03.edf -o S001R03_mrp.csv

RECORDING is EDF/EDF+C or CSV/TSV (see :mod:`sw.eeg_input`); it is resampled to
500 Hz and quantised to int16 at ``--uv-per-lsb`` µV per count (default 0.1,
the branch's :class:`golden.eeg_mrp_model.EEGParams`). Triggers come from exactly
one source: the EDF+ annotations (default for EDF: events ``T1,T2``), a CSV of
times (``time_s``/``time`` in s, or ``sample`` at 500 Hz), or the LG onsets of
the golden EMG branch on a simultaneous EMG recording (``--emg``, started at the
same time, same length to 1 s). The output has one row per trigger and present
site (columns :data:`golden.eeg_pipeline.MRP_CSV_COLUMNS`, rows from
:func:`golden.eeg_pipeline.mrp_record_to_row`): ``trigger_s``, ``index`` (500 Hz
frame), ``site``, ``BP_dBu``, ``mu_dBu``, ``beta_dBu`` (the branch's Q8.8 values
written exactly, ``-inf`` for an all-zero window) and ``flags`` (``partial``:
fewer than 256 frames before the trigger, the older samples count as zero).
Sites not mapped are absent: no rows.
"""

import os
import sys

import numpy as np

from golden.stride_indexes_model import CSV_COLUMNS, record_to_row
from spec.channels import EEG_CHANNELS, EMG_CHANNELS, FS, LEGS, MUSCLES
from spec.cli import InputError, fail, guard, one_line_errors, os_error_line, parser
from spec.outputs import check_output_file, write_csv_atomic
from sw.recording import prepare_emg

__all__ = ["main"]

PROG = "sw.extract"


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


def _require_simulator():
    """InputError naming the install step when ``--engine hdl`` cannot run here."""
    try:
        import cocotb_tools.runner  # noqa: F401

        from sim.hdl_build import simulator_missing
    except ImportError as e:
        raise InputError(f"--engine hdl needs the simulation packages ({e.name}); "
                         "run `make setup`") from None
    hint = simulator_missing()
    if hint:
        raise InputError(hint)


def run_emg(args):
    ref = MUSCLES.index(args.stride_ref)
    out = _output_path(args, "_strides.csv")
    samples, present, info = prepare_emg(args.recording, args.fs, args.map, args.full_scale)
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
        from golden.emg_pipeline import run_golden
        trig, records = run_golden(samples, present, ref)
    else:
        _require_simulator()
        from sim.emg_hdl_engine import run_hdl
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


def _output_path(args, suffix):
    """The output CSV, refused (one line) when it is a folder, symlink, FIFO or device, one of
    the inputs, or in a missing folder."""
    out = args.output
    if out is None:
        out = os.path.splitext(os.path.basename(args.recording))[0] + suffix
    inputs = [getattr(args, k, None) for k in ("recording", "triggers", "emg")]
    return check_output_file(out, [i for i in inputs if i], "-o")


def _eeg_trigger_source(args):
    given = [name for name, v in (("--triggers-from", args.triggers_from),
                                  ("--triggers", args.triggers), ("--emg", args.emg)) if v]
    if len(given) > 1:
        raise InputError(f"give one trigger source, not {' and '.join(given)}")
    if args.triggers_from is not None and args.triggers_from != "annotations":
        raise InputError(f"--triggers-from {args.triggers_from!r}: "
                         "the only source is 'annotations'")
    if not args.emg:
        extra = [o for o, v in (("--emg-fs", args.emg_fs), ("--emg-map", args.emg_map),
                                ("--emg-full-scale", args.emg_full_scale)) if v is not None]
        if extra:
            raise InputError(f"{', '.join(extra)} only apply with --emg EMGFILE")
    source = "annotations" if args.triggers_from else ("file" if args.triggers else
                                                      ("emg" if args.emg else None))
    if args.events is not None and source not in ("annotations", None):
        raise InputError("--events only applies to --triggers-from annotations")
    return source


def run_eeg(args):
    from golden.eeg_mrp_model import BANDS, EEGParams, db_from_q
    from sw.eeg_input import (
        load_eeg,
        parse_events,
        read_trigger_file,
        triggers_from_annotations,
        triggers_from_emg,
    )
    try:
        params = EEGParams(uv_per_lsb=args.uv_per_lsb)
    except ValueError:
        raise InputError(f"--uv-per-lsb must be a positive number of microvolts "
                         f"(1e-6 .. 1e3), not {args.uv_per_lsb:g}") from None
    source = _eeg_trigger_source(args)
    out = _output_path(args, "_mrp.csv")
    from golden.eeg_pipeline import MRP_CSV_COLUMNS, mrp_record_to_row
    if args.engine == "golden":
        from golden.eeg_pipeline import run_golden_eeg
    else:                       # before any work: fail fast without the simulator
        _require_simulator()
        from sim.eeg_hdl_engine import run_hdl_eeg
    events = parse_events(args.events) if args.events is not None else ["T1", "T2"]
    eeg = load_eeg(args.recording, args.fs, args.map, args.unit, args.uv_per_lsb)
    if source is None:
        if eeg.annotations is None:
            raise InputError(f"{args.recording}: no trigger source: a CSV recording needs "
                             "--triggers FILE.csv or --emg EMGFILE")
        source = "annotations"
    n = eeg.n
    if source == "annotations":
        frames, per_event = triggers_from_annotations(eeg, events)
        how = "annotations " + ", ".join(f"{e} ({c})" for e, c in per_event.items())
    elif source == "file":
        frames = read_trigger_file(args.triggers, n)
        how = f"{args.triggers}"
    else:
        frames, emg_info = triggers_from_emg(args.emg, n, args.emg_fs, args.emg_map,
                                             args.emg_full_scale)
        how = (f"LG onsets in {args.emg} ("
               + ", ".join(f"{leg} {c}" for leg, c in emg_info["per_leg"].items()) + ")"
               + (f", {emg_info['dropped']} after the EEG's end dropped"
                  if emg_info["dropped"] else ""))
    unique = sorted(set(frames))
    merged = len(frames) - len(unique)
    trigger = np.zeros(n, np.uint8)
    trigger[unique] = 1

    say = (lambda *a: None) if args.quiet else (lambda *a: print(*a, file=sys.stderr))
    say(f"{args.recording}: {eeg.kind}, {eeg.n_in} samples at {eeg.fs_in:g} Hz in {eeg.unit} "
        f"-> {n} frames at {FS} Hz ({eeg.duration:.1f} s), {args.uv_per_lsb:g} uV per count"
        + (f", {eeg.trimmed} trailing rows without values trimmed" if eeg.trimmed else ""))
    absent = [s for k, s in enumerate(EEG_CHANNELS) if not eeg.present[k]]
    say("  sites: " + ", ".join(s if s == lab else f"{s}={lab}" for s, lab in eeg.mapping.items())
        + (f"; absent (no rows): {', '.join(absent)}" if absent else ""))
    for site, c in eeg.clipped.items():
        if c:
            say(f"  {site}: {c} samples clipped at the 16-bit rails "
                f"(+-{32767 * args.uv_per_lsb:g} uV; raise --uv-per-lsb?)")
    say(f"  triggers: {len(unique)} from {how}"
        + (f"; {merged} on an already triggered frame merged" if merged else ""))

    if args.engine == "golden":
        records = run_golden_eeg(eeg.samples, trigger, eeg.present, params)
    else:
        records = run_hdl_eeg(eeg.samples, trigger, eeg.present, params,
                              progress=None if args.quiet else _progress_printer("hdl"))
    records = sorted(records, key=lambda r: (r["index"], r["channel"]))
    rows = [mrp_record_to_row(r) for r in records]
    write_csv_atomic(out, MRP_CSV_COLUMNS, rows)
    full = [r for r in records if not r["partial"]]
    if full:
        means = []
        for b in BANDS:
            v = db_from_q([r[b] for r in full])
            v = v[np.isfinite(v)]
            means.append(f"{b} {v.mean():.2f}" if len(v) else f"{b} -inf")
        say(f"  mean dBuV over {len(full)} records: " + ", ".join(means)
            + (f" ({len(records) - len(full)} partial records left out)"
               if len(full) < len(records) else ""))
    elif records:
        say("  every record is partial (trigger within 256 frames of the start): no means")
    say(f"wrote {len(rows)} rows ({len(unique)} triggers x {int(eeg.present.sum())} sites) "
        f"to {out}")
    return 0


def build_parser():
    ap = parser(PROG, "Run the fabric feature extraction on a recording.")
    sub = ap.add_subparsers(dest="branch", required=True)
    e = sub.add_parser("emg", help="EMG triggers and per-stride muscular indexes",
                       description="EMG triggers and per-stride indexes -> per-stride CSV.")
    one_line_errors(e, PROG)
    e.add_argument("recording", help="CSV/TSV with a header row, or a UCI lower-limb EMG .txt")
    e.add_argument("--fs", type=float, help="sample rate in Hz (when there is no time column)")
    e.add_argument("--map", help="SLOT=COLUMN pairs, e.g. R_LG=GL,R_TA=TA "
                                 f"(slots: {', '.join(EMG_CHANNELS)}); "
                                 "default: columns named like slots")
    e.add_argument("--stride-ref", default="LG", choices=MUSCLES,
                   help="muscle whose onset starts a stride (default LG, as in the paper)")
    e.add_argument("--full-scale", type=float, default=None,
                   help="file units mapped to int16 full scale (default: per-channel auto scaling)")
    e.add_argument("--engine", choices=("golden", "hdl"), default="golden",
                   help="golden = bit-exact model (default), hdl = simulated gateware")
    e.add_argument("-o", "--output", help="output CSV (default: RECORDING_strides.csv here)")
    e.add_argument("-q", "--quiet", action="store_true", help="no progress or summary")
    e.set_defaults(func=run_emg, parser=e)

    g = sub.add_parser("eeg", help="EEG band powers (BP, mu, beta) at each trigger",
                       description="EEG movement-related potentials -> per-trigger, per-site CSV.")
    one_line_errors(g, PROG)
    g.add_argument("recording", help="EDF/EDF+C file, or CSV/TSV with a header row")
    g.add_argument("--fs", type=float, help="sample rate in Hz (CSV without a time column)")
    g.add_argument("--map", help="SITE=LABEL pairs, e.g. T3=T7,T4=T8 "
                                 f"(sites: {', '.join(EEG_CHANNELS)}); default: labels named "
                                 "like the sites (T7/T8 for T3/T4); unmapped sites are absent")
    g.add_argument("--unit", help="unit of CSV values: uV (default), mV or V "
                                  "(EDF: from the header)")
    g.add_argument("--uv-per-lsb", type=float, default=0.1,
                   help="microvolts per int16 count of the branch (default 0.1)")
    g.add_argument("--triggers-from", metavar="annotations",
                   help="EDF+ annotations (the default for EDF)")
    g.add_argument("--events", help="annotation texts that trigger (default T1,T2)")
    g.add_argument("--triggers", metavar="FILE.csv",
                   help=f"CSV with a column time_s or time (s) or sample ({FS} Hz frame)")
    g.add_argument("--emg", metavar="EMGFILE",
                   help="simultaneous EMG recording: trigger on either leg's LG onset")
    g.add_argument("--emg-fs", type=float, help="sample rate of EMGFILE (no time column)")
    g.add_argument("--emg-map", help="SLOT=COLUMN pairs of EMGFILE (as `emg --map`)")
    g.add_argument("--emg-full-scale", type=float,
                   help="EMGFILE units at int16 full scale (as `emg --full-scale`)")
    g.add_argument("--engine", choices=("golden", "hdl"), default="golden",
                   help="golden = bit-exact model (default), hdl = simulated gateware")
    g.add_argument("-o", "--output", help="output CSV (default: RECORDING_mrp.csv here)")
    g.add_argument("-q", "--quiet", action="store_true", help="no progress or summary")
    g.set_defaults(func=run_eeg, parser=g)
    return ap


def main(argv=None):
    ap = build_parser()
    args, extra = ap.parse_known_args(argv)     # = parse_args, hint naming the sub-command
    if extra:
        args.parser.error(f"unrecognized arguments: {' '.join(extra)}")
    try:
        return guard(PROG, args.func, args, interrupted="interrupted, nothing written")
    except OSError as e:                        # disk full, permission: one line, status 1
        return fail(PROG, os_error_line(e), 1)


if __name__ == "__main__":
    sys.exit(main())
