"""Validation of the fabric pipeline on the real recordings in ``../shared/data/``.

``python -m bench.validate [--data DIR] [--out DIR] [--force] [--sim icarus|verilator|none]``
(``make validate``) writes ``VALIDATION.md``, ``validation.json`` and the plots
``uci_trigger_overlay.png`` and ``uci_stride_agreement.png`` into ``--out``;
``make bench`` runs the same code for a section of ``bench/results/REPORT.md``. The folder is
shared by the ``bench`` tools (its marker says so): a run replaces only the files it writes
again, needs ``--force`` when an earlier bench run is there, and refuses a folder of anyone else.

``DIR`` holds ``emg-lower-limb-uci/`` and/or ``eeg-motor-physionet/`` (the layout of
``../shared/data/``), or is one of them. The recordings are found by their content, not their
names: UCI walks by their ``File Name:``/``Channel N: 'NAME'`` header (RF, BF and the knee
channel mapped by name), EDF runs by extension or header. A section whose recordings are missing
is reported as absent; unreadable files are listed as skipped; a folder with nothing usable is
an error (one line, exit 2). Every sentence of the report is computed from the data. Exit status
1 when a gateware replay differs from the golden model.

1. **UCI lower-limb EMG walks** (one leg, 1 kHz, RF/BF/VM/ST + knee
   goniometer): the EMG pipeline (bit-exact golden model = gateware) runs on
   RF and BF (``--map R_RF=..,R_BF=.. --stride-ref BF``, as in the
   ``sw.extract emg`` example); its stride onsets are scored against the
   knee-goniometer gait cycles (:mod:`bench.gonio`): matched / split / merged
   strides and the stride-time error of the matched ones. The same is shown for
   the bare rising-edge stride rule (``min_stride = ref_min_gap = 0``, the
   rule before this validation) and for RF as the stride reference. The rule's two
   parameters (``min_stride`` 700 ms, ``ref_min_gap`` 300 ms) were tuned on these same walks,
   so those figures are labelled *in-sample*; a **leave-one-subject-out** check
   (:func:`stride_rule_loso`) chooses the two parameters on the other subjects' walks by a
   grid search around the defaults (:func:`loso_grid`, scored with :mod:`bench.gonio`'s
   matching, golden model only; every rule is run once per walk and shared by all folds)
   and scores the held-out subject's walks with them: per subject and pooled. The
   shortest walk is also replayed through the simulated gateware (``--sim``) and
   compared with the golden records; the overlay plot shows the walk with the best
   share of matched strides (among those with at least ``OVERLAY_MIN_STRIDES``).
2. **PhysioNet EEG motor runs** (e.g. S001R03, S001R07, 64 ch at 160 Hz): the EEG
   branch is triggered at the annotation onsets + 0, 1 and 2 s of T1/T2 (left
   / right fist) and T0 (rest). Reported: C3/Cz/C4 µ and β band values during
   movement (+1, +2 s) against rest (same offsets), the movement-related
   change in dB and Welch's t-test; and the three implementations compared on
   every record: gateware (``--sim``) vs bit-exact golden (must be identical)
   vs SciPy float reference (difference in dB).

``validation.json`` ``meta.git`` records the checkout measured (:func:`git_state`: commit and
whether the tree was dirty, or why there is no such information); ``VALIDATION.md`` says it in
its first line.
"""

import os
import platform
import re
import sys
import time
from datetime import datetime, timezone
from pathlib import Path

import numpy as np

from bench.gonio import MATCH_TOL, knee_cycles, score_strides
from golden.eeg_mrp_model import FLOAT_BOUND_DB
from spec.cli import InputError, error_status, fail, guard, parser
from spec.constants import BENCH_DIR, FS, ROOT, SHARED_DATA
from spec.outputs import OutputFolder, write_json_atomic, write_text_atomic
from sw.recording import uci_subject

DATA = SHARED_DATA
#: the tool family whose marker the results folder carries (bench.report writes there too)
BENCH_TOOL = "bench"
PROG = "bench.validate"
UCI_DIR = "emg-lower-limb-uci"
EEG_DIR = "eeg-motor-physionet"
#: the overlay plot shows the walk with the best share of matched strides among those with
#: at least this many EMG strides (all walks when none has as many)
OVERLAY_MIN_STRIDES = 5

__all__ = ["uci_validation", "physionet_validation", "find_uci", "find_edf", "run", "main",
           "git_state", "git_phrase", "stride_rule_loso", "subject_key"]


def _say(msg):
    print(msg, file=sys.stderr, flush=True)


def git_state(root=ROOT):
    """The checkout the figures were measured on: ``{"commit", "dirty", "changed", "note"}``.

    ``commit`` is ``git rev-parse HEAD``, ``dirty`` whether ``git status --porcelain`` lists
    anything (changed, staged or untracked files; ``changed`` counts them). When ``root`` is
    not a git checkout, or git is missing or fails, ``commit`` and ``dirty`` are None and
    ``note`` says why; this never raises.
    """
    import subprocess

    def git(*args):
        r = subprocess.run(["git", "-C", str(root), *args], capture_output=True, text=True,
                           timeout=60)
        if r.returncode:
            raise RuntimeError((r.stderr.strip().splitlines() or [f"exit {r.returncode}"])[-1])
        return r.stdout
    try:
        inside = git("rev-parse", "--is-inside-work-tree").strip() == "true"
        top = Path(git("rev-parse", "--show-toplevel").strip()).resolve() if inside else None
        if top != Path(root).resolve():
            raise RuntimeError(f"{root} is not the top of a git work tree")
        commit = git("rev-parse", "HEAD").strip()
        changed = [ln for ln in git("status", "--porcelain").splitlines() if ln.strip()]
    except FileNotFoundError:
        return dict(commit=None, dirty=None, changed=None, note="git is not installed")
    except (RuntimeError, OSError, subprocess.SubprocessError, UnicodeDecodeError) as e:
        return dict(commit=None, dirty=None, changed=None,
                    note=f"not a git checkout ({str(e) or type(e).__name__})")
    return dict(commit=commit, dirty=bool(changed), changed=len(changed), note=None)


def git_phrase(g):
    """``commit 1a2b3c4d5e6f (tree clean)`` / ``(tree dirty: 3 changed files)`` / the note."""
    if not g or not g.get("commit"):
        return (g or {}).get("note") or "no git information"
    return f"commit {g['commit'][:12]} " + (
        f"(tree dirty: {_count(g['changed'], 'changed or untracked file')})" if g["dirty"]
        else "(tree clean)")


def best_sim(sim):
    """Resolve ``"auto"`` to Verilator when installed, else Icarus; ``None`` if absent."""
    from sim.hdl_build import simulator_missing
    if sim == "none":
        return None
    for s in (("verilator", "icarus") if sim == "auto" else (sim,)):
        if simulator_missing(s) is None:
            return s
    return None


# ------------------------------------------------------------------ discovery

def _folder(data_dir, sub):
    """``DIR/sub`` when it exists (the ``../shared/data`` layout), else ``DIR`` itself."""
    d = Path(data_dir)
    return d / sub if (d / sub).is_dir() else d


def _files(folder):
    try:
        return sorted(p for p in Path(folder).iterdir() if p.is_file() and p.name[0] != ".")
    except OSError:
        return []


