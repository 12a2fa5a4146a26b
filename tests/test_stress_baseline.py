"""Stress feature baseline (:mod:`sw.stress_baseline`): features on known signals and on real
windows, leave-subjects-out scores without leaks, the command line.

Real Stress-Predict files of three subjects copied into ``tmp_path`` (never skipped).
"""

import json

import numpy as np
import pytest

from sw import stress_baseline as sb
from sw import stress_data as sd
from tests.seeding import seeds
from tests.test_stress_data import copy_subjects

PICK = (2, 5, 9)


@pytest.fixture(scope="module")
def real(tmp_path_factory):
    d = copy_subjects(tmp_path_factory.mktemp("stress_base"), PICK)
    w = sd.load_windows(d)
    return d, w, sb.window_features(w)


def _windows(n, window_s=60):
    z = np.zeros
    return sd.Windows(bvp=z((n, 64 * window_s), np.float32),
                      acc=z((n, 32 * window_s, 3), np.float32),
                      eda=z((n, 4 * window_s), np.float32), temp=z((n, 4 * window_s), np.float32),
                      y=z(n, np.int8), fraction=z(n, np.float32), subject=np.arange(n),
                      start_s=z(n), session_s=z(n))


@pytest.mark.parametrize("seed", seeds(1, 2, 3))
def test_features_on_known_signals(seed):
    rng = np.random.default_rng(seed)
    print(f"seed {seed}")
    w = _windows(3)
    t64, t4 = np.arange(64 * 60) / 64, np.arange(4 * 60) / 4
    bpm = rng.uniform(50, 120, 3)
    for i in range(3):
        w.bvp[i] = 40 * np.sin(2 * np.pi * bpm[i] / 60 * t64) + rng.normal(0, 2, len(t64))
    w.eda[:] = 2.0 + 0.3 * t4 / 60                     # 0.3 µS/min ramp
    for c in np.array([15.0, 40.0]) + rng.uniform(-5, 5, 2):   # two SCR-like bumps, window 0
        w.eda[0] += 0.2 * np.exp(-((t4 - c) / 1.0) ** 2)
    w.temp[:] = 33.0 - 0.5 * t4 / 60                    # -0.5 °C/min
    w.acc[:, :, 2] = 1.0
    w.acc[1, :, 0] = rng.normal(0, 0.3, 32 * 60)        # window 1 moves
    F = sb.window_features(w)
    f = dict(zip(sb.FEATURES, F.T))
    np.testing.assert_allclose(f["hr_mean"], bpm, rtol=0.02)
    assert (f["hr_std"] < 5).all()
    np.testing.assert_allclose(f["eda_slope"][1:], 0.3, rtol=1e-4)
    np.testing.assert_allclose(f["temp_slope"], -0.5, rtol=1e-4)
    assert f["scr_count"].tolist() == [2, 0, 0]
    assert f["acc_std"][0] == 0 and f["acc_std"][1] > 0.01
    np.testing.assert_allclose(f["bvp_std"], 40 / np.sqrt(2), rtol=0.05)
    np.testing.assert_allclose(f["eda_mean"][1:], 2.15, rtol=1e-3)
    # a flat BVP gives no heart rate, not a crash
    assert np.isnan(sb.window_features(_windows(1))[0, 3])


def test_features_on_real_windows(real):
    _, w, F = real
    assert F.shape == (len(w), len(sb.FEATURES))
    hr = F[:, sb.FEATURES.index("hr_mean")]
    assert np.isfinite(hr).mean() > 0.9
    assert 45 < np.nanmedian(hr) < 120
    other = [i for i, n in enumerate(sb.FEATURES) if not n.startswith("hr_")]
    assert np.isfinite(F[:, other]).all()
    assert (F[:, sb.FEATURES.index("scr_count")] >= 0).all()


@pytest.mark.parametrize("model", sb.MODELS)
@pytest.mark.parametrize("norm", sd.NORMALISATIONS)
def test_loso_scores_finite_and_subject_wise(real, model, norm):
    _, w, F = real
    folds = sd.subject_folds(w, 3, seed=0)
    r = sb.loso_scores(w, folds, model, norm, F)
    assert r["transductive"] == (norm == "session")
    assert [f["subjects"] for f in r["folds"]] == [list(f.subjects) for f in folds]
    assert sorted(s for f in r["folds"] for s in f["subjects"]) == list(PICK)
    p = r["pooled"]
    assert p["n_windows"] == len(w) and p["n_stress"] == int(w.y.sum())
    for m in ("accuracy", "balanced_accuracy", "f1", "auc", "majority"):
        assert 0 <= p[m] <= 1, (m, p[m])
        assert all(0 <= f[m] <= 1 for f in r["folds"])
    assert p["majority"] == pytest.approx(max(w.y.mean(), 1 - w.y.mean()))


def test_no_leak_from_test_labels(real):
    """The test windows' labels never reach the model: flipping them mirrors the AUC."""
    _, w, F = real
    folds = sd.subject_folds(w, 3, seed=0)
    a = sb.loso_scores(w, folds, "lr", "baseline", F)
    for i, fold in enumerate(folds):
        w2 = w.take(np.arange(len(w)))
        w2.y = w.y.copy()
        w2.y[fold.test] = 1 - w2.y[fold.test]
        b = sb.loso_scores(w2, folds, "lr", "baseline", F)
        assert b["folds"][i]["auc"] == pytest.approx(1 - a["folds"][i]["auc"])
    # a fold whose training set holds a test subject is refused
    bad = folds[0].__class__(subjects=folds[0].subjects, train=np.arange(len(w))[::2],
                             test=np.arange(len(w))[1::2])
    with pytest.raises(ValueError, match="in training and test"):
        sb.loso_scores(w, [bad], "lr", "baseline", F)
    with pytest.raises(ValueError, match="model"):
        sb.loso_scores(w, folds, "svm", "baseline", F)


def test_scores_by_hand():
    s = sb.scores([1, 0, 0, 0], [1, 1, 0, 0], [0.9, 0.6, 0.2, 0.1])
    assert s["accuracy"] == 0.75 and s["balanced_accuracy"] == pytest.approx(5 / 6)
    assert s["f1"] == pytest.approx(2 / 3) and s["auc"] == 1.0 and s["majority"] == 0.75
    assert np.isnan(sb.scores([0, 0], [0, 1], [0.1, 0.7])["auc"])


def test_cli(real, tmp_path, capsys):
    d, _, _ = real
    out = tmp_path / "r.json"
    assert sb.main([str(d), "--k", "3", "--models", "lr", "-o", str(out)]) == 0
    text = capsys.readouterr().out
    assert "baseline (causal)" in text and "session (transductive)" in text
    r = json.loads(out.read_text())
    assert r["subjects"] == list(PICK) and len(r["results"]) == 2
    assert sb.main([str(d), "--k", "9"]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and "--k 9" in err[0]
    assert sb.main([str(tmp_path / "none")]) == 2
    assert "not a folder" in capsys.readouterr().err
