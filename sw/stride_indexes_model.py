"""Golden models of the per-stride muscular index extractor.

* :func:`stride_indexes_float` -- float reference: strides and times computed from
  the trigger edges with NumPy, in milliseconds, duty cycles as real ratios;
* :func:`stride_indexes_bitexact` -- the integer model of exactly what
  :mod:`hdl.stride_indexes` computes: saturating sample counters and a
  restoring divider for the duty cycle.

Definitions (per leg, paper §3.2)
---------------------------------
* A **stride** runs from a rising edge of the leg's stride-reference trigger (the
  lateral gastrocnemius, ``LG``, by default: its onset marks initial single
  support) to the next rising edge of the same trigger. A record is emitted at
  the end of every complete stride; the partial stride before the first onset and
  after the last one are not reported.
* ``stride_time``: samples in the stride (LSB = 2 ms at 500 Hz).
* ``{m}_contraction``: samples of the stride during which muscle ``m`` is on;
  ``{m}_relaxation = stride_time - {m}_contraction``.
* ``{m}_duty``: ``floor(10000 * contraction / stride_time)`` in basis points
  (LSB = 0.01 %).
* ``cocon_LG_TA``, ``cocon_BF_RF``: samples during which both muscles of the pair
  are on (agonist/antagonist co-contraction, same leg).
* ``present``: 4-bit mask (bit ``m`` for muscle ``m`` of :data:`sw.channels.MUSCLES`)
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

from .channels import LEGS, MUSCLES, COCONTRACTION_PAIRS, SAMPLE_MS

__all__ = ["RECORD_FIELDS", "stride_indexes_bitexact", "stride_indexes_float",
           "record_to_row", "CSV_COLUMNS"]

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


def stride_indexes_bitexact(trig, present=None, stride_ref=0, count_width=16,
                            start_width=32, start_offset=0):
    """Integer model of :class:`hdl.stride_indexes.StrideIndexes` for both legs.

    Parameters
    ----------
    trig : array_like of {0, 1}, shape (n_samples, 8)
        Trigger bits in :data:`sw.channels.EMG_CHANNELS` order.
    present : array_like of bool, shape (8,), optional
    stride_ref : int
        Muscle index (0..3, :data:`sw.channels.MUSCLES`) whose onset starts a stride.
    count_width, start_width : int
        Widths of the saturating time counters.

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
        ref = t[:, stride_ref].astype(np.int8)
        rising = np.flatnonzero(np.diff(np.concatenate([[0], ref])) == 1)
        mask = int(sum(1 << m for m in range(4) if pr[m]))
        for s0, s1 in zip(rising[:-1], rising[1:]):
            seg = t[s0:s1]
            stride = min(s1 - s0, cmax)
            con = [min(int(seg[:, m].sum()), cmax) for m in range(4)]
            rec = {"leg": leg, "start": int(min(s0 + start_offset, smax)), "stride_time": int(stride)}
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


def stride_indexes_float(trig, present=None, stride_ref=0, fs=500.0):
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
        rising = np.flatnonzero(ref[1:] & ~ref[:-1]) + 1
        if ref.size and ref[0]:
            rising = np.concatenate([[0], rising])
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


def record_to_row(rec, fs=500):
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

