"""Stress from wrist physiology (Empatica E4): readers, aligned recordings, windows, folds,
per-subject normalisation; readers for WESAD and K-EmoCon wrist files.

Stress-Predict (Iqbal et al., Sensors 2022; ``../shared/data/stress-wrist-e4``, see its
README): one Empatica E4 session of about 55-60 min per subject ``S01``-``S24`` (Stroop,
interview and hyperventilation tasks, rest between them). Per subject folder, the device's CSV
files (plain or gzip, recognised by the first bytes, as :func:`sw.recording.read_input_text`):

============ ====== ==============================================================================
file         rate   contents (line 1: session start, UNIX s, UTC; line 2: rate, Hz; one cell per
                    column on both; then one row per sample)
============ ====== ==============================================================================
``ACC.csv``  32 Hz  x, y, z in 1/64 g (read as g: divided by 64)
``BVP.csv``  64 Hz  photoplethysmogram, device units
``EDA.csv``  4 Hz   skin conductance, µS
``TEMP.csv`` 4 Hz   skin temperature, °C
``HR.csv``   1 Hz   the device's heart rate, bpm (its first sample is 10 s after the start)
============ ====== ==============================================================================

``labels_hr_rsp_binary.csv`` (one file for all): ``Participant, HR, respr, Time(sec), Label``,
one row per second for subjects 2-24; Label 1 = during a stress task, 0 = baseline or rest; HR
is empty in the last 1-3 rows of each subject. Subject 1 has no rows: it is left out by
:func:`load_subjects` (its tags could give labels, but the README says tags are unreliable;
asking for subject 1 explicitly is an :class:`~spec.cli.InputError`).

Alignment (what the files show; checked for all 23 labelled subjects, tested on S02-S04):

* ``Time(sec)`` is a UNIX time on the E4's own clock, the clock of the CSV headers: every
  subject's rows start exactly 9 s after the session start (``start + 9``), one per second,
  without gaps, and end with the recording (0-4 s after the shortest sensor stops, 0-2 s
  after ``HR.csv`` does; windows need every sensor, so nothing is read past the end). The
  label changes exactly at the button presses of ``tags_Sxx.csv`` (at the nearest whole second
  where a tag has a fraction, e.g. S03) for the subjects whose tags are reliable; S06's labels
  change at round times (600, 960, ... s) that match no tag (its tags are the known-bad ones).
* The ``HR`` column is ``HR.csv`` one second later: the row at ``Time(sec) = t`` holds the
  HR.csv sample whose nominal time is ``t + 1`` (``HR.csv`` start + k s for sample k) --
  100 % of the rows with an HR match at that shift, 2-8 % at any other shift in -3..3 s
  (:func:`label_hr_shift`). The labels themselves need no shift: the label of row ``t``
  covers device time ``[t, t + 1)``. Only the HR column is off by one second (an artefact of
  how the label file was built); it is kept (``LabelTable.hr``) for that check and never
  used as a feature.

Recordings (:class:`Recording`): every sensor at its native rate with its own start time
(UNIX s) -- nothing is resampled -- and one label per second from ``label_start``
(``-1`` = no label).

Windows (:func:`make_windows`): :data:`WINDOW_S` = 60 s (the issue's figure uses 60 s; EDA
and skin temperature change over tens of seconds, and a heart-rate mean and spread need
dozens of beats) every :data:`HOP_S` = 30 s (50 % overlap, as the HAR and FoG windows; the
label changes every 2-11 min, so a 30 s step loses little, and 23 subjects stay below 100 MB;
10 s gives the same figures within 0.01-0.02 at three times the windows).
Window starts are ``label_start + j * hop_s``; a window is kept only when every second of it
has a label and every sensor covers it. Its label ``y`` is the label of its **last second**:
at inference time the decision is about *now*, the end of the window; ``fraction`` (share of
stress seconds in the window) is kept so that a majority rule (``fraction > 0.5``) can be
applied instead. Inside a window each sensor keeps its rate: ``bvp (n, 64 L)``,
``acc (n, 32 L, 3)`` (g), ``eda (n, 4 L)``, ``temp (n, 4 L)``. :func:`to_common_rate` gives one
array at :data:`COMMON_FS` = 32 Hz for models that want a single input: the rate of ACC, BVP
decimated 2:1 (polyphase, anti-aliased; its cardiac content is below 8 Hz), EDA and TEMP
interpolated linearly (they carry nothing above 1 Hz).

Normalisation (:func:`normalise_features`, :func:`normalise_windows`), per subject, z-scores:

* ``"baseline"`` (**default**, causal): statistics of the windows that end within the first
  :data:`BASELINE_S` = 300 s of the session (its rest period: the first task starts 9 min or
  more after the session start for every Stress-Predict subject). Available at inference time
  once the calibration is over; the windows of the calibration period itself are normalised
  with it too (a device would report nothing during those 5 minutes).
* ``"running"`` (causal): expanding statistics of the subject's windows up to and including
  the current one; the first ``warmup`` windows get 0.
* ``"session"`` (**transductive**, not available at inference time): statistics of every
  window of the subject's session, the labelled stress periods included. For comparison with
  the literature only.
* ``"none"``.

Folds (:func:`subject_folds`): :func:`sw.har_data.subject_folds` itself (leave subjects out,
folds balanced by windows; it only needs ``windows.subject`` and ``windows.subjects``).

WESAD (:func:`read_wesad`) and K-EmoCon (:func:`read_kemocon`) map their wrist files to the
same :class:`Recording`; their docstrings say what is assumed.
"""

import csv
import io
import pickle
import re
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
from scipy import signal as sps

from spec.cli import InputError
from sw.har_data import Fold
from sw.har_data import subject_folds as _har_subject_folds
from sw.recording import read_input_bytes, read_input_text

