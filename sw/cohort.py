"""Per-stride cortico-muscular feature table of a cohort (paper §3.3, §4.1, Table 3).

Usage::

    python -m sw.cohort [--out DIR] [--seed N] [--walks 8] [--steps 150]
                        [--jobs 2 | --scheduler tcp://HOST:8786]
    python -m sw.cohort --features A.csv [B.csv ...] [--out DIR]

Synthetic cohort (default)
--------------------------
The paper's design run on the SYNTHETIC generators (:mod:`synthetic.emg_gen`,
:mod:`synthetic.eeg_gen`) -- the numbers are properties of those generators, not
measurements of patients:

* 5 subjects ``S1`` .. ``S5``: ``S1``-``S3`` mild (H&Y 3), ``S4``-``S5`` severe
  (H&Y 4);
* two sessions each: ``pre`` (Pre L-dopa, OFF) and ``post`` (Post L-dopa, ON);
* ``--walks`` walks (default 8) per session of ``--steps`` strides per leg
  (default 150; the ``n_strides`` of :func:`synthetic.emg_gen.generate_walk`, so a
  walk gives about ``2 x steps`` rows, one per leg and stride).

Per walk: :func:`synthetic.emg_gen.generate_walk` makes the EMG, the golden EMG branch
finds the triggers and stride records, :func:`synthetic.eeg_gen.generate_eeg` makes
the EEG with its movement onsets on the LG onsets that branch found (as
:mod:`sw.demo` does), and the golden EEG branch is triggered on those LG onsets.
This is :func:`walk_pipeline`, exactly :func:`golden.fabric_pipeline.run_golden_fabric`
(EMG branch -> :func:`~golden.fabric_pipeline.lg_onset_trigger` -> EEG branch) split in two
so the EEG can be generated between the branches without running the EMG branch twice
(``tests/test_cohort.py`` calls :func:`walk_pipeline` and checks the two give identical
records, and that the table holds its rows).

Every random stream is derived from ``--seed`` with :class:`numpy.random.SeedSequence`
(subject ``k``: ``[seed, k]``; walk ``w`` of session ``j``: ``[seed, k, j, w]``), so the
table does not depend on ``--jobs`` or on the order the workers finish.

The walks run on :mod:`sw.batch` (dask.distributed): ``--jobs N`` local worker processes
(default 2; ``1`` runs them in this process without a cluster), or ``--scheduler
tcp://HOST:8786`` an existing Dask cluster (see ``docs/many-recordings.md``). The rows are
gathered in walk order, never in completion order.

Output ``DIR/cohort.csv`` (default ``DIR`` = ``out/cohort``), one row per stride
(:data:`COLUMNS`):

* ``subject``, ``severity``, ``session`` (``pre``/``post``), ``walk`` (1-based),
  ``leg`` (``L``/``R``), ``stride`` (0-based ordinal of the stride within its walk
  and leg), ``start`` (500 Hz sample of the stride's first sample = its LG onset),
  ``start_s``;
* muscular: ``stride_time_ms``, ``{m}_contraction_ms``, ``{m}_relaxation_ms``,
  ``{m}_duty_pct`` for m in LG, TA, BF, RF, ``cocon_LG_TA_ms``, ``cocon_BF_RF_ms``
  (the columns of ``python -m sw.extract emg``);
* cortical: ``{site}_{band}_dBu`` for the 7 sites x BP, mu, beta: the MRP record
  of the EEG trigger on the stride's start frame (the LG onset that starts the
  stride). Empty (NaN) when there is no such trigger or its record is
  ``partial`` (fewer than 256 frames before it).

Strides flagged ``overflow`` are skipped. ``DIR/cohort.json`` holds the
parameters and the **pipeline digest** (:func:`pipeline_digest`: SHA-256 of the source of
every project module the cohort's code imports, transitively -- this module, the golden
models, the generators, the ``spec`` tables -- plus the NumPy and SciPy versions); a rerun
with the same parameters and digest reuses the table (and says so), anything else rebuilds
it, so an edit to a golden model or a generator never leaves a stale table behind. The JSON
is written last, so an interrupted build is never mistaken for a finished one.

User features (``--features``)
------------------------------
Per-stride CSVs written by ``python -m sw.extract emg`` with two more columns,
``subject`` and ``session`` (``pre``/``post``; ``off``/``on`` accepted), and
optionally ``severity`` and ``walk`` (default 1). They are validated and
concatenated into the same table (cortical columns NaN unless the file has
them); the synthetic cohort is not generated. Errors -- missing file or
column, an empty or non-numeric cell in a muscular feature column, an unknown
session, a single session value over all files -- print one line on stderr
and exit with status 2; nothing is written. Rows flagged ``overflow`` are
skipped as for the synthetic cohort.
"""

