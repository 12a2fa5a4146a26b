"""Daphnet freezing-of-gait recordings: reader, 2 s windows, leave-one-subject-out folds.

The public Daphnet FoG dataset (Bächlin et al. 2010; ``../shared/data/fog-daphnet``, see its
README) holds one recording per file, ``SxxRyy.txt`` or ``SxxRyy.txt.gz`` (subject ``xx``,
run ``yy``): space-separated rows of 11 integers at 64 Hz --

====== ===================================================================================
column contents
====== ===================================================================================
0      time, ms (the interval alternates 15/16 ms)
1-3    ankle (shank) acceleration, mg: ``x`` horizontal forward, ``y`` vertical, ``z``
       horizontal lateral (the dataset's documentation; ``y`` carries gravity, ~ +1000 mg)
4-6    thigh acceleration x, y, z, mg (all zeros in ``S03R03``)
7-9    trunk acceleration x, y, z, mg
10     label: 0 outside the experiment, 1 no freeze (walking, standing, turning), 2 freeze
====== ===================================================================================

Reading (:func:`read_recording`): gzip is recognised by its first bytes, whatever the name;
blank lines are ignored (a lost sample shows up in the time column anyway). A non-integer
cell, a row without 11 cells, a label other than 0/1/2, a time that does not increase or a
file without rows is an :class:`~spec.cli.InputError` naming the file and its row (the line
number in the file). Label-0 rows are dropped, and the remaining rows are cut into
*segments* wherever rows were dropped or the time steps by more than ``max_step_ms``
(default 24 ms, 1.5 nominal intervals): ``S06R02`` has a label-0 gap in the middle, so two
segments. A file named ``SxxRyy`` gets subject ``xx`` and run ``yy`` as ints; any other name
gets its stem as subject and run ``None``.

Windows (:func:`make_windows`): ``size`` samples (128 = 2 s) every ``hop`` samples (64, 50 %
overlap), inside one segment only -- no window crosses a label-0 gap or a time gap; the tail
of a segment shorter than a window is left out. A window is FoG (``y = 1``) when the fraction
of its samples labelled 2 is *above* ``fog_threshold``: 0.5 (default) means a strict majority
(at least 65 of 128 samples), 0 means any freeze sample; ``fog_fraction`` is kept per window
so another rule can be applied afterwards.

Folds (:func:`loso_folds`): leave one subject out, over the subjects that have FoG windows
(1, 2 and 3 in Daphnet); the training set is every window of every other subject, including
subjects without FoG (6: negatives only). Overlapping windows of one subject never straddle
training and test.

Normalisation (:func:`normalise`): only data available at inference time -- the window
itself (``"window"``: each channel minus its window mean, over its window standard
deviation) or the current and earlier windows of the same recording (``"running"``:
exponentially weighted mean and variance updated window by window, causal). A standard
deviation below ``floor`` mg (e.g. a dead sensor reading zeros) is taken as ``floor``.
"""

import io
import re
import warnings
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from spec.cli import InputError
from sw.recording import read_input_text

__all__ = ["FS", "WINDOW", "HOP", "FOG_THRESHOLD", "MAX_STEP_MS", "CHANNELS", "SENSORS",
           "LABEL_OUT", "LABEL_WALK", "LABEL_FOG", "Recording", "Windows", "Fold",
           "read_recording", "parse_name", "find_recordings", "load_recordings", "fog_episodes",
           "make_windows", "load_windows", "loso_folds", "normalise"]

#: sample rate of the Daphnet recordings, Hz
FS = 64
#: default window: 2 s
WINDOW = 128
#: default hop: 1 s (50 % overlap)
HOP = 64
#: a window is FoG when the fraction of its samples labelled 2 is above this (strict majority)
FOG_THRESHOLD = 0.5
#: a time step above this (ms) splits a recording into segments (1.5 nominal intervals)
MAX_STEP_MS = 24
#: the nine acceleration channels, in file order (mg)
CHANNELS = ("ankle_x", "ankle_y", "ankle_z", "thigh_x", "thigh_y", "thigh_z",
            "trunk_x", "trunk_y", "trunk_z")
