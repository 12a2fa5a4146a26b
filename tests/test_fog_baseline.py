"""Freeze-index baseline (:mod:`sw.fog_baseline`) and FoG metrics (:mod:`sw.fog_metrics`).

Band powers and the freeze index on synthetic signals with known answers, the metrics on
hand-made sequences, then the leave-one-subject-out baseline on the real Daphnet recordings
(never skipped), with its figures printed (``pytest -s`` shows them).
"""

import json
import time

import numpy as np
import pytest

from spec.constants import SHARED_DATA
from sw import fog_baseline as fb
from sw import fog_data as fd
from sw.fog_metrics import (
    METRIC_KEYS,
    event_metrics,
    pool_events,
    recording_metrics,
    window_metrics,
)

DATA = SHARED_DATA / "fog-daphnet"
T = np.arange(fd.WINDOW) / fd.FS


def windows_of(signals):
    """Windows whose ankle_y carries each row of ``signals`` (other channels constant)."""
    n = len(signals)
    X = np.zeros((n, fd.WINDOW, 9), np.float32)
    X[:, :, 1] = 1000 + np.asarray(signals)
    return fd.Windows(X=X, y=np.zeros(n, np.int8), fog_fraction=np.zeros(n),
                      file=np.full(n, "syn", object), subject=np.full(n, "syn", object),
                      start=np.arange(n) * 64, start_s=np.arange(n, dtype=float),
                      end_s=np.arange(n) + 2.0, segment=np.zeros(n, np.int32))


# --- band powers and the freeze index ---------------------------------------------------

@pytest.mark.parametrize("f, band", [(1.5, 0), (2.5, 0), (3.0, 1), (6.0, 1), (8.0, 1)])
def test_band_power_of_a_sine_is_half_its_square_amplitude(f, band):
    x = 200 * np.sin(2 * np.pi * f * T)[None, :]
    p = fb.band_powers(x)
    assert p[band][0] == pytest.approx(200 ** 2 / 2, rel=1e-9)
    assert p[1 - band][0] == pytest.approx(0, abs=1e-6)


def test_out_of_band_and_mean_are_ignored():
    x = 500 + 100 * np.sin(2 * np.pi * 12 * T)[None, :]          # 12 Hz: neither band
    loco, freeze = fb.band_powers(x)
    assert loco[0] == pytest.approx(0, abs=1e-6) and freeze[0] == pytest.approx(0, abs=1e-6)


def test_freeze_index_orders_trembling_above_walking():
    rng = np.random.default_rng(5)
    walk = 300 * np.sin(2 * np.pi * 1.5 * T) + 30 * np.sin(2 * np.pi * 6 * T)
    tremble = 60 * np.sin(2 * np.pi * 6 * T) + 30 * np.sin(2 * np.pi * 1.5 * T)
    mixed = 150 * np.sin(2 * np.pi * 1.5 * T) + 150 * np.sin(2 * np.pi * 6 * T)
    noise = rng.normal(0, 5, (3, fd.WINDOW))
    fi, power = fb.freeze_features(windows_of([walk, mixed, tremble] + noise))
    assert fi[0] < 1 < fi[2]
    assert fi[0] < fi[1] < fi[2]
    assert fi[2] == pytest.approx((60 ** 2 / 2) / (30 ** 2 / 2), rel=0.05)
    assert power[0] > power[2]                          # walking moves more
    fi_mag, _ = fb.freeze_features(windows_of([walk, mixed, tremble] + noise), "ankle_mag")
    assert fi_mag[0] < fi_mag[1] < fi_mag[2]


def test_thresholds_validate_and_predict():
    th = fb.Thresholds(2.0, 100.0)
    assert th.predict([1, 3, 3], [500, 500, 50]).tolist() == [False, True, False]
    for bad in ((-1, 0), (1, float("nan")), (float("inf"), 1)):
        with pytest.raises(ValueError):
            fb.Thresholds(*bad)


