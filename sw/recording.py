"""Reading a user's EMG recording and turning it into the fabric's 16-bit, 500 Hz samples.

Accepted files
--------------
* **Delimited text with a header row** (comma, tab or semicolon): one column per
  signal. A column named ``time``, ``t``, ``time_s`` or ``timestamp`` (seconds)
  gives the sample rate; otherwise pass ``fs``. Times must be strictly
  increasing and uniform to 1 %.
  Line endings may be ``\n``, ``\r\n`` or a lone ``\r``.
* **The UCI lower-limb EMG text format** (``../shared/data/emg-lower-limb-uci``):
  a header (first line ``File Name: ...`` or ``Channel N: ...``, any case), then
  tab-separated rows; no time column (1000 Hz: pass ``fs=1000``). The header is
  every line before the first data row (a line holding a tab, or a number);
  its ``Channel N: 'NAME', ...`` lines name the columns in order, a
  ``Digitals combined (...): N values`` line names an extra (event) column that
  is recognised and left out, other header lines are ignored. Column names are
  matched case-insensitively by ``--map``; :func:`uci_role` recognises the
  channels' wording variants (``RF``/``Recto Femoral``/``rectus femoris``,
  ``BF``, ``VM``, ``ST``, ``FX``/``Flexo-Extension``/goniometer) and
  :attr:`Recording.roles` maps each recognised role to its column. Rows at the
  *end* whose mapped cells are all empty are trimmed (some UCI files end with
  knee-angle-only rows); an empty or non-numeric cell anywhere else is an error.

Conversion to fabric samples (:func:`to_fabric`)
------------------------------------------------
1. Resample to 500 Hz with :func:`scipy.signal.resample_poly` (polyphase,
   Kaiser-windowed anti-aliasing filter) at the ratio ``500/fs`` (rational
   approximation, denominator <= 1000).
2. Scale to signed 16-bit ADC counts:

   * ``full_scale=None`` (default, *auto*): per channel, subtract the median and
     map the 99.9th percentile of ``|x - median|`` to 8192 counts (-12 dBFS),
     leaving 12 dB of headroom for the rare larger bursts;
   * ``full_scale=X``: one fixed scale for every channel, like a real ADC:
     ``X`` file units -> 32767 counts, no offset removed.

   Values beyond the int16 range saturate; the number of clipped samples per
   channel is reported.
"""

import csv
import gzip
import io
import math
import os
import re
import unicodedata
from dataclasses import dataclass, field
from fractions import Fraction

import numpy as np
from scipy import signal

from spec.channels import EMG_CHANNELS, FS
from spec.cli import InputError  # the one definition; re-exported for ``except InputError``

__all__ = ["InputError", "Recording", "read_recording", "read_input_bytes", "read_input_text",
           "to_fabric",
           "parse_map", "prepare_emg", "uci_role", "UCI_ROLES"]

TIME_NAMES = ("time", "t", "time_s", "timestamp")
AUTO_TARGET = 8192


@dataclass
class Recording:
    names: list          # column names (without the time column)
    columns: dict        # name -> list of raw cell strings (without header)
    fs: float | None     # from the time column, if any
    path: str
    roles: dict = field(default_factory=dict)  # UCI files: role (RF, BF, ...) -> column name


def read_input_bytes(path):
    """The bytes of the input file ``path``; a missing file, a folder or an unreadable file is
    an :class:`InputError` naming it (the one place the recording readers open their input)."""
    try:
        with open(path, "rb") as f:
            return f.read()
    except FileNotFoundError:
        raise InputError(f"{path}: no such file") from None
    except IsADirectoryError:
        raise InputError(f"{path}: is a directory, not a recording") from None
    except OSError as e:
        raise InputError(f"{path}: cannot read ({e.strerror})") from None


def read_input_text(path):
    """The text of the input file ``path`` (:func:`read_input_bytes`), gunzipped when its first
    bytes are gzip's whatever its name, UTF-8 (undecodable bytes replaced), line ends ``\n``
    (CR LF and CR alike); a damaged gzip file is an :class:`InputError` naming it."""
    data = read_input_bytes(path)
    if data[:2] == b"\x1f\x8b":
        try:
            data = gzip.decompress(data)
        except (OSError, EOFError) as e:
            raise InputError(f"{path}: not a readable gzip file ({e})") from None
    return data.decode("utf-8", errors="replace").replace("\r\n", "\n").replace("\r", "\n")


def _read_text(path):
    return read_input_bytes(path).decode("utf-8-sig", errors="replace")


