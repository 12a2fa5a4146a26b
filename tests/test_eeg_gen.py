"""Tests of the synthetic EEG generator (synthetic/eeg_gen.py)."""

import time

import numpy as np
import pytest
from scipy import signal

from spec.channels import FS
from synthetic import eeg_gen as gen

BANDS = ("BP", "mu", "beta")
N60 = 60 * FS
POP_SEEDS = range(5000, 5024)      # 24 subjects x 60 s walking, ~2600 triggers


def _targets(cond):
    return np.array([cond.bp_dbu, cond.mu_dbu, cond.beta_dbu])


def _pop_means(cond, seeds=POP_SEEDS, onsets_from=None):
    """Mean trigger features (3, 7) over walks; optionally reuse other onsets."""
    feats = []
    for i, s in enumerate(seeds):
        on = None if onsets_from is None else onsets_from[i]
        w = gen.generate_eeg(s, N60, movement_onsets=on, condition=cond)
        d = gen.trigger_band_dbu(w)
        feats.append(np.stack([d[b] for b in BANDS], axis=1))
    return np.concatenate(feats).mean(axis=0)


@pytest.fixture(scope="module")
def pre_walks():
    return [gen.generate_eeg(s, N60, condition="pre") for s in POP_SEEDS]


@pytest.fixture(scope="module")
def pre_means(pre_walks):
    feats = [np.stack([gen.trigger_band_dbu(w)[b] for b in BANDS], axis=1)
             for w in pre_walks]
    return np.concatenate(feats).mean(axis=0)


def _sparse_onsets(seed, n=N60, every_s=4.0):
    """Isolated movements (cued-task style), every ~4 s."""
    rng = np.random.default_rng(seed)
    base = np.arange(int(3 * FS), n - 2 * FS, int(every_s * FS))
    return base + rng.integers(-200, 200, base.size)


# --------------------------------------------------------------------------
# API, determinism, shapes
# --------------------------------------------------------------------------

def test_channels_and_bins():
    assert gen.EEG_CHANNELS == ("T3", "T4", "C3", "C4", "Cz", "P3", "P4")
    assert gen.BAND_BINS["BP"].tolist() == [2]
    assert gen.BAND_BINS["mu"].tolist() == [5]
    assert gen.BAND_BINS["beta"].tolist() == list(range(7, 16))


def test_deterministic_and_seed_dependent():
    a = gen.generate_eeg(7)
    b = gen.generate_eeg(7)
    c = gen.generate_eeg(8)
    assert np.array_equal(a.eeg, b.eeg)
    assert np.array_equal(a.movement_onsets, b.movement_onsets)
    assert not np.array_equal(a.eeg, c.eeg)
    d = gen.generate_eeg(7, subject_seed=99)
    assert d.subject_seed == 99 and a.subject_seed == 7
    assert np.array_equal(a.movement_onsets, d.movement_onsets)  # walk = seed
    assert not np.array_equal(a.eeg, d.eeg)                       # subject differs


def test_shapes_dtypes_defaults():
    w = gen.generate_eeg(11, condition="post")
    assert w.fs == FS == 500
    assert w.uv_per_lsb == gen.UV_PER_LSB == 0.1
    assert w.eeg.dtype == np.int16 and w.eeg.shape == (30 * FS, 7)
    assert w.condition == "post" and w.seed == 11
    o = w.movement_onsets
    assert o.dtype == np.int64 and o.ndim == 1
    assert np.all(np.diff(o) > 0)
    assert o[0] >= 1.3 * FS and o[-1] <= w.eeg.shape[0] - FS // 2
    # one onset per step: ~0.52 s Post (1044 ms / 2), ~0.55 s Pre
    ms = 1000 // FS
    assert abs(np.diff(o).mean() * ms * 2 - 1044) < 30
    p = gen.generate_eeg(11, condition="pre")
    assert abs(np.diff(p.movement_onsets).mean() * ms * 2 - 1092) < 40
    assert np.allclose(w.to_uv(), w.eeg * 0.1)


