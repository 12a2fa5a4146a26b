"""Human-activity recognition data: UCI HAPT raw signals, windows, subject-wise folds;
simple readers for PAMAP2 and WISDM v1.1.

UCI HAPT (Reyes-Ortiz et al., "Smartphone-Based Recognition of Human Activities and Postural
Transitions", UCI dataset 341; ``../shared/data/har-hapt``, see its README): a smartphone on
the waist, 50 Hz. A folder ``RawData`` holds, per experiment ``XX`` of user ``YY``,

============================= ===============================================================
file                          contents
============================= ===============================================================
``acc_expXX_userYY.txt[.gz]``  one row per sample: acceleration x y z, g (9.80665 m/s^2)
``gyro_expXX_userYY.txt[.gz]`` one row per sample: angular velocity x y z, rad/s
``labels.txt``                 one row per labelled segment: experiment, user, activity id
                               (1-12, :data:`ACTIVITIES`), start, end -- 1-based inclusive
                               sample numbers in that experiment's files
============================= ===============================================================

Reading (:func:`read_signal`, :func:`read_labels`, :func:`read_experiment`,
:func:`load_experiments`): gzip is recognised by its first bytes, whatever the name; blank
lines are ignored (sample ``k`` is the ``k``-th non-blank row). A row without 3 (signals) or 5
(labels) cells, a non-numeric or non-finite cell, an acc and a gyro file of one experiment
with different numbers of rows, a segment with ``end < start``, starting before sample 1 or
ending after the last sample, a segment overlapping another of its experiment, an activity id
outside 1-12, or a label row whose user differs from the file name's is an
:class:`~spec.cli.InputError` naming the file and its line. Samples outside every segment are
unlabelled and never used.

Windows (:func:`make_windows`, :func:`load_windows`): ``size`` samples (128 = 2.56 s) every
``hop`` samples (64, 50 % overlap), each window entirely inside one labelled segment (never
crossing segments, never touching unlabelled samples); the tail of a segment shorter than a
window is left out, so a segment of ``L`` samples gives ``floor((L - size) / hop) + 1`` windows
(none if ``L < size``). Channels :data:`CHANNELS`: ``acc_x, acc_y, acc_z`` in g,
``gyro_x, gyro_y, gyro_z`` in rad/s, unfiltered (as in the files). ``classes=6``: the six
basic activities (ids 1-6, class index ``id - 1``, names :data:`CLASSES_6`), transition
segments (7-12) dropped; ``classes=12``: all twelve (:data:`CLASSES_12`).

Folds (:func:`subject_folds`): ``k`` folds, every subject in exactly one test fold; subjects
are spread greedily, then moved or swapped, so that the folds hold about the same number of
windows. Overlapping
windows of a subject never straddle training and test.

PAMAP2 (:func:`read_pamap2`) and WISDM v1.1 (:func:`read_wisdm`): readers for users who have
those files; they are described in their docstrings and do only what is written there.
"""

import io
import re
import warnings
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from spec.cli import InputError
from sw.recording import read_input_text

__all__ = ["FS", "WINDOW", "HOP", "CHANNELS", "UNITS", "ACTIVITIES", "CLASSES_6",
           "CLASSES_12", "Segment", "Experiment", "Windows", "Fold", "class_names",
           "read_signal", "read_labels", "find_experiments", "read_experiment",
           "load_experiments", "make_windows", "load_windows", "subject_folds",
           "PAMAP2_FS", "PAMAP2_IMUS", "PAMAP2_ACTIVITIES", "Pamap2Recording", "read_pamap2",
           "WISDM_FS", "WISDM_ACTIVITIES", "WisdmUser", "WisdmData", "read_wisdm"]

