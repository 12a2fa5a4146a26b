"""Reading a user's EEG recording and its triggers for ``python -m sw.extract eeg``.

Recording -> fabric frames (:func:`load_eeg`)
---------------------------------------------
* **EDF / EDF+C** (``.edf`` extension, or an EDF header whatever the name): read
  with :func:`sw.edf.read_edf`; values in the header's physical dimension (``uV``,
  ``mV``, ``V``); annotations kept as a trigger source.
* **CSV / TSV** (anything else): read with :func:`sw.recording.read_recording`;
  values in µV unless ``unit`` says ``mV`` or ``V``; the sample rate comes from a
  time column (``time``, ``t``, ``time_s``, ``timestamp``) or ``fs``. Trigger
  times are seconds from the first sample.

Sites (:data:`spec.channels.EEG_CHANNELS`) are mapped to labels/columns by
``--map SITE=LABEL,...``; by default each site is looked up by its own name,
then its modern 10-10 name (T3 -> T7, T4 -> T8), ignoring case and EDF's dot
padding (:func:`sw.edf.eeg_label_map`). A site that maps to nothing is *absent*:
disabled in the branch and reported, never invented. Nothing mapped is an error.

The mapped signals are resampled to 500 Hz (:func:`sw.recording.resample_to_fabric_rate`,
accepting rates down to :data:`EEG_MIN_FS`) and converted to int16 counts at
``uv_per_lsb`` µV per count (no offset removed, like a DC-coupled ADC); values
beyond the int16 range saturate and are counted per site.

Triggers (one 500 Hz frame index each)
--------------------------------------
* :func:`triggers_from_annotations` -- EDF+ events whose text is in ``events``;
* :func:`read_trigger_file` -- a CSV with a ``time_s`` or ``time`` column
  (seconds) or a ``sample`` column (500 Hz frame index);
* :func:`triggers_from_emg` -- rising edges of either leg's LG trigger from the
  golden EMG branch run on a simultaneous EMG recording.

A time maps to the nearest frame ``floor(t * 500 + 0.5)``; a time outside
``[0, duration)`` is an error; triggers on the same frame merge into one.
"""

import csv
import io
import math
import os
from dataclasses import dataclass, field

import numpy as np

from spec.channels import EEG_CHANNELS, EMG_CHANNELS, FS
from sw.edf import clean_label, eeg_label_map, read_edf
from sw.recording import (
    TIME_NAMES,
    InputError,
    _read_text,
    mapped_matrix,
    parse_map,
    prepare_emg,
    read_recording,
    resample_to_fabric_rate,
)

__all__ = ["EEG_MIN_FS", "EEGInput", "is_edf", "parse_unit", "parse_site_map", "load_eeg",
           "triggers_from_annotations", "read_trigger_file", "frames_from_times",
           "triggers_from_emg"]

#: lowest input rate accepted: the beta band ends at 30 Hz, Nyquist must lie above it
EEG_MIN_FS = 64
#: unit name (lower case, µ written u) -> µV per unit
UNIT_UV = {"uv": 1.0, "mv": 1e3, "v": 1e6}
INT16_MIN, INT16_MAX = -32768, 32767


@dataclass
class EEGInput:
    samples: np.ndarray        # int16 (n, 7), EEG_CHANNELS order, zeros where absent
    present: np.ndarray        # bool (7,)
    mapping: dict              # site -> label/column, present sites only
    fs_in: float
    n_in: int                  # input samples (after trimming)
    kind: str                  # "EDF" or "CSV"
    unit: str                  # unit of the input values, as named by the file / --unit
    clipped: dict              # site -> saturated samples
    annotations: list | None   # EDF+: (onset, duration, text); CSV: None
    trimmed: int = 0           # trailing CSV rows without values
    path: str = ""
    extra: dict = field(default_factory=dict)

    @property
    def n(self):
        return len(self.samples)

    @property
    def duration(self):
        return self.n / FS


