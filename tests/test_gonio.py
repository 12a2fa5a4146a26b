"""Goniometer gait-cycle reference and the stride scoring of the real-data validation."""

import numpy as np
import pytest

from bench.gonio import knee_cycles, score_strides
from spec.constants import FS


def knee_trace(peaks_s, n_s, seed=0):
    """Swing flexion peaks (60 deg, ~0.12 s wide) on a stance bump, plus noise."""
    t = np.arange(int(n_s * FS)) / FS
    k = 5 + np.zeros_like(t)
    for p in peaks_s:
        k += 55 * np.exp(-0.5 * ((t - p) / 0.12) ** 2)
        k += 12 * np.exp(-0.5 * ((t - p + 0.55) / 0.08) ** 2)   # loading-response flexion
    return k + np.random.default_rng(seed).normal(0, 0.5, t.size)


@pytest.mark.parametrize("sign", [1, -1])
def test_knee_cycles_finds_each_swing_peak_either_sign(sign):
    peaks_s = np.cumsum(np.r_[1.0, np.random.default_rng(1).uniform(1.0, 1.4, 9)])
    k = knee_trace(peaks_s, peaks_s[-1] + 1.0)
    found, s = knee_cycles(sign * k, FS)
    assert s == sign
    assert len(found) == len(peaks_s)
    assert np.max(np.abs(found / FS - peaks_s)) < 0.02


def test_knee_cycles_rejects_bad_input():
    with pytest.raises(ValueError, match="NaN"):
        knee_cycles(np.r_[np.zeros(2000), np.nan], FS)
    with pytest.raises(ValueError, match="at least 2 s"):
        knee_cycles(np.zeros(100), FS)


def test_score_strides_matched_split_merged():
    peaks = np.arange(1, 11) * 600                       # 1.2 s cycles at 500 Hz
    starts = peaks[:-1] + 100                           # one onset per cycle, constant phase
    r = score_strides(starts, peaks, FS)
    assert set(r["kind"]) == {"matched"}
    assert np.allclose(r["err_ms"][np.isfinite(r["err_ms"])], 0)
    assert np.allclose(r["emg_ms"], 1200)
    # an extra onset inside cycle 3 splits it; a missing one at cycle 6 merges two
    st = list(starts)
    st.insert(3, starts[2] + 250)
    st.remove(starts[6])
    r = score_strides(np.array(st), peaks, FS)
    assert list(r["kind"]).count("split") == 2           # both halves of the split cycle
    assert list(r["kind"]).count("merged") == 1
    # a stride 40 ms long against the goniometer is an error of +40 ms
    st = np.array(starts, float)
    st[5] += 20
    r = score_strides(st, peaks, FS)
    assert r["err_ms"][4] == pytest.approx(40) and r["err_ms"][5] == pytest.approx(-40)


def test_strides_outside_the_goniometer_span_are_not_scored():
    peaks = np.array([1000, 1600, 2200])
    r = score_strides(np.array([200, 800, 1100, 1700, 2300]), peaks, FS)
    assert list(r["start"]) == [1100]