#: sample rate of the HAPT raw signals, Hz
FS = 50
#: default window: 128 samples = 2.56 s
WINDOW = 128
#: default hop: 64 samples (50 % overlap)
HOP = 64
#: the six window channels, in order: accelerometer (g), then gyroscope (rad/s)
CHANNELS = ("acc_x", "acc_y", "acc_z", "gyro_x", "gyro_y", "gyro_z")
#: unit of each channel of :data:`CHANNELS`
UNITS = ("g", "g", "g", "rad/s", "rad/s", "rad/s")
#: HAPT activity id -> name (``activity_labels.txt``)
ACTIVITIES = {1: "WALKING", 2: "WALKING_UPSTAIRS", 3: "WALKING_DOWNSTAIRS", 4: "SITTING",
              5: "STANDING", 6: "LAYING", 7: "STAND_TO_SIT", 8: "SIT_TO_STAND",
              9: "SIT_TO_LIE", 10: "LIE_TO_SIT", 11: "STAND_TO_LIE", 12: "LIE_TO_STAND"}
#: class names for ``classes=6`` (class index = activity id - 1)
CLASSES_6 = tuple(ACTIVITIES[i] for i in range(1, 7))
#: class names for ``classes=12`` (class index = activity id - 1)
CLASSES_12 = tuple(ACTIVITIES[i] for i in range(1, 13))
_NAME = re.compile(r"(acc|gyro)_exp(\d+)_user(\d+)\.txt(\.gz)?", re.I)


def class_names(classes=6):
    """:data:`CLASSES_6` or :data:`CLASSES_12`."""
    if classes == 6:
        return CLASSES_6
    if classes == 12:
        return CLASSES_12
    raise ValueError(f"classes must be 6 or 12, got {classes!r}")


# --- text ----------------------------------------------------------------------------------

def _locate_bad_line(path, lines, ncol, integer=False, allow_nan=False):
    """Raise the InputError of the first malformed line (1-based line number)."""
    for k, line in enumerate(lines, 1):
        cells = line.split()
        if not cells:
            continue
        if len(cells) != ncol:
            raise InputError(f"{path}: line {k}: {len(cells)} cells, expected {ncol}")
        for j, c in enumerate(cells):
            try:
                v = float(c)
            except ValueError:
                raise InputError(f"{path}: line {k}, column {j + 1}: '{c[:20]}' is not a "
                                 f"number") from None
            if not np.isfinite(v) and not (allow_nan and np.isnan(v)):
                raise InputError(f"{path}: line {k}, column {j + 1}: '{c[:20]}' is not "
                                 f"finite")
            if integer and v != int(v):
                raise InputError(f"{path}: line {k}, column {j + 1}: '{c[:20]}' is not an "
                                 f"integer")


def _table(path, ncol, integer=False, allow_nan=False, text=None):
    """The non-blank lines of ``path`` as a float64 array of ``ncol`` columns, and the line
    number of each row; any bad line is an InputError naming it."""
    text = read_input_text(path) if text is None else text
    lines = text.split("\n")
    line_no = np.array([k for k, ln in enumerate(lines, 1) if ln.strip()], dtype=np.int64)
    if not len(line_no):
        raise InputError(f"{path}: no data rows (empty file)")
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            rows = np.loadtxt(io.StringIO(text), dtype=np.float64, ndmin=2, comments=None)
    except ValueError:
        rows = None
    bad = (rows is None or rows.shape != (len(line_no), ncol)
           or not (np.isfinite(rows) | (allow_nan & np.isnan(rows))).all()
           or (integer and (rows != np.round(rows)).any()))
    if bad:
        _locate_bad_line(path, lines, ncol, integer, allow_nan)
        raise InputError(f"{path}: not {ncol} numeric columns")     # not reached
    return rows, line_no


# --- HAPT ----------------------------------------------------------------------------------

def read_signal(path):
    """One HAPT signal file (``acc_...`` or ``gyro_...``, plain or gzip).

    Parameters
    ----------
    path : str or Path

    Returns
    -------
    ndarray of float64, shape (n, 3)
        x, y, z per sample (g for acc, rad/s for gyro).

    Raises
    ------
    spec.cli.InputError
        Unreadable or empty file, a row without 3 finite numbers; names the file and line.
    """
    return _table(path, 3)[0]