def test_tune_finds_the_separating_thresholds():
    rng = np.random.default_rng(2)
    # FoG: high FI and moving; walking: low FI; standing: high FI but tiny power
    fi = np.concatenate([rng.uniform(3, 6, 50), rng.uniform(0.1, 1, 200), rng.uniform(3, 6, 80)])
    power = np.concatenate([rng.uniform(500, 900, 50), rng.uniform(500, 5000, 200),
                            rng.uniform(1, 20, 80)])
    y = np.r_[np.ones(50), np.zeros(280)]
    th, score = fb.tune(fi, power, y)                   # quantile grid: close to perfect
    assert score > 0.99 and 1 <= th.fi < 3.5 and th.power < 600
    th, score = fb.tune(fi, power, y, fi_grid=[0.5, 2, 4], power_grid=[0, 100, 1000])
    assert score == 1.0 and (th.fi, th.power) == (2, 100)
    assert th.predict(fi, power).tolist() == y.astype(bool).tolist()
    with pytest.raises(ValueError, match="both"):
        fb.tune(fi, power, np.zeros(len(y)))


# --- metrics ----------------------------------------------------------------------------

def test_window_metrics_by_hand():
    m = window_metrics([1, 1, 1, 0, 0, 0, 0], [1, 1, 0, 1, 0, 0, 0],
                       [0.9, 0.8, 0.3, 0.7, 0.2, 0.1, 0.4])
    assert m["sensitivity"] == pytest.approx(2 / 3)
    assert m["specificity"] == pytest.approx(3 / 4)
    assert m["f1"] == pytest.approx(4 / 6)
    assert m["auc"] == pytest.approx(10 / 12)          # 10 of 12 (pos, neg) pairs in order
    none = window_metrics([0, 0], [0, 1], [0.1, 0.2])
    assert np.isnan(none["sensitivity"]) and np.isnan(none["auc"])
    assert none["specificity"] == 0.5
    with pytest.raises(ValueError):
        window_metrics([0, 2], [0, 1])


def test_event_metrics_by_hand():
    # 2 s windows every 1 s: window k spans [k, k + 2)
    start = np.arange(10.0)
    y = [0, 0, 1, 1, 1, 0, 0, 0, 0, 0]
    pred = [0, 0, 0, 1, 1, 0, 0, 1, 0, 0]
    m = event_metrics(y, pred, start, start + 2)
    assert m["episodes_total"] == 1 and m["episodes_detected"] == 1   # episode [2, 6)
    assert m["latency_median_s"] == pytest.approx(5 - 2)              # window [3, 5) ends at 5
    assert m["false_alarms"] == 1                                     # window [7, 9)
    assert m["non_fog_hours"] == pytest.approx((11 - 4) / 3600)
    assert m["false_alarms_per_hour"] == pytest.approx(3600 / 7)
    # with sample-level episodes given: the second one is missed
    m = event_metrics(y, pred, start, start + 2, episodes=[(3.5, 5.5), (9.5, 10.5)])
    assert (m["episodes_total"], m["episodes_detected"]) == (2, 1)
    assert m["latency_median_s"] == pytest.approx(5 - 3.5)
    assert m["false_alarms"] == 1


def test_event_metrics_runs_split_at_gaps_and_latency_median():
    # two segments: windows [0,2) [1,3) [2,4) and, after a gap, [100,102) [101,103)
    start = np.array([0.0, 1, 2, 100, 101])
    y = [0, 0, 0, 0, 0]
    pred = [0, 0, 1, 1, 0]                              # adjacent in order, not in time
    m = event_metrics(y, pred, start, start + 2)
    assert m["false_alarms"] == 2 and m["episodes_total"] == 0
    assert np.isnan(m["latency_median_s"])
    assert m["non_fog_hours"] == pytest.approx(7 / 3600)
    eps = [(0.5, 1.0), (2.5, 3.0), (100.2, 100.5)]
    m = event_metrics(y, [1, 0, 1, 1, 0], start, start + 2, episodes=eps)
    assert m["episodes_detected"] == 3 and m["false_alarms"] == 0
    assert m["latencies_s"] == pytest.approx([1.5, 1.5, 1.8])
    assert m["latency_median_s"] == pytest.approx(1.5)
    pooled = pool_events([m, event_metrics(y, pred, start, start + 2)])
    assert (pooled["episodes_total"], pooled["false_alarms"]) == (3, 2)
    assert pooled["non_fog_hours"] == pytest.approx(m["non_fog_hours"] + 7 / 3600)


