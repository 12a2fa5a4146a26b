"""Golden models of the per-stride muscular index extractor.

* :func:`stride_indexes_float` -- float reference: strides and times computed from
  the trigger edges with NumPy, in milliseconds, duty cycles as real ratios;
* :func:`stride_indexes_bitexact` -- the integer model of exactly what
  :mod:`hdl.stride_indexes` computes: saturating sample counters and a
  restoring divider for the duty cycle.

Definitions (per leg, paper §3.2)
---------------------------------
* A **stride** runs from a *stride onset* of the leg's stride-reference trigger
  (the lateral gastrocnemius, ``LG``, by default: its onset marks initial single
  support) to the next stride onset of the same trigger. A record is emitted at
  the end of every complete stride; the partial stride before the first onset and
  after the last one are not reported.
* A rising edge of the reference is a **stride onset** only if

  - the reference was off for at least ``ref_min_gap`` samples before it
    (default :data:`REF_MIN_GAP` = 150 = 300 ms): a muscle whose burst breaks up
    into pieces separated by short gaps starts one stride, not several; and
  - at least ``min_stride`` samples have passed since the current stride started
    (default :data:`MIN_STRIDE` = 350 = 700 ms, shorter than any walking stride):
    a second burst of the reference muscle within the gait cycle (hamstrings and
    quadriceps fire twice per cycle) does not end the stride.

  Other rising edges are ordinary samples of the running stride (their
  contraction counts). Why: on the real UCI walks (``make validate``) a bare
  rising-edge rule split 88 % of the gait cycles of the biceps femoris into
  2-4 "strides"; with both rules most strides match the knee-goniometer cycles.
  ``min_stride = ref_min_gap = 0`` restores the bare rule.
* ``stride_time``: samples in the stride (LSB = 2 ms at 500 Hz).
* ``{m}_contraction``: samples of the stride during which muscle ``m`` is on;
  ``{m}_relaxation = stride_time - {m}_contraction``.
* ``{m}_duty``: ``floor(10000 * contraction / stride_time)`` in basis points
  (LSB = 0.01 %).
* ``cocon_LG_TA``, ``cocon_BF_RF``: samples during which both muscles of the pair
  are on (agonist/antagonist co-contraction, same leg).
* ``present``: 4-bit mask (bit ``m`` for muscle ``m`` of :data:`spec.channels.MUSCLES`)
  of the muscles that are connected. Absent muscles read 0 and must be shown as
  absent, never as relaxed. A leg whose stride reference is absent emits nothing.
* ``overflow``: the stride counter reached ``2**count_width - 1`` and saturated;
  all counts of this record are clipped and only the flag is meaningful.
* ``start``: sample index (since reset) of the stride's first sample, saturating
  at ``2**start_width - 1``.

The bit-exact and the float model agree exactly on every time (both count
samples) and within 0.01 % (one LSB, truncation) on the duty cycle.
"""

import numpy as np

from spec.channels import COCONTRACTION_PAIRS, LEGS, MUSCLES, SAMPLE_MS
from spec.constants import FS

__all__ = ["RECORD_FIELDS", "stride_indexes_bitexact", "stride_indexes_float",
           "record_to_row", "CSV_COLUMNS", "MIN_STRIDE", "REF_MIN_GAP", "stride_onsets"]

#: shortest stride, samples at 500 Hz (350 -> 700 ms); see "stride onset" above
MIN_STRIDE = 350
#: shortest off-time of the reference before a stride onset, samples (150 -> 300 ms)
REF_MIN_GAP = 150

#: Field names of one stride record, in UART/CSV order.
RECORD_FIELDS = (("leg", "start", "stride_time")
                 + tuple(f"{m}_{q}" for m in MUSCLES
                         for q in ("contraction", "relaxation", "duty"))
                 + tuple(f"cocon_{name}" for name, _, _ in COCONTRACTION_PAIRS)
                 + ("present", "overflow"))