import ast
import hashlib
import importlib.util
import json
import os
import sys
import time
from types import SimpleNamespace

import numpy as np

from golden.eeg_mrp_model import BANDS, EEGParams, db_from_q
from golden.stride_indexes_model import record_to_row
from spec.channels import COCONTRACTION_PAIRS, EEG_CHANNELS, FS, LEGS, MUSCLES
from spec.cli import InputError, fail, os_error_line, parser
from spec.constants import DEFAULT_OUT
from spec.outputs import check_output_file, write_csv_atomic, write_json_atomic
from sw.batch import check_cluster_args

__all__ = ["SUBJECTS", "ID_COLUMNS", "MUSCULAR_COLUMNS", "CORTICAL_COLUMNS", "COLUMNS",
           "TABLE1_MUSCULAR", "build_cohort", "cohort_rows", "extract_rows",
           "load_user_features", "read_cohort",
           "scan_features", "simulate_walk", "walk_pipeline", "pipeline_sources",
           "pipeline_digest", "synthetic_params", "stale_reason", "is_cohort_json", "main"]

#: (subject, severity) of the default design: 3 mild, 2 severe (paper §4.1)
SUBJECTS = (("S1", "mild"), ("S2", "mild"), ("S3", "mild"), ("S4", "severe"), ("S5", "severe"))
SESSIONS = ("pre", "post")
ID_COLUMNS = ("subject", "severity", "session", "walk", "leg", "stride", "start", "start_s")
MUSCULAR_COLUMNS = (("stride_time_ms",)
                    + tuple(f"{m}_{q}" for m in MUSCLES
                            for q in ("contraction_ms", "relaxation_ms", "duty_pct"))
                    + tuple(f"cocon_{name}_ms" for name, _, _ in COCONTRACTION_PAIRS))
CORTICAL_COLUMNS = tuple(f"{s}_{b}_dBu" for s in EEG_CHANNELS for b in BANDS)
COLUMNS = ID_COLUMNS + MUSCULAR_COLUMNS + CORTICAL_COLUMNS
#: the muscular features of the paper's Table 1
TABLE1_MUSCULAR = (("stride_time_ms", "cocon_LG_TA_ms", "cocon_BF_RF_ms")
                   + tuple(f"{m}_duty_pct" for m in MUSCLES))
#: bump when the table's layout changes (the content is covered by :func:`pipeline_digest`)
FORMAT_VERSION = 2   # 2: stride-onset rule (min_stride, ref_min_gap) in the EMG pipeline
PROG = "sw.cohort"
#: where :func:`pipeline_sources` starts: this module and the modules :func:`walk_pipeline`
#: imports inside the function (the rest is found by following imports)
PIPELINE_ROOTS = ("sw.cohort", "golden.emg_pipeline", "golden.eeg_pipeline",
                  "golden.fabric_pipeline", "synthetic.emg_gen", "synthetic.eeg_gen")
#: libraries whose version is part of the cache key (their arithmetic makes the table)
PIPELINE_LIBRARIES = ("numpy", "scipy")
_PROJECT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


# ----------------------------------------------------------------------------
# cache key: the pipeline's source
# ----------------------------------------------------------------------------