@dataclass(frozen=True)
class Segment:
    """One row of ``labels.txt``.

    Parameters
    ----------
    experiment, user, activity : int
    start, end : int
        1-based inclusive sample numbers, as in the file.
    path : str
        The labels file.
    line : int
        Its line number there.
    """
    experiment: int
    user: int
    activity: int
    start: int
    end: int
    path: str
    line: int

    def where(self):
        """``labels.txt: line k`` for error messages."""
        return f"{self.path}: line {self.line}"

    def __len__(self):
        return self.end - self.start + 1


def read_labels(path):
    """``labels.txt``: one :class:`Segment` per row.

    Parameters
    ----------
    path : str or Path

    Returns
    -------
    list of Segment
        In file order.

    Raises
    ------
    spec.cli.InputError
        A row without 5 integers, an activity id outside 1-12, ``start < 1`` or
        ``end < start``; names the file and line. Whether a segment fits its recording is
        checked by :func:`read_experiment`.
    """
    rows, line_no = _table(path, 5, integer=True)
    out = []
    for r, k in zip(rows.astype(np.int64), line_no):
        seg = Segment(*map(int, r), path=str(path), line=int(k))
        if seg.activity not in ACTIVITIES:
            raise InputError(f"{seg.where()}: unknown activity id {seg.activity} (1-12)")
        if seg.start < 1:
            raise InputError(f"{seg.where()}: start {seg.start} is before the first sample "
                             f"(samples are numbered from 1)")
        if seg.end < seg.start:
            raise InputError(f"{seg.where()}: end {seg.end} is before start {seg.start}")
        out.append(seg)
    return out


def find_experiments(folder):
    """The signal files of a HAPT ``RawData`` folder, by experiment.

    Parameters
    ----------
    folder : str or Path

    Returns
    -------
    dict
        ``experiment -> (user, acc_path, gyro_path)``, sorted by experiment.

    Raises
    ------
    spec.cli.InputError
        Not a folder, an experiment with only one of its two files, or given twice
        (``.txt`` and ``.txt.gz``), or under two users.
    """
    folder = Path(folder)
    if not folder.is_dir():
        raise InputError(f"{folder}: not a folder")
    found = {}
    for p in sorted(folder.iterdir()):
        m = _NAME.fullmatch(p.name)
        if not m or not p.is_file():
            continue
        kind, exp, user = m[1].lower(), int(m[2]), int(m[3])
        entry = found.setdefault(exp, {"user": user})
        if entry["user"] != user:
            raise InputError(f"{p}: experiment {exp} also has files of user {entry['user']}")
        if kind in entry:
            raise InputError(f"{p}: experiment {exp} has two {kind} files ({entry[kind]})")
        entry[kind] = p
    out = {}
    for exp in sorted(found):
        e = found[exp]
        for kind, other in (("acc", "gyro"), ("gyro", "acc")):
            if kind not in e:
                raise InputError(f"{e[other]}: no matching {kind}_exp{exp:02d}_user"
                                 f"{e['user']:02d}.txt[.gz] in {folder}")
        out[exp] = (e["user"], e["acc"], e["gyro"])
    return out


@dataclass
class Experiment:
    """One HAPT experiment: both signals and its labelled segments.

    Parameters
    ----------
    experiment, user : int
    acc_path, gyro_path : str
    signals : ndarray of float32, shape (n, 6)
        Columns :data:`CHANNELS` (acc in g, gyro in rad/s).
    segments : list of Segment
        Sorted by start; each inside ``1..n``, none overlapping.
    """
    experiment: int
    user: int
    acc_path: str
    gyro_path: str
    signals: np.ndarray
    segments: list

    def __len__(self):
        return len(self.signals)