def _looks_uci(path):
    """A text file whose header starts like the UCI lower-limb files (``File Name:`` or
    ``Channel N: 'NAME'``)."""
    try:
        with open(path, "rb") as f:
            head = f.read(512).decode("utf-8-sig", errors="replace")
    except OSError:
        return False
    first = next((ln for ln in head.splitlines() if ln.strip()), "")
    return re.match(r"\s*(File Name|Channel\s+\d+)\s*:", first) is not None


def find_uci(data_dir):
    """UCI lower-limb walks in ``DIR/emg-lower-limb-uci/`` (or ``DIR``), found by their
    header, whatever their names; sorted by name."""
    return [p for p in _files(_folder(data_dir, UCI_DIR)) if _looks_uci(p)]


def find_edf(data_dir):
    """EDF runs in ``DIR/eeg-motor-physionet/`` (or ``DIR``), by extension or header."""
    from sw.eeg_input import is_edf
    return [p for p in _files(_folder(data_dir, EEG_DIR)) if not _looks_uci(p) and is_edf(p)]


def _join(items):
    items = [str(x) for x in items]
    return items[0] if len(items) == 1 else ", ".join(items[:-1]) + " and " + items[-1]


_WORDS = ("no", "one", "two", "three", "four", "five", "six", "seven", "eight", "nine", "ten")


def _count(n, noun, words=False):
    num = _WORDS[n] if words and n < len(_WORDS) else str(n)
    return f"{num} {noun}{'' if n == 1 else 's'}"


def _n_differ(a, b):
    """Records that differ position by position, plus those only one side has."""
    return sum(x != y for x, y in zip(a, b)) + abs(len(a) - len(b))


# --------------------------------------------------------------------- UCI EMG

def uci_channels(path, names):
    """Header names of the RF, BF and knee-angle channels, found by the reader's own UCI role
    rule (:func:`sw.recording.uci_role`: ``RF``/``Recto Femoral``/``rectus femoris``,
    ``BF``/``Biceps Femoral``, ``FX``/``Flexo-Extension``/knee goniometer wordings)."""
    from sw.recording import uci_role
    out = []
    for role, what in (("RF", "RF"), ("BF", "BF"), ("FX", "knee")):
        hit = [n for n in names if uci_role(n) == role]
        if not hit:
            raise InputError(f"{path}: no {what} channel in the header "
                             f"(channels: {', '.join(names) or 'none'})")
        out.append(hit[0])
    return out


def tuning_walks(files):
    """How many of the UCI walk ``files`` the stride-onset rule's two parameters were tuned
    on: those whose content equals a walk of ``../shared/data/emg-lower-limb-uci`` (the
    tuning set)."""
    import hashlib

    def digest(p):
        return hashlib.sha256(Path(p).read_bytes()).hexdigest()
    ref = {digest(p) for p in find_uci(SHARED_DATA)} if (SHARED_DATA / UCI_DIR).is_dir() \
        else set()
    return sum(digest(f) in ref for f in files)


def load_uci(path):
    """RF/BF as R_RF/R_BF int16 samples at 500 Hz, the knee angle at 500 Hz, and the header
    names of RF, BF and the knee channel."""
    from scipy.signal import resample_poly

    from sw.recording import mapped_matrix, prepare_emg, read_recording
    rec = read_recording(path)
    names = uci_channels(path, rec.names)
    samples, present, info = prepare_emg(path, fs=1000, map_spec=f"R_RF={names[0]},R_BF={names[1]}")
    knee, _ = mapped_matrix(rec, {"knee": names[2]})
    emg_rows = len(rec.columns[names[0]]) - info["trimmed"]
    if len(knee) < emg_rows:
        raise InputError(f"{path}: knee channel {names[2]!r} ends before the EMG")
    knee = resample_poly(knee[:emg_rows, 0], 1, 2)[:len(samples)]
    return samples, present, knee, names


def walk_label(path):
    """``(subject, group)`` from a UCI file name ``<n>Nmar``/``<n>Amar``; ``(None, None)``
    when the name does not say."""
    m = re.match(r"(\d+)([NA])", Path(path).name)
    if not m:
        return None, None
    return int(m.group(1)), ("healthy" if m.group(2) == "N" else "knee abnormality")


def _onsets(records, leg=1):
    rs = [r for r in records if r["leg"] == leg]
    if not rs:
        return np.zeros(0)
    return np.array([r["start"] for r in rs] + [rs[-1]["start"] + rs[-1]["stride_time"]], float)


VARIANTS = (  # name, stride_ref muscle index (spec.channels.MUSCLES), rule
    ("BF, stride-onset rule (default; in-sample: rule tuned on these walks)", 2, None),
    ("BF, bare rising edges (before)", 2, (0, 0)),
    ("RF, stride-onset rule", 3, None),
)


#: the leave-one-subject-out check searches the stride-onset rule's two parameters over the
#: defaults and LOSO_STEPS steps of LOSO_STEP samples either side (500 Hz: 50 samples = 100 ms)
LOSO_STEP = 50
LOSO_STEPS = 2


def loso_grid():
    """``[(min_stride, ref_min_gap), ...]`` in samples: the defaults
    (:data:`golden.stride_indexes_model.MIN_STRIDE`, ``REF_MIN_GAP``) and
    :data:`LOSO_STEPS` steps of :data:`LOSO_STEP` either side of each (negative values left
    out)."""
    from golden.stride_indexes_model import MIN_STRIDE, REF_MIN_GAP
    span = range(-LOSO_STEPS * LOSO_STEP, LOSO_STEPS * LOSO_STEP + 1, LOSO_STEP)
    return [(MIN_STRIDE + a, REF_MIN_GAP + b) for a in span for b in span
            if MIN_STRIDE + a >= 0 and REF_MIN_GAP + b >= 0]


def subject_key(path):
    """The subject of a UCI walk from its file name: ``1Nmar.txt`` -> ``"1N"`` (subject 1 of
    the healthy group), ``3Amar.txt`` -> ``"3A"``. The two groups are different people, so
    ``1N`` and ``1A`` are different subjects. A name that does not say is its own subject
    (the file name)."""
    return uci_subject(path) or Path(path).name


def _summarize(scores):
    """Pooled figures of a list of :func:`bench.gonio.score_strides` results."""
    keys = ("kind", "err_ms")
    cat = {k: np.concatenate([np.asarray(sc[k]) for sc in scores]) if scores else np.zeros(0)
           for k in keys}
    kind = cat["kind"]
    ok = (kind == "matched") & np.isfinite(cat["err_ms"].astype(float))
    e = cat["err_ms"][ok].astype(float)
    return dict(
        strides=int(len(kind)), matched=int(np.sum(kind == "matched")),
        split=int(np.sum(kind == "split")), merged=int(np.sum(kind == "merged")),
        matched_pct=float(100 * np.mean(kind == "matched")) if len(kind) else 0.0,
        err_n=int(len(e)),
        err_median_ms=float(np.median(e)) if len(e) else None,
        abs_err_median_ms=float(np.median(np.abs(e))) if len(e) else None,
        abs_err_p95_ms=float(np.percentile(np.abs(e), 95)) if len(e) else None,
    )


def _marker_onsets(trig, present, min_stride, ref_min_gap, ref=2, leg=1):
    """The stride onsets of one leg's marker (default: BF of the right leg, as the UCI walks
    are mapped) under one rule: what ``_onsets(stride_indexes_bitexact(...))`` gives (the
    records run from one onset to the next), without building the records."""
    from golden.stride_indexes_model import stride_onsets
    ch = 4 * leg + ref
    if not np.asarray(present, bool)[ch]:
        return np.zeros(0)
    on = stride_onsets(np.asarray(trig)[:, ch].astype(bool), min_stride, ref_min_gap)
    return on.astype(float) if len(on) >= 2 else np.zeros(0)