def test_given_onsets_sorted_and_length():
    on = [4000, 1000, 2500, 2500]
    w = gen.generate_eeg(3, movement_onsets=on)
    assert w.movement_onsets.tolist() == [1000, 2500, 4000]
    assert w.eeg.shape[0] == 30 * FS                   # default 30 s
    w = gen.generate_eeg(3, movement_onsets=[20_000])
    assert w.eeg.shape[0] == 20_000 + FS               # last onset + 1 s
    w = gen.generate_eeg(3, 5000, movement_onsets=np.array([4999.0]))
    assert w.eeg.shape[0] == 5000 and w.movement_onsets.tolist() == [4999]
    w = gen.generate_eeg(3, 2000, movement_onsets=[])
    assert w.movement_onsets.size == 0 and w.eeg.shape == (2000, 7)


def test_emg_generator_onsets():
    from synthetic import emg_gen
    walk = emg_gen.generate_walk(4, "pre", 8)
    lg = np.concatenate([walk.onsets[0], walk.onsets[4]])       # L_LG, R_LG
    w = gen.generate_eeg(4, walk.emg.shape[0], movement_onsets=lg)
    assert w.eeg.shape == (walk.emg.shape[0], 7)
    assert np.array_equal(w.movement_onsets, np.unique(lg))


def test_no_clipping_and_headroom():
    for s in range(6):
        w = gen.generate_eeg(s, N60, artefacts=True)
        peak = np.abs(w.eeg.astype(np.int32)).max()
        assert peak < 0.25 * 32767        # < 820 µV of the 3.28 mV range
        assert peak > 500                 # > 50 µV: tens of µV resolved
        # 0.1 µV steps: every channel uses many distinct codes
        assert all(len(np.unique(w.eeg[:, c])) > 500 for c in range(7))


def test_artefacts_only_touch_t3_t4():
    a = gen.generate_eeg(21, artefacts=False)
    b = gen.generate_eeg(21, artefacts=True)
    assert np.array_equal(a.eeg[:, 2:], b.eeg[:, 2:])
    assert not np.array_equal(a.eeg[:, :2], b.eeg[:, :2])
    assert np.array_equal(b.eeg, gen.generate_eeg(21, artefacts=True).eeg)


def test_bad_arguments():
    with pytest.raises(ValueError, match="unknown condition 'off'"):
        gen.generate_eeg(1, condition="off")
    with pytest.raises(ValueError, match="unknown condition"):
        gen.generate_eeg(1, condition=2)
    with pytest.raises(ValueError, match="too short for movement onset 6000"):
        gen.generate_eeg(1, 5000, movement_onsets=[100, 6000])
    with pytest.raises(ValueError, match="too short for movement onset"):
        gen.generate_eeg(1, 5000, movement_onsets=[5000])
    with pytest.raises(ValueError, match="must be >= 0"):
        gen.generate_eeg(1, 5000, movement_onsets=[-3, 100])
    with pytest.raises(ValueError, match="integer sample indices"):
        gen.generate_eeg(1, 5000, movement_onsets=[10.5])
    with pytest.raises(ValueError, match="1-D"):
        gen.generate_eeg(1, 5000, movement_onsets=[[1, 2]])
    with pytest.raises(ValueError, match="seed"):
        gen.generate_eeg(-1)
    with pytest.raises(ValueError, match="subject_seed"):
        gen.generate_eeg(1, subject_seed=1.5)
    with pytest.raises(ValueError, match="n_samples must be an int"):
        gen.generate_eeg(1, 3000.0)
    with pytest.raises(ValueError, match="n_samples must be >= 256"):
        gen.generate_eeg(1, 100, movement_onsets=[])
    with pytest.raises(ValueError, match="too short for a walk"):
        gen.generate_eeg(1, 800)
    bad = gen.EEGCondition(**{**gen.PRE.__dict__, "mu_erd": 1.5})
    with pytest.raises(ValueError, match="mu_erd"):
        gen.generate_eeg(1, condition=bad)
    with pytest.raises(ValueError, match="256 samples"):
        gen.band_dbu(np.zeros((255, 7)))


def test_fast():
    gen.generate_eeg(0, N60)
    t = time.perf_counter()
    for s in range(3):
        gen.generate_eeg(s, N60, artefacts=True)
    assert (time.perf_counter() - t) / 3 < 1.0


# --------------------------------------------------------------------------
# band_dbu: the EEG branch's computation
# --------------------------------------------------------------------------