def read_experiment(acc_path, gyro_path, segments, experiment=None, user=None):
    """Read one experiment's two files and check its segments against them.

    Parameters
    ----------
    acc_path, gyro_path : str or Path
    segments : list of Segment
        This experiment's rows of ``labels.txt`` (others are an error).
    experiment, user : int, optional
        Default: from ``acc_path``'s name (``acc_exp01_user01.txt``).

    Returns
    -------
    Experiment

    Raises
    ------
    spec.cli.InputError
        A bad row in either file; different row counts (names the gyro file and the first
        line the two files do not share); a segment of another experiment or user, ending
        after the last sample, or overlapping another (names ``labels.txt`` and its line).
    """
    if experiment is None or user is None:
        m = _NAME.fullmatch(Path(acc_path).name)
        if not m:
            raise InputError(f"{acc_path}: name is not acc_expXX_userYY.txt[.gz]; give "
                             f"experiment and user")
        experiment = int(m[2]) if experiment is None else experiment
        user = int(m[3]) if user is None else user
    acc, gyro = read_signal(acc_path), read_signal(gyro_path)
    if len(acc) != len(gyro):
        short, n = (gyro_path, len(acc)) if len(gyro) < len(acc) else (acc_path, len(gyro))
        raise InputError(f"{gyro_path}: {len(gyro)} rows but {acc_path} has {len(acc)}: "
                         f"line {min(len(acc), len(gyro)) + 1} missing in {short} "
                         f"(acc and gyro of experiment {experiment} must have the same "
                         f"length)")
    n = len(acc)
    segs = sorted(segments, key=lambda s: (s.start, s.line))
    for s in segs:
        if s.experiment != experiment:
            raise InputError(f"{s.where()}: segment of experiment {s.experiment} given for "
                             f"experiment {experiment}")
        if s.user != user:
            raise InputError(f"{s.where()}: user {s.user}, but experiment {experiment}'s "
                             f"files are of user {user} ({acc_path})")
        if s.end > n:
            raise InputError(f"{s.where()}: segment {s.start}-{s.end} ends after the last "
                             f"sample of experiment {experiment} ({n} samples in {acc_path})")
    for a, b in zip(segs[:-1], segs[1:]):
        if b.start <= a.end:
            raise InputError(f"{b.where()}: segment {b.start}-{b.end} overlaps segment "
                             f"{a.start}-{a.end} (line {a.line}) of experiment {experiment}")
    return Experiment(experiment=experiment, user=user, acc_path=str(acc_path),
                      gyro_path=str(gyro_path),
                      signals=np.hstack([acc, gyro]).astype(np.float32), segments=segs)


def load_experiments(folder, experiments=None, labels=None):
    """Read the experiments of a HAPT ``RawData`` folder.

    Parameters
    ----------
    folder : str or Path
        Holds ``acc_/gyro_expXX_userYY.txt[.gz]`` and ``labels.txt``.
    experiments : iterable of int, optional
        Read only these (label rows of other experiments are ignored); default: every
        experiment with files, and every label row must then belong to one of them.
    labels : str or Path, optional
        Default: ``folder / "labels.txt"``.

    Returns
    -------
    list of Experiment
        Sorted by experiment number.

    Raises
    ------
    spec.cli.InputError
        As :func:`read_labels`, :func:`find_experiments` and :func:`read_experiment`; also a
        requested experiment without files, or (by default) a label row of an experiment
        without files.
    """
    folder = Path(folder)
    files = find_experiments(folder)
    segs = read_labels(folder / "labels.txt" if labels is None else labels)
    if experiments is None:
        wanted = sorted(files)
        for s in segs:
            if s.experiment not in files:
                raise InputError(f"{s.where()}: experiment {s.experiment} has no acc/gyro "
                                 f"files in {folder}")
    else:
        wanted = sorted(set(int(e) for e in experiments))
        for e in wanted:
            if e not in files:
                raise InputError(f"{folder}: no acc/gyro files of experiment {e}")
    by_exp = {}
    for s in segs:
        by_exp.setdefault(s.experiment, []).append(s)
    return [read_experiment(files[e][1], files[e][2], by_exp.get(e, []), e, files[e][0])
            for e in wanted]


# --- windows -------------------------------------------------------------------------------