#: sensor -> its channel indexes in :data:`CHANNELS`
SENSORS = {"ankle": (0, 1, 2), "thigh": (3, 4, 5), "trunk": (6, 7, 8)}
LABEL_OUT, LABEL_WALK, LABEL_FOG = 0, 1, 2
_NCOL = 11
_NAME = re.compile(r"S(\d+)R(\d+)", re.I)
_INT = re.compile(r"[+-]?[0-9]+")


@dataclass
class Recording:
    """One Daphnet recording with its label-0 rows left out.

    Parameters
    ----------
    path : str
        The file read.
    name : str
        Its stem (``S01R02``).
    subject : int or str
        From the name (``S01R02`` -> 1), else the stem.
    run : int or None
        From the name (``S01R02`` -> 2), else None.
    time_ms : ndarray of int64, shape (n,)
        Time column of the kept rows.
    acc : ndarray of float32, shape (n, 9)
        Accelerations in mg, columns :data:`CHANNELS`.
    label : ndarray of int8, shape (n,)
        1 (no freeze) or 2 (freeze).
    sample : ndarray of int64, shape (n,)
        Index of each kept row among the file's data rows (0-based, label-0 rows counted).
    segments : list of (int, int)
        ``[start, stop)`` index ranges into the kept rows, split at label-0 and time gaps.
    """
    path: str
    name: str
    subject: object
    run: object
    time_ms: np.ndarray
    acc: np.ndarray
    label: np.ndarray
    sample: np.ndarray
    segments: list = field(default_factory=list)

    def __post_init__(self):
        n = len(self.time_ms)
        if self.acc.shape != (n, len(CHANNELS)):
            raise ValueError(f"acc has shape {self.acc.shape}, expected ({n}, {len(CHANNELS)})")
        if len(self.label) != n or len(self.sample) != n:
            raise ValueError("time_ms, label and sample must have the same length")
        if not np.isin(self.label, (LABEL_WALK, LABEL_FOG)).all():
            raise ValueError("labels must be 1 or 2 (label-0 rows are left out)")
        stops = [0] + [b for _, b in self.segments]
        if any(not (stops[k] <= a < b) for k, (a, b) in enumerate(self.segments)) \
                or stops[-1] > n:
            raise ValueError("segments must be ordered, non-empty ranges inside the rows")

    @property
    def duration_s(self):
        """Time covered by the kept rows, s (``n / FS``)."""
        return len(self.time_ms) / FS


def parse_name(path):
    """Subject and run of a recording from its file name.

    Parameters
    ----------
    path : str or Path

    Returns
    -------
    name : str
        The stem without ``.gz`` and ``.txt``.
    subject : int or str
        ``S01R02`` -> 1; a name not in that layout -> the stem.
    run : int or None
        ``S01R02`` -> 2; else None.
    """
    name = Path(path).name
    for suffix in (".gz", ".txt"):
        if name.lower().endswith(suffix) and len(name) > len(suffix):
            name = name[:-len(suffix)]
    m = _NAME.fullmatch(name)
    return (name, int(m[1]), int(m[2])) if m else (name, name, None)


def _locate_bad_row(path, lines):
    """Raise the InputError of the first malformed line (1-based line number)."""
    for k, line in enumerate(lines, 1):
        cells = line.split()
        if not cells:
            continue
        if len(cells) != _NCOL:
            raise InputError(f"{path}: row {k}: {len(cells)} cells, expected {_NCOL}")
        for j, c in enumerate(cells):
            if not _INT.fullmatch(c) or abs(int(c)) >= 2 ** 62:
                raise InputError(f"{path}: row {k}, column {j + 1}: '{c[:20]}' is not an "
                                 f"integer")


def _parse(path, text):
    """The non-blank lines as an int64 array of 11 columns, and their line numbers."""
    lines = text.split("\n")
    if not any(ln.strip() for ln in lines):
        raise InputError(f"{path}: no data rows (empty file)")
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            rows = np.loadtxt(io.StringIO(text), dtype=np.int64, ndmin=2, comments=None)
    except ValueError:
        rows = None
    if rows is None or rows.shape[1] != _NCOL:
        _locate_bad_row(path, lines)
        raise InputError(f"{path}: not {_NCOL} integer columns")       # not reached
    line_no = np.array([k for k, ln in enumerate(lines, 1) if ln.strip()], dtype=np.int64)
    if len(line_no) != len(rows):                      # loadtxt and split() disagree
        _locate_bad_row(path, lines)
        raise InputError(f"{path}: not {_NCOL} integer columns")
    return rows, line_no


