"""Tests of the synthetic gait sEMG generator (synthetic/emg_gen.py)."""

import time

import numpy as np
import pytest
from scipy import signal

from spec.channels import EMG_CHANNELS, FS, MUSCLES
from synthetic import emg_gen as eg
from tests.seeding import seeds

N_POP = 150          # strides per walk for the population statistics
POP_SEEDS = range(12)  # 8 mild + 4 severe (the paper's 2:1 training mix)


def _sev(i):
    return "severe" if i % 3 == 2 else "mild"


@pytest.fixture(scope="module")
def population():
    """Same 12 subjects walking Pre and Post, 150 strides each."""
    out = {}
    for cond in ("pre", "post"):
        out[cond] = [eg.generate_walk(1000 + i, cond, N_POP,
                                      subject=eg.make_subject(i, _sev(i)))
                     for i in POP_SEEDS]
    return out


def _col(walks, key):
    return np.array([s[key] for w in walks for s in w.strides], float)


# --------------------------------------------------------------------------
# API, determinism, shapes
# --------------------------------------------------------------------------

def test_deterministic_and_seed_dependent():
    a = eg.generate_walk(7, "pre", 10)
    b = eg.generate_walk(7, "pre", 10)
    c = eg.generate_walk(8, "pre", 10)
    assert np.array_equal(a.emg, b.emg)
    assert all(np.array_equal(x, y) for x, y in zip(a.onsets, b.onsets))
    assert all(np.array_equal(x, y) for x, y in zip(a.offsets, b.offsets))
    assert a.strides == b.strides
    assert np.array_equal(a.uv_per_lsb, b.uv_per_lsb)
    assert a.emg.shape != c.emg.shape or not np.array_equal(a.emg, c.emg)
    assert not np.array_equal(a.onsets[0], c.onsets[0][:len(a.onsets[0])])
    # the subject is a pure function of its seed
    s1, s2 = eg.make_subject(3, "severe"), eg.make_subject(3, "severe")
    assert np.array_equal(s1.z, s2.z) and np.array_equal(s1.amp_uv, s2.amp_uv)


@pytest.mark.parametrize("n", [1, 5])
def test_shapes_dtypes_and_counts(n):
    w = eg.generate_walk(11, "post", n)
    assert w.fs == FS == 500
    assert w.emg.dtype == np.int16 and w.emg.ndim == 2 and w.emg.shape[1] == 8
    assert len(EMG_CHANNELS) == 8
    assert w.uv_per_lsb.shape == (8,) and w.uv_per_lsb.dtype.kind == "f"
    assert w.clipped.shape == (8,) and w.clipped.dtype == bool
    assert w.condition == "post" and w.seed == 11
    assert len(w.onsets) == len(w.offsets) == 8
    assert len(w.heel_strikes) == 2
    for leg in range(2):
        b = 4 * leg
        # LG: n + 1 bursts (n strides need n + 1 onsets); TA: n + 1 (one per
        # stride plus the initiation swing); BF, RF: one per complete stride.
        assert [len(w.onsets[b + m]) for m in range(4)] == [n + 1, n + 1, n, n]
        assert len(w.heel_strikes[leg]) == n + 1
    assert len(w.strides) == 2 * n
    keys = {"leg", "start", "stride_time_ms", "cocon_LG_TA_ms", "cocon_BF_RF_ms"}
    keys |= {f"{m}_{q}" for m in MUSCLES
             for q in ("contraction_ms", "relaxation_ms", "duty_pct")}
    for s in w.strides:
        assert keys <= set(s)
    assert [s["leg"] for s in w.strides].count("L") == n


def test_intervals_sorted_disjoint_in_range():
    w = eg.generate_walk(5, "pre", 40)
    n = w.emg.shape[0]
    for on, off in zip(w.onsets, w.offsets):
        assert on.dtype.kind == "i" and off.dtype.kind == "i"
        assert len(on) == len(off)
        assert np.all(np.diff(on) > 0)
        assert np.all(off > on)
        assert np.all(off[:-1] < on[1:])          # bursts never touch
        assert np.all(off - on >= 25)             # >= 50 ms
        assert on[0] >= FS // 2 and off[-1] <= n  # quiet lead-in
    for hs in w.heel_strikes:
        assert np.all(np.diff(hs) > 0) and hs[0] >= 0