__all__ = ["SENSORS", "RATES", "ACC_UNIT", "WINDOW_S", "HOP_S", "BASELINE_S", "COMMON_FS",
           "COMMON_CHANNELS", "NORMALISATIONS", "LABELS_FILE", "Signal", "LabelTable",
           "Recording", "Windows", "Fold", "read_e4", "read_labels", "label_hr_shift",
           "find_subjects", "read_subject", "load_subjects", "make_windows", "load_windows",
           "to_common_rate", "subject_folds", "normalise_features", "normalise_windows",
           "WESAD_FS", "WESAD_STRESS", "WESAD_NON_STRESS", "read_wesad_labels", "read_wesad",
           "KEMOCON_FILES", "read_kemocon_e4", "read_kemocon_annotations", "read_kemocon"]

#: the four sensors of a recording, in window order
SENSORS = ("bvp", "acc", "eda", "temp")
#: native E4 rate of each sensor, Hz
RATES = {"bvp": 64, "acc": 32, "eda": 4, "temp": 4, "hr": 1}
#: ACC.csv unit: 1/64 g
ACC_UNIT = 64.0
#: default window length, s
WINDOW_S = 60
#: default hop between window starts, s
HOP_S = 30
#: default calibration (rest) period of the causal ``"baseline"`` normalisation, s
BASELINE_S = 300
#: rate of :func:`to_common_rate`, Hz
COMMON_FS = 32
#: channels of :func:`to_common_rate`, in order
COMMON_CHANNELS = ("bvp", "acc_x", "acc_y", "acc_z", "eda", "temp")
#: normalisation modes; the first is the default
NORMALISATIONS = ("baseline", "running", "session", "none")
#: name of the Stress-Predict label file
LABELS_FILE = "labels_hr_rsp_binary.csv"
_FILES = {"bvp": "BVP", "acc": "ACC", "eda": "EDA", "temp": "TEMP", "hr": "HR"}
_SUBJECT_DIR = re.compile(r"S(\d+)", re.I)
_LABEL_COLUMNS = ("participant", "hr", "respr", "time(sec)", "label")


# --- E4 CSV --------------------------------------------------------------------------------

@dataclass
class Signal:
    """One sensor stream at a fixed rate.

    Parameters
    ----------
    x : ndarray of float32, shape (n,) or (n, 3)
    fs : float
        Sample rate, Hz.
    start : float
        Time of sample 0, UNIX s (device clock).
    path : str
        The file read.
    """
    x: np.ndarray
    fs: float
    start: float
    path: str = ""

    def __len__(self):
        return len(self.x)

    @property
    def end(self):
        """Time just after the last sample, UNIX s."""
        return self.start + len(self.x) / self.fs


def _number(path, line, col, cell):
    try:
        v = float(cell)
    except ValueError:
        raise InputError(f"{path}: row {line}, column {col}: '{cell.strip()[:20]}' is not a "
                         f"number") from None
    if not np.isfinite(v):
        raise InputError(f"{path}: row {line}, column {col}: '{cell.strip()[:20]}' is not "
                         f"finite")
    return v


def _locate_bad_row(path, lines, first_line, ncol):
    """Raise the InputError of the first bad sample row (1-based file line numbers)."""
    for k, ln in enumerate(lines, first_line):
        if not ln.strip():
            continue
        cells = ln.split(",")
        if len(cells) != ncol:
            raise InputError(f"{path}: row {k}: {len(cells)} cells, expected {ncol}")
        for j, c in enumerate(cells):
            _number(path, k, j + 1, c)


def _samples(path, lines, first_line, ncol):
    """The non-blank ``lines`` as a float64 array (n, ncol); a bad row is an InputError."""
    rows = [ln for ln in lines if ln.strip()]
    if not rows:
        raise InputError(f"{path}: no samples after the two header rows")
    try:
        if any(ln.count(",") != ncol - 1 for ln in rows):
            raise ValueError
        x = np.array(",".join(rows).split(","), dtype=np.float64).reshape(len(rows), ncol)
        if not np.isfinite(x).all():
            raise ValueError
    except ValueError:
        _locate_bad_row(path, lines, first_line, ncol)
        raise InputError(f"{path}: not {ncol} numeric columns") from None    # not reached
    return x


def read_e4(path, ncol=None):
    """One Empatica E4 CSV (``ACC``, ``BVP``, ``EDA``, ``TEMP``, ``HR``; plain or gzip).

    Line 1: the session start (UNIX s) in every column; line 2: the rate (Hz) in every column;
    then one row per sample, ``ncol`` comma-separated numbers. Blank lines are ignored.

    Parameters
    ----------
    path : str or Path
    ncol : int, optional
        Expected columns (3 for ACC, else 1); default: as many as line 1 has.

    Returns
    -------
    Signal
        ``x`` as in the file (float32; shape (n,) for one column), no unit conversion.

    Raises
    ------
    spec.cli.InputError
        Unreadable file, fewer than 3 lines, a start or rate that is not a positive number or
        differs between columns, a row without ``ncol`` finite numbers; names file and row.
    """
    text = read_input_text(path)
    lines = text.split("\n")
    head = [(k, ln) for k, ln in enumerate(lines[:2], 1)]
    if len(lines) < 3 or not all(ln.strip() for _, ln in head):
        raise InputError(f"{path}: not an E4 CSV (line 1: start time, line 2: sample rate, "
                         f"then samples)")
    values = []
    for k, ln in head:
        cells = ln.split(",")
        if ncol is not None and len(cells) != ncol:
            raise InputError(f"{path}: row {k}: {len(cells)} cells, expected {ncol}")
        v = [_number(path, k, j + 1, c) for j, c in enumerate(cells)]
        if min(v) <= 0:
            raise InputError(f"{path}: row {k}: {'start time' if k == 1 else 'sample rate'} "
                             f"{min(v):g} is not positive")
        if max(v) != min(v):
            raise InputError(f"{path}: row {k}: columns differ "
                             f"({', '.join(c.strip() for c in cells)})")
        values.append(v[0])
    ncol = len(lines[0].split(",")) if ncol is None else ncol
    x = _samples(path, lines[2:], 3, ncol)
    return Signal(x=(x[:, 0] if ncol == 1 else x).astype(np.float32), fs=values[1],
                  start=values[0], path=str(path))