def read_recording(path, max_step_ms=MAX_STEP_MS):
    """Read one Daphnet file (``.txt`` or ``.txt.gz``).

    Parameters
    ----------
    path : str or Path
    max_step_ms : float
        A time step above this splits the recording into segments.

    Returns
    -------
    Recording

    Raises
    ------
    spec.cli.InputError
        Unreadable or empty file, a row without 11 integer cells, an unknown label or a time
        that does not increase; the message names the file and the row.
    """
    if not max_step_ms > 0:
        raise ValueError(f"max_step_ms must be > 0, got {max_step_ms}")
    rows, line_no = _parse(path, read_input_text(path))
    label = rows[:, 10]
    bad = np.flatnonzero(~np.isin(label, (LABEL_OUT, LABEL_WALK, LABEL_FOG)))
    if bad.size:
        k = bad[0]
        raise InputError(f"{path}: row {line_no[k]}: label {label[k]}, expected 0, 1 or 2")
    step = np.diff(rows[:, 0])
    bad = np.flatnonzero(step <= 0)
    if bad.size:
        k = bad[0] + 1
        raise InputError(f"{path}: row {line_no[k]}: time {rows[k, 0]} ms does not increase "
                         f"(previous row {rows[k - 1, 0]} ms)")
    keep = np.flatnonzero(label != LABEL_OUT)
    time_ms = rows[keep, 0]
    cut = np.flatnonzero((np.diff(keep) > 1) | (np.diff(time_ms) > max_step_ms)) + 1
    bounds = [0, *cut.tolist(), len(keep)]
    segments = [(a, b) for a, b in zip(bounds[:-1], bounds[1:]) if b > a]
    name, subject, run = parse_name(path)
    return Recording(path=str(path), name=name, subject=subject, run=run, time_ms=time_ms,
                     acc=rows[keep, 1:10].astype(np.float32), label=label[keep].astype(np.int8),
                     sample=keep.astype(np.int64), segments=segments)


def find_recordings(paths):
    """The recording files named by ``paths`` (files, or folders holding ``*.txt[.gz]``).

    Parameters
    ----------
    paths : str, Path or list of them

    Returns
    -------
    list of Path
        Sorted within each folder.
    """
    paths = [paths] if isinstance(paths, (str, Path)) else list(paths)
    out = []
    for p in map(Path, paths):
        if p.is_dir():
            found = sorted(q for q in p.iterdir() if q.is_file()
                           and q.name.lower().endswith((".txt", ".txt.gz")))
            if not found:
                raise InputError(f"{p}: no .txt or .txt.gz recordings in this folder")
            out.extend(found)
        else:
            out.append(p)
    if not out:
        raise InputError("no recordings given")
    return out


def fog_episodes(rec):
    """The freeze episodes of a recording: maximal runs of label-2 samples inside a segment.

    Parameters
    ----------
    rec : Recording

    Returns
    -------
    list of (float, float)
        ``(start_s, end_s)`` per episode: time of its first sample, and of its last sample
        plus one sample interval.
    """
    out = []
    for a, b in rec.segments:
        fog = np.concatenate(([False], rec.label[a:b] == LABEL_FOG, [False]))
        edges = np.flatnonzero(np.diff(fog.astype(np.int8)))
        for s, e in zip(edges[::2], edges[1::2]):
            out.append((rec.time_ms[a + s] / 1000.0, rec.time_ms[a + e - 1] / 1000.0 + 1 / FS))
    return out