#: Columns of the per-stride CSV written by ``python -m sw.extract emg``.
CSV_COLUMNS = (("leg", "start_s", "stride_time_ms")
               + tuple(f"{m}_{q}" for m in MUSCLES
                       for q in ("contraction_ms", "relaxation_ms", "duty_pct"))
               + tuple(f"cocon_{name}_ms" for name, _, _ in COCONTRACTION_PAIRS)
               + ("flags",))


def _leg_bits(trig, present, leg):
    t = np.asarray(trig, bool)[:, 4 * leg:4 * leg + 4]
    pr = np.asarray(present, bool)[4 * leg:4 * leg + 4]
    return t & pr, pr


def _check_rule(min_stride, ref_min_gap):
    for name, v in (("min_stride", min_stride), ("ref_min_gap", ref_min_gap)):
        if not isinstance(v, (int, np.integer)) or isinstance(v, bool) or not 0 <= v <= 4095:
            raise ValueError(f"{name} must be an integer number of samples in 0..4095, not {v!r}")


def stride_onsets(ref, min_stride=MIN_STRIDE, ref_min_gap=REF_MIN_GAP):
    """Sample indexes of the stride onsets of one reference trigger (see module doc).

    The off-time before the first rising edge counts as unlimited (the gateware's
    off-time counter resets saturated).
    """
    _check_rule(min_stride, ref_min_gap)
    ref = np.asarray(ref).astype(bool)
    rising = np.flatnonzero(np.diff(np.concatenate([[0], ref.astype(np.int8)])) == 1)
    # last on-sample
    falling = np.flatnonzero(np.diff(np.concatenate([ref.astype(np.int8), [0]])) == -1)
    out = []
    for o in rising:
        k = np.searchsorted(falling, o) - 1          # last burst that ended before o
        gap_ok = k < 0 or o - falling[k] - 1 >= ref_min_gap
        long_ok = not out or o - out[-1] >= min_stride
        if gap_ok and long_ok:
            out.append(int(o))
    return np.array(out, dtype=np.int64)