# --- labels --------------------------------------------------------------------------------

@dataclass
class LabelTable:
    """One subject's rows of ``labels_hr_rsp_binary.csv``.

    Parameters
    ----------
    subject : int
    time : ndarray of int64
        ``Time(sec)``, UNIX s (device clock), strictly increasing.
    label : ndarray of int8
        0 rest/baseline, 1 stress task.
    hr : ndarray of float64
        The file's HR column (NaN where empty): ``HR.csv`` one second later.
    path : str
    lines : ndarray of int64
        Line number of each row.
    """
    subject: int
    time: np.ndarray
    label: np.ndarray
    hr: np.ndarray
    path: str
    lines: np.ndarray

    def per_second(self):
        """``(start, labels)``: labels from ``start`` = first time, one per second, -1 for a
        second without a row."""
        start = int(self.time[0])
        out = np.full(int(self.time[-1]) - start + 1, -1, np.int8)
        out[self.time - start] = self.label
        return start, out


def read_labels(path):
    """The Stress-Predict label file: ``Participant, HR, respr, Time(sec), Label``.

    Parameters
    ----------
    path : str or Path

    Returns
    -------
    dict
        subject -> :class:`LabelTable`, sorted by subject.

    Raises
    ------
    spec.cli.InputError
        Another header, a row without 5 cells, a participant or time that is not an integer,
        a label other than 0/1, an HR or respr that is not a number (HR may be empty), a time
        that does not increase within a subject, or a subject's rows split by another's;
        names the file and its row.
    """
    lines = read_input_text(path).split("\n")
    header = tuple(c.strip().lower() for c in lines[0].lstrip("\ufeff").split(","))
    if header != _LABEL_COLUMNS:
        raise InputError(f"{path}: row 1: header {lines[0].strip()[:80]!r}, expected "
                         f"'Participant,HR,respr,Time(sec),Label'")
    rows = {}
    last = None
    for k, ln in enumerate(lines[1:], 2):
        if not ln.strip():
            continue
        cells = ln.split(",")
        if len(cells) != 5:
            raise InputError(f"{path}: row {k}: {len(cells)} cells, expected 5")
        p, t, lab = (_number(path, k, j + 1, cells[j]) for j in (0, 3, 4))
        for v, j in ((p, 1), (t, 4)):
            if v != int(v):
                raise InputError(f"{path}: row {k}, column {j}: '{cells[j - 1].strip()}' is "
                                 f"not an integer")
        if lab not in (0, 1):
            raise InputError(f"{path}: row {k}: label {cells[4].strip()}, expected 0 or 1")
        hr = np.nan if not cells[1].strip() else _number(path, k, 2, cells[1])
        _number(path, k, 3, cells[2])
        p = int(p)
        if p != last and p in rows:
            raise InputError(f"{path}: row {k}: participant {p} again after other participants")
        prev = rows.setdefault(p, [])
        if prev and int(t) <= prev[-1][0]:
            raise InputError(f"{path}: row {k}: time {int(t)} does not increase (previous row "
                             f"of participant {p}: {prev[-1][0]})")
        prev.append((int(t), int(lab), hr, k))
        last = p
    if not rows:
        raise InputError(f"{path}: no label rows")
    out = {}
    for p in sorted(rows):
        r = rows[p]
        out[p] = LabelTable(subject=p, time=np.array([x[0] for x in r], np.int64),
                            label=np.array([x[1] for x in r], np.int8),
                            hr=np.array([x[2] for x in r], np.float64), path=str(path),
                            lines=np.array([x[3] for x in r], np.int64))
    return out


def label_hr_shift(table, hr, shifts=range(-3, 4)):
    """How the label file's HR column lines up with the device's ``HR.csv``.

    Parameters
    ----------
    table : LabelTable
    hr : Signal
        ``HR.csv`` (1 Hz).
    shifts : iterable of int
        Candidate shifts, s.

    Returns
    -------
    dict
        shift -> fraction of the rows with an HR whose value equals (to 0.006 bpm) the
        ``HR.csv`` sample at nominal time ``Time(sec) + shift``. Stress-Predict: 1.0 at +1.
    """
    out = {}
    ok = ~np.isnan(table.hr)
    for s in shifts:
        idx = np.round(table.time + s - hr.start).astype(np.int64)
        inside = ok & (idx >= 0) & (idx < len(hr))
        out[int(s)] = float(np.mean(np.abs(hr.x[idx[inside]] - table.hr[inside]) < 0.006)) \
            if inside.any() else 0.0
    return out


# --- recordings ----------------------------------------------------------------------------

@dataclass
class Recording:
    """One subject's session: sensors at native rates, labels per second.

    Parameters
    ----------
    subject : int
    signals : dict
        ``"bvp"``, ``"acc"`` (g), ``"eda"`` (µS), ``"temp"`` (°C) -> :class:`Signal`; optionally
        ``"hr"`` (bpm, 1 Hz).
    label_start : float
        Device time of ``label[0]``, UNIX s.
    label : ndarray of int8
        One per second: ``label[k]`` covers ``[label_start + k, label_start + k + 1)``;
        1 stress, 0 not, -1 no label.
    source : str
        Folder or file read.
    notes : list of str
        What the reader did that a user should know.
    """
    subject: int
    signals: dict
    label_start: float
    label: np.ndarray
    source: str = ""
    notes: list = field(default_factory=list)

    @property
    def start(self):
        """Session start: earliest sensor start, UNIX s."""
        return min(s.start for s in self.signals.values())