def _rule_scores(trig, present, peaks, min_stride, ref_min_gap):
    """BF stride onsets of one walk under one rule, scored against the goniometer."""
    return score_strides(_marker_onsets(trig, present, min_stride, ref_min_gap), peaks, FS)


def _objective(summary, rule, default):
    """Sort key of a rule on the walks it is chosen on (smallest first): most matched
    strides in per cent, then the smallest median |error|, then nearest the default, then the
    smallest parameters."""
    err = summary["abs_err_median_ms"]
    dist = abs(rule[0] - default[0]) + abs(rule[1] - default[1])
    return (-round(summary["matched_pct"], 9), np.inf if err is None else err, dist, rule)


def stride_rule_loso(walks, grid=None):
    """Leave-one-subject-out evaluation of the stride-onset rule.

    ``walks``: one dict per walk with ``file``, ``subject`` (:func:`subject_key`) and
    ``scores`` -- ``{(min_stride, ref_min_gap): score_strides result}`` for every rule of
    ``grid`` (default :func:`loso_grid`), computed once per walk and shared by all folds. For
    each subject in turn the rule is chosen (:func:`_objective`) on the walks of all *other*
    subjects and the held-out subject's walks are scored with it. Returns ``None`` with fewer
    than two subjects, else a dict: ``folds`` (per subject: its files, the files the rule was
    chosen on, the rule in ms, its figures on the held-out walks, and the default rule's
    figures on the same walks), ``pooled`` (the held-out strides of every fold together),
    ``in_sample`` (the default rule on all walks) and ``in_sample_best`` (the rule the same
    search picks on all walks, and its figures there).
    """
    from golden.stride_indexes_model import MIN_STRIDE, REF_MIN_GAP
    from spec.channels import SAMPLE_MS
    grid = loso_grid() if grid is None else list(grid)
    default = (MIN_STRIDE, REF_MIN_GAP)
    subjects = list(dict.fromkeys(w["subject"] for w in walks))
    if len(subjects) < 2:
        return None

    def choose(pool):
        return min(grid, key=lambda rule: _objective(
            _summarize([w["scores"][rule] for w in pool]), rule, default))

    def ms(rule):
        return dict(min_stride_ms=rule[0] * SAMPLE_MS, ref_min_gap_ms=rule[1] * SAMPLE_MS)

    folds, held_scores = [], []
    for subj in subjects:
        test = [w for w in walks if w["subject"] == subj]
        train = [w for w in walks if w["subject"] != subj]
        rule = choose(train)
        held = [w["scores"][rule] for w in test]
        held_scores += held
        folds.append(dict(subject=subj, files=[w["file"] for w in test],
                          tuned_on=[w["file"] for w in train], **ms(rule),
                          is_default=rule == default,
                          train_matched_pct=_summarize([w["scores"][rule] for w in train])[
                              "matched_pct"],
                          **_summarize(held),
                          default_rule=_summarize([w["scores"][default] for w in test])))
    best = choose(walks)
    return dict(
        grid=dict(min_stride_ms=sorted({r[0] * SAMPLE_MS for r in grid}),
                  ref_min_gap_ms=sorted({r[1] * SAMPLE_MS for r in grid})),
        default=ms(default),
        objective="pooled share of matched strides on the other subjects' walks; ties: lower "
                  "median |error|, then nearer the default",
        folds=folds, pooled=_summarize(held_scores),
        in_sample=_summarize([w["scores"][default] for w in walks]),
        in_sample_best=dict(**ms(best), **_summarize([w["scores"][best] for w in walks])),
    )


def _skip(path, err, skipped, progress):
    msg = str(err).splitlines()[0] if str(err) else type(err).__name__
    msg = msg.removeprefix(f"{path}: ")
    skipped.append(dict(file=Path(path).name, reason=msg))
    progress(f"  skipped {Path(path).name}: {msg}")


def uci_validation(data_dir=DATA, sim="auto", plot_dir=None, progress=_say, files=None):
    """Score EMG stride onsets against knee-goniometer cycles on every UCI walk.

    ``files`` (default: :func:`find_uci` of ``data_dir``) are the walks. Files that cannot be
    read or lack the RF, BF or knee channel are listed in ``skipped``; ``None`` when no walk
    is usable (nothing else is done then).
    """
    from golden.emg_pipeline import run_golden
    from golden.emg_trigger_model import TriggerParams, trigger_bitexact
    from golden.stride_indexes_model import stride_indexes_bitexact
    files = find_uci(data_dir) if files is None else list(files)
    per_file, skipped, scores = [], [], {v[0]: [] for v in VARIANTS}
    cand = []  # (path, samples, present, trig, recs, knee, peaks, names, row), default variant
    grid, loso_walks = loso_grid(), []
    for path in files:
        try:
            samples, present, knee, names = load_uci(path)
            peaks, sign = knee_cycles(knee, FS)
        except (ValueError, OSError) as e:     # InputError is a ValueError
            _skip(path, e, skipped, progress)
            continue
        subject, group = walk_label(path)
        row = {
            "file": path.name,
            "subject": subject,
            "group": group,
            "channels": list(names),
            "seconds": round(len(samples) / FS, 1),
            "samples": int(len(samples)),
            "knee_sign": sign,
            "gonio_cycles": int(max(len(peaks) - 1, 0)),
            "cycle_s_median": round(float(np.median(np.diff(peaks))) / FS, 2)
            if len(peaks) > 1
            else None,
        }
        trig = trigger_bitexact(
            samples, TriggerParams(), present=present
        )  # = run_golden's first half
        for name, ref, rule in VARIANTS:
            kw = {} if rule is None else dict(min_stride=rule[0], ref_min_gap=rule[1])
            recs = stride_indexes_bitexact(trig, present, ref, **kw)
            sc = score_strides(_onsets(recs), peaks, FS)
            sc["file"] = np.array([path.name] * len(sc["kind"]), dtype=object)
            sc["group"] = np.array([group or "unknown"] * len(sc["kind"]), dtype=object)
            scores[name].append(sc)
            if rule is None and ref == 2:
                row.update(strides=int(len(sc["kind"])),
                           matched=int(np.sum(sc["kind"] == "matched")),
                           split=int(np.sum(sc["kind"] == "split")),
                           merged=int(np.sum(sc["kind"] == "merged")))
                ok = (sc["kind"] == "matched") & np.isfinite(sc["err_ms"])
                row["abs_err_median_ms"] = (
                    float(np.median(np.abs(sc["err_ms"][ok]))) if ok.any() else None
                )
                cand.append((path, samples, present, trig, recs, knee, peaks, names, row))
        per_file.append(row)
        row["subject_key"] = subject_key(path)
        # every rule of the grid on this walk, once (the trigger bits are shared)
        loso_walks.append(dict(file=path.name, subject=row["subject_key"], scores={
            rule: _rule_scores(trig, present, peaks, *rule) for rule in grid}))
        progress(
            f"  UCI {path.name}: {row['gonio_cycles']} knee cycles, {row['strides']} EMG strides, "
            f"{row['matched']} matched"
        )
    if not per_file:
        return None if not skipped else dict(files=[], skipped=skipped)
    summary = {name: _summarize(scores[name]) for name, _, _ in VARIANTS}
    main_scores = {k: np.concatenate([sc[k] for sc in scores[VARIANTS[0][0]]])
                   for k in scores[VARIANTS[0][0]][0]}
    loso = stride_rule_loso(loso_walks, grid)
    gate = None
    s = best_sim(sim)
    if s is not None:
        from sim.emg_hdl_engine import run_hdl
        # the shortest walk (first by name among equals): the replay is the slow part
        path, samples, present = min(cand, key=lambda c: len(c[1]))[:3]
        t0 = time.perf_counter()
        th, rh = run_hdl(samples, present, 2, sim=s)
        tg, rg = run_golden(samples, present, 2)
        th, tg = np.asarray(th), np.asarray(tg)
        same_trig = th.shape == tg.shape and bool(np.array_equal(th, tg))
        gate = dict(file=path.name, simulator=s, samples=int(len(samples)),
                    trig_identical=same_trig,
                    trig_frames_differ=0 if same_trig else (
                        int(np.sum(np.any(th != tg, axis=tuple(range(1, th.ndim)))))
                        if th.shape == tg.shape else int(max(len(th), len(tg)))),
                    records_identical=rh == rg, records=len(rg), records_hdl=len(rh),
                    records_differ=_n_differ(rh, rg),
                    seconds=round(time.perf_counter() - t0, 1))
        progress(f"  UCI {path.name} gateware ({s}) == golden: {gate['records_identical']}")
    # the overlay: best share of matched strides among walks with enough strides
    # (ties: more strides, then the first by name)
    pool = [c for c in cand if c[8]["strides"] >= OVERLAY_MIN_STRIDES] or cand
    best = max(pool, key=lambda c: (c[8]["matched"] / max(c[8]["strides"], 1), c[8]["strides"]))
    overlay = dict(file=best[0].name, matched=best[8]["matched"], strides=best[8]["strides"],
                   min_strides=OVERLAY_MIN_STRIDES if pool is not cand else 0)
    plots = {}
    if plot_dir is not None:
        from bench.plots import stride_agreement, trigger_overlay
        os.makedirs(plot_dir, exist_ok=True)
        plots["overlay"] = trigger_overlay(Path(plot_dir) / "uci_trigger_overlay.png",
                                           best[0].name, best[1], *best[3:8])
        plots["agreement"] = stride_agreement(
            Path(plot_dir) / "uci_stride_agreement.png", main_scores
        )
    scored = {f["file"] for f in per_file}
    return dict(files=per_file, skipped=skipped, summary=summary, gateware=gate, plots=plots,
                overlay=overlay, match_tol=MATCH_TOL, loso=loso,
                tuning_walks=tuning_walks([p for p in files if Path(p).name in scored]))