def stride_indexes_bitexact(trig, present=None, stride_ref=0, count_width=16,
                            start_width=32, start_offset=0, min_stride=MIN_STRIDE,
                            ref_min_gap=REF_MIN_GAP):
    """Integer model of :class:`hdl.stride_indexes.StrideIndexes` for both legs.

    Parameters
    ----------
    trig : array_like of {0, 1}, shape (n_samples, 8)
        Trigger bits in :data:`spec.channels.EMG_CHANNELS` order.
    present : array_like of bool, shape (8,), optional
    stride_ref : int
        Muscle index (0..3, :data:`spec.channels.MUSCLES`) whose onset starts a stride.
    count_width, start_width : int
        Widths of the saturating time counters.
    min_stride, ref_min_gap : int
        Stride-onset rule, samples (see module docstring).

    Returns
    -------
    list of dict
        One record per completed stride, ordered by end sample, left leg first
        when both legs finish on the same sample. Keys are :data:`RECORD_FIELDS`.
    """
    trig = np.asarray(trig)
    present = np.ones(8, bool) if present is None else np.asarray(present, bool)
    if not 0 <= stride_ref < 4:
        raise ValueError(f"stride_ref must be a muscle index 0..3, not {stride_ref}")
    cmax = (1 << count_width) - 1
    smax = (1 << start_width) - 1
    events = []
    for leg in (0, 1):
        t, pr = _leg_bits(trig, present, leg)
        if not pr[stride_ref]:
            continue
        rising = stride_onsets(t[:, stride_ref], min_stride, ref_min_gap)
        mask = int(sum(1 << m for m in range(4) if pr[m]))
        for s0, s1 in zip(rising[:-1], rising[1:]):
            seg = t[s0:s1]
            stride = min(s1 - s0, cmax)
            con = [min(int(seg[:, m].sum()), cmax) for m in range(4)]
            rec = {"leg": leg, "start": int(min(s0 + start_offset, smax)),
                   "stride_time": int(stride)}
            for m, name in enumerate(MUSCLES):
                rec[f"{name}_contraction"] = con[m]
                rec[f"{name}_relaxation"] = int(stride - con[m])
                rec[f"{name}_duty"] = int(con[m] * 10000 // stride)
            for name, a, b in COCONTRACTION_PAIRS:
                rec[f"cocon_{name}"] = min(int((seg[:, a] & seg[:, b]).sum()), cmax)
            rec["present"] = mask
            rec["overflow"] = int(s1 - s0 >= cmax)
            events.append((s1, leg, rec))
    events.sort(key=lambda e: (e[0], e[1]))
    return [rec for _, _, rec in events]


def stride_indexes_float(trig, present=None, stride_ref=0, fs=float(FS),
                         min_stride_ms=MIN_STRIDE * SAMPLE_MS,
                         ref_min_gap_ms=REF_MIN_GAP * SAMPLE_MS):
    """Float reference: the same strides with times in ms and duty cycles in %.

    Returns a list of dicts with keys ``leg``, ``start_s``, ``stride_time_ms``,
    ``{m}_contraction_ms``, ``{m}_relaxation_ms``, ``{m}_duty_pct``,
    ``cocon_{pair}_ms`` (absent muscles: NaN), ordered as the bit-exact model.
    """
    trig = np.asarray(trig, bool)
    present = np.ones(8, bool) if present is None else np.asarray(present, bool)
    dt = 1000.0 / fs
    out = []
    for leg in (0, 1):
        t, pr = _leg_bits(trig, present, leg)
        if not pr[stride_ref]:
            continue
        ref = t[:, stride_ref]
        on = ref[1:] & ~ref[:-1]
        rising = np.flatnonzero(on) + 1
        if ref.size and ref[0]:
            rising = np.concatenate([[0], rising])
        offs = np.flatnonzero(ref[:-1] & ~ref[1:])     # last on-sample of each burst
        keep = []
        for o in rising:
            before = offs[offs < o]
            gap_ms = (o - before[-1] - 1) * dt if before.size else np.inf
            if gap_ms >= ref_min_gap_ms and (not keep or (o - keep[-1]) * dt >= min_stride_ms):
                keep.append(o)
        rising = np.array(keep, dtype=np.int64)
        for s0, s1 in zip(rising[:-1], rising[1:]):
            seg = t[s0:s1]
            st = (s1 - s0) * dt
            row = {"leg": leg, "start_s": s0 / fs, "stride_time_ms": st, "_end": s1}
            for m, name in enumerate(MUSCLES):
                c = seg[:, m].sum() * dt if pr[m] else np.nan
                row[f"{name}_contraction_ms"] = c
                row[f"{name}_relaxation_ms"] = st - c
                row[f"{name}_duty_pct"] = 100.0 * c / st
            for name, a, b in COCONTRACTION_PAIRS:
                both = pr[a] and pr[b]
                row[f"cocon_{name}_ms"] = (seg[:, a] & seg[:, b]).sum() * dt if both else np.nan
            out.append(row)
    out.sort(key=lambda r: (r["_end"], r["leg"]))
    for r in out:
        del r["_end"]
    return out


def record_to_row(rec, fs=FS):
    """Convert one bit-exact/gateware record into a CSV row (dict of strings).

    Times become ms (``samples * 2``), duties % with two decimals, absent
    muscles empty cells, and ``flags`` lists ``overflow`` when set.
    """
    ms = SAMPLE_MS
    row = {"leg": LEGS[rec["leg"]], "start_s": f"{rec['start'] / fs:.3f}",
           "stride_time_ms": str(rec["stride_time"] * ms)}
    for m, name in enumerate(MUSCLES):
        here = bool(rec["present"] >> m & 1)
        row[f"{name}_contraction_ms"] = str(rec[f"{name}_contraction"] * ms) if here else ""
        row[f"{name}_relaxation_ms"] = str(rec[f"{name}_relaxation"] * ms) if here else ""
        d = rec[f"{name}_duty"]
        row[f"{name}_duty_pct"] = f"{d // 100}.{d % 100:02d}" if here else ""
    for name, a, b in COCONTRACTION_PAIRS:
        both = (rec["present"] >> a & 1) and (rec["present"] >> b & 1)
        row[f"cocon_{name}_ms"] = str(rec[f"cocon_{name}"] * ms) if both else ""
    row["flags"] = "overflow" if rec["overflow"] else ""
    return row