def find_subjects(folder):
    """The ``Sxx`` subject folders of a Stress-Predict folder: dict subject -> Path."""
    folder = Path(folder)
    if not folder.is_dir():
        raise InputError(f"{folder}: not a folder")
    out = {}
    for p in sorted(folder.iterdir()):
        m = _SUBJECT_DIR.fullmatch(p.name)
        if m and p.is_dir():
            s = int(m[1])
            if s in out:
                raise InputError(f"{p}: subject {s} also in {out[s]}")
            out[s] = p
    return out


def _sensor_file(folder, name):
    for suffix in (".csv", ".csv.gz"):
        p = Path(folder) / f"{name}{suffix}"
        if p.is_file():
            other = Path(folder) / f"{name}{'.csv.gz' if suffix == '.csv' else '.csv'}"
            if other.is_file():
                raise InputError(f"{other}: {name} given twice (also {p})")
            return p
    raise InputError(f"{folder}: no {name}.csv or {name}.csv.gz")


def _read_sensors(folder, hr=False):
    """BVP, ACC (in g), EDA, TEMP [and HR] of an E4 folder, rates checked."""
    out = {}
    for s in (*SENSORS, *(("hr",) if hr else ())):
        p = _sensor_file(folder, _FILES[s])
        sig = read_e4(p, 3 if s == "acc" else 1)
        if sig.fs != RATES[s]:
            raise InputError(f"{p}: row 2: sample rate {sig.fs:g} Hz, expected {RATES[s]} Hz "
                             f"for {_FILES[s]}")
        if s == "acc":
            sig.x = (sig.x / ACC_UNIT).astype(np.float32)
        out[s] = sig
    return out


def read_subject(folder, table, subject=None, hr=False):
    """One Stress-Predict subject folder and its label rows.

    Parameters
    ----------
    folder : str or Path
        Holds ``BVP/ACC/EDA/TEMP.csv[.gz]`` (and ``HR`` with ``hr=True``).
    table : LabelTable
        The subject's rows of the label file.
    subject : int, optional
        Default: ``table.subject``.
    hr : bool
        Also read ``HR.csv`` into ``signals["hr"]``.

    Returns
    -------
    Recording
        Labels at ``Time(sec)`` as they are (module docstring: no shift).

    Raises
    ------
    spec.cli.InputError
        A bad file, a rate other than :data:`RATES`, or labels that start before the session
        (names the label file and row).
    """
    sig = _read_sensors(folder, hr)
    start, label = table.per_second()
    first = min(s.start for s in sig.values())
    if start < first:
        raise InputError(f"{table.path}: row {table.lines[0]}: time {start} is before the "
                         f"session start {first:.0f} of {folder}")
    return Recording(subject=table.subject if subject is None else subject, signals=sig,
                     label_start=float(start), label=label, source=str(folder))


def load_subjects(folder, subjects=None, labels=None, hr=False):
    """Read the labelled subjects of a Stress-Predict folder.

    Parameters
    ----------
    folder : str or Path
        Holds ``Sxx`` folders and :data:`LABELS_FILE`.
    subjects : iterable of int, optional
        Default: every subject with a folder and label rows (Stress-Predict: 2-24; subject 1
        has no label rows and is left out).
    labels : str or Path, optional
        Default: ``folder / LABELS_FILE``.
    hr : bool
        Also read ``HR.csv``.

    Returns
    -------
    list of Recording
        Sorted by subject.

    Raises
    ------
    spec.cli.InputError
        A requested subject without a folder or without label rows; any bad file.
    """
    folder = Path(folder)
    dirs = find_subjects(folder)
    tables = read_labels(folder / LABELS_FILE if labels is None else labels)
    if subjects is None:
        subjects = [s for s in dirs if s in tables]
    out = []
    for s in sorted(set(subjects)):
        if s not in dirs:
            raise InputError(f"{folder}: no folder S{s:02d} for subject {s}")
        if s not in tables:
            raise InputError(f"{labels or folder / LABELS_FILE}: no label rows for subject {s}")
        out.append(read_subject(dirs[s], tables[s], s, hr))
    if not out:
        raise InputError(f"{folder}: no subject with both a folder and label rows")
    return out


# --- windows -------------------------------------------------------------------------------

@dataclass
class Windows:
    """Fixed-length windows, each sensor at its own rate, one row per window.

    Parameters
    ----------
    bvp : ndarray of float32, shape (n, 64 L)
    acc : ndarray of float32, shape (n, 32 L, 3)
        g.
    eda : ndarray of float32, shape (n, 4 L)
        µS.
    temp : ndarray of float32, shape (n, 4 L)
        °C.
    y : ndarray of int8, shape (n,)
        Label of the window's last second: 1 stress, 0 not.
    fraction : ndarray of float32, shape (n,)
        Share of the window's seconds labelled stress.
    subject : ndarray of int64, shape (n,)
    start_s : ndarray of float64, shape (n,)
        Window start, UNIX s (device clock).
    session_s : ndarray of float64, shape (n,)
        Window start minus its session start, s.
    """
    bvp: np.ndarray
    acc: np.ndarray
    eda: np.ndarray
    temp: np.ndarray
    y: np.ndarray
    fraction: np.ndarray
    subject: np.ndarray
    start_s: np.ndarray
    session_s: np.ndarray

    def __post_init__(self):
        n = len(self.y)
        for k in self.__dataclass_fields__:
            if len(getattr(self, k)) != n:
                raise ValueError(f"{k} has {len(getattr(self, k))} rows, y has {n}")
        if self.acc.ndim != 3 or self.acc.shape[2] != 3:
            raise ValueError(f"acc must have shape (n, samples, 3), got {self.acc.shape}")

    def __len__(self):
        return len(self.y)

    @property
    def window_s(self):
        """Window length, s (from the EDA samples)."""
        return self.eda.shape[1] / RATES["eda"]

    def take(self, index):
        """The windows selected by ``index`` (a boolean mask or integer indexes)."""
        return Windows(**{k: getattr(self, k)[index] for k in self.__dataclass_fields__})

    @classmethod
    def concat(cls, parts, window_s=WINDOW_S):
        """One :class:`Windows` of several (an empty list gives 0 windows of ``window_s``)."""
        if not parts:
            return _empty(window_s)
        shapes = {tuple(getattr(p, s).shape[1:] for s in SENSORS) for p in parts}
        if len(shapes) != 1:
            raise ValueError(f"cannot concatenate windows of different shapes: {sorted(shapes)}")
        return cls(**{k: np.concatenate([getattr(p, k) for p in parts])
                      for k in cls.__dataclass_fields__})

    @property
    def subjects(self):
        """The distinct subjects, sorted."""
        return sorted(set(self.subject.tolist()))


