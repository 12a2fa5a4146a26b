"""A small EDF / EDF+ reader (numpy only) for the scalp-EEG recordings.

Written for ``../shared/data/eeg-motor-physionet`` (PhysioNet EEG Motor
Movement/Imagery, EDF+C, 64 channels at 160 Hz plus one ``EDF Annotations``
signal) and tested against pyedflib in ``tests/test_edf.py``.

File layout
-----------
* a 256-byte ASCII main header (version ``"0"``, patient, recording, start
  date/time, header size, reserved -- ``"EDF+C"`` / ``"EDF+D"`` marks EDF+ --,
  number of data records, record duration in s, number of signals ``ns``);
* ``ns`` x 256 bytes of per-signal fields, stored field by field (all labels,
  then all transducers, ...): label 16, transducer 80, physical dimension 8,
  physical min/max 8+8, digital min/max 8+8, prefiltering 80, samples per
  record 8, reserved 32;
* the data records: for each record, each signal's samples in turn, as
  little-endian int16.

What :func:`read_edf` returns
-----------------------------
* ``labels``: the *ordinary* signals only (annotation signals are left out), with
  spaces and leading/trailing dots removed (``"C3.."`` -> ``"C3"``, ``"Fc5."`` ->
  ``"Fc5"``); two signals that clean to the same label are an error.
* ``signals``: physical values, float64, in the file's unit (``units``), from
  ``phys = pmin + (dig - dmin) * (pmax - pmin) / (dmax - dmin)``.
* ``fs``: samples per record / record duration.
* ``annotations``: ``(onset s, duration s, text)`` from every EDF+ ``EDF
  Annotations`` signal, sorted by onset (ties keep file order). Onsets are in
  seconds from **sample 0**: the TAL onset minus the first record's time-keeping
  onset (the sub-second start offset; ``+0`` in PhysioNet's files), as
  edflib/pyedflib report them; rounded to 1 ns. A TAL without a duration gets
  duration ``0.0`` (pyedflib says ``-1``); a TAL holding several texts gives one
  annotation per text. Empty texts -- the per-record time-keeping TAL
  ``+t\\x14\\x14\\x00`` -- are skipped.

Rejected (``InputError``, one line naming the file)
---------------------------------------------------
Missing/unreadable file, empty file, a header shorter than 256 bytes or than
its declared size, a version field other than ``"0"`` (e.g. BDF), non-numeric
header fields, zero signals, zero data records, EDF+D (discontinuous: the
signals would not be continuous arrays), an EDF+C file whose time-keeping TALs
show a gap (record r must start at t0 + r x duration, to 1 us), ``dmax ==
dmin`` or ``pmax == pmin``, a digital min/max that is not a 16-bit integer, a
non-finite physical min/max or one beyond +-1e15 (``PHYS_LIMIT``: it would give
infinite values), duplicate cleaned labels, malformed TALs, and
**truncated data**: fewer bytes than records x record size
(the message says how many records are complete). The EEG pipeline must not
silently work on a partial file, so nothing is read from a truncated one. A
record count of ``-1`` (unknown, written by a recorder that did not finish the
header) is computed from the file size; a trailing partial record is then
still an error. Bytes after the last declared record are ignored.
"""

from dataclasses import dataclass

import numpy as np

from sw.recording import InputError

__all__ = ["EDFRecording", "read_edf", "clean_label", "eeg_label_map", "PAPER_SITES"]

ANNOT_LABEL = "EDF Annotations"

#: the paper's 10-20 sites, in the old nomenclature
PAPER_SITES = ("T3", "T4", "C3", "C4", "Cz", "P3", "P4")
#: old 10-20 name -> modern (10-10, ACNS 2006) name: T3/T4 became T7/T8
MODERN_NAME = {"T3": "T7", "T4": "T8", "T5": "P7", "T6": "P8"}

#: largest physical min/max magnitude accepted: far beyond any sensor in any unit, and
#: small enough that the later unit and count scalings cannot overflow
PHYS_LIMIT = 1e15

# per-signal fields: (name, width)
_SIGNAL_FIELDS = (("label", 16), ("transducer", 80), ("unit", 8), ("pmin", 8), ("pmax", 8),
                  ("dmin", 8), ("dmax", 8), ("prefilter", 80), ("nsamp", 8), ("reserved", 32))


@dataclass
class EDFRecording:
    labels: list          # cleaned labels of the ordinary signals, in file order
    fs: dict              # label -> sample rate (Hz)
    signals: dict         # label -> float64 physical values
    units: dict           # label -> physical dimension ("uV", ...)
    annotations: list     # (onset s, duration s, text), sorted by onset
    path: str


def clean_label(label):
    """``"C3.."`` -> ``"C3"``: strip spaces and leading/trailing dots."""
    return label.strip().strip(".").strip()


