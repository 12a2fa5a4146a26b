"""``python -m sw.evaluate`` (issue 15, item 4): dispatch on config.json ``kind`` (registry),
the FoG evaluator on a real Daphnet recording (metrics.json keys, pooled == per recording for
one recording, progress line), OutputFolder rules, and one-line exit-2 errors.

The model folder is the tiny model of tests/test_fog_detect.py with ``"window"``
normalisation over all nine channels; the C of the window API is checked against Keras too
(the path ``--engine c`` of ``sw.fog_detect`` takes for a normalised model).
"""

import json
import shutil

import numpy as np
import pytest

from spec.outputs import MARKER
from sw import evaluate, fog_data, fog_detect
from sw.evaluate import main
from tests.test_fog_detect import DAPHNET, TOL, make_model_dir

#: the shortest Daphnet recording (with freezes)
RECORDING = "S03R02.txt.gz"
KEYS = ("sensitivity", "specificity", "f1", "auc", "episodes_total", "episodes_detected",
        "false_alarms_per_hour", "latency_median_s")


@pytest.fixture(scope="module")
def data(tmp_path_factory):
    d = tmp_path_factory.mktemp("daphnet")
    shutil.copyfile(DAPHNET / RECORDING, d / RECORDING)
    return d


@pytest.fixture(scope="module")
def model_dir(tmp_path_factory, data):
    return make_model_dir(tmp_path_factory.mktemp("fogeval") / "model",
                          channels=fog_data.CHANNELS, normalisation="window",
                          recording=data / RECORDING, seed=1)


def test_fog_evaluation(model_dir, data, tmp_path, capsys):
    assert main([str(model_dir), "--data", str(data)]) == 0
    err = capsys.readouterr().err
    assert "[1/1] S03R02:" in err
    out = model_dir / "evaluation"
    m = json.loads((out / "metrics.json").read_text())
    assert (out / MARKER).read_text().splitlines() == ["sw.evaluate", "metrics.json"]
    for k in KEYS:
        assert k in m and k in m["recordings"]["S03R02"], k
    rec = fog_data.read_recording(data / RECORDING)
    assert m["episodes_total"] == len(fog_data.fog_episodes(rec)) > 0
    for k in KEYS:                                   # one recording: pooled == per recording
        assert m[k] == pytest.approx(m["recordings"]["S03R02"][k], nan_ok=True), k
    assert 0 <= m["sensitivity"] <= 1 and 0 <= m["auc"] <= 1
    print({k: m[k] for k in KEYS})
    # its own output again: only with --force; a folder of someone else: never
    text = (out / "metrics.json").read_text()
    assert main([str(model_dir), "--data", str(data)]) == 2
    assert "--force" in capsys.readouterr().err
    assert main([str(model_dir), "--data", str(data), "--force"]) == 0
    assert (out / "metrics.json").read_text() == text
    mine = tmp_path / "mine"
    mine.mkdir()
    (mine / "notes.txt").write_text("keep")
    capsys.readouterr()
    assert main([str(model_dir), "--data", str(data), "--out", str(mine)]) == 2
    assert len(capsys.readouterr().err.strip().splitlines()) == 1
    assert sorted(p.name for p in mine.iterdir()) == ["notes.txt"]
    assert main([str(model_dir), "--data", str(data / RECORDING), "--out",
                 str(tmp_path / "new" / "eval")]) == 0
    assert json.loads((tmp_path / "new" / "eval" / "metrics.json").read_text())["f1"] == m["f1"]


def test_c_window_api_matches_keras(model_dir, data):
    model = fog_detect.load_model(model_dir)
    rec = fog_data.read_recording(data / RECORDING)
    w = fog_detect.recording_windows(rec, model)
    p_py = fog_detect.predict_python(model, fog_detect.prepare(w, model))
    p_c = fog_detect.predict_c(model, rec, w)
    assert np.abs(p_c - p_py).max() <= TOL
    assert fog_detect.format_csv(fog_detect.episodes(w, p_c, model.threshold)) == \
        fog_detect.format_csv(fog_detect.episodes(w, p_py, model.threshold))


def test_registry_dispatch(tmp_path, monkeypatch, data):
    d = tmp_path / "har"
    d.mkdir()
    (d / "config.json").write_text('{"kind": "dummy"}')
    calls = []

    def dummy(model_dir, config, data_, progress):
        calls.append((str(model_dir), config["kind"], str(data_)))
        return {"accuracy": float("nan"), "n": np.int64(3)}
    monkeypatch.setitem(evaluate.EVALUATORS, "dummy", dummy)
    assert main([str(d), "--data", str(data)]) == 0
    assert calls == [(str(d), "dummy", str(data))]
    assert json.loads((d / "evaluation" / "metrics.json").read_text()) == \
        {"accuracy": None, "n": 3}


def test_bad_input(model_dir, tmp_path, data, capsys):
    nocfg = tmp_path / "nocfg"
    nocfg.mkdir()
    unknown = tmp_path / "unknown"
    unknown.mkdir()
    (unknown / "config.json").write_text('{"kind": "teleport"}')
    broken = tmp_path / "broken"
    broken.mkdir()
    (broken / "config.json").write_text("{not json")
    cases = [([str(nocfg), "--data", str(data)], "config.json"),
             ([str(unknown), "--data", str(data)], "config.json"),
             ([str(broken), "--data", str(data)], "config.json"),
             ([str(tmp_path / "absent"), "--data", str(data)], "absent"),
             ([str(model_dir), "--data", str(tmp_path / "nodata"), "--out",
               str(tmp_path / "o1")], "nodata"),
             ([str(model_dir), "--data", str(nocfg), "--out", str(tmp_path / "o2")], "nocfg")]
    for argv, needle in cases:
        capsys.readouterr()
        assert main(argv) == 2, argv
        err = capsys.readouterr().err.strip()
        assert len(err.splitlines()) == 1 and needle in err, (argv, err)
    assert not (tmp_path / "o1").exists() and not (tmp_path / "o2").exists()
    assert not (nocfg / "evaluation").exists()