def test_bad_arguments():
    with pytest.raises(ValueError, match="unknown condition 'off'"):
        eg.generate_walk(1, "off")
    with pytest.raises(ValueError, match="unknown condition"):
        eg.generate_walk(1, 3)
    with pytest.raises(ValueError, match="n_strides must be >= 1"):
        eg.generate_walk(1, "pre", 0)
    with pytest.raises(ValueError, match="n_strides must be >= 1"):
        eg.generate_walk(1, "pre", -4)
    with pytest.raises(ValueError, match="n_strides must be an int"):
        eg.generate_walk(1, "pre", 2.5)
    with pytest.raises(ValueError, match="unknown severity"):
        eg.make_subject(1, "moderate")
    with pytest.raises(ValueError, match="seed"):
        eg.generate_walk(-1)
    with pytest.raises(ValueError, match="subject must be a Subject"):
        eg.generate_walk(1, subject="bob")


def test_condition_table_and_custom_condition():
    assert eg.CONDITIONS == {"pre": eg.PRE, "post": eg.POST}
    assert (eg.PRE.duty_ta_pct, eg.PRE.duty_rf_pct) == (63.48, 56.29)   # Table 1
    assert (eg.PRE.stride_ms, eg.POST.stride_ms) == (1092.0, 1044.0)    # §4.2.1
    slow = eg.Condition(**{**eg.PRE.__dict__, "name": "slow", "stride_ms": 1400.0})
    w = eg.generate_walk(2, slow, 30)
    assert w.condition == "slow"
    assert abs(np.mean([s["stride_time_ms"] for s in w.strides]) - 1400) < 100
    with pytest.raises(ValueError, match="stride_ms"):
        eg.generate_walk(2, eg.Condition(**{**eg.PRE.__dict__, "stride_ms": 50.0}))


# --------------------------------------------------------------------------
# ground truth is exact and consistent
# --------------------------------------------------------------------------

def _overlap(a0, a1, b0, b1):
    return max(0, min(a1, b1) - max(a0, b0))


def test_stride_truth_matches_intervals():
    """Recompute every stride index from the intervals by interval arithmetic."""
    w = eg.generate_walk(21, "pre", 25)
    for s in w.strides:
        leg = "LR".index(s["leg"])
        lg_on = w.onsets[4 * leg]
        k = np.searchsorted(lg_on, s["start"])
        assert lg_on[k] == s["start"]                 # stride starts at an LG onset
        t0, t1 = int(lg_on[k]), int(lg_on[k + 1])      # ... and ends at the next
        assert s["stride_time_ms"] == 2 * (t1 - t0)
        act = {}
        for m, mus in enumerate(MUSCLES):
            ivs = [(int(a), int(b)) for a, b in zip(w.onsets[4 * leg + m],
                                                    w.offsets[4 * leg + m])
                   if _overlap(a, b, t0, t1)]
            # one burst per muscle per stride; TA's straddles the boundary
            starts_inside = sum(t0 <= a < t1 for a, _ in ivs)
            assert starts_inside == 1, (mus, ivs)
            act[mus] = ivs
            c = sum(_overlap(a, b, t0, t1) for a, b in ivs)
            assert s[f"{mus}_contraction_ms"] == 2 * c
            assert s[f"{mus}_relaxation_ms"] == 2 * (t1 - t0 - c)
            assert s[f"{mus}_duty_pct"] == pytest.approx(100 * c / (t1 - t0))
        for key, (p, q) in (("cocon_LG_TA_ms", ("LG", "TA")), ("cocon_BF_RF_ms", ("BF", "RF"))):
            co = sum(_overlap(max(a, c, t0), min(b, d, t1), 0, 1 << 40)
                     for a, b in act[p] for c, d in act[q])
            assert s[key] == 2 * co