def _skipped_line(r):
    sk = r.get("skipped") or []
    if not sk:
        return []
    return ["", f"Skipped {_count(len(sk), 'file')}: "
            + "; ".join(f"{x['file']} ({x['reason']})" for x in sk) + "."]


def _walks_phrase(files):
    groups = [f["group"] for f in files]
    parts = []
    if groups.count("healthy"):
        parts.append(f"{groups.count('healthy')} healthy `N`")
    if groups.count("knee abnormality"):
        parts.append(f"{groups.count('knee abnormality')} with a knee abnormality `A`")
    if groups.count(None):
        parts.append(f"{groups.count(None)} whose file name does not give the group "
                     "(`<n>N`/`<n>A`)")
    return f"{_count(len(files), 'walk')} ({', '.join(parts)})"


def uci_markdown(r):
    title = "### UCI lower-limb EMG: stride times against the knee goniometer (REAL data)"
    if not r or not r.get("files"):
        why = "no UCI lower-limb walk in the data folder" if not r else \
            "no UCI walk could be used"
        return "\n".join([title, "", f"Absent: {why} (`{UCI_DIR}/`, see "
                          "../shared/data/README.md)."] + _skipped_line(r or {})) + "\n"
    s = r["summary"]
    gastro = any(re.search(r"gastro|\b(lg|gl|mg|gm)\b", c.lower())
                 for f in r["files"] for c in f.get("channels", []))
    lines = [
        title,
        "",
        f"{_walks_phrase(r['files'])}, one leg, RF and BF mapped to "
        "R_RF/R_BF, BF onsets as the stride marker"
        + ("" if gastro else " (the files have no gastrocnemius)") + ". "
        "Reference: gait cycles between knee-flexion peaks (`bench/gonio.py`); an EMG stride is "
        f"*matched* when it spans 1 ± {r['match_tol']} gait cycles, *split* when shorter "
        "(an extra onset inside a cycle), *merged* when longer (a missed onset).",
        "",
        "| stride marker and rule | strides | matched | split | merged | error median | abs. "
        "error median | abs. error p95 |",
        "|---|---:|---:|---:|---:|---:|---:|---:|",
    ]
    for name, v in s.items():
        lines.append(
            f"| {name} | {v['strides']} | {v['matched']} ({v['matched_pct']:.0f} %) | "
            f"{v['split']} | "
            f"{v['merged']} | {_ms(v['err_median_ms'], sign=True)} | "
            f"{_ms(v['abs_err_median_ms'])} | "
            f"{_ms(v['abs_err_p95_ms'])} |"
        )
    lines += [
        "",
        "| file | group | s | knee cycles | EMG strides | matched | split | merged | abs. error "
        "median |",
        "|---|---|---:|---:|---:|---:|---:|---:|---:|",
    ]
    for f in r["files"]:
        lines.append(
            f"| {f['file']} | {f['group'] or '?'} | {f['seconds']} | {f['gonio_cycles']} | "
            f"{f['strides']} | "
            f"{f['matched']} | {f['split']} | {f['merged']} | {_ms(f['abs_err_median_ms'])} |"
        )
    lines += _skipped_line(r)
    g = r["gateware"]
    if g:
        trig = "identical" if g["trig_identical"] else \
            f"DIFFERENT ({g['trig_frames_differ']} frames differ)"
        recs = (f"{g['records']} stride records identical" if g["records_identical"] else
                f"{g['records_hdl']} stride records against the golden model's {g['records']}, "
                f"{g['records_differ']} DIFFERENT")
        lines += [
            "",
            f"Gateware replay of {g['file']} (the shortest walk; {g['samples']} samples, "
            f"{g['simulator']}): trigger bits {trig}, {recs}"
            + (" to the golden model." if g["records_identical"] else "."),
        ]
    else:
        lines += [
            "",
            "Gateware replay skipped: no HDL simulator (`--sim none`, or none installed: "
            "`make setup` installs Icarus and Verilator).",
        ]
    lines += ["", loso_markdown(r)]
    return "\n".join(lines)


def _pct(v):
    return f"{v['matched']} of {v['strides']} ({v['matched_pct']:.0f} %)"


def _compare(x, ref, what):
    """``3 points below WHAT`` / ``the same as WHAT`` (whole per cent, as printed)."""
    d = round(x) - round(ref)
    return (f"the same as {what}" if d == 0 else
            f"{abs(d)} point{'s' if abs(d) != 1 else ''} {'below' if d < 0 else 'above'} {what}")