def _module_file(name):
    """The source file of project module ``name``; None for a library, a builtin or a name
    that is not a module (``from pkg import function``)."""
    try:
        spec = importlib.util.find_spec(name)
    except (ImportError, ValueError):
        return None
    origin = getattr(spec, "origin", None)
    if not origin or not origin.endswith(".py"):
        return None
    origin = os.path.abspath(origin)
    return origin if os.path.commonpath([origin, _PROJECT]) == _PROJECT else None


def _imported_names(path, module):
    """Every module name an ``import`` statement of ``path`` names (anywhere in the file, also
    inside functions), with ``from a import b`` giving both ``a`` and ``a.b``."""
    with open(path, "rb") as f:
        tree = ast.parse(f.read(), filename=path)
    package = module if path.endswith("__init__.py") else module.rpartition(".")[0]
    out = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            out += [a.name for a in node.names]
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                parts = package.split(".")
                parts = parts[:len(parts) - node.level + 1]
                base = ".".join(p for p in [*parts, base] if p)
            out.append(base)
            out += [f"{base}.{a.name}" for a in node.names if a.name != "*"]
    return out


def pipeline_sources(roots=None):
    """``{module: source file}`` of the project modules the cohort is computed by.

    Starts at ``roots`` (default :data:`PIPELINE_ROOTS`) and follows every import of the
    project's own modules, transitively (libraries are covered by their versions, see
    :func:`pipeline_digest`).
    """
    todo, out = list(PIPELINE_ROOTS if roots is None else roots), {}
    while todo:
        name = todo.pop()
        if name in out:
            continue
        path = _module_file(name)
        if path is None:
            continue
        out[name] = path
        todo += _imported_names(path, name)
    return dict(sorted(out.items()))


def _source_bytes(path):
    with open(path, "rb") as f:
        return f.read()


def pipeline_digest(sources=None):
    """SHA-256 (hex) of the pipeline: every file of :func:`pipeline_sources` (by module name,
    not by path: moving the checkout keeps the cache) and the versions of
    :data:`PIPELINE_LIBRARIES`."""
    import importlib.metadata
    h = hashlib.sha256()
    for name, path in (pipeline_sources() if sources is None else sources).items():
        data = _source_bytes(path)
        h.update(f"{name}\0{len(data)}\0".encode())
        h.update(data)
    for lib in PIPELINE_LIBRARIES:
        try:
            version = importlib.metadata.version(lib)
        except importlib.metadata.PackageNotFoundError:
            version = "absent"
        h.update(f"{lib}=={version}\0".encode())
    return h.hexdigest()


def synthetic_params(seed=2024, walks=8, steps=150):
    """The ``cohort.json`` (cache key) of a synthetic cohort built now with these parameters."""
    return {"source": "synthetic", "format": FORMAT_VERSION, "pipeline": pipeline_digest(),
            "seed": seed, "walks": walks, "steps": steps,
            "subjects": [list(s) for s in SUBJECTS], "sessions": list(SESSIONS)}


def stale_reason(meta):
    """Why a cohort's ``cohort.json`` (``meta``, a dict) is not what this pipeline would build
    now: a phrase (``built by an older pipeline (...)``), or None when it is current.

    A synthetic cohort is compared with :func:`synthetic_params` of its own seed and size; a
    cohort of user features only by format and pipeline (its files are checked by
    :func:`main`).
    """
    if not isinstance(meta, dict):
        return "no valid cohort.json"
    if meta.get("format") != FORMAT_VERSION:
        return f"built by an older pipeline (format {meta.get('format')}, now {FORMAT_VERSION})"
    now = pipeline_digest()
    if meta.get("pipeline") != now:
        was = f"pipeline digest {meta['pipeline'][:12]}" if isinstance(meta.get("pipeline"), str) \
            else "no pipeline digest"
        return (f"built by an older pipeline ({was}, now {now[:12]}: a golden model, generator "
                "or sw.cohort changed)")
    if meta.get("source") == "synthetic":
        try:
            want = synthetic_params(meta["seed"], meta["walks"], meta["steps"])
        except KeyError as e:
            return f"cohort.json lacks {e.args[0]}"
        if meta != want:
            return "cohort.json does not match its parameters"
    return None