def is_edf(path):
    """``.edf`` / ``.bdf`` extension, or a file that starts like an EDF header."""
    if os.path.splitext(str(path))[1].lower() in (".edf", ".bdf"):
        return True
    try:
        with open(path, "rb") as f:
            head = f.read(256)
    except OSError:
        return False          # reported by the CSV reader
    if head[:8] == b"\xffBIOSEMI":
        return True
    return (len(head) == 256 and head[:8] == b"0       "
            and head[184:192].strip().isdigit() and head[252:256].strip().isdigit())


def parse_unit(unit):
    """``"uV"``, ``"µV"``, ``"mV"``, ``"V"`` (any case) -> µV per unit, or None if unknown."""
    key = str(unit).strip().replace("\u00b5", "u").replace("\u03bc", "u").lower()
    return UNIT_UV.get(key)


def parse_site_map(spec):
    """``"T3=T7,T4=T8"`` -> ``{site: label}`` in :data:`EEG_CHANNELS` order."""
    mapping = parse_map(spec, EEG_CHANNELS, what="EEG site", target="LABEL")
    if not mapping:
        raise InputError("--map is empty; give SITE=LABEL pairs, e.g. T3=T7,T4=T8")
    return {site: mapping[site] for site in EEG_CHANNELS if site in mapping}


def _resolve_map(path, labels, spec, what):
    """``{site: label}`` of the sites found among ``labels`` (see module docstring)."""
    if spec is not None:
        wanted = parse_site_map(spec)
        by_key = {}
        for lab in labels:
            by_key.setdefault(clean_label(lab).lower(), []).append(lab)
        mapping = {}
        for site, lab in wanted.items():
            if lab in labels:
                mapping[site] = lab
            elif len(by_key.get(clean_label(lab).lower(), [])) == 1:
                mapping[site] = by_key[clean_label(lab).lower()][0]
            else:
                raise InputError(f"{path}: no {what} {lab!r} (for {site}); {what}s are "
                                 f"{', '.join(labels)}")
    else:
        mapping = {}
        for site in EEG_CHANNELS:
            try:
                mapping.update(eeg_label_map(labels, (site,)))
            except InputError:
                pass
        if not mapping:
            raise InputError(f"{path}: no {what} is named like an EEG site "
                             f"({', '.join(EEG_CHANNELS)}, or T7/T8 for T3/T4); use --map "
                             f"SITE=LABEL,... ({what}s: {', '.join(labels)})")
    used = {}
    for site, lab in mapping.items():
        if lab in used:
            raise InputError(f"{path}: {what} {lab!r} is mapped to both {used[lab]} and {site}")
        used[lab] = site
    return mapping


def _check_fs(path, fs, rate):
    if fs is not None and not (fs > 0 and math.isfinite(fs)):
        raise InputError(f"--fs must be a positive number of Hz, not {fs:g}")
    if fs is not None and rate is not None and abs(fs - rate) > 0.01 * fs:
        raise InputError(f"{path}: --fs {fs:g} disagrees with the file ({rate:g} Hz)")