def test_heel_strikes_and_leg_phase():
    w = eg.generate_walk(4, "pre", 60)
    for leg in range(2):
        lg = w.onsets[4 * leg]
        lead = lg - w.heel_strikes[leg]
        T = np.append(np.diff(lg), np.diff(lg)[-1])
        assert np.all(np.abs(lead / T - 0.06) < 0.005)   # HS 6 % before LG onset
    L, R = w.onsets[0], w.onsets[4]
    phase = (R[:-1] - L[:-1]) / np.diff(L)               # R LG onset within L stride
    assert 0.4 < phase.mean() < 0.6 and np.all((phase > 0.25) & (phase < 0.75))
    # Perry-like ordering within the stride: LG from 0, RF in swing before BF,
    # BF late swing ending before the next LG onset.
    for s in w.strides:
        assert s["LG_duty_pct"] < 50 and s["BF_duty_pct"] < 40


# --------------------------------------------------------------------------
# physiology: population statistics vs the paper
# --------------------------------------------------------------------------

# (key, target attr, tolerance) -- tolerances ~2.5 SE of a 12-subject mean.
_CHECKS = [("stride_time_ms", "stride_ms", 30.0),
           ("LG_duty_pct", "duty_lg_pct", 1.5),
           ("TA_duty_pct", "duty_ta_pct", 2.0),
           ("BF_duty_pct", "duty_bf_pct", 1.0),
           ("RF_duty_pct", "duty_rf_pct", 2.0),
           ("cocon_LG_TA_ms", "cocon_lgta_ms", 12.0),
           ("cocon_BF_RF_ms", "cocon_bfrf_ms", 15.0)]


@pytest.mark.parametrize("cond", ["pre", "post"])
def test_population_means_match_paper(population, cond):
    walks = population[cond]
    target = eg.CONDITIONS[cond]
    assert len(walks[0].strides) == 2 * N_POP
    for key, attr, tol in _CHECKS:
        mean = _col(walks, key).mean()
        assert abs(mean - getattr(target, attr)) < tol, (cond, key, mean)
    st = _col(walks, "stride_time_ms")
    assert 0.6 * target.stride_sd_ms < st.std() < 1.4 * target.stride_sd_ms


def test_pre_vs_post(population):
    pre, post = population["pre"], population["post"]
    assert _col(pre, "stride_time_ms").mean() > _col(post, "stride_time_ms").mean() + 20
    assert _col(pre, "stride_time_ms").std() > _col(post, "stride_time_ms").std()
    assert _col(pre, "cocon_LG_TA_ms").mean() > _col(post, "cocon_LG_TA_ms").mean()
    assert _col(pre, "cocon_BF_RF_ms").mean() > _col(post, "cocon_BF_RF_ms").mean()


def test_severity_effect():
    """Same subject draws, only severity differs."""
    mild, severe = [], []
    for i in range(3):
        for sev, acc in (("mild", mild), ("severe", severe)):
            acc.append(eg.generate_walk(50 + i, "pre", 100,
                                        subject=eg.make_subject(i, sev), artefacts=False))
    for key in ("cocon_LG_TA_ms", "cocon_BF_RF_ms"):
        assert _col(severe, key).mean() > _col(mild, key).mean() + 10
    sd_m = np.mean([np.std([s["stride_time_ms"] for s in w.strides if s["leg"] == "L"])
                    for w in mild])
    sd_s = np.mean([np.std([s["stride_time_ms"] for s in w.strides if s["leg"] == "L"])
                    for w in severe])
    assert sd_s > 1.15 * sd_m


# --------------------------------------------------------------------------
# signal
# --------------------------------------------------------------------------

_HP20 = signal.butter(4, 20.0, btype="highpass", fs=FS, output="sos")