def _read_bytes(path):
    try:
        with open(path, "rb") as f:
            return f.read()
    except FileNotFoundError:
        raise InputError(f"{path}: no such file") from None
    except IsADirectoryError:
        raise InputError(f"{path}: is a directory, not an EDF file") from None
    except OSError as e:
        raise InputError(f"{path}: cannot read ({e.strerror})") from None


def _ascii(raw):
    return raw.decode("latin-1").strip()


def _number(path, what, text, kind=float):
    try:
        v = kind(text)
    except ValueError:
        raise InputError(f"{path}: header field '{what}' is not a number: {text!r}") from None
    if kind is float and not np.isfinite(v):
        raise InputError(f"{path}: header field '{what}' is not a finite number: {text!r}")
    return v


def read_edf(path):
    """Read an EDF or EDF+C file (see the module docstring)."""
    data = _read_bytes(path)
    if not data:
        raise InputError(f"{path}: file is empty")
    if len(data) < 256:
        raise InputError(f"{path}: not an EDF file (header too short: {len(data)} bytes, need 256)")
    if data[:8] == b"\xffBIOSEMI":
        raise InputError(f"{path}: BDF (24-bit) files are not supported, only EDF")
    if data[:8].decode("latin-1").strip() != "0":
        raise InputError(f"{path}: not an EDF file (version field {data[:8]!r}, expected '0')")

    reserved = _ascii(data[192:236])
    edfplus = reserved.startswith("EDF+")
    if reserved.startswith("EDF+D"):
        raise InputError(f"{path}: EDF+D (discontinuous) files are not supported, only EDF+C")
    hdr_bytes = _number(path, "number of bytes in header", _ascii(data[184:192]), int)
    nrec = _number(path, "number of data records", _ascii(data[236:244]), int)
    duration = _number(path, "duration of a data record", _ascii(data[244:252]))
    ns = _number(path, "number of signals", _ascii(data[252:256]), int)
    if ns <= 0:
        raise InputError(f"{path}: the header declares {ns} signals")
    if hdr_bytes != 256 * (ns + 1):
        raise InputError(f"{path}: header size field says {hdr_bytes} bytes, "
                         f"{ns} signals need {256 * (ns + 1)}")
    if len(data) < hdr_bytes:
        raise InputError(f"{path}: header truncated ({len(data)} bytes, "
                         f"{ns} signals need {hdr_bytes})")

    fields = {}
    pos = 256
    for name, width in _SIGNAL_FIELDS:
        fields[name] = [_ascii(data[pos + i * width: pos + (i + 1) * width]) for i in range(ns)]
        pos += ns * width

    nsamp = [_number(path, f"samples per record (signal {i + 1})", s, int)
             for i, s in enumerate(fields["nsamp"])]
    for i, n in enumerate(nsamp):
        if n <= 0:
            raise InputError(f"{path}: signal {i + 1} ({fields['label'][i]!r}) "
                             f"has {n} samples per record")
    rec_samples = sum(nsamp)
    rec_bytes = 2 * rec_samples
    avail = len(data) - hdr_bytes
    if nrec == -1:
        nrec, extra = divmod(avail, rec_bytes)
        if extra:
            raise InputError(f"{path}: truncated: record count unknown (-1) "
                             f"and the file ends inside a record ({nrec} complete records "
                             f"of {rec_bytes} bytes, {extra} bytes over)")
    elif nrec < 0:
        raise InputError(f"{path}: header declares {nrec} data records")
    if nrec == 0:
        raise InputError(f"{path}: no data records")
    if avail < nrec * rec_bytes:
        raise InputError(f"{path}: truncated: header declares {nrec} data records "
                         f"of {rec_bytes} bytes, "
                         f"the file holds {avail // rec_bytes} complete "
                         f"({nrec * rec_bytes - avail} bytes missing)")

    raw = np.frombuffer(data, dtype="<i2", count=nrec * rec_samples, offset=hdr_bytes)
    raw = raw.reshape(nrec, rec_samples)
    starts = np.concatenate(([0], np.cumsum(nsamp)))

    labels, fs, signals, units, annotations = [], {}, {}, {}, []
    t0 = None               # onset of the first record, from the first annotation signal
    for i in range(ns):
        block = raw[:, starts[i]:starts[i + 1]]
        if edfplus and fields["label"][i] == ANNOT_LABEL:
            found, starts_r = _parse_annotations(path, i, block)
            annotations.extend(found)
            if t0 is None:
                t0 = _check_continuous(path, starts_r, duration)
            continue
        label = clean_label(fields["label"][i])
        if not label:
            raise InputError(f"{path}: signal {i + 1} has an empty label")
        if label in signals:
            raise InputError(f"{path}: two signals are labelled {label!r}")
        if duration <= 0:
            raise InputError(f"{path}: data record duration is {duration:g} s, must be positive")
        pmin, pmax, dmin, dmax = (_number(path, f"{k} (signal {i + 1}, {label})", fields[k][i])
                                  for k in ("pmin", "pmax", "dmin", "dmax"))
        if dmax == dmin:
            raise InputError(f"{path}: signal {label}: digital min equals digital max ({dmin:g})")
        if pmax == pmin:
            raise InputError(f"{path}: signal {label}: physical min equals physical max ({pmin:g})")
        for k, v in (("digital min", dmin), ("digital max", dmax)):
            if not (-32768 <= v <= 32767 and v == int(v)):
                raise InputError(f"{path}: signal {label}: {k} {v:g} is not a 16-bit integer")
        if max(abs(pmin), abs(pmax)) > PHYS_LIMIT:
            raise InputError(f"{path}: signal {label}: physical range {pmin:g} .. {pmax:g} is "
                             f"absurd (beyond +-{PHYS_LIMIT:g})")
        gain = (pmax - pmin) / (dmax - dmin)
        rate = nsamp[i] / duration
        if not np.isfinite(rate):
            raise InputError(f"{path}: signal {label}: {nsamp[i]} samples per record of "
                             f"{duration:g} s give no usable sample rate")
        labels.append(label)
        signals[label] = (block.reshape(-1).astype(np.float64) - dmin) * gain + pmin
        fs[label] = rate
        units[label] = fields["unit"][i]
    t0 = t0 or 0.0
    annotations = sorted(((round(on - t0, 9), dur, text) for on, dur, text in annotations),
                         key=lambda a: a[0])
    return EDFRecording(labels, fs, signals, units, annotations, str(path))