def loso_markdown(r):
    """The leave-one-subject-out subsection of the UCI section (every number from ``r``)."""
    lo = r.get("loso")
    d = (lo or {}).get("default")
    title = "#### Is the stride rule's figure in-sample? Leave-one-subject-out check"
    if not lo:
        subjects = {f.get("subject_key") for f in r["files"]}
        return "\n".join([title, "", "Not done: it needs walks of at least two subjects "
                           f"(here {_count(len(subjects), 'subject')})."]) + "\n"
    folds, pooled, ins, best = lo["folds"], lo["pooled"], lo["in_sample"], lo["in_sample_best"]
    n_walks = [len(f["files"]) for f in folds]
    walks = ("each has one walk" if set(n_walks) == {1} else
             f"{sum(n_walks)} walks, {min(n_walks)}-{max(n_walks)} per subject")
    named = [f for f in folds if re.fullmatch(r"\d+[NA]", f["subject"])]
    unnamed = sum(len(f["files"]) for f in folds if f not in named)
    who = "; ".join(
        ([f"the subject is the number and group of the file name: `{named[0]['files'][0]}` is "
          f"subject `{named[0]['subject']}`, and the N and A groups are different people"]
         if named else [])
        + ([f"{_count(unnamed, 'walk')} whose file name does not give the subject "
            f"{'counts' if unnamed == 1 else 'count'} as a subject of its own"] if unnamed else []))
    grid = lo["grid"]
    n_default = sum(f["is_default"] for f in folds)
    lines = [
        title,
        "",
        f"The stride-onset rule's two parameters (a stride lasts at least "
        f"{d['min_stride_ms']} ms, `min_stride`; the marker was quiet for at least "
        f"{d['ref_min_gap_ms']} ms before it, `ref_min_gap`) are the defaults; "
        f"{_in_sample_sentence(r)} Here each of the "
        f"{_count(len(folds), 'subject')} is held out in turn ({who}; {walks}). "
        "The two parameters are chosen on the other subjects' walks by a grid search over "
        f"`min_stride` {_join(grid['min_stride_ms'])} ms x `ref_min_gap` "
        f"{_join(grid['ref_min_gap_ms'])} ms (objective: {lo['objective']}; golden model, "
        "`bench/gonio.py` matching) and the held-out walks are scored with them.",
        "",
        "| held-out subject | walks | chosen on the others: min_stride / ref_min_gap | strides | "
        "matched | abs. error median | default rule on this subject (in-sample) |",
        "|---|---:|---:|---:|---:|---:|---:|",
    ]
    for f in folds:
        lines.append(
            f"| {f['subject']} | {len(f['files'])} | {f['min_stride_ms']} / "
            f"{f['ref_min_gap_ms']} ms{' (default)' if f['is_default'] else ''} | "
            f"{f['strides']} | {_pct(f) if f['strides'] else '–'} | "
            f"{_ms(f['abs_err_median_ms'])} | "
            f"{_pct(f['default_rule']) if f['default_rule']['strides'] else '–'} |")
    lines += [
        "",
        f"**Leave-one-subject-out, pooled over the held-out walks:** {_pct(pooled)} strides "
        f"matched, error median {_ms(pooled['err_median_ms'], sign=True)}, abs. error median "
        f"{_ms(pooled['abs_err_median_ms'])}, p95 {_ms(pooled['abs_err_p95_ms'])}; "
        f"{_compare(pooled['matched_pct'], ins['matched_pct'], 'the in-sample figure')} "
        f"({_pct(ins)}, abs. error median {_ms(ins['abs_err_median_ms'])} with the default "
        f"rule on all walks). The default parameters were chosen in {n_default} of "
        f"{len(folds)} folds. On all walks together the same search "
        f"picks {best['min_stride_ms']} / {best['ref_min_gap_ms']} ms "
        f"({best['matched_pct']:.0f} % matched in-sample)."
        + _edge_phrase(lo),
    ]
    return "\n".join(lines) + "\n"


def _edge_phrase(lo):
    """A warning when folds chose a value on the border of the grid (the best may lie
    beyond it)."""
    g = lo["grid"]
    edge = [f for f in lo["folds"]
            if f["min_stride_ms"] in (g["min_stride_ms"][0], g["min_stride_ms"][-1])
            or f["ref_min_gap_ms"] in (g["ref_min_gap_ms"][0], g["ref_min_gap_ms"][-1])]
    if not edge:
        return ""
    return (f" {len(edge)} of {len(lo['folds'])} folds chose a value on the border of the grid: "
            "the best rule for these walks may lie outside it.")


def _ms(x, sign=False):
    if x is None:
        return "–"
    return f"{x:+.0f} ms" if sign else f"{x:.0f} ms"


# --------------------------------------------------------------- PhysioNet EEG

OFFSETS_S = (0.0, 1.0, 2.0)
SITES = ("C3", "Cz", "C4")
#: tasks of the PhysioNet EEG Motor Movement/Imagery runs, by run number
RUN_TASKS = {1: "baseline, eyes open", 2: "baseline, eyes closed",
             **{r: "real left/right fist movements on cue" for r in (3, 7, 11)},
             **{r: "imagined left/right fist movements on cue" for r in (4, 8, 12)},
             **{r: "real movements of both fists or both feet on cue" for r in (5, 9, 13)},
             **{r: "imagined movements of both fists or both feet on cue" for r in (6, 10, 14)}}


def run_label(path):
    """``(subject, run)`` from a PhysioNet name ``S001R03.edf``; ``(None, None)`` otherwise."""
    m = re.match(r"S(\d+)R(\d+)", Path(path).name, re.IGNORECASE)
    return (None, None) if not m else (int(m.group(1)), int(m.group(2)))