def load_eeg(path, fs=None, map_spec=None, unit=None, uv_per_lsb=0.1):
    """Read, map, resample and quantise an EEG recording -> :class:`EEGInput`."""
    if unit is not None and parse_unit(unit) is None:
        raise InputError(f"--unit {unit!r} is not one of uV, mV, V")
    if not (isinstance(uv_per_lsb, (int, float)) and math.isfinite(uv_per_lsb) and uv_per_lsb > 0):
        raise InputError(
            f"--uv-per-lsb must be a positive number of microvolts, not {uv_per_lsb:g}"
        )
    path = str(path)
    trimmed = 0
    if is_edf(path):
        kind = "EDF"
        rec = read_edf(path)
        if not rec.labels:
            raise InputError(f"{path}: the EDF file holds no signals besides annotations")
        mapping = _resolve_map(path, rec.labels, map_spec, "label")
        rates = {s: rec.fs[lab] for s, lab in mapping.items()}
        if len(set(rates.values())) > 1:
            raise InputError(f"{path}: the mapped signals have different sample rates ("
                             + ", ".join(f"{s} {r:g} Hz" for s, r in rates.items()) + ")")
        rate = next(iter(rates.values()))
        _check_fs(path, fs, rate)
        scale = []
        for site, lab in mapping.items():
            u = rec.units[lab]
            k = parse_unit(u)
            if unit is not None:
                ku = parse_unit(unit)
                if k is not None and k != ku:
                    raise InputError(f"{path}: --unit {unit} contradicts the EDF header "
                                     f"({site} = {lab} is in {u})")
                k = ku
            if k is None:
                raise InputError(f"{path}: signal {lab} ({site}) has physical dimension {u!r}, "
                                 "not uV/mV/V; give the unit with --unit uV|mV|V")
            scale.append(k)
        unit_name = unit if unit is not None else rec.units[next(iter(mapping.values()))]
        with np.errstate(over="ignore"):
            mat = (np.column_stack([rec.signals[lab] for lab in mapping.values()])
                   * np.array(scale))
        annotations = rec.annotations
    else:
        kind = "CSV"
        rec = read_recording(path)
        if not rec.names:
            raise InputError(f"{path}: no signal columns besides the time column")
        mapping = _resolve_map(path, rec.names, map_spec, "column")
        _check_fs(path, fs, rec.fs)
        rate = fs if fs is not None else rec.fs
        if rate is None:
            raise InputError(f"{path}: no time column ({'/'.join(TIME_NAMES)}); "
                             "give the sample rate with --fs HZ")
        mat, trimmed = mapped_matrix(rec, mapping)
        unit_name = unit if unit is not None else "uV"
        with np.errstate(over="ignore"):
            mat = mat * parse_unit(unit_name)
        annotations = None
    n_in = len(mat)
    with np.errstate(over="ignore", invalid="ignore"):
        x = resample_to_fabric_rate(mat, rate, min_fs=EEG_MIN_FS,
                                    kind="the EEG bands (beta reaches 30 Hz)")
        y = np.round(x / uv_per_lsb)
    if not np.all(np.isfinite(y)):
        raise InputError(f"{path}: values too large to convert to microvolt counts "
                         "(beyond the float range)")
    clipped = ((y > INT16_MAX) | (y < INT16_MIN)).sum(axis=0)
    counts = np.clip(y, INT16_MIN, INT16_MAX).astype(np.int16)
    samples = np.zeros((len(counts), len(EEG_CHANNELS)), np.int16)
    present = np.zeros(len(EEG_CHANNELS), bool)
    for k, site in enumerate(mapping):
        i = EEG_CHANNELS.index(site)
        samples[:, i] = counts[:, k]
        present[i] = True
    return EEGInput(samples=samples, present=present, mapping=mapping, fs_in=float(rate),
                    n_in=n_in, kind=kind, unit=unit_name,
                    clipped={s: int(c) for s, c in zip(mapping, clipped)},
                    annotations=annotations, trimmed=trimmed, path=path)


# ----------------------------------------------------------------------------
# triggers
# ----------------------------------------------------------------------------

def frames_from_times(times, n, what):
    """Seconds -> nearest frame indices; ``what`` names the source in errors."""
    out = []
    for t in times:
        if not (math.isfinite(t) and 0 <= t < n / FS):
            raise InputError(f"{what}: trigger at {t:g} s is outside the recording "
                             f"(0 to {n / FS:g} s)")
        out.append(min(int(math.floor(t * FS + 0.5)), n - 1))
    return out


def parse_events(spec):
    events = [e.strip() for e in spec.split(",") if e.strip()]
    if not events:
        raise InputError("--events is empty; give annotation texts, e.g. T1,T2")
    return events


def triggers_from_annotations(eeg, events):
    """Frames of the EDF+ annotations whose text is in ``events``.

    Returns ``(frames list, {event: count})``.
    """
    if eeg.annotations is None:
        raise InputError(f"{eeg.path}: a CSV recording has no annotations; give the triggers "
                         "with --triggers FILE or --emg FILE")
    chosen = [(on, text) for on, _, text in eeg.annotations if text in events]
    if not chosen:
        have = {}
        for _, _, text in eeg.annotations:
            have[text] = have.get(text, 0) + 1
        listing = ", ".join(f"{t} x{c}" for t, c in have.items()) or "none"
        raise InputError(f"{eeg.path}: no triggers found: no annotation named "
                         f"{', '.join(events)} (annotations: {listing})")
    counts = {e: sum(1 for _, t in chosen if t == e) for e in events}
    return frames_from_times([on for on, _ in chosen], eeg.n, f"{eeg.path}: annotation"), counts