#: the UCI channels: role -> what it is
UCI_ROLES = {"RF": "rectus femoris", "BF": "biceps femoris", "VM": "vastus medialis",
             "ST": "semitendinosus", "FX": "knee flexion goniometer"}
#: the name given to a UCI ``Digitals combined`` column (left out of the recording)
UCI_DIGITAL = "Digitals combined"
_UCI_FIRST = re.compile(r"\s*(File\s*Name|Channel\s+\d+)\s*:", re.I)
_UCI_CHANNEL = re.compile(r"\s*Channel\s+\d+\s*:\s*(?:'([^']*)'|\"([^\"]*)\"|([^,]*))", re.I)
_UCI_DIGITAL_LINE = re.compile(r"\s*Digitals?\s+combined\b", re.I)
# role -> (short codes, word prefixes): English and Spanish wordings, any case
_ROLE_WORDS = (("RF", ("rf",), ("rect",)), ("BF", ("bf",), ("bicep",)),
               ("VM", ("vm",), ("vast",)), ("ST", ("st",), ("semitend",)),
               ("FX", ("fx",), ("flex", "gonio", "knee", "rodilla")))


def _fold(name):
    """Lower-case words of ``name``, accents and punctuation dropped."""
    s = unicodedata.normalize("NFKD", str(name))
    s = "".join(c for c in s if not unicodedata.combining(c)).casefold()
    return re.sub(r"[^0-9a-z]+", " ", s).split()


def uci_subject(name):
    """The subject of a UCI lower-limb walk from its file name, or None: ``1Nmar.txt`` ->
    ``"1N"`` (subject 1 of the healthy group), ``3Apie.txt`` -> ``"3A"``. The two groups are
    different people, so ``1N`` and ``1A`` are different subjects."""
    m = re.match(r"(\d+)([NA])(?=[a-z])", os.path.basename(str(name)))
    return f"{int(m.group(1))}{m.group(2)}" if m else None


def uci_role(name):
    """The UCI channel a header name denotes (``"RF"``, ``"BF"``, ``"VM"``, ``"ST"``,
    ``"FX"``), or None: ``"Recto Femoral"``, ``"rectus femoris"``, ``"RF"`` -> ``"RF"``,
    ``"EMG Semitendinoso"`` -> ``"ST"``, ``"Flexo-Extension"`` -> ``"FX"``."""
    words = [w for w in _fold(name) if w not in ("emg", "m")]
    if not words:
        return None
    found = {role for role, codes, prefixes in _ROLE_WORDS
             if " ".join(words) in codes
             or any(w.startswith(p) for w in words for p in prefixes)}
    return found.pop() if len(found) == 1 else None


def _is_uci_data(line):
    if "\t" in line:
        return True
    try:
        float(line)
    except ValueError:
        return False
    return True


def _read_uci(path, lines):
    """Header names (in column order) and the raw data rows of a UCI file."""
    names = []
    k = 0
    while k < len(lines) and not _is_uci_data(lines[k]):
        mt = _UCI_CHANNEL.match(lines[k])
        if mt:
            names.append(next(g for g in mt.groups() if g is not None).strip())
        elif _UCI_DIGITAL_LINE.match(lines[k]):
            names.append(UCI_DIGITAL)
        k += 1
    rows = _trim_blank([ln.split("\t") for ln in lines[k:]])
    return names, rows


def _trim_blank(rows):
    """Drop blank rows at the start and end only: a blank row between samples
    stays (as empty cells, an error if mapped) instead of silently losing a sample."""
    blank = [not any(c.strip() for c in r) for r in rows]
    lo = next((i for i, b in enumerate(blank) if not b), len(rows))
    hi = len(rows) - next((i for i, b in enumerate(reversed(blank)) if not b), 0)
    return rows[lo:hi]