def physionet_validation(data_dir=DATA, sim="auto", progress=_say, files=None):
    """MRP band values around T1/T2 onsets vs rest; gateware vs golden vs float.

    ``files`` (default: :func:`find_edf` of ``data_dir``) are the runs; unreadable ones are
    listed in ``skipped``. ``None`` when there is no run at all.
    """
    from scipy import stats

    from golden.eeg_mrp_model import BANDS, EEGParams, N, db_from_q, mrp_float
    from golden.eeg_pipeline import run_golden_eeg
    from spec.channels import EEG_CHANNELS
    from spec.channels import FS as FABRIC_FS
    from sw.eeg_input import load_eeg
    files = find_edf(data_dir) if files is None else list(files)
    if not files:
        return None
    params = EEGParams()
    s = best_sim(sim)
    rows, diffs, gate, skipped = [], [], [], []
    vals = {}        # (event class, offset, site, band) -> list of dB
    for path in files:
        try:
            eeg = load_eeg(path)
        except (ValueError, OSError) as e:     # InputError is a ValueError
            _skip(path, e, skipped, progress)
            continue
        trig_info = []
        for on, _, text in eeg.annotations:
            if text not in ("T0", "T1", "T2"):
                continue
            for off in OFFSETS_S:
                k = int(round((on + off) * FABRIC_FS))
                if N - 1 <= k < eeg.n:
                    trig_info.append((k, "move" if text != "T0" else "rest", off))
        frames = sorted({k for k, _, _ in trig_info})
        trigger = np.zeros(eeg.n, np.uint8)
        trigger[frames] = 1
        t0 = time.perf_counter()
        golden = run_golden_eeg(eeg.samples, trigger, eeg.present, params)
        t_golden = time.perf_counter() - t0
        by_key = {(r["index"], r["channel"]): r for r in golden}
        if s is not None:
            t0 = time.perf_counter()
            from sim.eeg_hdl_engine import run_hdl_eeg
            hdl = run_hdl_eeg(eeg.samples, trigger, eeg.present, params, sim=s)
            key = lambda r: (r["index"], r["channel"])  # noqa: E731
            a, b = sorted(hdl, key=key), sorted(golden, key=key)
            gate.append(dict(file=path.name, simulator=s, records=len(golden),
                             records_hdl=len(hdl), identical=a == b, differ=_n_differ(a, b),
                             frames=int(eeg.n), seconds=round(time.perf_counter() - t0, 1)))
            progress(
                f"  PhysioNet {path.name}: gateware ({s}) == golden on {len(golden)} records: "
                f"{a == b}"
            )
        for k in frames:
            win = eeg.samples[k - N + 1:k + 1]
            fl = mrp_float(win, params)
            for c in range(len(EEG_CHANNELS)):
                if not eeg.present[c]:
                    continue
                r = by_key[(k, c)]
                for b in BANDS:
                    bq = float(db_from_q(r[b]))
                    if np.isfinite(bq) and np.isfinite(fl[b][c]):
                        diffs.append(bq - fl[b][c])
        for k, cls, off in trig_info:
            for c, site in enumerate(EEG_CHANNELS):
                if site in SITES and eeg.present[c]:
                    r = by_key[(k, c)]
                    for b in ("mu", "beta", "BP"):
                        vals.setdefault((cls, off, site, b), []).append(float(db_from_q(r[b])))
        n_ev = {
            c: sum(1 for _, cl, o in trig_info if cl == c and o == 0.0) for c in ("move", "rest")
        }
        subject, run_no = run_label(path)
        rows.append(dict(file=path.name, subject=subject, run=run_no,
                         frames=int(eeg.n), triggers=len(frames),
                         move_events=n_ev["move"], rest_events=n_ev["rest"],
                         golden_seconds=round(t_golden, 1)))
        progress(f"  PhysioNet {path.name}: {n_ev['move']} T1/T2 and {n_ev['rest']} T0 events, "
                 f"{len(frames)} triggers")
    contrast = []
    for off in OFFSETS_S:
        for site in SITES:
            for b in ("mu", "beta", "BP"):
                mv, rs = vals.get(("move", off, site, b), []), vals.get(("rest", off, site, b), [])
                if len(mv) < 2 or len(rs) < 2:
                    continue
                t, p = stats.ttest_ind(mv, rs, equal_var=False)
                contrast.append(
                    dict(
                        offset_s=off,
                        site=site,
                        band=b,
                        move_db=float(np.mean(mv)),
                        rest_db=float(np.mean(rs)),
                        change_db=float(np.mean(mv) - np.mean(rs)),
                        n_move=len(mv),
                        n_rest=len(rs),
                        p=float(p),
                    )
                )
    d = np.abs(np.array(diffs))
    return dict(
        files=rows,
        skipped=skipped,
        gateware=gate,
        simulator=s,
        contrast=contrast,
        golden_minus_float=dict(
            n=int(d.size),
            median_abs_db=float(np.median(d)) if d.size else None,
            p99_abs_db=float(np.percentile(d, 99)) if d.size else None,
            max_abs_db=float(d.max()) if d.size else None,
            mean_db=float(np.mean(diffs)) if d.size else None,
        ),
    )


def runs_phrase(files):
    """``Subject S001, runs 3 and 7 (real left/right fist movements on cue)``, from the names."""
    named = [f for f in files if f.get("subject") is not None]
    other = [f["file"] for f in files if f.get("subject") is None]
    parts = []
    subjects = sorted({f["subject"] for f in named})
    for subj in subjects:
        runs = sorted(f["run"] for f in named if f["subject"] == subj)
        parts.append(f"S{subj:03d}, {'runs' if len(runs) > 1 else 'run'} {_join(runs)}")
    text = ""
    if parts:
        text = ("Subject " if len(subjects) == 1 else "Subjects ") + "; ".join(parts)
        tasks = {}
        for f in named:
            tasks.setdefault(RUN_TASKS.get(f["run"], "task unknown"), []).append(f["run"])
        if len(tasks) == 1:
            text += f" ({next(iter(tasks))})"
        else:
            text += " (" + "; ".join(f"{'runs' if len(set(r)) > 1 else 'run'} "
                                     f"{_join(sorted(set(r)))}: {t}"
                                     for t, r in tasks.items()) + ")"
    if other:
        text += ("; " if text else "") + (f"{_count(len(other), 'file')} whose name does not give "
                                          f"subject and run ({_join(other)})")
    return text


def _no_sim_line():
    return ("Gateware replay skipped: no HDL simulator (`--sim none`, or none installed: "
            "`make setup` installs Icarus and Verilator).")


def physionet_markdown(r):
    title = "### PhysioNet EEG motor runs: MRP band values around T1/T2 vs rest (REAL data)"
    if not r or not r.get("files"):
        why = "no PhysioNet EDF run in the data folder" if not r else "no EDF run could be read"
        return "\n".join([title, "", f"Absent: {why} (`{EEG_DIR}/`, see "
                          "../shared/data/README.md)."] + _skipped_line(r or {})) + "\n"
    g = r["golden_minus_float"]
    lines = [
        title,
        "",
        f"{runs_phrase(r['files'])}. The EEG branch is "
        "triggered at each annotation onset + 0, 1 and 2 s; each record is the band maximum of the "
        "256-frame (512 ms) window *ending* at the trigger, so +0 s covers the half second before "
        "the cue and +1/+2 s cover the movement. Movement = T1/T2, rest = T0, same offsets.",
        "",
        f"| file | frames ({FS} Hz) | T1/T2 events | T0 events | triggers |",
        "|---|---:|---:|---:|---:|",
    ]
    for f in r["files"]:
        lines.append(
            f"| {f['file']} | {f['frames']} | {f['move_events']} | {f['rest_events']} | "
            f"{f['triggers']} |"
        )
    lines += _skipped_line(r)
    if r["contrast"]:
        lines += [
            "",
            "| offset | site | band | movement dBµ | rest dBµ | change | n move / rest | Welch p |",
            "|---:|---|---|---:|---:|---:|---:|---:|",
        ]
    else:
        lines += ["", "No movement-vs-rest contrast: fewer than two T1/T2 or T0 events at C3, "
                  "Cz or C4."]
    for c in r["contrast"]:
        if c["band"] == "BP" and c["offset_s"] != 0.0:
            continue
        lines.append(
            f"| +{c['offset_s']:.0f} s | {c['site']} | {c['band']} | {c['move_db']:.2f} | "
            f"{c['rest_db']:.2f} | {c['change_db']:+.2f} dB | {c['n_move']} / {c['n_rest']} | "
            f"{c['p']:.3f} |"
        )
    lines.append("")
    if g["n"]:
        within = "within" if g["max_abs_db"] <= FLOAT_BOUND_DB else "**beyond**"
        lines.append(
            f"Bit-exact golden minus SciPy float over {g['n']} band values: median |Δ| "
            f"{g['median_abs_db']:.4f} dB, p99 {g['p99_abs_db']:.4f} dB, max "
            f"{g['max_abs_db']:.4f} dB ({within} the bound {FLOAT_BOUND_DB} dB, "
            "`golden/eeg_mrp_model.py`)."
        )
    else:
        lines.append("Bit-exact golden vs SciPy float: no band value (no trigger in the runs).")
    for x in r["gateware"]:
        res = (f"{x['records']} records identical" if x["identical"] else
               f"{x['records_hdl']} records against the golden model's {x['records']}, "
               f"{x['differ']} DIFFERENT")
        lines.append(
            f"Gateware ({x['simulator']}) vs golden on {x['file']}: {res} "
            f"({x['frames']} frames, {x['seconds']} s)."
        )
    if not r["gateware"]:
        lines.append(_no_sim_line())
    return "\n".join(lines) + "\n"