def _seed(*key):
    return int(np.random.SeedSequence([int(k) for k in key]).generate_state(1)[0])


def _num(v):
    """Float -> exact short text; NaN -> empty cell."""
    v = float(v)
    return "" if np.isnan(v) else repr(v)


def walk_pipeline(walk_seed, subject_seed, severity, session, steps):
    """The records of one synthetic walk, as the cohort computes them.

    :func:`synthetic.emg_gen.generate_walk` -> golden EMG branch -> LG onsets ->
    :func:`synthetic.eeg_gen.generate_eeg` with its movement onsets there -> golden EEG branch
    triggered on those onsets: :func:`golden.fabric_pipeline.run_golden_fabric` split in two
    so the EEG can be generated between the branches. Returns a namespace with ``emg``,
    ``eeg`` (samples), ``eeg_params`` (:class:`~golden.eeg_mrp_model.EEGParams` of the EEG's
    scale), ``trig``, ``strides``, ``trigger`` (the EEG trigger) and ``mrp``.
    """
    from golden.eeg_pipeline import run_golden_eeg
    from golden.emg_pipeline import run_golden
    from golden.fabric_pipeline import lg_onset_trigger
    from synthetic.eeg_gen import generate_eeg
    from synthetic.emg_gen import generate_walk, make_subject

    walk = generate_walk(walk_seed, session, steps, subject=make_subject(subject_seed, severity))
    trig, strides = run_golden(walk.emg)
    trigger = lg_onset_trigger(trig)
    eeg = generate_eeg(walk_seed, n_samples=len(walk.emg), movement_onsets=np.flatnonzero(trigger),
                       condition=session, subject_seed=subject_seed)
    params = EEGParams(eeg.uv_per_lsb)
    mrp = run_golden_eeg(eeg.eeg, trigger, params=params)
    return SimpleNamespace(emg=walk.emg, eeg=eeg.eeg, eeg_params=params, trig=trig,
                           strides=strides, trigger=trigger, mrp=mrp)


def simulate_walk(task):
    """One synthetic walk -> ``(task, rows, info)``. ``task = (seed, k, j, w, steps)``."""
    seed, k, j, w, steps = task
    t0 = time.perf_counter()
    sid, sev = SUBJECTS[k]
    session = SESSIONS[j]
    r = walk_pipeline(_seed(seed, k, j, w), _seed(seed, k), sev, session, steps)
    return task, cohort_rows(sid, sev, session, w + 1, r.strides, r.mrp), \
        dict(samples=len(r.emg), records=len(r.strides), triggers=int(r.trigger.sum()),
             seconds=time.perf_counter() - t0)


def cohort_rows(sid, sev, session, walk, strides, mrp):
    """Stride records + MRP records of one walk -> table rows (dicts of strings)."""
    cort = {}
    for r in mrp:
        if r["partial"]:
            continue
        d = cort.setdefault(r["index"], {})
        for b in BANDS:
            d[f"{EEG_CHANNELS[r['channel']]}_{b}_dBu"] = _num(db_from_q(r[b]))
    recs = [(rec["leg"], rec["start"], record_to_row(rec)) for rec in strides
            if not rec["overflow"]]
    return _table_rows(sid, sev, session, walk, recs, cort)


def _table_rows(sid, sev, session, walk, strides, cort):
    """``(leg, start, stride CSV row)`` of one walk -> table rows, ordered by leg and start,
    ``stride`` numbered per leg, cortical cells from ``cort`` (``{start: {column: value}}``)."""
    rows, ordinal = [], [0, 0]
    for leg, start, row in sorted(strides, key=lambda s: (s[0], s[1])):
        out = {"subject": sid, "severity": sev, "session": session, "walk": walk,
               "leg": row["leg"], "stride": ordinal[leg], "start": start,
               "start_s": row["start_s"]}
        ordinal[leg] += 1
        out.update({c: row[c] for c in MUSCULAR_COLUMNS})
        c = cort.get(start, {})
        out.update({col: c.get(col, "") for col in CORTICAL_COLUMNS})
        rows.append(out)
    return rows