def read_recording(path):
    """Read a recording's columns as raw strings (validated later per mapped column)."""
    text = _read_text(path).replace("\r\n", "\n").replace("\r", "\n")
    lines = text.split("\n")
    first = next((ln for ln in lines if ln.strip()), None)
    if first is None:
        raise InputError(f"{path}: file is empty")
    uci = _UCI_FIRST.match(first) is not None
    if uci:
        names, rows = _read_uci(path, lines)
        if not names:
            raise InputError(f"{path}: UCI-style header without 'Channel N: ...' lines")
        if any(not n for n in names):
            raise InputError(f"{path}: a 'Channel N:' header line has an empty name")
    else:
        delim = max(("\t", ",", ";"), key=first.count)
        if first.count(delim) == 0:
            delim = ","
        try:
            table = _trim_blank(list(csv.reader(io.StringIO(text), delimiter=delim)))
        except csv.Error as e:
            raise InputError(f"{path}: not a readable CSV file ({e})") from None
        if not table:
            raise InputError(f"{path}: file is empty")
        names = [c.strip() for c in table[0]]
        rows = _trim_blank(table[1:])
        if any(not n for n in names):
            raise InputError(f"{path}: header row has an empty column name")
    if len(set(names)) != len(names):
        raise InputError(f"{path}: duplicate column names in the header")
    if not rows:
        raise InputError(f"{path}: no data rows after the header")
    ncol = len(names)
    for i, r in enumerate(rows):
        if len(r) > ncol:
            raise InputError(f"{path}: data row {i + 1} has {len(r)} cells, header names {ncol}")
    columns = {n: [r[j].strip() if j < len(r) else "" for r in rows] for j, n in enumerate(names)}
    roles = {}
    if uci:
        if UCI_DIGITAL in columns:          # event bits: not a signal
            del columns[UCI_DIGITAL]
            names.remove(UCI_DIGITAL)
        found = {}
        for n in names:
            found.setdefault(uci_role(n), []).append(n)
        roles = {r: ns[0] for r, ns in found.items() if r is not None and len(ns) == 1}
        roles = {r: roles[r] for r in UCI_ROLES if r in roles}
    fs = None
    tname = next((n for n in names if n.lower() in TIME_NAMES), None)
    if tname is not None:
        t = _numeric(path, tname, columns.pop(tname))
        names.remove(tname)
        if len(t) < 2:
            raise InputError(f"{path}: need at least two samples")
        with np.errstate(over="ignore", invalid="ignore"):
            dt = np.diff(t)
        if not np.all(np.isfinite(dt)):
            raise InputError(f"{path}: time column '{tname}' has steps too large to be "
                             f"times (data row {int(np.flatnonzero(~np.isfinite(dt))[0]) + 2})")
        if np.any(dt <= 0):
            bad = int(np.flatnonzero(dt <= 0)[0]) + 2
            raise InputError(
                f"{path}: time column '{tname}' is not strictly increasing (data row {bad})"
            )
        med = float(np.median(dt))
        if np.max(np.abs(dt - med)) > 0.01 * med:
            raise InputError(
                f"{path}: time column '{tname}' is not uniformly sampled (jitter > 1 %)"
            )
        fs = 1.0 / med
        if not math.isfinite(fs):
            raise InputError(f"{path}: time column '{tname}' steps of {med:g} s give no "
                             "usable sample rate")
    return Recording(names, columns, fs, str(path), roles)


def _numeric(path, name, cells):
    out = np.empty(len(cells))
    for i, c in enumerate(cells):
        try:
            v = float(c)
        except ValueError:
            what = "empty cell" if c == "" else f"non-numeric value {c!r}"
            raise InputError(f"{path}: column '{name}', data row {i + 1}: {what}") from None
        if not np.isfinite(v):
            raise InputError(
                f"{path}: column '{name}', data row {i + 1}: {c} is not a finite number"
            )
        out[i] = v
    return out


def parse_map(spec, slots, what="muscle slot", target="COLUMN"):
    """Parse ``"R_LG=GL,R_TA=TA"`` into ``{slot: column}``, checking slot names.

    ``what``/``target`` only word the error messages (``"EEG site"``/``"LABEL"``
    for the EEG branch).
    """
    mapping = {}
    name = what.split()[-1].upper()
    for item in filter(None, (s.strip() for s in spec.split(","))):
        if "=" not in item:
            raise InputError(f"--map entry {item!r} is not {name}={target}")
        slot, col = (s.strip() for s in item.split("=", 1))
        if slot not in slots:
            raise InputError(
                f"--map: unknown {what} {slot!r}; {what.split()[-1]}s are {', '.join(slots)}"
            )
        if slot in mapping:
            raise InputError(f"--map: {what.split()[-1]} {slot} given twice")
        if not col:
            raise InputError(f"--map: no {target.lower()} given for {slot}")
        mapping[slot] = col
    if not mapping:
        raise InputError(f"--map is empty; give {name}={target} pairs separated by commas")
    return mapping


def _key(name):
    return " ".join(str(name).casefold().split())