def _empty(window_s):
    n = {s: int(round(RATES[s] * window_s)) for s in SENSORS}
    z = np.zeros
    return Windows(bvp=z((0, n["bvp"]), np.float32), acc=z((0, n["acc"], 3), np.float32),
                   eda=z((0, n["eda"]), np.float32), temp=z((0, n["temp"]), np.float32),
                   y=z(0, np.int8), fraction=z(0, np.float32), subject=z(0, np.int64),
                   start_s=z(0), session_s=z(0))


def _check_window(window_s, hop_s):
    for name, v in (("window_s", window_s), ("hop_s", hop_s)):
        if not (isinstance(v, (int, np.integer)) and v >= 1):
            raise ValueError(f"{name} must be an int >= 1 (s), got {v!r}")


def make_windows(rec, window_s=WINDOW_S, hop_s=HOP_S):
    """Cut a recording into labelled windows.

    Parameters
    ----------
    rec : Recording
    window_s : int
        Window length, s.
    hop_s : int
        Seconds between window starts; starts are ``rec.label_start + j * hop_s``.

    Returns
    -------
    Windows
        Only windows whose every second has a label and that every sensor covers.
    """
    _check_window(window_s, hop_s)
    lab = rec.label
    starts = np.arange(0, len(lab) - window_s + 1, hop_s, dtype=np.int64)
    if len(starts):
        seg = lab[starts[:, None] + np.arange(window_s)]
        keep = (seg >= 0).all(axis=1)
        t0 = rec.label_start + starts
        index = {}
        for s in SENSORS:
            sig = rec.signals[s]
            i0 = np.round((t0 - sig.start) * sig.fs).astype(np.int64)
            n = int(round(sig.fs * window_s))
            keep &= (i0 >= 0) & (i0 + n <= len(sig))
            index[s] = (i0, n)
        starts, seg, t0 = starts[keep], seg[keep], t0[keep]
    if not len(starts):
        return _empty(window_s)
    arrays = {}
    for s in SENSORS:
        i0, n = index[s]
        arrays[s] = rec.signals[s].x[i0[keep][:, None] + np.arange(n)].astype(np.float32)
    m = len(starts)
    return Windows(**arrays, y=seg[:, -1].astype(np.int8),
                   fraction=(seg == 1).mean(axis=1).astype(np.float32),
                   subject=np.full(m, rec.subject, np.int64), start_s=t0.astype(np.float64),
                   session_s=(t0 - rec.start).astype(np.float64))


def load_windows(folder, subjects=None, window_s=WINDOW_S, hop_s=HOP_S, labels=None):
    """:func:`load_subjects` then :func:`make_windows` for each; subjects in order."""
    _check_window(window_s, hop_s)
    return Windows.concat([make_windows(r, window_s, hop_s)
                           for r in load_subjects(folder, subjects, labels)], window_s)


