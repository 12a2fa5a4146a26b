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

Many recordings (``docs/many-recordings.md``)::

    python -m sw.extract batch INPUT --out DIR [--workers N | --scheduler tcp://HOST:8786]
                               [--engine golden|hdl] [--fs HZ] [--map SLOT=COLUMN,...]
                               [--stride-ref LG|TA|BF|RF|auto] [--full-scale X]
                               [--retries N] [-q]

e.g. the 16 shared UCI walks on a local cluster (one worker process per core)::

    python -m sw.extract batch ../shared/data/emg-lower-limb-uci --out /tmp/b --fs 1000 \\
        --map R_RF=RF,R_BF=BF

INPUT is a folder of recordings or a manifest CSV (``path,subject,session,kind,map``, optional
``recording``; relative paths resolve against the manifest's folder). Each recording runs as
the ``emg`` (or ``eeg``) command would, as one task of :func:`sw.batch.run_tasks`
(dask.distributed), into ``DIR/NAME_strides.csv`` plus a sidecar ``NAME_strides.json`` (input
and pipeline hashes: a rerun skips what is up to date); ``DIR/features.csv`` gathers every
EMG stride with ``subject``, ``session``, ``walk``, ``recording`` columns in recording order
(:func:`sw.cohort.extract_rows`; the input of ``sw.train_dnn --features``), and
``DIR/failures.csv`` lists the recordings that failed (exit status 1). See ``BATCH_HELP``.
"""

import argparse
import os
import sys
import time

import numpy as np

from golden.stride_indexes_model import CSV_COLUMNS, record_to_row
from spec.channels import EEG_CHANNELS, EMG_CHANNELS, FS, LEGS, MUSCLES
from spec.cli import InputError, fail, guard, one_line_errors, os_error_line, parser
from spec.outputs import (
    check_output_file,
    write_bytes_atomic,
    write_csv_atomic,
    write_json_atomic,
)
from sw.batch import add_cluster_args
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
        from sim.fast_engine import resolve_sim
    except ImportError as e:
        raise InputError(f"--engine hdl needs the simulation packages ({e.name}); "
                         "run `make setup`") from None
    try:        # the fast Verilator engine, else the cocotb testbench on Icarus
        resolve_sim(None)
    except RuntimeError as e:
        raise InputError(str(e)) from None


def _auto_ref(present):
    """``--stride-ref auto``: LG when a leg has it, else the first of TA, BF, RF a leg has."""
    for k, m in enumerate(MUSCLES):
        if any(present[4 * leg + k] for leg in range(len(LEGS))):
            return m
    return MUSCLES[0]


def run_emg(args):
    _emg(args)
    return 0


def _emg(args):
    """The ``emg`` command; returns ``{"rows": strides written, "stride_ref": muscle}``."""
    out = _output_path(args, "_strides.csv")
    samples, present, info = prepare_emg(args.recording, args.fs, args.map, args.full_scale)
    ref_name = _auto_ref(present) if args.stride_ref == "auto" else args.stride_ref
    ref = MUSCLES.index(ref_name)
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
            say(f"  leg {name}: absent (no {name}_{ref_name} to mark strides)"
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
    return {"rows": len(rows), "stride_ref": ref_name}


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


# ----------------------------------------------------------------------------
# batch: many recordings on the execution layer (sw.batch, dask.distributed)
# ----------------------------------------------------------------------------

#: marker tool name of a batch output folder (spec.outputs.scratch_folder)
BATCH_TOOL = "sw.extract batch"
#: manifest columns: ``path`` required, the others optional (``recording`` names the outputs)
MANIFEST_COLUMNS = ("path", "subject", "session", "kind", "map", "recording")
#: file name endings a folder INPUT takes as recordings (``.edf`` -> EEG, the others EMG)
RECORDING_EXTS = (".txt", ".csv", ".tsv", ".edf")
#: session words recognised in a file name (kept lower-case)
SESSION_WORDS = ("pre", "post", "off", "on")
FEATURES_CSV = "features.csv"
FAILURES_CSV = "failures.csv"
FAILURE_COLUMNS = ("recording", "file", "reason")
#: bump when what a batch task writes changes without a pipeline source change
BATCH_FORMAT = 1
_SUFFIX = {"emg": "_strides.csv", "eeg": "_mrp.csv"}
#: the modules each kind's outputs are computed by (followed transitively, see
#: :func:`sw.cohort.pipeline_sources`); ``sw/extract.py`` itself is added without its imports
_ROOTS = {("emg", "golden"): ("sw.recording", "golden.emg_pipeline",
                              "golden.stride_indexes_model"),
          ("eeg", "golden"): ("sw.eeg_input", "golden.eeg_pipeline", "golden.eeg_mrp_model")}
_ROOTS[("emg", "hdl")] = _ROOTS[("emg", "golden")] + ("sim.emg_hdl_engine",)
_ROOTS[("eeg", "hdl")] = _ROOTS[("eeg", "golden")] + ("sim.eeg_hdl_engine",)


def feature_columns():
    """Columns of ``features.csv``: :data:`sw.cohort.COLUMNS` with ``recording`` after
    ``walk`` (``sw.train_dnn --features`` and ``sw.cohort --features`` read it)."""
    from sw.cohort import COLUMNS
    return COLUMNS[:4] + ("recording",) + COLUMNS[4:]


def names_from_file(name):
    """``(subject, session)`` from a recording's file name, blank when there is no session word.

    The session is the first word (the name split at ``_``, ``-``, ``.`` and spaces) that is
    ``pre``, ``post``, ``off`` or ``on`` (any case; written lower-case); the subject is the
    part of the name before the first ``_`` (blank when that part is the session word).
    A UCI lower-limb walk (``1Nmar.txt``, :func:`sw.recording.uci_subject`) names its subject
    (``1N``) and no session.
    ``P01_pre_walk2.csv`` -> ``("P01", "pre")``, ``sub-03_ses-OFF_emg.txt`` ->
    ``("sub-03", "off")``, ``1Nmar.txt`` -> ``("1N", "")``, ``walk.csv`` -> ``("", "")``.
    """
    import re

    from sw.recording import uci_subject
    stem = os.path.splitext(os.path.basename(name))[0]
    words = [w.lower() for w in re.split(r"[_\-. ]+", stem) if w]
    session = next((w for w in words if w in SESSION_WORDS), "")
    if not session:
        return uci_subject(name) or "", ""
    subject = stem.split("_", 1)[0] if "_" in stem else ""
    return ("" if subject.lower() == session else subject), session


def _check_name(name, where):
    if not name or name.startswith(".") or any(c in name for c in "/\\\x00") or \
            name in (".", ".."):
        raise InputError(f"{where}: {name!r} cannot name output files (no /, \\ or leading .)")
    return name


def _kind_of(path):
    return "eeg" if path.lower().endswith(".edf") else "emg"


def _scan_folder(folder):
    """Jobs (dicts) of a folder INPUT: its recordings, sorted by name."""
    try:
        names = sorted(os.listdir(folder))
    except OSError as e:
        raise InputError(f"{folder}: {e.strerror}") from None
    jobs = []
    for fn in names:
        p = os.path.join(folder, fn)
        if fn.startswith(".") or not fn.lower().endswith(RECORDING_EXTS) or not os.path.isfile(p):
            continue
        subject, session = names_from_file(fn)
        jobs.append({"name": _check_name(os.path.splitext(fn)[0], folder),
                     "path": os.path.abspath(p), "file": p, "kind": _kind_of(fn),
                     "map": None, "subject": subject, "session": session})
    return jobs


def _read_manifest(path):
    """Jobs (dicts) of a manifest CSV; relative paths resolve against its folder."""
    import csv

    from sw.recording import read_input_bytes
    text = read_input_bytes(path).decode("utf-8-sig", errors="replace")
    rows = list(csv.reader(text.splitlines()))
    if not rows or not any(c.strip() for c in rows[0]):
        raise InputError(f"{path}: empty manifest (need a header with a path column)")
    head = [c.strip().lower() for c in rows[0]]
    unknown = [c for c in head if c not in MANIFEST_COLUMNS]
    if unknown or "path" not in head or len(set(head)) < len(head):
        what = (f"unknown column {unknown[0]!r}" if unknown else
                "no path column" if "path" not in head else "a column named twice")
        raise InputError(f"{path}: {what}; manifest columns are {', '.join(MANIFEST_COLUMNS)} "
                         "(path required)")
    base = os.path.dirname(os.path.abspath(path))
    jobs = []
    for n, cells in enumerate(rows[1:], start=2):
        if not any(c.strip() for c in cells):
            continue
        if len(cells) > len(head):
            raise InputError(f"{path}: row {n}: {len(cells)} cells under {len(head)} columns")
        row = dict(zip(head, (c.strip() for c in cells)))
        rec = row.get("path", "")
        if not rec:
            raise InputError(f"{path}: row {n}: empty path")
        kind = row.get("kind", "").lower() or _kind_of(rec)
        if kind not in _SUFFIX:
            raise InputError(f"{path}: row {n}: kind {row['kind']!r} is not emg or eeg")
        spec = row.get("map") or None
        if spec is not None:
            from sw.recording import parse_map
            try:
                if kind == "emg":
                    parse_map(spec, EMG_CHANNELS)
                else:
                    parse_map(spec, EEG_CHANNELS, "EEG site", "LABEL")
            except InputError as e:
                raise InputError(f"{path}: row {n}: {e}") from None
        full = os.path.join(base, rec)
        name = row.get("recording") or os.path.splitext(os.path.basename(rec))[0]
        jobs.append({"name": _check_name(name, f"{path}: row {n}"), "path": full, "file": rec,
                     "kind": kind, "map": spec, "subject": row.get("subject", ""),
                     "session": row.get("session", "")})
    return jobs


def _sha256_file(path):
    import hashlib
    h = hashlib.sha256()
    with open(path, "rb") as f:
        for block in iter(lambda: f.read(1 << 20), b""):
            h.update(block)
    return h.hexdigest()


def _pipeline(kind, engine):
    """Digest of the code a ``kind`` recording's output is computed by (reuses
    :func:`sw.cohort.pipeline_digest`: module sources + NumPy/SciPy versions)."""
    from sw.cohort import pipeline_digest, pipeline_sources
    sources = pipeline_sources(_ROOTS[(kind, engine)])
    sources["sw.extract"] = os.path.abspath(__file__)
    return f"{BATCH_FORMAT}:{pipeline_digest(sources)}"


def _resolve_uci_roles(path, spec):
    """``--map`` for one recording: a column a UCI file's header lacks but that is one of the
    UCI role codes (``RF``, ``BF``, ``VM``, ``ST``, ``FX``) becomes the column of that role
    (the A files name them in Spanish). Other files: ``spec`` unchanged."""
    from sw.recording import _key, parse_map, read_recording
    if spec is None:
        return None
    rec = read_recording(path)
    if not rec.roles:
        return spec
    mapping = parse_map(spec, EMG_CHANNELS)
    keys = {_key(n) for n in rec.names}
    for slot, col in mapping.items():
        if _key(col) not in keys and col.strip().upper() in rec.roles:
            mapping[slot] = rec.roles[col.strip().upper()]
    return ",".join(f"{s}={c}" for s, c in mapping.items())


def _branch_args(branch, **over):
    """The single-file command's arguments (its own defaults) with ``over`` replacing some."""
    args = build_parser().parse_args([branch, "RECORDING"])
    for k, v in over.items():
        setattr(args, k, v)
    return args


def extract_recording(job):
    """One batch task: run the single-file command on ``job["path"]`` into ``job["out"]``.

    Writes the output CSV exactly as ``python -m sw.extract emg|eeg`` would (atomically), then
    its sidecar JSON (input and pipeline hashes; atomically, after the CSV), and returns
    ``{"name", "rows", "seconds", ...}``, or ``{"name", "error"}`` (one line) for a recording
    the command refuses. Pure: the same job writes the same bytes, so a retried or rescheduled
    task neither loses nor duplicates anything.
    """
    t0 = time.perf_counter()
    name, kind = job["name"], job["kind"]
    out = os.path.join(job["out"], name + _SUFFIX[kind])
    try:
        try:
            digest = _sha256_file(job["path"])
        except OSError as e:
            raise InputError(f"{job['file']}: {e.strerror or e}") from None
        if kind == "emg":
            spec = _resolve_uci_roles(job["path"], job["map"] or job["options"]["map"])
            args = _branch_args("emg", recording=job["path"], fs=job["options"]["fs"],
                                map=spec, full_scale=job["options"]["full_scale"],
                                stride_ref=job["options"]["stride_ref"],
                                engine=job["options"]["engine"], output=out, quiet=True)
            if args.engine == "hdl":
                _require_simulator()
            info = _emg(args)
            info["map"] = spec
        else:
            args = _branch_args("eeg", recording=job["path"], map=job["map"],
                                engine=job["options"]["engine"], output=out, quiet=True)
            run_eeg(args)
            info = {"rows": _count_rows(out), "map": job["map"]}
    except InputError as e:
        text = str(e).splitlines()
        return {"name": name, "error": text[0] if text else "bad recording"}
    side = {"tool": BATCH_TOOL, "recording": name, "kind": kind, "input": job["path"],
            "input_sha256": digest, "pipeline": job["pipeline"], "options": job["options"],
            "output": os.path.basename(out), "output_sha256": _sha256_file(out), **info}
    write_json_atomic(_sidecar(out), side)
    return {"name": name, "rows": info["rows"], "seconds": time.perf_counter() - t0}


def _count_rows(path):
    with open(path, newline="") as f:
        return max(sum(1 for _ in f) - 1, 0)


def _sidecar(out):
    return os.path.splitext(out)[0] + ".json"


def _up_to_date(job, out):
    """True when ``out`` and its sidecar are this job's (same input, pipeline, options)."""
    import json
    try:
        with open(_sidecar(out)) as f:
            side = json.load(f)
        return (isinstance(side, dict) and side.get("pipeline") == job["pipeline"]
                and side.get("options") == job["options"]
                and side.get("input_sha256") == _sha256_file(job["path"])
                and side.get("output_sha256") == _sha256_file(out))
    except (OSError, ValueError):
        return False


def _check_batch_options(args):
    import math

    from sw.batch import check_cluster_args
    from sw.recording import check_full_scale, parse_map
    if args.fs is not None and not (math.isfinite(args.fs) and args.fs > 0):
        raise InputError(f"--fs must be a positive number of Hz, not {args.fs:g}")
    if args.map is not None:
        parse_map(args.map, EMG_CHANNELS)
    check_full_scale(args.full_scale)
    check_cluster_args(args.workers, args.scheduler)
    if args.retries < 0 or args.retries > 100:
        raise InputError(f"--retries must be between 0 and 100, not {args.retries}")


def _batch_jobs(args):
    if not os.path.exists(args.input):
        raise InputError(f"{args.input}: no such folder or manifest")
    jobs = _scan_folder(args.input) if os.path.isdir(args.input) else _read_manifest(args.input)
    if not jobs:
        raise InputError(f"{args.input}: no recordings (a folder needs "
                         f"{', '.join('*' + e for e in RECORDING_EXTS)} files; a manifest rows)")
    seen = {}
    for j in jobs:
        if j["name"] in seen:
            raise InputError(f"{args.input}: {seen[j['name']]} and {j['file']} would both write "
                             f"{j['name']}{_SUFFIX[j['kind']]}; name them apart (manifest column "
                             "recording)")
        seen[j["name"]] = j["file"]
    jobs.sort(key=lambda j: j["name"])
    return jobs


def run_batch(args, task=None):
    """``sw.extract batch``: every recording of INPUT on the cluster, then ``features.csv``.

    ``task`` replaces :func:`extract_recording` (tests wrap it). Returns the exit status:
    0, or 1 when a recording failed.
    """
    from dask.base import tokenize  # task keys: the same job, the same key

    from sw.batch import Failed, run_tasks
    from sw.cohort import extract_rows
    t0 = time.perf_counter()
    _check_batch_options(args)
    jobs = _batch_jobs(args)
    out = args.out
    if not out:
        raise InputError("--out: empty folder name")
    if os.path.lexists(out) and not os.path.isdir(out):
        raise InputError(f"--out {out} exists and is not a folder")
    if os.path.isdir(out):                                   # never write onto an input
        for j in jobs:
            output = j["name"] + _SUFFIX[j["kind"]]
            for name in (output, _sidecar(output), FEATURES_CSV, FAILURES_CSV):
                check_output_file(os.path.join(out, name), [j["path"]], "--out")
    _claim_check(out)                    # refused before anything is written
    options = {"fs": args.fs, "map": args.map, "full_scale": args.full_scale,
               "stride_ref": args.stride_ref, "engine": args.engine}
    digests = {}
    todo, skipped, failures, results = [], [], [], {}
    say = (lambda *a: None) if args.quiet else (lambda *a: print(*a, file=sys.stderr,
                                                                 flush=True))
    if args.engine == "hdl":
        _require_simulator()
    out_abs = os.path.abspath(out)
    for j in jobs:
        key = (j["kind"], args.engine)
        if key not in digests:
            digests[key] = _pipeline(*key)
        j["pipeline"], j["options"], j["out"] = digests[key], options, out_abs
        target = os.path.join(out_abs, j["name"] + _SUFFIX[j["kind"]])
        if not os.path.isfile(j["path"]):
            failures.append((j, f"no such file ({j['path']})"))
        elif os.path.isdir(out) and _up_to_date(j, target):
            skipped.append(j)
        else:
            todo.append(j)
    say(f"batch: {len(jobs)} recordings from {args.input}: {len(skipped)} up to date "
        f"(skipped), {len(todo)} to extract" + (f", {len(failures)} missing" if failures else ""))
    from spec.outputs import scratch_folder

    def claim():                         # once the cluster is up: nothing left if it is not
        scratch_folder(out, BATCH_TOOL, "--out")

    if todo:
        res = run_tasks(task or extract_recording, todo, workers=args.workers,
                        scheduler=args.scheduler, retries=args.retries,
                        keys=[f"extract-{j['name']}-{tokenize(j)}" for j in todo],
                        label="batch", unit="recording", say=say, on_start=claim,
                        progress=not args.quiet)
        for j, r in zip(todo, res):
            if isinstance(r, Failed):
                failures.append((j, r.reason))
            elif "error" in r:
                failures.append((j, r["error"]))
            else:
                results[j["name"]] = r
    else:
        claim()
    failed = {j["name"] for j, _ in failures}
    for j, _ in failures:                # a failed recording keeps no stale output of ours
        target = os.path.join(out_abs, j["name"] + _SUFFIX[j["kind"]])
        for p in (_sidecar(target), target):
            if os.path.isfile(p) and not os.path.islink(p):
                os.unlink(p)
    rows = _combined_rows(jobs, failed, out_abs, extract_rows)
    _write_csv_if_changed(os.path.join(out_abs, FEATURES_CSV), feature_columns(), rows)
    failures.sort(key=lambda f: f[0]["name"])
    _write_csv_if_changed(os.path.join(out_abs, FAILURES_CSV), FAILURE_COLUMNS,
                          [{"recording": j["name"], "file": j["file"], "reason": why}
                           for j, why in failures])
    ok = len(jobs) - len(failures)
    print(f"batch: {ok}/{len(jobs)} recordings done ({len(results)} extracted, "
          f"{len(skipped)} unchanged and skipped), {len(failures)} failed; {len(rows)} strides "
          f"in {os.path.join(out, FEATURES_CSV)} ({time.perf_counter() - t0:.1f} s)",
          file=sys.stderr)
    for j, why in failures[:10]:
        print(f"  failed: {j['file']}: {why}", file=sys.stderr)
    if len(failures) > 10:
        print(f"  ... {len(failures) - 10} more in {os.path.join(out, FAILURES_CSV)}",
              file=sys.stderr)
    return 1 if failures else 0


def _write_csv_if_changed(path, columns, rows):
    """:func:`spec.outputs.write_csv_atomic`'s bytes, written only when they differ from the
    file's (a rerun with nothing to do touches nothing)."""
    import csv
    import io
    buf = io.StringIO(newline="")
    w = csv.DictWriter(buf, fieldnames=columns)
    w.writeheader()
    w.writerows(rows)
    data = buf.getvalue().encode()
    try:
        with open(path, "rb") as f:
            if f.read() == data:
                return
    except OSError:
        pass
    write_bytes_atomic(path, data)


def _claim_check(out):
    """The batch folder must be missing, empty or an earlier batch's (checked before anything
    is written; :func:`spec.outputs.scratch_folder` claims it later)."""
    from spec.outputs import MARKER
    if not os.path.isdir(out):
        probe = os.path.abspath(out)
        while not os.path.exists(probe):
            probe = os.path.dirname(probe)
        if not os.path.isdir(probe):
            raise InputError(f"--out {out}: {probe} is not a folder")
        return
    try:
        entries = [e for e in os.listdir(out) if e != MARKER]
        with open(os.path.join(out, MARKER)) as f:
            tool = f.readline().strip()
    except FileNotFoundError:
        tool = None
    except OSError as e:
        raise InputError(f"--out {out}: {e.strerror}") from None
    if tool is not None and tool != BATCH_TOOL:
        raise InputError(f"--out {out} holds the output of {tool}; choose another folder")
    if tool is None and entries:
        raise InputError(f"--out {out} is not empty and was not written by {BATCH_TOOL}; "
                         "choose a new or empty folder")


def _combined_rows(jobs, failed, out, extract_rows):
    """``features.csv`` rows: every EMG recording that succeeded, in recording order; ``walk``
    numbers the recordings of one (subject, session) in that order (1-based)."""
    import csv
    rows, walks = [], {}
    for j in jobs:
        if j["kind"] != "emg":
            continue
        walk = walks[(j["subject"], j["session"])] = walks.get((j["subject"], j["session"]),
                                                               0) + 1
        if j["name"] in failed:
            continue
        with open(os.path.join(out, j["name"] + _SUFFIX["emg"]), newline="") as f:
            got = extract_rows(list(csv.DictReader(f)), j["subject"], j["session"], walk)
        for r in got:
            r["recording"] = j["name"]
        rows += got
    return rows


BATCH_HELP = """Run the EMG (or EEG) extraction on many recordings on a Dask cluster.

INPUT is a folder (every *.txt, *.csv, *.tsv, *.edf file directly in it; .edf = EEG, the
others EMG; subject and session from the file name: the session is the first word, the
name split at _ - . and spaces, that is pre/post/off/on, the subject the part before the
first _; blank otherwise) or a manifest CSV with the columns path,subject,session,kind,map
(path required; relative paths resolve against the manifest's folder; kind emg or eeg,
default by extension; map replaces --map for that row; an optional column recording names
the outputs, default the file's stem).

DIR gets, per recording, RECORDING_strides.csv (EEG: RECORDING_mrp.csv) exactly as the
single-file command writes it plus RECORDING_strides.json (input and pipeline hashes);
features.csv, every EMG stride with subject, session, walk, recording columns (the input
of sw.train_dnn --features) in recording order whatever the workers; failures.csv, one row
(recording, file, reason) per recording that failed. A rerun skips recordings whose output,
input hash and pipeline hash match. Exit status 1 when a recording failed, 2 on bad options
(nothing written).
"""
BATCH_EPILOG = """example (the shared UCI walks; BF onsets mark the strides, the A files' Spanish
headers found by role):

  python -m sw.extract batch ../shared/data/emg-lower-limb-uci --out /tmp/b --fs 1000 \\
      --map R_RF=RF,R_BF=BF

on a cluster: dask scheduler; dask worker tcp://HOST:8786 --nworkers 2 --nthreads 1
  python -m sw.extract batch manifest.csv --out DIR --scheduler tcp://HOST:8786
(see docs/many-recordings.md)
"""


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

    b = sub.add_parser(
        "batch", help="many recordings (a folder or a manifest) on a Dask cluster",
        formatter_class=argparse.RawDescriptionHelpFormatter,
        description=BATCH_HELP, epilog=BATCH_EPILOG)
    one_line_errors(b, PROG)
    b.add_argument("input", metavar="INPUT",
                   help="folder of recordings, or a manifest CSV (path,subject,session,kind,map)")
    b.add_argument("--out", required=True, metavar="DIR",
                   help="output folder: per-recording CSVs, features.csv, failures.csv")
    add_cluster_args(b)
    b.add_argument("--retries", type=int, default=2,
                   help="times a task that raised is retried (default 2)")
    b.add_argument("--engine", choices=("golden", "hdl"), default="golden",
                   help="golden = bit-exact model (default), hdl = simulated gateware")
    b.add_argument("--fs", type=float,
                   help="EMG sample rate in Hz (recordings without a time column)")
    b.add_argument("--map", help="EMG SLOT=COLUMN pairs as for `emg` (a manifest's map column "
                                 "replaces it per recording); in UCI files a role code RF, BF, "
                                 "VM, ST, FX also names the channel of that role")
    b.add_argument("--stride-ref", default="auto", choices=(*MUSCLES, "auto"),
                   help="muscle whose onset starts a stride (default auto: LG when mapped, "
                        "else the first mapped of TA, BF, RF)")
    b.add_argument("--full-scale", type=float, default=None,
                   help="EMG file units mapped to int16 full scale (default: auto scaling)")
    b.add_argument("-q", "--quiet", action="store_true", help="only the summary")
    b.set_defaults(func=run_batch, parser=b)
    return ap


def main(argv=None):
    ap = build_parser()
    args, extra = ap.parse_known_args(argv)     # = parse_args, hint naming the sub-command
    if extra:
        args.parser.error(f"unrecognized arguments: {' '.join(extra)}")
    try:
        return guard(PROG, args.func, args,
                     interrupted="interrupted; the recordings finished so far are kept, run "
                                 "again to resume" if args.branch == "batch"
                     else "interrupted, nothing written")
    except OSError as e:                        # disk full, permission: one line, status 1
        return fail(PROG, os_error_line(e), 1)


if __name__ == "__main__":
    sys.exit(main())
