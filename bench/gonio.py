"""Gait cycles from a knee-flexion goniometer: the stride reference of the UCI validation.

The UCI lower-limb files carry no foot-contact events, but their knee angle is
periodic with the gait cycle: one large flexion peak per stride, in swing.

* :func:`knee_cycles` -- sample indexes of the swing-phase flexion peaks.
  The angle is low-passed at 6 Hz (zero-phase, 2nd-order Butterworth); its sign
  is chosen so that the distribution has positive skew (the swing peak is short
  and high, stance long and low: some files record flexion as negative angles);
  peaks must rise at least half the 5-95 % range above their surroundings and
  lie at least 0.5 s apart.
* :func:`score_strides` -- compare stride starts from the EMG pipeline with the
  goniometer cycles through the **gait phase** ``phi(t)``: ``k`` at the ``k``-th
  flexion peak, linear in between. An EMG stride ``[s, e)`` covers
  ``dphi = phi(e) - phi(s)`` cycles; the reference stride time is the time the
  goniometer takes for one whole cycle from the same phase,
  ``T_ref = t(phi(s) + 1) - s``, and the error is ``(e - s) - T_ref``. Strides
  are *matched* when ``|dphi - 1| <= 0.25``, *split* when ``dphi < 0.75`` (a
  second stride onset inside one gait cycle) and *merged* when ``dphi > 1.25``
  (a cycle's onset was missed). Strides outside the goniometer's first and last
  peak are not scored.
"""

import numpy as np
from scipy import signal, stats

__all__ = ["knee_cycles", "score_strides", "MATCH_TOL"]

#: |dphi - 1| up to which an EMG stride counts as one gait cycle
MATCH_TOL = 0.25


def knee_cycles(knee, fs, lowpass_hz=6.0, min_cycle_s=0.5):
    """Sample indexes of the knee-flexion peaks (one per gait cycle).

    Returns ``(peaks, sign)``: int array of indexes into ``knee`` and the sign
    (+1/-1) applied to make flexion positive.
    """
    k = np.asarray(knee, float)
    if k.ndim != 1 or k.size < int(2 * fs):
        raise ValueError("need a 1-D knee angle of at least 2 s")
    if not np.all(np.isfinite(k)):
        raise ValueError("knee angle contains NaN or infinity")
    sign = 1 if stats.skew(k) >= 0 else -1
    b, a = signal.butter(2, lowpass_hz / (fs / 2))
    ks = signal.filtfilt(b, a, sign * k)
    rng = np.percentile(ks, 95) - np.percentile(ks, 5)
    if rng <= 0:
        return np.zeros(0, np.int64), sign
    peaks, _ = signal.find_peaks(ks, prominence=0.5 * rng, distance=max(1, int(min_cycle_s * fs)))
    return peaks.astype(np.int64), sign


def score_strides(starts, peaks, fs):
    """Score consecutive stride starts against goniometer peaks (see module doc).

    Parameters
    ----------
    starts : array_like of int
        Stride-onset sample indexes from the EMG pipeline (each record's start;
        the last stride ends at the next start).
    peaks : array_like of int
        :func:`knee_cycles` peaks, same sample rate ``fs``.

    Returns
    -------
    dict of ndarray
        ``dphi`` (cycles per EMG stride), ``emg_ms`` (EMG stride time),
        ``ref_ms`` (goniometer stride time from the same phase; NaN when the
        cycle after it is not recorded), ``err_ms`` (``emg_ms - ref_ms``),
        ``kind`` (``"matched"``/``"split"``/``"merged"``).
    """
    starts = np.asarray(starts, float)
    peaks = np.asarray(peaks, float)
    out = dict(dphi=[], emg_ms=[], ref_ms=[], err_ms=[], kind=[], start=[])
    if peaks.size < 2:
        return {k: np.array(v) for k, v in out.items()}
    idx = np.arange(peaks.size, dtype=float)
    inside = (starts >= peaks[0]) & (starts <= peaks[-1])
    phi = np.interp(starts, peaks, idx)
    for i in range(starts.size - 1):
        if not (inside[i] and inside[i + 1]):
            continue
        d = phi[i + 1] - phi[i]
        emg = (starts[i + 1] - starts[i]) * 1000.0 / fs
        if phi[i] + 1 <= idx[-1]:
            ref = (np.interp(phi[i] + 1, idx, peaks) - starts[i]) * 1000.0 / fs
        else:
            ref = np.nan
        kind = ("matched" if abs(d - 1) <= MATCH_TOL else "split" if d < 1 else "merged")
        for key, v in (("dphi", d), ("emg_ms", emg), ("ref_ms", ref), ("err_ms", emg - ref),
                       ("kind", kind), ("start", starts[i])):
            out[key].append(v)
    return {k: np.array(v) for k, v in out.items()}