def extract_rows(csv_rows, subject="", session="", walk=1, severity=""):
    """Rows of a ``python -m sw.extract emg`` CSV (dicts of strings, columns
    :data:`golden.stride_indexes_model.CSV_COLUMNS`) -> table rows, exactly as
    :func:`cohort_rows` makes them from the stride records (the CSV holds them losslessly:
    ``start_s`` is the 500 Hz start with three decimals); strides flagged ``overflow`` are
    left out, the cortical cells are empty."""
    recs = [(LEGS.index(r["leg"]), int(round(float(r["start_s"]) * FS)), r) for r in csv_rows
            if "overflow" not in (r.get("flags") or "")]
    return _table_rows(subject, severity, session, walk, recs, {})


def _say(msg):
    print(msg, file=sys.stderr, flush=True)


def build_cohort(seed=2024, walks=8, steps=150, jobs=2, progress=_say, scheduler=None):
    """Simulate the cohort; returns the rows ordered by subject, session, walk, leg, stride.

    The walks run on the execution layer :func:`sw.batch.run_tasks`: ``jobs`` local worker
    processes (``1``: in this process, no cluster), or the Dask cluster at ``scheduler``. The
    rows are gathered in task order, so they do not depend on ``jobs`` or on who finishes
    first. Raises :class:`RuntimeError` when a walk fails (a bug: the walks are pure).
    """
    from sw.batch import Failed, run_tasks
    tasks = [(seed, k, j, w, steps) for k in range(len(SUBJECTS)) for j in range(2)
             for w in range(walks)]
    t0 = time.perf_counter()
    count = [0]

    def done(i, res):
        if isinstance(res, Failed):
            return
        task, rows, info = res
        count[0] += 1
        _, k, j, w, _ = task
        progress(f"[{count[0]}/{len(tasks)}] {SUBJECTS[k][0]} ({SUBJECTS[k][1]}) "
                 f"{SESSIONS[j]} walk {w + 1}: {info['samples']} samples, {len(rows)} strides, "
                 f"{info['triggers']} EEG triggers, {info['seconds']:.1f} s "
                 f"(elapsed {time.perf_counter() - t0:.0f} s)")

    workers = None if scheduler else (0 if jobs <= 1 else jobs)
    results = run_tasks(simulate_walk, tasks, workers=workers, scheduler=scheduler,
                        keys=[f"cohort-walk-{'-'.join(map(str, t))}" for t in tasks],
                        label="cohort", unit="walk", on_result=done, say=progress)
    bad = [(t, r) for t, r in zip(tasks, results) if isinstance(r, Failed)]
    if bad:
        (_, k, j, w, _), r = bad[0]
        raise RuntimeError(f"{len(bad)} walk(s) failed, first {SUBJECTS[k][0]} {SESSIONS[j]} "
                           f"walk {w + 1}: {r.reason}")
    return [row for _, rows, _ in results for row in rows]


# ----------------------------------------------------------------------------
# user feature CSVs
# ----------------------------------------------------------------------------

_SESSION_NAMES = {"pre": "pre", "off": "pre", "post": "post", "on": "post"}