def test_band_dbu_reference():
    n = np.arange(gen.N_FFT)
    # amplitude-A sinusoid at a bin centre: |X| = A N / 4 = 64 A
    def f(k):
        return np.cos(2 * np.pi * k * n / gen.N_FFT + 0.3)
    x = np.stack([20 * f(2), 4 * f(5), 1.5 * f(11), f(6) * 50], axis=1)
    d = gen.band_dbu(x)
    assert d["BP"][0] == pytest.approx(20 * np.log10(64 * 20), abs=1e-9)
    assert d["mu"][1] == pytest.approx(20 * np.log10(64 * 4), abs=1e-9)
    assert d["beta"][2] == pytest.approx(20 * np.log10(64 * 1.5), abs=1e-9)
    # bin 6 (11.7 Hz) is in no band; periodic Hann leaks exactly half of it
    # into each neighbour (|X| = 32 A at bins 5 and 7) and nothing further
    assert d["mu"][3] == pytest.approx(20 * np.log10(32 * 50), abs=1e-9)
    assert d["beta"][3] == pytest.approx(20 * np.log10(32 * 50), abs=1e-9)
    assert d["BP"][3] < -100
    # against a direct DFT sum with an explicit periodic Hann
    rng = np.random.default_rng(0)
    y = rng.standard_normal((gen.N_FFT, 7)) * 10
    w = signal.windows.hann(gen.N_FFT, sym=False)
    X = np.exp(-2j * np.pi * np.outer(np.arange(16), n) / gen.N_FFT) @ (w[:, None] * y)
    ref = {b: 20 * np.log10(np.abs(X[gen.BAND_BINS[b]]).max(axis=0)) for b in BANDS}
    d = gen.band_dbu(y)
    for b in BANDS:
        assert d[b].shape == (7,)
        np.testing.assert_allclose(d[b], ref[b], atol=1e-9)
    # batched and 1-D forms agree
    d3 = gen.band_dbu(np.stack([y, 2 * y]))
    assert d3["mu"].shape == (2, 7)
    np.testing.assert_allclose(d3["beta"][1], d["beta"] + 20 * np.log10(2), atol=1e-9)
    assert gen.band_dbu(y[:, 4])["BP"] == pytest.approx(d["BP"][4])
    assert gen.band_dbu(np.zeros(gen.N_FFT))["mu"] == -np.inf


# --------------------------------------------------------------------------
# calibration against Table 1
# --------------------------------------------------------------------------

def test_calibration_table1_pre(pre_means):
    err = pre_means - _targets(gen.PRE)
    assert np.all(np.abs(err) < 1.5), np.round(err, 2)     # brief: ~ +/- 3 dB
    assert np.abs(err).mean() < 0.5
    # the qualitative pattern of Table 1: BP > µ > β everywhere, Cz lowest β
    assert np.all(pre_means[0] > pre_means[1] + 8)
    assert np.all(pre_means[1] > pre_means[2] + 3)
    assert np.argmin(pre_means[2]) == gen.EEG_CHANNELS.index("Cz")


def test_pre_post_not_different(pre_walks, pre_means):
    # default walking (own step times): population means within 0.5 dB
    post = _pop_means("post")
    assert np.all(np.abs(post - pre_means) < 0.5), np.round(post - pre_means, 2)
    assert np.all(np.abs(post - _targets(gen.POST)) < 1.5)
    # paired, same onsets (the paper's paired design): only Table 1's deltas
    seeds = POP_SEEDS[:8]
    ons = [w.movement_onsets for w in pre_walks[:8]]
    a = _pop_means("pre", seeds, ons)
    b = _pop_means("post", seeds, ons)
    assert np.all(np.abs(b - a) < 0.1)
    assert gen.PRE.rp_uv == gen.POST.rp_uv
    assert (gen.PRE.mu_erd, gen.PRE.beta_erd) == (gen.POST.mu_erd, gen.POST.beta_erd)


def test_custom_condition_moves_targets():
    up = gen.EEGCondition(**{**gen.PRE.__dict__, "name": "mu_up",
                             "mu_dbu": tuple(v + 3 for v in gen.PRE.mu_dbu)})
    seeds = range(7000, 7008)
    base = _pop_means("pre", seeds)
    high = _pop_means(up, seeds)
    d = high - base
    assert np.all((d[1] > 2.5) & (d[1] < 3.3)), d[1]
    assert np.all(np.abs(d[0]) < 0.1)