def _column(rec, slot, col):
    """The column ``col`` names: exactly, else the one column equal to it ignoring case
    and runs of spaces (``"recto femoral"`` -> ``"Recto Femoral"``), else, in a UCI file, the
    column of the role code ``col`` (``"RF"`` -> ``"Recto Femoral"``, :func:`uci_role`)."""
    if col in rec.columns:
        return col
    same = [n for n in rec.names if _key(n) == _key(col)]
    if len(same) == 1:
        return same[0]
    role = rec.roles or {}
    if str(col).strip().upper() in role:
        return role[str(col).strip().upper()]
    raise InputError(f"{rec.path}: no column {col!r} (for {slot}); columns are "
                     f"{', '.join(rec.names)}")


def mapped_matrix(rec, mapping):
    """Numeric (n, k) matrix of the mapped columns, trailing empty rows trimmed.

    Returns ``(matrix, trimmed_rows)``.
    """
    if not mapping:
        raise InputError(f"{rec.path}: no column mapped")
    mapping = {slot: _column(rec, slot, col) for slot, col in mapping.items()}
    cols = [rec.columns[c] for c in mapping.values()]
    n = len(cols[0])
    end = n
    while end > 0 and all(c[end - 1] == "" for c in cols):
        end -= 1
    if end == 0:
        raise InputError(f"{rec.path}: the mapped columns hold no values")
    mat = np.column_stack([_numeric(rec.path, name, c[:end])
                           for name, c in zip(mapping.values(), cols)])
    return mat, n - end


def resample_to_fabric_rate(x, fs, min_fs=250, kind="sEMG"):
    """Resample (n, k) float data from ``fs`` to 500 Hz.

    ``min_fs`` is the lowest rate accepted for the signal ``kind`` (named in the
    error): 250 Hz for sEMG (its band reaches ~125 Hz and more); the EEG branch
    passes a lower limit, its bands end at 30 Hz.
    """
    if not fs or fs <= 0 or not np.isfinite(fs):
        raise InputError(f"sample rate must be a positive number of Hz, not {fs}")
    if fs < min_fs:
        raise InputError(f"sample rate {fs:g} Hz is too low for {kind} (need >= {min_fs:g} Hz)")
    ratio = Fraction(FS / fs).limit_denominator(1000)
    if abs(float(ratio) - FS / fs) > 1e-6 * FS / fs:
        raise InputError(f"cannot resample {fs:g} Hz to {FS} Hz with a rational ratio")
    if ratio == 1:
        return x.copy()
    return signal.resample_poly(x, ratio.numerator, ratio.denominator, axis=0)


def check_full_scale(full_scale, option="--full-scale"):
    """A fixed full scale must be a positive finite number (``None`` = auto)."""
    if full_scale is None:
        return
    try:
        ok = math.isfinite(full_scale) and full_scale > 0
    except TypeError:
        ok = False
    if not ok:
        raise InputError(f"{option} must be a positive finite number, not {full_scale}")


def to_fabric(x, full_scale=None):
    """Scale float data to int16 counts (see module docstring).

    Returns ``(counts, uv_scale, clipped)``: int16 array, file units per count
    per channel, number of saturated samples per channel.
    """
    x = np.asarray(x, float)
    if full_scale is None:
        med = np.median(x, axis=0)
        with np.errstate(over="ignore", invalid="ignore", divide="ignore"):
            dev = np.percentile(np.abs(x - med), 99.9, axis=0)
            scale = AUTO_TARGET / np.where(dev > 0, dev, 1.0)
            scale = np.where(np.isfinite(scale) & (scale > 0), scale, AUTO_TARGET)
            y = (x - med) * scale
    else:
        check_full_scale(full_scale)
        scale = np.full(x.shape[1], 32767.0 / full_scale)
        if not np.all(np.isfinite(scale) & (scale > 0)):
            raise InputError(f"--full-scale {full_scale:g} is too small to scale by")
        with np.errstate(over="ignore", invalid="ignore"):
            y = x * scale
    if not np.all(np.isfinite(y)):
        raise InputError("the recording's values are too large to scale to 16 bits")
    y = np.round(y)
    clipped = ((y > 32767) | (y < -32768)).sum(axis=0)
    return np.clip(y, -32768, 32767).astype(np.int16), 1.0 / scale, clipped


def prepare_emg(path, fs=None, map_spec=None, full_scale=None):
    """Load, map, resample and scale a recording.

    Returns ``(samples int16 (n, 8), present bool (8,), info dict)``.
    """
    check_full_scale(full_scale)
    rec = read_recording(path)
    if map_spec is not None:
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
    with np.errstate(over="ignore", invalid="ignore"):
        x = resample_to_fabric_rate(mat, rate)
    if not np.all(np.isfinite(x)):
        raise InputError(f"{path}: values too large to resample (beyond the float range)")
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