@pytest.mark.parametrize("seed", seeds(0, 1, 2, 3))
def test_bursts_are_where_truth_says(seed):
    w = eg.generate_walk(seed, "pre", 30, artefacts=False)
    x = signal.sosfiltfilt(_HP20, w.emg.astype(float) * w.uv_per_lsb, axis=0)
    act = w.activation()
    ratios = []
    for c in range(8):
        rin = np.sqrt(np.mean(x[act[:, c], c] ** 2))
        rout = np.sqrt(np.mean(x[~act[:, c], c] ** 2))
        ratios.append(rin / rout)
        assert 30 < rin < 1500          # burst RMS in the physiological range (uV)
    assert min(ratios) > 2.0, ratios
    assert np.median(ratios) > 5.0, ratios
    # onset is the start of the ramp: the 40 ms before each onset is quieter
    # than the 40 ms starting 20 ms after it (ramp done), on most bursts.
    c = int(np.argmax(ratios))
    pre = [np.sqrt(np.mean(x[a - 20:a, c] ** 2)) for a in w.onsets[c]]
    post = [np.sqrt(np.mean(x[a + 10:a + 30, c] ** 2)) for a in w.onsets[c]]
    assert np.mean(np.array(post) > 2 * np.array(pre)) > 0.9


def test_channel_gains_differ_and_adc_scale():
    s = eg.make_subject(9)
    assert 50 <= s.amp_uv.min() and s.amp_uv.max() <= 500
    assert np.all((s.noise_uv >= 3) & (s.noise_uv <= 10))
    assert np.all((s.mains_uv >= 0) & (s.mains_uv <= 30))
    w = eg.generate_walk(9, "pre", 10, subject=s, artefacts=False)
    assert np.all(w.uv_per_lsb == eg.UV_PER_LSB)
    # mains: a 50 Hz line in the spectrum of the quiet lead-in
    f, p = signal.welch(w.emg[:FS // 2].astype(float), fs=FS, nperseg=250, axis=0)
    k = int(np.argmax(s.mains_uv))
    assert f[np.argmax(p[:, k])] == pytest.approx(50, abs=2)


@pytest.mark.parametrize("seed", seeds(*range(6)))
def test_no_clipping_without_artefacts(seed):
    w = eg.generate_walk(seed, "pre", 20, artefacts=False)
    assert not w.clipped.any()
    assert w.emg.max() < 32767 and w.emg.min() > -32768


def test_clipping_reported_with_artefacts():
    hits = 0
    for seed in range(8):
        w = eg.generate_walk(seed, "post", 20, artefacts=True)
        rails = ((w.emg == 32767) | (w.emg == -32768)).any(axis=0)
        assert np.array_equal(rails, w.clipped)
        assert w.clipped.sum() <= 1
        if w.clipped.any():
            hits += 1
            c = int(np.flatnonzero(w.clipped)[0])
            assert w.uv_per_lsb[c] < eg.UV_PER_LSB          # high-gain channel
    assert hits >= 1


def test_motion_artefacts_at_heel_strike():
    """Artefacts add low-frequency (< 20 Hz) energy right after heel strikes."""
    subj = eg.make_subject(3)
    subj.artefact_prob = 1.0
    a = eg.generate_walk(3, "pre", 20, subject=subj, artefacts=True)
    b = eg.generate_walk(3, "pre", 20, subject=subj, artefacts=False)
    lp = signal.butter(4, [4, 20], btype="bandpass", fs=FS, output="sos")
    c = 0  # L_LG: shank channel
    xa = signal.sosfiltfilt(lp, a.to_uv()[:, c])
    xb = signal.sosfiltfilt(lp, b.to_uv()[:, c])
    hs = a.heel_strikes[0]
    ea = np.mean([np.abs(xa[h:h + 50]).max() for h in hs])
    eb = np.mean([np.abs(xb[h:h + 50]).max() for h in hs])
    assert ea > 3 * eb


def test_runtime_150_strides():
    eg.generate_walk(0, "pre", 5)                 # warm-up (calibration cache)
    t = time.perf_counter()
    w = eg.generate_walk(123, "pre", 150)
    dt = time.perf_counter() - t
    assert len(w.strides) == 300
    assert dt < 1.0, dt