# --------------------------------------------------------------------------
# movement-related dynamics
# --------------------------------------------------------------------------

@pytest.fixture(scope="module")
def sparse():
    out = []
    for s in range(10):
        on = _sparse_onsets(s)
        out.append((gen.generate_eeg(300 + s, N60, movement_onsets=on), on))
    return out


def test_erd_visible(sparse):
    """µ and β power in the window ending at onset + 250 ms is lower than in
    the window ending 1 s before the onset (power averaged over events)."""
    during, before = [], []
    for w, on in sparse:
        x = w.to_uv()
        during.append(gen.trigger_windows(x, on + FS // 4)[0])
        before.append(gen.trigger_windows(x, on - FS)[0])
    fd = gen.band_dbu(np.concatenate(during))
    fb = gen.band_dbu(np.concatenate(before))
    for b, lo in (("mu", 2.0), ("beta", 2.0)):
        pd = 10 * np.log10(np.mean(10 ** (fd[b] / 10), axis=0))
        pb = 10 * np.log10(np.mean(10 ** (fb[b] / 10), axis=0))
        assert np.all(pb - pd > lo), (b, np.round(pb - pd, 2))
    # BP (delta-theta) is not movement-modulated
    d = fd["BP"].mean(axis=0) - fb["BP"].mean(axis=0)
    assert np.all(np.abs(d) < 2.5)


@pytest.fixture(scope="module")
def rp_segments():
    """2 Hz low-passed segments -1.5..+0.2 s around isolated onsets (every
    ~3 s), baseline -1.25..-1.05 s removed: (events, time, ch), onset index."""
    sos = signal.butter(2, 2.0, fs=FS, output="sos")
    pre, post = int(1.5 * FS), FS // 5
    segs = []
    for s in range(20):
        on = _sparse_onsets(400 + s, every_s=3.0)
        w = gen.generate_eeg(400 + s, N60, movement_onsets=on)
        y = signal.sosfiltfilt(sos, w.to_uv(), axis=0)
        segs.append(y[on[:, None] + np.arange(-pre, post)])
    segs = np.concatenate(segs)
    b0, b1 = pre - int(1.25 * FS), pre - int(1.05 * FS)
    return segs - segs[:, b0:b1].mean(axis=1, keepdims=True), pre


def test_readiness_potential_at_cz(rp_segments):
    segs, at = rp_segments
    assert len(segs) > 300
    cz = gen.EEG_CHANNELS.index("Cz")
    avg = segs[:, at - 25:at + 1, cz].mean(axis=1)    # last 50 ms before onset
    sem = avg.std(ddof=1) / np.sqrt(len(avg))
    assert avg.mean() < -3.0 and avg.mean() < -5 * sem, (avg.mean(), sem)
    # a negative-going ramp toward the onset
    m = segs[:, :, cz].mean(axis=0)
    assert m[at] < m[at - FS // 4] < m[at - FS // 2] < 0
    # maximal at the vertex: T3/T4 carry a 4x smaller potential
    tmp = segs[:, at - 25:at + 1, :2].mean(axis=(1, 2))
    d = avg - tmp
    assert d.mean() < -2.0 and d.mean() < -4 * d.std(ddof=1) / np.sqrt(len(d))


def test_background_properties():
    w = gen.generate_eeg(42, N60, movement_onsets=[])     # standing
    x = w.to_uv()
    f, p = signal.welch(x, fs=FS, nperseg=1024, axis=0)
    def band(lo, hi):
        return p[(f >= lo) & (f <= hi)].mean(axis=0)
    assert np.all(band(2, 6) > 30 * band(35, 45))                     # 1/f-ish
    assert np.all(band(8.5, 11.5) > 2 * band(12, 14))                 # µ peak
    assert np.all(band(49.5, 50.5) > 5 * band(44, 48))                # mains line
    assert np.all(band(49.5, 50.5) < band(8.5, 11.5))                 # but small
    r = np.corrcoef(x - x.mean(axis=0), rowvar=False)[np.triu_indices(7, 1)]
    assert np.all(r > 0.1) and np.all(r < 0.9)