def test_recording_metrics_has_every_key():
    start = np.arange(6.0)
    m = recording_metrics([0, 1, 1, 0, 0, 0], [0.1, 0.8, 0.6, 0.3, 0.2, 0.55], start,
                          start + 2, threshold=0.5)
    assert set(METRIC_KEYS) <= set(m)
    assert (m["sensitivity"], m["specificity"], m["auc"]) == (1.0, 0.75, 1.0)
    assert (m["episodes_detected"], m["false_alarms"]) == (1, 1)


# --- the real recordings ----------------------------------------------------------------

@pytest.fixture(scope="module")
def real():
    assert DATA.is_dir(), f"{DATA} is missing (the Daphnet FoG recordings, see its README)"
    recs = [fd.read_recording(f) for f in fd.find_recordings(DATA)]
    return recs, fd.Windows.concat([fd.make_windows(r) for r in recs])


def test_loso_baseline_on_daphnet(real, capsys):
    recs, w = real
    t0 = time.perf_counter()
    res = fb.loso(w, episodes={r.name: fd.fog_episodes(r) for r in recs})
    seconds = time.perf_counter() - t0
    with capsys.disabled():
        print(f"\n{fb._table(res)}\n(loso: {seconds:.1f} s)")
    assert seconds < 60
    assert [f["subject"] for f in res["folds"]] == [1, 2, 3]
    for f in res["folds"]:
        assert set(METRIC_KEYS) <= set(f)
        assert f["auc"] > 0.6 and f["specificity"] > 0.6
        assert f["episodes_detected"] <= f["episodes_total"]
    p = res["pooled"]
    assert p["n_windows"] == sum(f["n_windows"] for f in res["folds"])
    assert p["episodes_total"] == sum(len(fd.fog_episodes(r)) for r in recs)
    assert 0.6 < p["auc"] < 1 and 0.3 < p["sensitivity"] and 0.7 < p["specificity"]


def test_loso_thresholds_never_see_the_held_out_subject(real):
    _, w = real
    res = fb.loso(w)
    scrambled = w.take(np.arange(len(w)))
    scrambled.X = scrambled.X.copy()
    rng = np.random.default_rng(0)
    for f in res["folds"]:
        held = scrambled.subject == f["subject"]
        scrambled.X[held] = rng.normal(0, 300, scrambled.X[held].shape)
        again = next(g for g in fb.loso(scrambled)["folds"] if g["subject"] == f["subject"])
        assert (again["fi_threshold"], again["power_threshold"]) == \
            (f["fi_threshold"], f["power_threshold"])
        scrambled.X[held] = w.X[held]


def test_cli_writes_json(real, tmp_path, capsys):
    out = tmp_path / "fog.json"
    assert fb.main([str(DATA), "-o", str(out), "--axis", "ankle_y"]) == 0
    text = capsys.readouterr().out
    assert "pooled" in text and f"wrote {out}" in text
    res = json.loads(out.read_text())
    assert [f["subject"] for f in res["folds"]] == [1, 2, 3]
    assert res["recordings"][0] == "S01R02"
    assert fb.main([str(DATA), "-o", str(tmp_path / "no" / "x.json")]) == 2
    assert "does not exist" in capsys.readouterr().err
    # a single recording without the other subjects: no fold can be tuned
    assert fb.main([str(DATA / "S01R02.txt.gz")]) == 2
    assert "both FoG and non-FoG" in capsys.readouterr().err