def scan_features(paths):
    """First look at user feature CSVs: absent muscle columns and overflow strides.

    A muscular column is *absent* when it is empty in every row of a file, or in every
    row of one recording (subject, session, walk) of a file: ``sw.extract emg`` leaves
    unmapped muscles empty. Returns ``(absent, where, overflow)``: the absent columns in
    :data:`MUSCULAR_COLUMNS` order, ``{column: [files]}``, and the number of strides
    flagged ``overflow`` (left out by :func:`load_user_features`). A file whose
    every row is flagged overflow raises :class:`InputError`. Unreadable files are left
    to :func:`load_user_features` to report.
    """
    import pandas as pd
    where, overflow = {}, 0
    for path in paths:
        try:
            df = pd.read_csv(path, dtype=str, keep_default_na=False)
        except (OSError, ValueError, pd.errors.EmptyDataError, pd.errors.ParserError):
            continue
        df.columns = [str(c).strip() for c in df.columns]
        if len(df) and "flags" in df.columns:
            over = df["flags"].str.contains("overflow").to_numpy()
            if over.all():
                raise InputError(f"{path}: every row ({len(df)}) is flagged overflow (a stride "
                                 "exceeded the 16-bit counter): no stride to train on")
            overflow += int(over.sum())
            df = df[~over]
        keys = [df[k].str.strip() for k in ("subject", "session", "walk") if k in df.columns]
        for c in MUSCULAR_COLUMNS:
            if c not in df.columns or not len(df):
                continue
            empty = df[c].str.strip() == ""
            if empty.all() or (keys and empty.groupby(keys).all().any()):
                where.setdefault(c, []).append(path)
    return [c for c in MUSCULAR_COLUMNS if c in where], where, overflow


def load_user_features(paths, absent=()):
    """Validate and concatenate per-stride feature CSVs; returns table rows.

    ``absent`` names muscular columns of muscles that were not recorded (see
    :func:`sw.wo_data.load_table`): their empty cells are accepted and stay empty, as empty
    cortical cells do. Raises :class:`sw.recording.InputError` (one-line message) on any
    problem.
    """
    import pandas as pd

    required = ("subject", "session", "leg", "start_s") + MUSCULAR_COLUMNS
    rows = []
    sessions = set()
    for path in paths:
        if not os.path.isfile(path):
            raise InputError(f"{path}: no such file")
        try:
            df = pd.read_csv(path, dtype=str, keep_default_na=False)
        except (pd.errors.EmptyDataError, pd.errors.ParserError, UnicodeDecodeError) as e:
            raise InputError(f"{path}: not a readable CSV ({str(e).splitlines()[0]})") from None
        df.columns = [c.strip() for c in df.columns]
        missing = [c for c in required if c not in df.columns]
        if missing:
            raise InputError(
                f"{path}: missing column{'s' if len(missing) > 1 else ''} "
                f"{', '.join(missing)} (need sw.extract emg columns plus subject, session)"
            )
        if len(df) == 0:
            raise InputError(f"{path}: no rows")
        if "flags" in df.columns:
            df = df[~df["flags"].str.contains("overflow")]
        numeric = (
            list(MUSCULAR_COLUMNS) + ["start_s"] + [c for c in CORTICAL_COLUMNS if c in df.columns]
        )
        for c in numeric:
            v = pd.to_numeric(df[c].str.strip(), errors="coerce")
            bad = np.flatnonzero(
                v.isna().to_numpy() | ~np.isfinite(v.to_numpy(dtype=float, na_value=np.nan))
            )
            if c in CORTICAL_COLUMNS or c in absent:
                bad = bad[df[c].iloc[bad].str.strip().to_numpy() != ""]    # empty = no record
            if len(bad):
                i = bad[0]
                raise InputError(
                    f"{path}: row {i + 2}, column {c}: {df[c].iloc[i]!r} is not a number "
                    f"(NaN/empty feature; {len(bad)} such row{'s' if len(bad) > 1 else ''})"
                )
            df[c] = v
        for c in ("subject", "session", "leg"):
            empty = np.flatnonzero(df[c].str.strip().to_numpy() == "")
            if len(empty):
                raise InputError(f"{path}: row {empty[0] + 2}: empty {c}")
        sess = df["session"].str.strip().str.lower()
        unknown = sorted(set(sess) - set(_SESSION_NAMES))
        if unknown:
            raise InputError(
                f"{path}: unknown session {unknown[0]!r} (expected pre/post or off/on)"
            )
        df["session"] = sess.map(_SESSION_NAMES)
        legs = sorted(set(df["leg"].str.strip()) - set(LEGS))
        if legs:
            raise InputError(f"{path}: unknown leg {legs[0]!r} (expected L or R)")
        if "walk" in df.columns:
            w = pd.to_numeric(df["walk"], errors="coerce")
            if w.isna().any() or (w != w.round()).any():
                raise InputError(f"{path}: column walk must hold whole numbers")
            df["walk"] = w.astype(int)
        else:
            df["walk"] = 1
        if "severity" not in df.columns:
            df["severity"] = ""
        sessions |= set(df["session"])
        for _, r in df.iterrows():
            row = {"subject": r["subject"].strip(), "severity": r["severity"].strip(),
                   "session": r["session"], "walk": int(r["walk"]), "leg": r["leg"].strip(),
                   "start": int(round(float(r["start_s"]) * FS)), "start_s": f"{r['start_s']:.3f}"}
            row.update({c: _num(r[c]) for c in MUSCULAR_COLUMNS})
            row.update({c: _num(r[c]) if c in df.columns else "" for c in CORTICAL_COLUMNS})
            rows.append(row)
    if not rows:
        raise InputError(f"{', '.join(paths)}: no stride left (every row is flagged overflow)")
    if len(sessions) < 2:
        raise InputError(f"only session {next(iter(sessions))!r} in the feature files; "
                         "a Pre vs Post table needs both pre and post")
    rows.sort(key=lambda r: (r["subject"], SESSIONS.index(r["session"]), r["walk"],
                             LEGS.index(r["leg"]), r["start"]))
    last, n = None, 0
    for r in rows:
        key = (r["subject"], r["session"], r["walk"], r["leg"])
        n = n + 1 if key == last else 0
        last = key
        r["stride"] = n
    return rows


