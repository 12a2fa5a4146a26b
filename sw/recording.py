"""Reading a user's EMG recording and turning it into the fabric's 16-bit, 500 Hz samples.

Accepted files
--------------
* **Delimited text with a header row** (comma, tab or semicolon): one column per
  signal. A column named ``time``, ``t``, ``time_s`` or ``timestamp`` (seconds)
  gives the sample rate; otherwise pass ``fs``. Times must be strictly
  increasing and uniform to 1 %.
* **The UCI lower-limb EMG text format** (``../shared/data/emg-lower-limb-uci``):
  a header of ``Channel N: 'NAME', ...`` lines, a blank line, then tab-separated
  rows; no time column (1000 Hz: pass ``fs=1000``). Rows at the *end* whose
  mapped cells are all empty are trimmed (some UCI files end with knee-angle-only
  rows); an empty or non-numeric cell anywhere else is an error.

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
import io
import re
from dataclasses import dataclass
from fractions import Fraction

import numpy as np
from scipy import signal

from spec.channels import EMG_CHANNELS, FS
from spec.cli import InputError  # the one definition; re-exported for ``except InputError``

__all__ = ["InputError", "Recording", "read_recording", "to_fabric", "parse_map", "prepare_emg"]

TIME_NAMES = ("time", "t", "time_s", "timestamp")
AUTO_TARGET = 8192


@dataclass
class Recording:
    names: list          # column names (without the time column)
    columns: dict        # name -> list of raw cell strings (without header)
    fs: float | None     # from the time column, if any
    path: str


def _read_text(path):
    try:
        with open(path, "r", encoding="utf-8-sig", errors="replace", newline="") as f:
            return f.read()
    except FileNotFoundError:
        raise InputError(f"{path}: no such file") from None
    except IsADirectoryError:
        raise InputError(f"{path}: is a directory, not a recording") from None
    except OSError as e:
        raise InputError(f"{path}: cannot read ({e.strerror})") from None


def _read_uci(path, lines):
    names = []
    k = 0
    while k < len(lines) and lines[k].strip():
        mt = re.match(r"\s*Channel\s+\d+\s*:\s*'([^']*)'", lines[k])
        if mt:
            names.append(mt.group(1).strip())
        k += 1
    rows = _trim_blank([ln.split("\t") for ln in lines[k + 1:]])
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
    text = _read_text(path)
    lines = text.splitlines()
    if not any(ln.strip() for ln in lines):
        raise InputError(f"{path}: file is empty")
    if re.match(r"\s*File Name\s*:", lines[0]) or re.match(r"\s*Channel\s+\d+\s*:", lines[0]):
        names, rows = _read_uci(path, lines)
        if not names:
            raise InputError(f"{path}: UCI-style header without 'Channel N: ...' lines")
    else:
        head = lines[0]
        delim = max(("\t", ",", ";"), key=head.count)
        if head.count(delim) == 0:
            delim = ","
        reader = csv.reader(io.StringIO(text), delimiter=delim)
        table = _trim_blank(list(reader))
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
    fs = None
    tname = next((n for n in names if n.lower() in TIME_NAMES), None)
    if tname is not None:
        t = _numeric(path, tname, columns.pop(tname))
        names.remove(tname)
        if len(t) < 2:
            raise InputError(f"{path}: need at least two samples")
        dt = np.diff(t)
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
    return Recording(names, columns, fs, str(path))


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
    return mapping


def mapped_matrix(rec, mapping):
    """Numeric (n, k) matrix of the mapped columns, trailing empty rows trimmed.

    Returns ``(matrix, trimmed_rows)``.
    """
    for slot, col in mapping.items():
        if col not in rec.columns:
            raise InputError(f"{rec.path}: no column {col!r} (for {slot}); columns are "
                             f"{', '.join(rec.names)}")
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


def to_fabric(x, full_scale=None):
    """Scale float data to int16 counts (see module docstring).

    Returns ``(counts, uv_scale, clipped)``: int16 array, file units per count
    per channel, number of saturated samples per channel.
    """
    x = np.asarray(x, float)
    if full_scale is None:
        med = np.median(x, axis=0)
        dev = np.percentile(np.abs(x - med), 99.9, axis=0)
        dev = np.where(dev > 0, dev, 1.0)
        scale = AUTO_TARGET / dev
        y = (x - med) * scale
    else:
        if not full_scale > 0:
            raise InputError(f"--full-scale must be positive, not {full_scale}")
        scale = np.full(x.shape[1], 32767.0 / full_scale)
        y = x * scale
    y = np.round(y)
    clipped = ((y > 32767) | (y < -32768)).sum(axis=0)
    return np.clip(y, -32768, 32767).astype(np.int16), 1.0 / scale, clipped


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