@dataclass
class Windows:
    """Fixed-length windows, one row per window.

    Parameters
    ----------
    X : ndarray of float32, shape (n, size, 6)
        Channels :data:`CHANNELS` (acc in g, gyro in rad/s).
    y : ndarray of int8, shape (n,)
        Class index, 0-based (activity id - 1); names :func:`class_names`.
    activity : ndarray of int8, shape (n,)
        HAPT activity id (1-12).
    subject : ndarray of int64, shape (n,)
        User.
    experiment : ndarray of int64, shape (n,)
    start : ndarray of int64, shape (n,)
        First sample of the window in its experiment's files, 0-based (file sample number
        minus 1).
    classes : int
        6 or 12.
    """
    X: np.ndarray
    y: np.ndarray
    activity: np.ndarray
    subject: np.ndarray
    experiment: np.ndarray
    start: np.ndarray
    classes: int = 6

    _ROWS = ("X", "y", "activity", "subject", "experiment", "start")

    def __post_init__(self):
        class_names(self.classes)
        n = len(self.X)
        if self.X.ndim != 3 or self.X.shape[2] != len(CHANNELS):
            raise ValueError(f"X must have shape (n, size, {len(CHANNELS)}), got {self.X.shape}")
        for name in self._ROWS[1:]:
            if len(getattr(self, name)) != n:
                raise ValueError(f"{name} has {len(getattr(self, name))} rows, X has {n}")

    def __len__(self):
        return len(self.X)

    def take(self, index):
        """The windows selected by ``index`` (a boolean mask or integer indexes)."""
        return Windows(**{k: getattr(self, k)[index] for k in self._ROWS},
                       classes=self.classes)

    @classmethod
    def concat(cls, parts, size=WINDOW, classes=6):
        """One :class:`Windows` of several (an empty list gives 0 windows of ``size``)."""
        if not parts:
            return _empty(size, classes)
        if len({p.classes for p in parts}) != 1:
            raise ValueError("cannot concatenate windows of 6 and of 12 classes")
        return cls(**{k: np.concatenate([getattr(p, k) for p in parts]) for k in cls._ROWS},
                   classes=parts[0].classes)

    @property
    def subjects(self):
        """The distinct subjects, sorted."""
        return sorted(set(self.subject.tolist()))

    @property
    def names(self):
        """Class names, index = ``y``."""
        return class_names(self.classes)

    def counts(self):
        """Windows per class: dict name -> count (every class, zeros included)."""
        c = np.bincount(self.y.astype(np.int64), minlength=self.classes)
        return {name: int(c[i]) for i, name in enumerate(self.names)}


def _empty(size, classes):
    return Windows(X=np.zeros((0, size, len(CHANNELS)), np.float32), y=np.zeros(0, np.int8),
                   activity=np.zeros(0, np.int8), subject=np.zeros(0, np.int64),
                   experiment=np.zeros(0, np.int64), start=np.zeros(0, np.int64),
                   classes=classes)


def _check_window(size, hop, classes):
    if not (isinstance(size, (int, np.integer)) and size >= 1):
        raise ValueError(f"size must be an int >= 1, got {size!r}")
    if not (isinstance(hop, (int, np.integer)) and hop >= 1):
        raise ValueError(f"hop must be an int >= 1, got {hop!r}")
    class_names(classes)


def make_windows(exp, classes=6, size=WINDOW, hop=HOP):
    """Cut an experiment into windows, each inside one labelled segment.

    Parameters
    ----------
    exp : Experiment
    classes : {6, 12}
        6: activities 1-6 only (transition segments dropped); 12: all.
    size : int
        Samples per window (128 = 2.56 s at 50 Hz).
    hop : int
        Samples between window starts within a segment (64 = 50 % overlap); the first
        window of a segment starts at the segment's first sample.

    Returns
    -------
    Windows
        Segments in time order; ``floor((len - size) / hop) + 1`` windows per segment of
        ``len >= size`` samples.
    """
    _check_window(size, hop, classes)
    starts, acts = [], []
    for s in exp.segments:
        if s.activity > classes:
            continue
        st = np.arange(s.start - 1, s.end - size + 1, hop, dtype=np.int64)
        starts.append(st)
        acts.append(np.full(len(st), s.activity, np.int8))
    idx = np.concatenate(starts) if starts else np.zeros(0, np.int64)
    if not len(idx):
        return _empty(size, classes)
    act = np.concatenate(acts)
    n = len(idx)
    return Windows(X=exp.signals[idx[:, None] + np.arange(size)], y=(act - 1).astype(np.int8),
                   activity=act, subject=np.full(n, exp.user, np.int64),
                   experiment=np.full(n, exp.experiment, np.int64), start=idx,
                   classes=classes)