def read_cohort(path):
    """``cohort.csv`` (or its folder) -> :class:`pandas.DataFrame`."""
    import pandas as pd
    if os.path.isdir(path):
        path = os.path.join(path, "cohort.csv")
    return pd.read_csv(path, dtype={"subject": str, "severity": str, "session": str, "leg": str},
                       keep_default_na=False, na_values=[""])


def _file_digest(path):
    h = hashlib.sha256()
    with open(path, "rb") as f:
        h.update(f.read())
    return h.hexdigest()


def _check_cohort_files(out, csv_path, json_path, inputs):
    """A cohort folder is a cache: only its own cohort.csv/cohort.json are ever replaced (when
    the parameters change); other files in it are never touched. Refuse files of those names
    that are not a cohort's, special files, and an input among them."""
    if os.path.lexists(out) and not os.path.isdir(out):
        raise InputError(f"--out {out} exists and is not a folder")
    if os.path.isdir(out):
        for p in (csv_path, json_path):
            check_output_file(p, inputs, "--out")
    if os.path.lexists(csv_path) or os.path.lexists(json_path):
        try:
            with open(json_path) as f:
                meta = json.load(f)
        except (OSError, ValueError):
            meta = None
        if not is_cohort_json(meta):
            raise InputError(f"--out {out} holds a cohort.csv or cohort.json that sw.cohort did "
                             "not write (no cohort.json of this tool); choose another folder")


def is_cohort_json(meta):
    """Whether ``meta`` (a parsed cohort.json) is one this tool wrote: its source, format and
    pipeline keys (:func:`synthetic_params`; a features cohort's)."""
    return (isinstance(meta, dict) and meta.get("source") in ("synthetic", "features")
            and "format" in meta and "pipeline" in meta)


def _change(cached, params):
    """What differs between a cached cohort.json and the one a build would write now."""
    if not isinstance(cached, dict):
        return "no valid cohort.json"
    if cached.get("pipeline") != params.get("pipeline") or \
            cached.get("format") != params.get("format"):
        return "pipeline source changed"
    return "parameters changed"