@dataclass
class Windows:
    """Fixed-length windows of one or more recordings, one row per window.

    Parameters
    ----------
    X : ndarray of float32, shape (n, size, 9)
        Accelerations (mg), channels :data:`CHANNELS`.
    y : ndarray of int8, shape (n,)
        1 = FoG window, 0 = not.
    fog_fraction : ndarray of float, shape (n,)
        Fraction of the window's samples labelled 2.
    file : ndarray of str (object), shape (n,)
        Recording name (``S01R02``).
    subject : ndarray (object), shape (n,)
        Subject of each window (int, or the stem of a file not named ``SxxRyy``).
    start : ndarray of int64, shape (n,)
        First sample of the window among its file's data rows (0-based, label-0 rows counted).
    start_s, end_s : ndarray of float, shape (n,)
        Time of the first sample, s; ``start_s + size / FS``.
    segment : ndarray of int32, shape (n,)
        Segment of its recording the window lies in.
    """
    X: np.ndarray
    y: np.ndarray
    fog_fraction: np.ndarray
    file: np.ndarray
    subject: np.ndarray
    start: np.ndarray
    start_s: np.ndarray
    end_s: np.ndarray
    segment: np.ndarray

    def __post_init__(self):
        n = len(self.X)
        if self.X.ndim != 3 or self.X.shape[2] != len(CHANNELS):
            raise ValueError(f"X must have shape (n, size, {len(CHANNELS)}), got {self.X.shape}")
        for name in ("y", "fog_fraction", "file", "subject", "start", "start_s", "end_s",
                     "segment"):
            if len(getattr(self, name)) != n:
                raise ValueError(f"{name} has {len(getattr(self, name))} rows, X has {n}")

    def __len__(self):
        return len(self.X)

    def take(self, index):
        """The windows selected by ``index`` (a boolean mask or integer indexes)."""
        return Windows(**{k: getattr(self, k)[index] for k in self.__dataclass_fields__})

    @classmethod
    def concat(cls, parts, size=WINDOW):
        """One :class:`Windows` of several (an empty list gives 0 windows of ``size``)."""
        if not parts:
            return _empty(size)
        return cls(**{k: np.concatenate([getattr(p, k) for p in parts])
                      for k in cls.__dataclass_fields__})

    @property
    def subjects(self):
        """The distinct subjects, in order of first appearance."""
        return list(dict.fromkeys(self.subject.tolist()))


def _empty(size):
    return Windows(X=np.zeros((0, size, len(CHANNELS)), np.float32), y=np.zeros(0, np.int8),
                   fog_fraction=np.zeros(0), file=np.zeros(0, object),
                   subject=np.zeros(0, object), start=np.zeros(0, np.int64),
                   start_s=np.zeros(0), end_s=np.zeros(0), segment=np.zeros(0, np.int32))


def _check_window(size, hop, fog_threshold):
    if not (isinstance(size, (int, np.integer)) and size >= 2):
        raise ValueError(f"size must be an int >= 2, got {size!r}")
    if not (isinstance(hop, (int, np.integer)) and hop >= 1):
        raise ValueError(f"hop must be an int >= 1, got {hop!r}")
    if not 0 <= fog_threshold < 1:
        raise ValueError(f"fog_threshold must be in [0, 1), got {fog_threshold}")


def make_windows(rec, size=WINDOW, hop=HOP, fog_threshold=FOG_THRESHOLD):
    """Cut a recording into windows that stay inside its segments.

    Parameters
    ----------
    rec : Recording
    size : int
        Samples per window (128 = 2 s at 64 Hz).
    hop : int
        Samples between window starts (64 = 50 % overlap).
    fog_threshold : float in [0, 1)
        A window is FoG when its fraction of label-2 samples is above this.

    Returns
    -------
    Windows
    """
    _check_window(size, hop, fog_threshold)
    starts = [np.arange(a, b - size + 1, hop) for a, b in rec.segments]
    seg = np.concatenate([np.full(len(s), k, np.int32) for k, s in enumerate(starts)] or
                         [np.zeros(0, np.int32)])
    idx = np.concatenate(starts or [np.zeros(0, np.int64)]).astype(np.int64)
    if not len(idx):
        return _empty(size)
    take = idx[:, None] + np.arange(size)
    frac = (rec.label[take] == LABEL_FOG).mean(axis=1)
    n = len(idx)
    start_s = rec.time_ms[idx] / 1000.0
    return Windows(X=rec.acc[take], y=(frac > fog_threshold).astype(np.int8), fog_fraction=frac,
                   file=np.full(n, rec.name, object),
                   subject=np.array([rec.subject] * n, dtype=object), start=rec.sample[idx],
                   start_s=start_s, end_s=start_s + size / FS, segment=seg)


def load_windows(paths, size=WINDOW, hop=HOP, fog_threshold=FOG_THRESHOLD,
                 max_step_ms=MAX_STEP_MS):
    """Read recordings (files or folders) and window them all.

    Parameters
    ----------
    paths : str, Path or list of them
        Files, or folders holding ``*.txt`` / ``*.txt.gz``.
    size, hop, fog_threshold
        As :func:`make_windows`.
    max_step_ms
        As :func:`read_recording`.

    Returns
    -------
    Windows
        Every window of every recording, recordings in the order found.
    """
    _check_window(size, hop, fog_threshold)
    return Windows.concat([make_windows(r, size, hop, fog_threshold)
                           for r in load_recordings(paths, max_step_ms)], size)