def load_windows(folder, classes=6, size=WINDOW, hop=HOP, experiments=None, labels=None):
    """Read a HAPT ``RawData`` folder and window every experiment.

    Parameters
    ----------
    folder, experiments, labels
        As :func:`load_experiments`.
    classes, size, hop
        As :func:`make_windows`.

    Returns
    -------
    Windows
        Experiments in increasing order.
    """
    _check_window(size, hop, classes)
    return Windows.concat([make_windows(e, classes, size, hop)
                           for e in load_experiments(folder, experiments, labels)],
                          size, classes)


# --- folds ---------------------------------------------------------------------------------

@dataclass(frozen=True)
class Fold:
    """One subject-wise fold: window indexes into the :class:`Windows` it came from.

    Parameters
    ----------
    subjects : tuple of int
        The test subjects, sorted.
    train, test : ndarray of int64
        Windows of every other subject, and of ``subjects``.
    """
    subjects: tuple
    train: np.ndarray
    test: np.ndarray

    def __post_init__(self):
        if len(np.intersect1d(self.train, self.test)):
            raise ValueError(f"fold {self.subjects}: a window is in both training and test")


def subject_folds(windows, k=5, seed=0):
    """``k`` subject-wise folds, balanced by number of windows.

    Subjects are shuffled with ``numpy.random.default_rng(seed)``, then sorted by number of
    windows (largest first, ties in shuffled order), and each goes to the fold with the fewest
    windows so far (lowest fold number on a tie); then single moves and pairwise swaps of
    subjects between folds are made while they make the fold sizes more even. Same windows
    and seed -> same folds (the seed only breaks ties between subjects of equal size).

    Parameters
    ----------
    windows : Windows
    k : int
        Number of folds, 2 to the number of subjects.
    seed : int

    Returns
    -------
    list of Fold
        Every subject in exactly one fold's test set; training = all other windows.
    """
    subjects = windows.subjects
    if not (isinstance(k, (int, np.integer)) and 2 <= k <= len(subjects)):
        raise ValueError(f"k must be an int from 2 to the number of subjects "
                         f"({len(subjects)}), got {k!r}")
    count = {s: int(np.sum(windows.subject == s)) for s in subjects}
    order = [subjects[i] for i in np.random.default_rng(seed).permutation(len(subjects))]
    order.sort(key=lambda s: -count[s])                 # stable: ties keep the shuffle
    load, members = [0] * k, [[] for _ in range(k)]
    for s in order:
        f = min(range(k), key=lambda j: (load[j], j))
        load[f] += count[s]
        members[f].append(s)
    _refine(members, count)
    folds = []
    for m in members:
        test = np.isin(windows.subject, m)
        folds.append(Fold(subjects=tuple(sorted(m)), train=np.flatnonzero(~test),
                          test=np.flatnonzero(test)))
    return folds


def _refine(members, count):
    """Improve the greedy split in place: move one subject, or swap two, between two folds
    while that lowers the sum of squared fold sizes (deterministic: first improvement in
    fold, then member order; each step strictly lowers the sum, so it ends)."""
    load = [sum(count[s] for s in m) for m in members]
    improved = True
    while improved:
        improved = False
        for i in range(len(members)):
            for j in range(len(members)):
                if i == j:
                    continue
                for a in members[i]:
                    for b in [None, *members[j]]:
                        d = count[a] - (count[b] if b is not None else 0)
                        if d <= 0 or len(members[i]) == 1 and b is None:
                            continue
                        if d < load[i] - load[j]:          # (Li-d)^2+(Lj+d)^2 lower
                            members[i].remove(a)
                            members[j].append(a)
                            if b is not None:
                                members[j].remove(b)
                                members[i].append(b)
                            load[i] -= d
                            load[j] += d
                            improved = True
                            break
                    if improved:
                        break
                if improved:
                    break
            if improved:
                break