def main(argv=None):
    ap = parser(PROG, __doc__.splitlines()[0])
    ap.add_argument("--out", default=str(DEFAULT_OUT / "cohort"),
                    help=f"cohort folder (default {DEFAULT_OUT / 'cohort'}): "
                         "cohort.csv + cohort.json")
    ap.add_argument("--seed", type=int, default=2024, help="master seed (default 2024)")
    ap.add_argument("--walks", type=int, default=8, help="walks per session (default 8)")
    ap.add_argument("--steps", type=int, default=150, help="strides per leg per walk (default 150)")
    ap.add_argument("--jobs", type=int, default=None,
                    help="local worker processes (default 2; 1 = in this process)")
    ap.add_argument("--scheduler", metavar="ADDRESS",
                    help="run the walks on the Dask cluster at ADDRESS (tcp://host:8786) "
                         "instead of local workers")
    ap.add_argument("--features", nargs="+", metavar="CSV",
                    help="your own per-stride CSVs (sw.extract emg + subject, session) "
                         "instead of the synthetic cohort")
    a = ap.parse_args(argv)
    try:
        if a.seed < 0:
            raise InputError("--seed must be a non-negative integer")
        if a.walks < 1:
            raise InputError("--walks must be at least 1")
        if a.steps < 2:
            raise InputError("--steps must be at least 2")
        if a.jobs is not None and a.jobs < 1:
            raise InputError("--jobs must be at least 1")
        check_cluster_args(a.jobs, a.scheduler, "--jobs")
        jobs = 2 if a.jobs is None else a.jobs
        if not a.out:
            raise InputError("--out: empty folder name")
        csv_path = os.path.join(a.out, "cohort.csv")
        json_path = os.path.join(a.out, "cohort.json")
        _check_cohort_files(a.out, csv_path, json_path, a.features or ())
        if a.features:
            absent, _, _ = scan_features(a.features)
            if absent:
                print(f"{PROG}: note: absent muscle columns left empty: {', '.join(absent)}",
                      file=sys.stderr)
            rows = load_user_features(a.features, absent)
            params = {"source": "features", "format": FORMAT_VERSION,
                      "pipeline": pipeline_digest(),
                      "features": [{"path": os.path.abspath(p), "sha256": _file_digest(p)}
                                   for p in a.features]}
        else:
            params = synthetic_params(a.seed, a.walks, a.steps)
        try:
            with open(json_path) as f:
                cached = json.load(f)
        except (OSError, ValueError):
            cached = None
        if cached == params and os.path.isfile(csv_path):
            print(f"cohort cache: reusing {csv_path} (same parameters as {json_path})")
            return 0
        if not a.features:
            print(
                f"building SYNTHETIC cohort: {len(SUBJECTS)} subjects x pre/post x {a.walks} walks "
                f"x {a.steps} strides per leg, seed {a.seed}, "
                + (f"Dask cluster {a.scheduler}" if a.scheduler else f"{jobs} job(s)")
                + (f" ({_change(cached, params)}: rebuilding)" if cached is not None else "")
            )
            t0 = time.perf_counter()
            rows = build_cohort(a.seed, a.walks, a.steps, jobs, scheduler=a.scheduler)
            params_note = f" in {time.perf_counter() - t0:.1f} s"
        else:
            params_note = f" from {len(a.features)} feature file(s)"
        os.makedirs(a.out, exist_ok=True)
        if os.path.exists(json_path):
            os.unlink(json_path)                  # the table is about to change
        write_csv_atomic(csv_path, COLUMNS, rows)
        write_json_atomic(json_path, params)
        print(f"wrote {len(rows)} strides to {csv_path}{params_note}")
        return 0
    except InputError as e:
        return fail(PROG, e)
    except OSError as e:
        return fail(PROG, os_error_line(e), 1)
    except RuntimeError as e:                     # a walk failed on the cluster
        return fail(PROG, e, 1)
    except KeyboardInterrupt:
        print(f"{PROG}: interrupted", file=sys.stderr)
        return 130


if __name__ == "__main__":
    sys.exit(main())