def load_recordings(paths, max_step_ms=MAX_STEP_MS):
    """Read every recording named by ``paths`` (files, or folders of ``*.txt[.gz]``).

    Parameters
    ----------
    paths : str, Path or list of them
    max_step_ms : float
        As :func:`read_recording`.

    Returns
    -------
    list of Recording
        In the order found; a recording name given twice is an InputError.
    """
    files = find_recordings(paths)
    names = [parse_name(f)[0] for f in files]
    dup = next((n for n in names if names.count(n) > 1), None)
    if dup is not None:
        twice = [str(f) for f, n in zip(files, names) if n == dup]
        raise InputError(f"recording {dup} given twice ({', '.join(twice)})")
    return [read_recording(f, max_step_ms) for f in files]


@dataclass(frozen=True)
class Fold:
    """One leave-one-subject-out fold: window indexes into the :class:`Windows` it came from.

    Parameters
    ----------
    subject : int or str
        The held-out subject.
    train, test : ndarray of int64
        Indexes of the training windows (every other subject) and the test windows.
    """
    subject: object
    train: np.ndarray
    test: np.ndarray

    def __post_init__(self):
        if len(np.intersect1d(self.train, self.test)):
            raise ValueError(f"fold {self.subject!r}: a window is in both training and test")


def loso_folds(windows, subjects=None):
    """Leave-one-subject-out folds over the subjects with FoG.

    Parameters
    ----------
    windows : Windows
    subjects : list, optional
        Subjects to hold out in turn; default: every subject with at least one FoG window,
        sorted (Daphnet: 1, 2, 3).

    Yields
    ------
    Fold
        Training windows: every window of every other subject (with or without FoG).
    """
    present = windows.subjects
    if subjects is None:
        fog = {s for s, y in zip(windows.subject, windows.y) if y}
        subjects = sorted(s for s in fog if not isinstance(s, str)) + \
            sorted(s for s in fog if isinstance(s, str))
    for s in subjects:
        if s not in present:
            raise InputError(f"held-out subject {s!r} has no windows (subjects: "
                             f"{', '.join(map(str, present))})")
    subj = windows.subject
    for s in subjects:
        test = np.flatnonzero(subj == s)
        yield Fold(subject=s, train=np.flatnonzero(subj != s), test=test)


def normalise(windows, mode="window", alpha=0.1, floor=1.0):
    """Normalise each channel with statistics available at inference time.

    Parameters
    ----------
    windows : Windows
    mode : {"window", "running"}
        ``"window"``: each window by its own per-channel mean and standard deviation.
        ``"running"``: per recording (``file``), windows in time order, by an exponentially
        weighted mean and variance of the per-window statistics up to and including the
        current window (causal: never a later window).
    alpha : float in (0, 1]
        Weight of the newest window in the running statistics.
    floor : float
        Smallest standard deviation used, mg (dead channels give 0, not inf).

    Returns
    -------
    ndarray of float32, shape like ``windows.X``
    """
    if mode not in ("window", "running"):
        raise ValueError(f"mode must be 'window' or 'running', got {mode!r}")
    if not 0 < alpha <= 1:
        raise ValueError(f"alpha must be in (0, 1], got {alpha}")
    if not floor > 0:
        raise ValueError(f"floor must be > 0, got {floor}")
    X = windows.X.astype(np.float64)
    mean = X.mean(axis=1)                                  # (n, channels)
    sq = (X ** 2).mean(axis=1)
    if mode == "running":
        for name in dict.fromkeys(windows.file.tolist()):
            order = np.flatnonzero(windows.file == name)
            order = order[np.argsort(windows.start_s[order], kind="stable")]
            m, q = mean[order[0]].copy(), sq[order[0]].copy()
            for i in order:
                m += alpha * (mean[i] - m)
                q += alpha * (sq[i] - q)
                mean[i], sq[i] = m, q
    std = np.sqrt(np.maximum(sq - mean ** 2, 0.0))
    return ((X - mean[:, None, :]) / np.maximum(std, floor)[:, None, :]).astype(np.float32)