# ------------------------------------------------------------------------ CLI

def mismatches(res):
    """One phrase per gateware replay that differs from the golden model, and one when the
    bit-exact EEG model leaves :data:`golden.eeg_mrp_model.FLOAT_BOUND_DB` of SciPy (empty:
    all agree)."""
    out = []
    g = (res.get("uci") or {}).get("gateware")
    if g and not (g["records_identical"] and g["trig_identical"]):
        out.append(f"UCI {g['file']}: " + (
            f"{g['records_differ']} of {g['records']} stride records"
            if not g["records_identical"] else f"{g['trig_frames_differ']} trigger frames"))
    for x in (res.get("physionet") or {}).get("gateware") or []:
        if not x["identical"]:
            out.append(f"PhysioNet {x['file']}: {x['differ']} of {x['records']} records")
    g = (res.get("physionet") or {}).get("golden_minus_float") or {}
    if g.get("n") and g["max_abs_db"] > FLOAT_BOUND_DB:
        out.append(f"PhysioNet: bit-exact golden {g['max_abs_db']:.3f} dB from SciPy float "
                   f"(bound {FLOAT_BOUND_DB} dB)")
    return out


def _tuning_phrase(uci):
    """In-sample or not: how many of the scored walks the rule's parameters were tuned on."""
    k, n = uci.get("tuning_walks", 0), len(uci["files"])
    if k == n:
        return "in-sample: its two parameters were tuned on these walks"
    if k:
        return f"partly in-sample: its two parameters were tuned on {k} of these {n} walks"
    return "out of sample: none of these walks was used to tune its two parameters"


def _in_sample_sentence(uci):
    """Whether the figures above are in-sample, from :func:`tuning_walks`."""
    k, n = uci.get("tuning_walks", 0), len(uci["files"])
    if k == n:
        return "they were tuned on these same walks, so the figures above are **in-sample**."
    if k:
        return (f"they were tuned on {k} of these {n} walks, so the figures above are "
                "**partly in-sample**.")
    return "none of these walks was used to tune them (the figures above are out of sample)."


def _uci_findings(uci):
    s = uci["summary"]
    new, old, rf = (s[v[0]] for v in VARIANTS)
    out = []
    if new["matched_pct"] > old["matched_pct"]:
        effect = (f"raises this to {new['matched_pct']:.0f} % (median |error| "
                  f"{_ms(new['abs_err_median_ms'])}, p95 {_ms(new['abs_err_p95_ms'])})")
    else:
        effect = (f"does not improve on it here ({new['matched_pct']:.0f} % matched, median "
                  f"|error| {_ms(new['abs_err_median_ms'])})")
    why = (": the biceps femoris fires in late swing *and* in loading response, and the real "
           "bursts break into pieces" if old["split"] > old["strides"] / 2 else "")
    from golden.stride_indexes_model import MIN_STRIDE, REF_MIN_GAP
    from spec.channels import SAMPLE_MS
    lo = uci.get("loso")
    held = (f" Held out one subject at a time (parameters chosen on the other subjects' "
            f"walks) it gives {lo['pooled']['matched_pct']:.0f} % (median |error| "
            f"{_ms(lo['pooled']['abs_err_median_ms'])}), "
            f"{_compare(lo['pooled']['matched_pct'], new['matched_pct'], 'in-sample')}; the "
            f"default parameters were chosen in {sum(f['is_default'] for f in lo['folds'])} "
            f"of {len(lo['folds'])} folds, and on all walks the search picks "
            f"{lo['in_sample_best']['min_stride_ms']} / {lo['in_sample_best']['ref_min_gap_ms']}"
            " ms." if lo else " There are too few subjects for a held-out check.")
    out.append(
        "- **Stride marker on the hamstring.** With bare rising edges, BF onsets matched "
        f"{'only ' if old['matched_pct'] < 50 else ''}{old['matched_pct']:.0f} % of the gait "
        f"cycles and split {old['split']} of {old['strides']} strides{why}. The stride-onset "
        f"rule (a stride is at least {MIN_STRIDE * SAMPLE_MS} ms; the marker must have been "
        f"quiet for {REF_MIN_GAP * SAMPLE_MS} ms) {effect}, {_tuning_phrase(uci)}.{held} It "
        "is now the default in the golden models and the gateware.")
    if new["split"] == 0 and new["merged"] == 0:
        out.append("- **Nothing failing here:** every scored BF stride spans one gait cycle.")
    else:
        text = (f"- **Still failing:** {new['split']} split and {new['merged']} merged strides "
                "remain.")
        worst = max(uci["files"], key=lambda f: f["split"])
        rest = [f["cycle_s_median"] for f in uci["files"]
                if f is not worst and f["cycle_s_median"]]
        if worst["split"]:
            most = "Most" if 2 * worst["split"] > new["split"] else "The most"
            text += (f" {most} splits come from {worst['file']} ({worst['split']} of "
                     f"{new['split']})")
            if worst["cycle_s_median"] and rest:
                others = float(np.median(rest))
                text += (f", whose gait cycles last {worst['cycle_s_median']:.1f} s (median; the "
                         f"others {others:.1f} s)")
                if worst["cycle_s_median"] > others:
                    text += (": in such slow walking a second BF burst comes more than "
                             f"{MIN_STRIDE * SAMPLE_MS} ms into the cycle")
            text += "."
        if new["merged"]:
            text += (" Merges happen where the BF barely pauses between cycles (no "
                     f"{REF_MIN_GAP * SAMPLE_MS} ms gap) or its onset stays under the dynamic "
                     "threshold.")
        text += (" The paper's marker, the lateral gastrocnemius, is not in this dataset "
                 "(`make bench` measures it on synthetic walks, trigger section). A stride "
                 "floor that adapts to the previous stride would catch slow walkers but risks "
                 "chains of merged strides; not done.")
        out.append(text)
    cmp = ("better" if rf["matched_pct"] > new["matched_pct"] else
           "as well" if rf["matched_pct"] == new["matched_pct"] else "worse")
    out.append(
        f"- RF as the marker does {cmp} ({rf['matched_pct']:.0f} % matched, median |error| "
        f"{_ms(rf['abs_err_median_ms'])}): on these walks the rectus femoris (or crosstalk on "
        "its electrode) fires once around heel strike, but it is not the paper's marker and is "
        "not the default; `--stride-ref RF` selects it."
        if rf["matched_pct"] > new["matched_pct"] else
        f"- RF as the marker does {cmp} ({rf['matched_pct']:.0f} % matched, median |error| "
        f"{_ms(rf['abs_err_median_ms'])}); it is not the paper's marker and is not the "
        "default; `--stride-ref RF` selects it.")
    return out