# --- PAMAP2 --------------------------------------------------------------------------------

#: PAMAP2 sample rate of the IMUs, Hz
PAMAP2_FS = 100
#: IMU -> index of its first column (temperature) in a PAMAP2 ``.dat`` row
PAMAP2_IMUS = {"hand": 3, "chest": 20, "ankle": 37}
#: PAMAP2 activity id -> name (0, transient, is dropped)
PAMAP2_ACTIVITIES = {1: "lying", 2: "sitting", 3: "standing", 4: "walking", 5: "running",
                     6: "cycling", 7: "Nordic walking", 9: "watching TV",
                     10: "computer work", 11: "car driving", 12: "ascending stairs",
                     13: "descending stairs", 16: "vacuum cleaning", 17: "ironing",
                     18: "folding laundry", 19: "house cleaning", 20: "playing soccer",
                     24: "rope jumping"}
_PAMAP2_NCOL = 54


@dataclass
class Pamap2Recording:
    """One PAMAP2 subject file, one IMU, at 50 Hz.

    Parameters
    ----------
    subject : str
        The file's stem (``subject101``).
    imu : str
    time_s : ndarray of float64, shape (n,)
        Timestamp of the first of the two source rows of each sample, s.
    X : ndarray of float32, shape (n, 6)
        acc (±16 g sensor) x y z in m/s^2, gyro x y z in rad/s.
    activity : ndarray of int16, shape (n,)
        PAMAP2 activity id (never 0).
    """
    subject: str
    imu: str
    time_s: np.ndarray
    X: np.ndarray
    activity: np.ndarray


def read_pamap2(path, imu="hand"):
    """Read a PAMAP2 Protocol ``.dat`` file: one IMU's ±16 g acc and gyro, decimated to 50 Hz.

    A row has 54 space-separated cells: timestamp (s), activity id, heart rate, then 17 cells
    per IMU (hand, chest, ankle): temperature, acc ±16 g x y z, acc ±6 g x y z, gyro x y z,
    mag x y z, orientation (4, invalid). ``NaN`` marks a lost value (heart rate is mostly
    NaN; it is not used). Plain or gzip (by the first bytes).

    What is done, and nothing else: rows are paired by file position (rows 1-2, 3-4, ...; an
    odd last row is dropped); each pair is averaged (a 2-tap boxcar as a crude anti-alias
    filter before 2:1 decimation, 100 -> 50 Hz). A pair is dropped when its two rows have
    different activities, when the activity is 0 (transient), or when a used channel is NaN
    in either row. No interpolation and no resampling across time gaps: dropped pairs and
    the file's own gaps show up as jumps in ``time_s``.

    Parameters
    ----------
    path : str or Path
    imu : {"hand", "chest", "ankle"}

    Returns
    -------
    Pamap2Recording

    Raises
    ------
    spec.cli.InputError
        A row without 54 cells, a non-numeric cell, a timestamp or activity that is not
        finite, or an activity id not in :data:`PAMAP2_ACTIVITIES` (nor 0); names file and
        line.
    """
    if imu not in PAMAP2_IMUS:
        raise ValueError(f"imu must be one of {', '.join(PAMAP2_IMUS)}, got {imu!r}")
    rows, line_no = _table(path, _PAMAP2_NCOL, allow_nan=True)
    for j, what in ((0, "timestamp"), (1, "activity id")):
        bad = np.flatnonzero(~np.isfinite(rows[:, j]))
        if bad.size:
            raise InputError(f"{path}: line {line_no[bad[0]]}: {what} is not finite")
    act = rows[:, 1]
    known = np.isin(act, [0, *PAMAP2_ACTIVITIES])
    if not known.all():
        k = np.flatnonzero(~known)[0]
        raise InputError(f"{path}: line {line_no[k]}: unknown activity id {act[k]:g}")
    c = PAMAP2_IMUS[imu]
    cols = [c + 1, c + 2, c + 3, c + 7, c + 8, c + 9]       # acc16 x y z, gyro x y z
    m = len(rows) // 2 * 2
    a, b = rows[0:m:2], rows[1:m:2]
    x = (a[:, cols] + b[:, cols]) / 2
    keep = (a[:, 1] == b[:, 1]) & (a[:, 1] != 0) & np.isfinite(x).all(axis=1)
    return Pamap2Recording(subject=Path(path).name.split(".")[0], imu=imu,
                           time_s=a[keep, 0], X=x[keep].astype(np.float32),
                           activity=a[keep, 1].astype(np.int16))