TRIGGER_TIME_COLUMNS = ("time_s", "time")


def read_trigger_file(path, n):
    """Frames of a trigger CSV (``time_s`` / ``time`` in s, or ``sample`` at 500 Hz)."""
    path = str(path)
    text = _read_text(path)
    lines = [ln for ln in text.splitlines() if ln.strip()]
    if not lines:
        raise InputError(f"{path}: trigger file is empty")
    head = lines[0]
    delim = max(("\t", ",", ";"), key=head.count)
    rows = list(csv.reader(io.StringIO("\n".join(lines)), delimiter=delim))
    names = [c.strip().lower() for c in rows[0]]
    col = next((c for c in (*TRIGGER_TIME_COLUMNS, "sample") if c in names), None)
    if col is None:
        raise InputError(f"{path}: trigger file needs a column time_s or time (seconds) or "
                         f"sample ({FS} Hz frame); header is {', '.join(rows[0])}")
    j = names.index(col)
    vals = []
    for i, r in enumerate(rows[1:]):
        c = r[j].strip() if j < len(r) else ""
        try:
            v = float(c)
        except ValueError:
            what = "empty cell" if c == "" else f"non-numeric value {c!r}"
            raise InputError(
                f"{path}: column '{rows[0][j].strip()}', data row {i + 1}: {what}"
            ) from None
        if not math.isfinite(v):
            raise InputError(f"{path}: column '{rows[0][j].strip()}', data row {i + 1}: "
                             f"{c} is not a finite number")
        vals.append(v)
    if not vals:
        raise InputError(f"{path}: no triggers found (no data rows after the header)")
    if col != "sample":
        return frames_from_times(vals, n, f"{path}")
    out = []
    for i, v in enumerate(vals):
        if v != int(v):
            raise InputError(f"{path}: column 'sample', data row {i + 1}: {v:g} is not a whole "
                             "frame index")
        if not 0 <= v < n:
            raise InputError(f"{path}: trigger at sample {int(v)} is outside the recording "
                             f"(0 to {n - 1} at {FS} Hz)")
        out.append(int(v))
    return out


def _emg_option_names(msg):
    return (msg.replace("--full-scale", "--emg-full-scale").replace("--map", "--emg-map")
               .replace("--fs", "--emg-fs"))


def triggers_from_emg(path, n, fs=None, map_spec=None, full_scale=None):
    """Rising edges of either leg's LG trigger (golden EMG branch) on a simultaneous EMG file.

    Returns ``(frames list, info dict)``; onsets in the EMG beyond the EEG's
    end (the two may differ by up to 1 s) are dropped and counted.
    """
    from golden.emg_pipeline import run_golden
    try:
        samples, present, info = prepare_emg(path, fs, map_spec, full_scale)
    except InputError as e:
        raise InputError(_emg_option_names(str(e))) from None
    lg = [EMG_CHANNELS.index("L_LG"), EMG_CHANNELS.index("R_LG")]
    if not present[lg].any():
        raise InputError(f"{path}: no LG muscle mapped (L_LG or R_LG): the EEG triggers are "
                         "LG onsets; use --emg-map L_LG=COLUMN,...")
    m = len(samples)
    if abs(m - n) > FS:
        raise InputError(f"{path}: the EMG lasts {m / FS:g} s, the EEG {n / FS:g} s; a "
                         "simultaneous recording must match to 1 s")
    trig, _ = run_golden(samples, present, 0)
    on = trig[:, lg].astype(bool)
    rise = on & ~np.vstack([np.zeros((1, 2), bool), on[:-1]])
    per_leg = {leg: int(rise[:, k].sum()) for k, leg in enumerate(("L", "R")) if present[lg[k]]}
    frames = np.flatnonzero(rise.any(axis=1))
    dropped = int((frames >= n).sum())
    frames = [int(f) for f in frames if f < n]
    if not frames:
        raise InputError(f"{path}: no triggers found: no LG onset detected in the EMG")
    return frames, dict(per_leg=per_leg, dropped=dropped, emg_frames=m, emg_fs=info["fs"],
                        mapping=info["mapping"])