def _tal_number(path, where, text):
    try:
        v = float(text)
    except ValueError:
        v = float("nan")
    if not np.isfinite(v):
        raise InputError(f"{path}: {where}: malformed TAL time {text!r}")
    return v


def _parse_annotations(path, sig, block):
    """Annotations from one ``EDF Annotations`` signal, ``block`` = (nrec, nsamp) int16.

    Returns ``(annotations, starts)``: ``starts[r]`` is the onset of record r's
    time-keeping TAL (its first TAL, if that starts with an empty text), else None.
    """
    out = []
    starts = [None] * len(block)
    for r, rec in enumerate(block):
        buf = rec.astype("<i2").tobytes()
        for k, tal in enumerate(t for t in buf.split(b"\x00") if t):   # empty = padding
            where = f"annotation signal {sig + 1}, record {r + 1}"
            if tal[:1] not in (b"+", b"-") or b"\x14" not in tal:
                raise InputError(f"{path}: {where}: malformed TAL {tal[:40]!r}")
            parts = tal.split(b"\x14")
            timing = parts[0].decode("latin-1")
            onset, _, dur = timing.partition("\x15")
            onset = _tal_number(path, where, onset)
            dur = _tal_number(path, where, dur) if dur else 0.0
            if k == 0 and parts[1] == b"":
                starts[r] = onset
            for text in parts[1:]:
                text = text.decode("utf-8", errors="replace").strip()
                if text:
                    out.append((onset, dur, text))
    return out, starts


def _check_continuous(path, starts, duration):
    """EDF+C: record r must start at starts[0] + r * duration. Returns starts[0] (or 0)."""
    t0 = starts[0] if starts and starts[0] is not None else 0.0
    for r, t in enumerate(starts):
        if t is not None and abs(t - (t0 + r * duration)) > 1e-6:
            raise InputError(f"{path}: EDF+C file is not continuous: record {r + 1} starts at "
                             f"{t:g} s, expected {t0 + r * duration:g} s")
    return t0


def eeg_label_map(labels, sites=PAPER_SITES):
    """Map the paper's 10-20 sites to this file's labels: ``{site: label}``.

    The paper names the temporal sites the old way, T3 and T4; modern caps
    (PhysioNet's among them) call the same places T7 and T8, so a site is looked
    up under its own name first, then under its modern name. C3, C4, Cz, P3 and
    P4 have the same name in both systems. Matching ignores case and the dots
    and spaces EDF pads labels with (PhysioNet writes ``"Cz.."``, ``"T7.."``).
    A site found under neither name is an error listing every missing site.
    """
    by_key = {}
    for lab in labels:
        by_key.setdefault(clean_label(lab).lower(), lab)
    found, missing = {}, []
    for site in sites:
        for name in (site, MODERN_NAME.get(site)):
            if name and name.lower() in by_key:
                found[site] = by_key[name.lower()]
                break
        else:
            alt = f" ({MODERN_NAME[site]})" if site in MODERN_NAME else ""
            missing.append(site + alt)
    if missing:
        raise InputError(f"EEG channels not found: {', '.join(missing)}; labels are "
                         f"{', '.join(clean_label(lab) for lab in labels)}")
    return found