# --- WISDM ---------------------------------------------------------------------------------

#: WISDM v1.1 sample rate, Hz (nominal)
WISDM_FS = 20
#: WISDM v1.1 activities, as spelled in the file
WISDM_ACTIVITIES = ("Walking", "Jogging", "Upstairs", "Downstairs", "Sitting", "Standing")


@dataclass
class WisdmUser:
    """One WISDM user's records, in file order.

    Parameters
    ----------
    user : int
    timestamp : ndarray of int64, shape (n,)
        As in the file (phone uptime, ns; some are 0).
    X : ndarray of float32, shape (n, 3)
        Acceleration x y z as in the file (the dataset's scale: 10 = 1 g).
    activity : ndarray of int8, shape (n,)
        Index into :data:`WISDM_ACTIVITIES`.
    """
    user: int
    timestamp: np.ndarray
    X: np.ndarray
    activity: np.ndarray


@dataclass
class WisdmData:
    """What :func:`read_wisdm` read.

    Parameters
    ----------
    users : dict
        user -> :class:`WisdmUser`, sorted by user.
    skipped : list of (int, str)
        ``(line, reason)`` of each record that was left out.
    """
    users: dict
    skipped: list


def read_wisdm(path):
    """Read WISDM v1.1 raw accelerometer text (``WISDM_ar_v1.1_raw.txt``), plain or gzip.

    Records are ``user,activity,timestamp,x,y,z;``. The file's known quirks are tolerated,
    not repaired: records are split at ``;`` and at line ends (so a line holding several
    records gives several, and the trailing ``;`` or its absence does not matter); empty
    records are ignored; a record with other than 6 fields, an empty or non-numeric field,
    a non-finite value or an activity not in :data:`WISDM_ACTIVITIES` is left out and listed
    in ``skipped`` with its line number. Nothing is resampled: the rate is nominally 20 Hz,
    gaps and timestamp glitches stay as in the file.

    Parameters
    ----------
    path : str or Path

    Returns
    -------
    WisdmData

    Raises
    ------
    spec.cli.InputError
        Unreadable file, or no valid record at all.
    """
    text = read_input_text(path)
    act_index = {a: i for i, a in enumerate(WISDM_ACTIVITIES)}
    recs, skipped = {}, []
    for k, line in enumerate(text.split("\n"), 1):
        for rec in line.split(";"):
            rec = rec.strip()
            if not rec:
                continue
            f = [s.strip() for s in rec.split(",")]
            if len(f) != 6:
                skipped.append((k, f"{len(f)} fields, expected 6"))
                continue
            if f[1] not in act_index:
                skipped.append((k, f"unknown activity '{f[1][:20]}'"))
                continue
            try:
                user, ts = int(f[0]), int(f[2])
                xyz = [float(v) for v in f[3:]]
            except ValueError:
                skipped.append((k, "empty or non-numeric field"))
                continue
            if not np.isfinite(xyz).all():
                skipped.append((k, "non-finite value"))
                continue
            recs.setdefault(user, []).append((ts, act_index[f[1]], *xyz))
    if not recs:
        raise InputError(f"{path}: no valid WISDM record (user,activity,timestamp,x,y,z;)")
    users = {}
    for u in sorted(recs):
        r = recs[u]
        users[u] = WisdmUser(user=u, timestamp=np.array([t[0] for t in r], np.int64),
                             X=np.array([t[2:] for t in r], np.float32),
                             activity=np.array([t[1] for t in r], np.int8))
    return WisdmData(users=users, skipped=skipped)