def _eeg_findings(eeg):
    from scipy import stats
    gw = eeg["gateware"]
    if not gw:
        agree = ("golden and gateware were not compared (no HDL simulator); the integer "
                 "pipeline")
    elif all(x["identical"] for x in gw):
        agree = (f"golden and gateware agree bit for bit on the real EEG (all "
                 f"{sum(x['records'] for x in gw)} records of {_count(len(gw), 'run', True)} "
                 "identical); the integer pipeline")
    else:
        bad = [x for x in gw if not x["identical"]]
        agree = ("golden and gateware DIFFER on the real EEG ("
                 + "; ".join(f"{x['differ']} of {x['records']} records on {x['file']}"
                             for x in bad) + "); the integer pipeline")
    g = eeg["golden_minus_float"]
    text = f"- **EEG:** {agree} " + (
        f"stays within {g['max_abs_db']:.3f} dB of SciPy." if g["n"] else
        "was not compared with SciPy (no trigger).")
    files = eeg["files"]
    subjects = {f["subject"] for f in files}
    source = (f"{_count(len(subjects), 'subject', True)} and {_count(len(files), 'run', True)}"
              if None not in subjects else
              f"{_count(len(files), 'run', True)} (subjects not all given by the file names)")
    during = [c for c in eeg["contrast"] if c["offset_s"] > 0 and c["band"] in ("mu", "beta")]
    if not during:
        return [text + " No µ/β movement-vs-rest contrast: the runs lack T1/T2 or T0 events."]
    strongest = max(during, key=lambda c: abs(c["change_db"]))
    n_sig, n_tests = sum(c["p"] < 0.05 for c in during), len(during)
    chance = float(stats.binom.sf(n_sig - 1, n_tests, 0.05)) if n_sig else 1.0
    text += (f" Physiology from {source}"
             + (" is thin" if chance >= 0.05 else "") + ": the largest µ/β movement-vs-rest "
             f"change is {strongest['change_db']:+.2f} dB ({strongest['band']} at "
             f"{strongest['site']}, +{strongest['offset_s']:.0f} s, p = {strongest['p']:.3f}); "
             f"{n_sig} of {n_tests} µ/β contrasts during movement "
             f"{'reaches' if n_sig == 1 else 'reach'} p < 0.05, ")
    if chance >= 0.05:
        text += (f"about what chance gives ({0.05 * n_tests:.1f} expected), so the data show the "
                 "branch measuring, not a reliable ERD -- consistent with the paper's Table 1, "
                 "where no cortical feature separated the sessions.")
    else:
        text += (f"more than chance gives ({0.05 * n_tests:.1f} expected, binomial p = "
                 f"{chance:.3f}): a movement-related band change shows in these runs.")
    return [text]


def findings_markdown(uci, eeg):
    """What works and what does not, worded from the measured numbers (absent parts left out)."""
    lines = ["### What works and what does not on real data", ""]
    if uci and uci.get("files"):
        lines += _uci_findings(uci)
    else:
        lines.append("- **UCI EMG walks:** absent, nothing to say about the stride marker.")
    if eeg and eeg.get("files"):
        lines += _eeg_findings(eeg)
    else:
        lines.append("- **EEG:** absent, nothing to say about the EEG branch.")
    return "\n".join(lines) + "\n"


def run(data_dir=DATA, out=None, sim="auto", progress=_say):
    """Both validations; returns ``(results dict, markdown)``. Plots go to ``out``.

    Raises :class:`InputError` when ``data_dir`` holds no usable UCI walk and no usable EDF run.
    """
    uci_files, edf_files = find_uci(data_dir), find_edf(data_dir)
    if not uci_files and not edf_files:
        raise InputError(f"{data_dir}: no UCI lower-limb walks ({UCI_DIR}/) and no PhysioNet "
                         f"EDF runs ({EEG_DIR}/) found (see ../shared/data/README.md)")
    uci = eeg = None
    if uci_files:
        progress(f"validation: UCI lower-limb EMG walks ({_count(len(uci_files), 'file')})")
        uci = uci_validation(data_dir, sim, plot_dir=out, progress=progress, files=uci_files)
    else:
        progress("validation: no UCI lower-limb walks")
    if edf_files:
        progress(f"validation: PhysioNet EEG motor runs ({_count(len(edf_files), 'file')})")
        eeg = physionet_validation(data_dir, sim, progress=progress, files=edf_files)
    else:
        progress("validation: no PhysioNet EDF runs")
    usable = [r for r in (uci, eeg) if r and r.get("files")]
    if not usable:
        first = next(x for r in (uci, eeg) if r for x in r["skipped"])
        raise InputError(f"{data_dir}: no usable recording ({first['file']}: {first['reason']})")
    md = "\n".join([uci_markdown(uci), physionet_markdown(eeg), findings_markdown(uci, eeg)])
    if uci and uci.get("plots"):
        o = uci["overlay"]
        why = (f"the walk with the highest share of matched strides ({o['matched']} of "
               f"{o['strides']})" + (f" among those with at least {o['min_strides']} strides"
                                     if o["min_strides"] else ""))
        md += (f"\nTrigger overlay: {o['file']}, {why}.\n\n"
               "![trigger overlay](uci_trigger_overlay.png)\n\n"
               "![stride agreement](uci_stride_agreement.png)\n")
    res = dict(uci=uci, physionet=eeg)
    res["mismatches"] = mismatches(res)
    return res, md


def _main(a):
    if not Path(a.data).is_dir():
        raise InputError(f"data folder {a.data} not found (see ../shared/data/README.md)")
    folder = OutputFolder(a.out, BENCH_TOOL, force=a.force, keep=True)
    git = git_state()                   # before anything is written: the tree as measured
    t0 = time.perf_counter()
    try:
        with folder as tmp:
            res, md = run(a.data, tmp, a.sim)
            stamp = datetime.now(timezone.utc).strftime("%Y-%m-%d %H:%M UTC")
            head = (
                f"# Validation on real recordings\n\nMeasured by `python -m bench.validate` on "
                f"{stamp}, {platform.node()} ({platform.machine()}, Python "
                f"{platform.python_version()}), in {time.perf_counter() - t0:.0f} s, "
                f"{git_phrase(git)}.\n\n"
            )
            res["meta"] = dict(
                date=stamp, machine=platform.node(), seconds=round(time.perf_counter() - t0, 1),
                data=str(a.data), git=git
            )
            write_json_atomic(Path(tmp) / "validation.json", res, indent=1, sort_keys=False)
            write_text_atomic(Path(tmp) / "VALIDATION.md", head + md)
    except (OSError, KeyboardInterrupt) as e:
        return error_status(PROG, e)
    print(head + md)
    if res["mismatches"]:
        return fail(PROG, "gateware and golden differ: " + "; ".join(res["mismatches"]), 1)
    return 0


def main(argv=None):
    ap = parser(PROG, __doc__.splitlines()[0])
    ap.add_argument("--data", default=str(DATA),
                    help=f"folder with {UCI_DIR}/ and/or {EEG_DIR}/, or the recordings "
                         f"themselves (default {DATA})")
    ap.add_argument("--out", default=str(BENCH_DIR),
                    help="output folder (default bench/results/), shared with bench.report")
    ap.add_argument("--force", action="store_true",
                    help="replace the files of an earlier bench run in --out (never others)")
    ap.add_argument(
        "--sim",
        default="auto",
        choices=("auto", "icarus", "verilator", "none"),
        help="simulator for the gateware replays (default: Verilator if installed, else Icarus)",
    )
    a = ap.parse_args(argv)
    return guard(PROG, _main, a)


if __name__ == "__main__":
    sys.exit(main())