def to_common_rate(windows, fs=COMMON_FS):
    """Every sensor of every window at one rate.

    Parameters
    ----------
    windows : Windows
    fs : int
        Target rate, Hz (default 32: ACC's rate; module docstring).

    Returns
    -------
    ndarray of float32, shape (n, fs * L, 6)
        Channels :data:`COMMON_CHANNELS`. A sensor faster than ``fs`` is resampled with
        :func:`scipy.signal.resample_poly` (Kaiser-windowed anti-aliasing), a slower one
        interpolated linearly between its samples (held after its last one), one at ``fs``
        copied; sample ``k`` of a sensor at rate ``r`` is taken at ``k / r`` s.
    """
    if not (isinstance(fs, (int, np.integer)) and fs >= 1):
        raise ValueError(f"fs must be an int >= 1, got {fs!r}")
    L = windows.window_s
    m = int(round(fs * L))
    out = np.zeros((len(windows), m, len(COMMON_CHANNELS)), np.float32)
    t_new = np.arange(m) / fs                       # sample k at k / fs, as resample_poly
    cols = {"bvp": (windows.bvp[:, :, None], [0]), "acc": (windows.acc, [1, 2, 3]),
            "eda": (windows.eda[:, :, None], [4]), "temp": (windows.temp[:, :, None], [5])}
    for s, (x, ch) in cols.items():
        src = RATES[s]
        if src == fs:
            out[:, :, ch] = x
        elif src > fs:
            g = np.gcd(int(src), int(fs))
            out[:, :, ch] = sps.resample_poly(x.astype(np.float64), fs // g, src // g, axis=1)
        elif len(x):
            t_old = np.arange(x.shape[1]) / src
            for j, c in enumerate(ch):
                out[:, :, c] = np.stack([np.interp(t_new, t_old, r) for r in x[:, :, j]])
    return out


def subject_folds(windows, k=5, seed=0):
    """Leave-subjects-out folds: :func:`sw.har_data.subject_folds` (balanced by windows).

    Returns
    -------
    list of sw.har_data.Fold
        ``subjects``, ``train``, ``test``; every subject in exactly one test set.
    """
    return _har_subject_folds(windows, k, seed)


# --- normalisation -------------------------------------------------------------------------

def _check_norm(mode):
    if mode not in NORMALISATIONS:
        raise ValueError(f"normalisation must be one of {', '.join(NORMALISATIONS)}, got "
                         f"{mode!r}")


def _stats(windows, M, Q, mode, baseline_s, warmup):
    """Per-window reference mean and std from per-window means ``M`` and mean squares ``Q``
    (n, d), by subject; NaN entries ignored. Rows without statistics get NaN."""
    n, d = M.shape
    mean = np.full((n, d), np.nan)
    std = np.full((n, d), np.nan)
    ok = ~np.isnan(M)
    M0, Q0 = np.where(ok, M, 0.0), np.where(ok, Q, 0.0)
    end = windows.session_s + windows.window_s
    for s in windows.subjects:
        idx = np.flatnonzero(windows.subject == s)
        idx = idx[np.argsort(windows.start_s[idx], kind="stable")]
        if mode == "running":
            c = np.cumsum(ok[idx], axis=0)
            with np.errstate(invalid="ignore", divide="ignore"):
                m = np.cumsum(M0[idx], axis=0) / c
                q = np.cumsum(Q0[idx], axis=0) / c
            early = np.arange(len(idx)) < warmup
            m[early], q[early] = np.nan, np.nan
            mean[idx], std[idx] = m, np.sqrt(np.maximum(q - m ** 2, 0.0))
            continue
        if mode == "baseline":
            ref = idx[end[idx] <= baseline_s + 1e-9]
            if not len(ref):
                ref = idx[:1]                           # shorter than one window: the first
        else:
            ref = idx
        c = ok[ref].sum(axis=0)
        with np.errstate(invalid="ignore", divide="ignore"):
            m = M0[ref].sum(axis=0) / c
            q = Q0[ref].sum(axis=0) / c
        mean[idx], std[idx] = m, np.sqrt(np.maximum(q - m ** 2, 0.0))
    return mean, std


def _apply(x, mean, std, floor):
    z = (x - mean) / np.maximum(np.nan_to_num(std, nan=1.0), floor)
    return z


def normalise_features(windows, F, mode="baseline", baseline_s=BASELINE_S, warmup=3,
                       floor=1e-6):
    """Per-subject z-scores of per-window features.

    Parameters
    ----------
    windows : Windows
    F : array_like, shape (n, d)
        One row per window (NaN = missing, stays NaN).
    mode : str
        One of :data:`NORMALISATIONS` (module docstring); ``"session"`` is transductive.
    baseline_s : float
        ``"baseline"``: windows ending at most this long after the session start are the
        reference (a subject without one uses its first window).
    warmup : int
        ``"running"``: the first ``warmup`` windows of a subject get 0.
    floor : float
        Smallest standard deviation used (a constant feature is only centred).

    Returns
    -------
    ndarray of float64, shape (n, d)
    """
    _check_norm(mode)
    F = np.asarray(F, dtype=np.float64)
    if F.ndim != 2 or len(F) != len(windows):
        raise ValueError(f"F must have shape ({len(windows)}, d), got {F.shape}")
    if mode == "none":
        return F.copy()
    mean, std = _stats(windows, F, F ** 2, mode, baseline_s, warmup)
    z = _apply(F, mean, std, floor)
    if mode == "running":
        z[np.isnan(mean) & ~np.isnan(F)] = 0.0
    return z


def normalise_windows(windows, mode="baseline", baseline_s=BASELINE_S, warmup=3, floor=1e-6):
    """The windows with every sensor channel z-scored per subject (see
    :func:`normalise_features`; statistics over all samples of the reference windows).

    Returns
    -------
    Windows
        Same labels and times; sensor arrays float32 z-scores.
    """
    _check_norm(mode)
    out = {}
    for s in SENSORS:
        x = getattr(windows, s).astype(np.float64)
        x3 = x if x.ndim == 3 else x[:, :, None]
        if mode == "none" or not len(x3):
            out[s] = x.astype(np.float32)
            continue
        mean, std = _stats(windows, x3.mean(axis=1), (x3 ** 2).mean(axis=1), mode,
                           baseline_s, warmup)
        z = _apply(x3, mean[:, None, :], std[:, None, :], floor)
        if mode == "running":
            z[np.broadcast_to(np.isnan(mean)[:, None, :], z.shape)] = 0.0
        out[s] = (z if x.ndim == 3 else z[:, :, 0]).astype(np.float32)
    rest = {k: getattr(windows, k) for k in windows.__dataclass_fields__ if k not in SENSORS}
    return Windows(**out, **rest)


# --- WESAD ---------------------------------------------------------------------------------

#: rate of WESAD's ``label`` array (the RespiBAN's), Hz
WESAD_FS = 700
#: WESAD label ids: stress (TSST)
WESAD_STRESS = (2,)
#: WESAD label ids counted as not stress: baseline, amusement, meditation (0 transient and
#: 5-7 are left unlabelled)
WESAD_NON_STRESS = (1, 3, 4)


def read_wesad_labels(path, trust_pickle=False):
    """WESAD's 700 Hz protocol labels.

    Accepted: ``SX.pkl`` (WESAD's own pickle; a dict whose ``"label"`` is the 700 Hz array),
    read only with ``trust_pickle=True`` because unpickling runs code from the file; or a text
    file with one integer label per row (an optional first row ``label``; blank rows
    ignored; plain or gzip), e.g. written once from the pickle with
    ``numpy.savetxt("S2_labels.csv", d["label"], fmt="%d")``.

    Returns
    -------
    ndarray of int16, shape (n,)

    Raises
    ------
    spec.cli.InputError
        A pickle without ``trust_pickle`` or without a ``label`` array, a row that is not an
        integer 0-7; names the file and row.
    """
    data = read_input_bytes(path)
    if data[:1] == b"\x80":
        if not trust_pickle:
            raise InputError(f"{path}: a pickle; pass trust_pickle=True only for WESAD's own "
                             f"files (unpickling runs code from the file)")
        try:
            d = pickle.loads(data, encoding="latin1")
        except Exception as e:                          # any unpickling failure
            raise InputError(f"{path}: not a readable pickle ({type(e).__name__})") from None
        if not isinstance(d, dict) or "label" not in d:
            raise InputError(f"{path}: no 'label' entry in the pickle")
        lab = np.asarray(d["label"]).ravel()
        if not np.isin(lab, np.arange(8)).all():
            raise InputError(f"{path}: 'label' holds values outside 0-7")
        return lab.astype(np.int16)
    lines = read_input_text(path).split("\n")
    first = 1
    if lines and lines[0].strip().lower() == "label":
        lines, first = lines[1:], 2
    out = []
    for k, ln in enumerate(lines, first):
        c = ln.strip()
        if not c:
            continue
        if not c.isdigit() or int(c) > 7:
            raise InputError(f"{path}: row {k}: '{c[:20]}' is not a WESAD label (integer 0-7)")
        out.append(int(c))
    if not out:
        raise InputError(f"{path}: no labels")
    return np.array(out, np.int16)


def read_wesad(folder, labels=None, offset_s=0.0, subject=None, trust_pickle=False):
    """A WESAD ``SX_E4_Data`` folder (E4 CSVs as :func:`read_e4`) and its protocol labels.

    The E4 CSVs start when the wristband was switched on, the 700 Hz labels when the chest
    device was; WESAD synchronised the two by hand (double tap) and ships only the result
    (the wrist arrays of ``SX.pkl``). ``offset_s`` is the time of label sample 0 after the
    E4 start; it is **not** derived here (find it e.g. by cross-correlating the pickle's
    ``signal/wrist/ACC`` with ``ACC.csv``); the default 0 is only right for files cut that way.

    Per second ``k`` (``[start + offset_s + k, ... + 1)``): 1 when all its 700 labels are in
    :data:`WESAD_STRESS`, 0 when all are one id of :data:`WESAD_NON_STRESS`, else -1
    (transitions, label 0 and 5-7: no label). A trailing partial second is dropped.

    Parameters
    ----------
    folder : str or Path
        Holds ``BVP/ACC/EDA/TEMP.csv`` (or ``.csv.gz``).
    labels : str or Path, optional
        :func:`read_wesad_labels`; without it every second is -1 (no windows).
    offset_s : float
    subject : int, optional
        Default: from the folder name (``S2_E4_Data`` -> 2).
    trust_pickle : bool

    Returns
    -------
    Recording
    """
    folder = Path(folder)
    if subject is None:
        m = re.match(r"S(\d+)", folder.name, re.I)
        if not m:
            raise InputError(f"{folder}: name is not SX_E4_Data; give subject")
        subject = int(m[1])
    sig = _read_sensors(folder)
    start = sig["eda"].start + offset_s
    if labels is None:
        return Recording(subject, sig, start, np.zeros(0, np.int8), str(folder),
                         ["no labels given"])
    lab = read_wesad_labels(labels, trust_pickle)
    n = len(lab) // WESAD_FS
    per = lab[:n * WESAD_FS].reshape(n, WESAD_FS)
    same = (per == per[:, :1]).all(axis=1)
    v = per[:, 0]
    y = np.full(n, -1, np.int8)
    y[same & np.isin(v, WESAD_STRESS)] = 1
    y[same & np.isin(v, WESAD_NON_STRESS)] = 0
    return Recording(subject, sig, float(start), y, str(folder),
                     [f"labels {labels}: offset {offset_s:g} s after the E4 start (given)"])


# --- K-EmoCon ------------------------------------------------------------------------------

#: K-EmoCon E4 file per sensor (``e4_data/<pid>/``)
KEMOCON_FILES = {"bvp": "E4_BVP.csv", "acc": "E4_ACC.csv", "eda": "E4_EDA.csv",
                 "temp": "E4_TEMP.csv"}


def _header_table(path):
    """(header names lower-cased, list of (line, cells)) of a CSV with a header row."""
    text = read_input_text(path)
    rows = list(csv.reader(io.StringIO(text)))
    if not rows or not any(c.strip() for c in rows[0]):
        raise InputError(f"{path}: empty file (a header row is needed)")
    names = [c.strip().lstrip("\ufeff").lower() for c in rows[0]]
    body = [(k, r) for k, r in enumerate(rows[1:], 2) if any(c.strip() for c in r)]
    return names, body


def _columns(path, names, want):
    missing = [w for w in want if w not in names]
    if missing:
        raise InputError(f"{path}: row 1: no column {', '.join(missing)} (header: "
                         f"{','.join(names)[:80]})")
    return [names.index(w) for w in want]


def read_kemocon_e4(path, sensor, device=None, max_gap_s=1.0):
    """One K-EmoCon E4 file: ``timestamp`` (ms, UNIX) and ``value`` -- or ``x, y, z`` for
    ACC -- by header name; other columns (``pid``, ``device_serial``) ignored.

    Rows are sorted by timestamp (stable). A file holding two ``device_serial`` values (the
    dataset's P29-P32) needs ``device``. The samples are put on the sensor's nominal grid
    (:data:`RATES`) from the first timestamp by linear interpolation in time (E4 streaming
    timestamps are per packet, not per sample); a gap over ``max_gap_s`` is an error rather
    than a silent bridge. ACC is taken as 1/64 g, like the E4's own CSV, and returned in g.

    Returns
    -------
    Signal

    Raises
    ------
    spec.cli.InputError
        Missing columns, a cell that is not a number, two devices without ``device``, fewer
        than 2 rows, a gap over ``max_gap_s``; names file and row.
    """
    names, body = _header_table(path)
    cols = _columns(path, names, ["timestamp", *(("x", "y", "z") if sensor == "acc"
                                                 else ("value",))])
    if "device_serial" in names:
        j = names.index("device_serial")
        serials = sorted({r[j].strip() for _, r in body if len(r) > j})
        if device is not None:
            body = [(k, r) for k, r in body if len(r) > j and r[j].strip() == device]
            if not body:
                raise InputError(f"{path}: no rows of device {device} (devices: "
                                 f"{', '.join(serials)})")
        elif len(serials) > 1:
            raise InputError(f"{path}: rows of {len(serials)} devices ({', '.join(serials)}); "
                             f"choose one with device=")
    vals = []
    for k, r in body:
        if len(r) != len(names):
            raise InputError(f"{path}: row {k}: {len(r)} cells, expected {len(names)}")
        vals.append([_number(path, k, j + 1, r[j]) for j in cols])
    if len(vals) < 2:
        raise InputError(f"{path}: fewer than 2 samples")
    a = np.array(vals)
    order = np.argsort(a[:, 0], kind="stable")
    a, line = a[order], np.array([k for k, _ in body])[order]
    t = a[:, 0] / 1000.0
    gap = np.flatnonzero(np.diff(t) > max_gap_s)
    if gap.size:
        g = gap[0]
        raise InputError(f"{path}: row {line[g + 1]}: {t[g + 1] - t[g]:.2f} s after the previous "
                         f"sample (gap over {max_gap_s:g} s)")
    fs = RATES[sensor]
    grid = t[0] + np.arange(int(np.floor((t[-1] - t[0]) * fs)) + 1) / fs
    x = np.stack([np.interp(grid, t, a[:, j]) for j in range(1, a.shape[1])], axis=1)
    if sensor == "acc":
        x = x / ACC_UNIT
    return Signal(x=(x[:, 0] if x.shape[1] == 1 else x).astype(np.float32), fs=float(fs),
                  start=float(t[0]), path=str(path))


def read_kemocon_annotations(path):
    """K-EmoCon self-annotations ``Pxx.self.csv``: columns ``seconds`` and ``arousal`` by
    header name (others ignored); one row per 5 s, ``seconds`` = end of the interval since the
    debate start; arousal 1-5.

    Returns
    -------
    seconds, arousal : ndarray of int64
        In file order (``seconds`` strictly increasing).
    """
    names, body = _header_table(path)
    js, ja = _columns(path, names, ["seconds", "arousal"])
    sec, ar = [], []
    for k, r in body:
        if len(r) <= max(js, ja):
            raise InputError(f"{path}: row {k}: {len(r)} cells, expected {len(names)}")
        s, a = _number(path, k, js + 1, r[js]), _number(path, k, ja + 1, r[ja])
        if s != int(s) or (sec and s <= sec[-1]):
            raise InputError(f"{path}: row {k}: seconds {r[js].strip()} is not an integer "
                             f"above the previous row's")
        if a not in (1, 2, 3, 4, 5):
            raise InputError(f"{path}: row {k}: arousal {r[ja].strip()}, expected 1-5")
        sec.append(int(s))
        ar.append(int(a))
    if not sec:
        raise InputError(f"{path}: no annotation rows")
    return np.array(sec, np.int64), np.array(ar, np.int64)


def read_kemocon(folder, annotations=None, debate_start_ms=None, subject=None, device=None,
                 arousal_threshold=3, max_gap_s=1.0):
    """One K-EmoCon participant: ``e4_data/<pid>/E4_{BVP,ACC,EDA,TEMP}.csv``
    (:func:`read_kemocon_e4`) and, optionally, the self-reported arousal as the label.

    The label is a proxy: K-EmoCon has no stress protocol; self-reported arousal >=
    ``arousal_threshold`` (3: K-EmoCon's own "high" = 3-5) is 1, else 0. The annotation of
    row ``seconds = s`` covers debate seconds ``[s - 5, s)``; second 0 of the labels is
    ``debate_start_ms`` (UNIX ms, the debate start on the E4's clock, e.g. from the dataset's
    metadata; required with ``annotations``). Seconds without an annotation are -1.

    Parameters
    ----------
    folder : str or Path
    annotations : str or Path, optional
        ``Pxx.self.csv`` (:func:`read_kemocon_annotations`).
    debate_start_ms : float, optional
    subject : int, optional
        Default: the folder name (``e4_data/5`` -> 5).
    device : str, optional
        ``device_serial`` to keep (files holding two devices).
    arousal_threshold : int
    max_gap_s : float

    Returns
    -------
    Recording
    """
    folder = Path(folder)
    if subject is None:
        if not folder.name.isdigit():
            raise InputError(f"{folder}: folder name is not a participant number; give subject")
        subject = int(folder.name)
    sig = {}
    for s, name in KEMOCON_FILES.items():
        p = folder / name
        if not p.is_file() and (folder / (name + ".gz")).is_file():
            p = folder / (name + ".gz")
        sig[s] = read_kemocon_e4(p, s, device, max_gap_s)
    if annotations is None:
        return Recording(subject, sig, min(x.start for x in sig.values()), np.zeros(0, np.int8),
                         str(folder), ["no annotations given"])
    if debate_start_ms is None:
        raise InputError(f"{annotations}: debate_start_ms is needed to place the annotations")
    sec, ar = read_kemocon_annotations(annotations)
    label = np.full(int(sec[-1]), -1, np.int8)
    for s, a in zip(sec, ar):
        label[max(s - 5, 0):s] = 1 if a >= arousal_threshold else 0
    return Recording(subject, sig, float(debate_start_ms) / 1000.0, label, str(folder),
                     [f"label = self-reported arousal >= {arousal_threshold} ({annotations})"])
