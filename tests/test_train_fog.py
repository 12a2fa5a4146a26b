"""``python -m sw.train_fog`` (issue 15, items 2-3): a tiny leave-one-subject-out run on three
real Daphnet recordings (subjects 1 and 2 with FoG, 6 without), the default logspec model, one
epoch, one fine-tuning epoch per pruning step, the pruned int8 model deployed.

Checks the folder layout other tools read (model.keras, config.json, c/, plots/), that no window
of a held-out subject is in its fold's training set (the recorded indexes of folds.npz), the
metric keys, the four measured compression steps, the emitted C against the saved Keras models
on the held-out windows (float32 max |dp| <= 1e-5 and identical labels; int8 labels >= 99.5 %
equal), every C check also run under qemu-arm, the README block, and bad input -> exit 2 with
one line.
"""

import json
import shutil

import numpy as np
import pytest

from spec.constants import SHARED_DATA
from sw import c_build, fog_data, train_fog
from sw.fog_metrics import METRIC_KEYS

FILES = ("S01R02.txt.gz", "S02R01.txt.gz", "S06R02.txt.gz")


@pytest.fixture(scope="module")
def data(tmp_path_factory):
    d = tmp_path_factory.mktemp("fog_data")
    for name in FILES:
        shutil.copy(SHARED_DATA / "fog-daphnet" / name, d / name)
    return d


@pytest.fixture(scope="module")
def run(data, tmp_path_factory):
    out = tmp_path_factory.mktemp("fog_run") / "model"
    rc = train_fog.main(["--data", str(data), "--out", str(out), "--epochs", "1",
                         "--model", "logspec", "--seed", "3", "--prune-epochs", "1",
                         "--deploy", "pruned_int8"])
    return rc, out


def test_folder_layout_and_config(run):
    rc, out = run
    assert rc == 0
    for rel in ("model.keras", "model_pruned.keras", "config.json", "metrics.json",
                "folds.npz", "REPORT.md", "c/fog_detector.c", "c/fog_detector.h",
                "c/fog_detector_i8.c", "c/fog_detector_i8.h", "plots/roc.png",
                "plots/timeline_S01R02.png", "plots/timeline_S02R01.png"):
        assert (out / rel).is_file(), rel
    cfg = json.loads((out / "config.json").read_text())
    assert cfg["kind"] == "fog" and cfg["model"] == "logspec" and cfg["seed"] == 3
    assert cfg["window"] == fog_data.WINDOW and cfg["hop"] == fog_data.HOP
    assert cfg["channels"] == list(fog_data.CHANNELS)
    assert cfg["normalisation"]["kind"] == "frozen_batchnorm"
    assert 0 < cfg["threshold"] < 1
    report = (out / "REPORT.md").read_text()
    assert "freeze index" in report and "0.994" in report


def test_held_out_subject_never_in_training(run, data):
    _, out = run
    z = np.load(out / "folds.npz")
    subj = z["window_subject"]
    W = fog_data.load_windows([data])
    assert len(subj) == len(W) and (subj == W.subject.astype(str)).all()
    held = sorted(k[5:] for k in z.files if k.startswith("test_"))
    assert held == ["1", "2"]                       # subject 6 has no FoG: never held out
    for s in held:
        train, test = z[f"train_{s}"], z[f"test_{s}"]
        assert len(test) and (subj[test] == s).all()
        assert not (subj[train] == s).any()
        assert not set(train.tolist()) & set(test.tolist())
        assert len(train) + len(test) == len(subj)  # every other subject's windows train


def test_metrics_keys(run):
    _, out = run
    m = json.loads((out / "metrics.json").read_text())
    assert m["evaluation"] == "leave-one-subject-out"
    assert [f["subject"] for f in m["folds"]] == [1, 2]
    for part in [*m["folds"], m["pooled"], m["baseline"]["pooled"]]:
        for k in METRIC_KEYS:
            assert k in part, k
    assert m["pooled"]["n_windows"] == sum(f["n_windows"] for f in m["folds"])
    assert not m["c"]["violations"]


def test_c_equals_keras_on_held_out_windows(run, data, tmp_path):
    from sw.classifiers import quiet_tensorflow
    keras = quiet_tensorflow()
    _, out = run
    cfg = json.loads((out / "config.json").read_text())
    z = np.load(out / "folds.npz")
    W = fog_data.load_windows([data])
    idx = np.concatenate([z[k] for k in z.files if k.startswith("test_")])
    X = W.X[idx]
    model = keras.models.load_model(out / "model.keras")
    p = model.predict(X, verbose=0)[:, 0].astype(np.float64)
    for ext in ("c", "h"):
        shutil.copy(out / "c" / f"fog_detector.{ext}", tmp_path / f"fog_detector.{ext}")
    exe = c_build.build_sequence(str(tmp_path), ["fog_detector"], str(tmp_path / "seq"))
    yc, _ = c_build.run_sequence(exe, "fog_detector", X)
    d = float(np.max(np.abs(yc[:, 0] - p)))
    print(f"fog_detector C vs Keras on {len(X)} held-out windows: max |dp| = {d:.3g}")
    assert d <= train_fog.C_TOL
    th = cfg["threshold"]
    assert np.array_equal(yc[:, 0] >= th, p >= th)
    m = json.loads((out / "metrics.json").read_text())
    for name, c in m["c"]["checks"].items():
        if c["weights"] == "float32":
            assert c["max_abs_dp"] <= train_fog.C_TOL and c["labels_identical"], name


def test_compression_steps_measured(run):
    """float32, int8, pruned float32 (CSR), pruned int8: each with its leave-one-subject-out
    figures and Cortex-A9 bytes; pruning reaches 80 % of every prunable kernel; the pruned
    int8 C is the smallest; every C check ran on the host and under qemu-arm too."""
    _, out = run
    m = json.loads((out / "metrics.json").read_text())
    steps = m["compression"]["steps"]
    assert [s["weights"] for s in steps] == ["float32", "int8", "float32", "int8"]
    assert [s["pruned"] for s in steps] == [False, False, True, True]
    for s in steps:
        for k in ("sensitivity", "specificity", "f1", "auc"):
            assert 0 <= s[k] <= 1, (s["step"], k)
        assert s["arm"]["flash"] > 0 and s["arm"]["ram"] >= s["arm"]["arena_bytes"] > 0
    assert steps[0]["sparsity"] < 0.05 and 0.79 <= steps[2]["sparsity"] <= 0.81
    assert steps[2]["arm"]["sparse_layers"] > 0
    flash = [s["arm"]["flash"] for s in steps]
    assert flash[3] == min(flash) and flash[2] < flash[0] and flash[1] < flash[0]
    checks = m["c"]["checks"]
    assert {"fog_fold1", "fog_fold1_i8", "fog_fold1_pruned", "fog_fold1_pruned_i8",
            "fog_detector", "fog_detector_i8"} <= set(checks)
    for name, c in checks.items():
        assert c["arm_identical"] is True, name
        if c["weights"] == "int8":
            print(f"{name}: int8 labels equal to Keras on {100 * c['label_agreement']:.2f}%")
            assert c["label_agreement"] >= train_fog.INT8_AGREEMENT, name
    report = (out / "REPORT.md").read_text()
    assert "## Compression steps" in report and "420.91" in report


def test_int8_c_is_the_pruned_model(run, data, tmp_path):
    """c/fog_detector_i8.c against model_pruned.keras on every window: int8 labels equal on
    >= 99.5 %, and the pruned model really has 80 % zeros in its prunable kernels."""
    from sw import fog_compress
    from sw.classifiers import quiet_tensorflow
    keras = quiet_tensorflow()
    _, out = run
    cfg = json.loads((out / "config.json").read_text())
    model = keras.models.load_model(out / "model_pruned.keras")
    assert 0.79 <= fog_compress.sparsity(model) <= 0.81
    W = fog_data.load_windows([data])
    p = model.predict(W.X, verbose=0)[:, 0].astype(np.float64)
    for ext in ("c", "h"):
        shutil.copy(out / "c" / f"fog_detector_i8.{ext}", tmp_path / f"fog_detector_i8.{ext}")
    exe = c_build.build_sequence(str(tmp_path), ["fog_detector_i8"], str(tmp_path / "seq"))
    yc, _ = c_build.run_sequence(exe, "fog_detector_i8", W.X)
    th = cfg["threshold"]
    agree = float(np.mean((yc[:, 0] >= th) == (p >= th)))
    print(f"fog_detector_i8 vs pruned Keras on {len(p)} windows: labels equal on "
          f"{100 * agree:.2f}%, max |dp| {np.max(np.abs(yc[:, 0] - p)):.3g}")
    assert agree >= train_fog.INT8_AGREEMENT


def test_bad_prune(capsys):
    for bad in (["--prune", "1"], ["--prune", "-0.1"], ["--prune-epochs", "0"],
                ["--prune", "0", "--deploy", "pruned_int8"]):
        with pytest.raises(SystemExit) as e:
            train_fog.main(bad)
        assert e.value.code == 2
        _one_line_error(capsys)


def _one_line_error(capsys):
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and err[0].startswith("sw.train_fog: error: "), err
    return err[0]


def test_missing_data_folder(tmp_path, capsys):
    rc = train_fog.main(["--data", str(tmp_path / "nope"), "--out", str(tmp_path / "o")])
    assert rc == 2
    assert "nope" in _one_line_error(capsys)
    assert not (tmp_path / "o").exists()


def test_foreign_out_folder_refused(tmp_path, data, capsys):
    out = tmp_path / "o"
    out.mkdir()
    (out / "mine.txt").write_text("keep")
    rc = train_fog.main(["--data", str(data), "--out", str(out), "--epochs", "1"])
    assert rc == 2
    assert "not empty" in _one_line_error(capsys)
    assert sorted(p.name for p in out.iterdir()) == ["mine.txt"]


def test_own_output_needs_force(run, data, capsys):
    _, out = run
    capsys.readouterr()
    rc = train_fog.main(["--data", str(data), "--out", str(out), "--epochs", "1"])
    assert rc == 2
    assert "--force" in _one_line_error(capsys)


def test_bad_epochs(capsys):
    with pytest.raises(SystemExit) as e:
        train_fog.main(["--epochs", "0"])
    assert e.value.code == 2
    _one_line_error(capsys)


def test_readme_block_from_the_run(run, tmp_path):
    """--readme: the block between the model's markers is rewritten from metrics.json (the
    command, the pooled leave-one-subject-out figures, the deployed C's bytes) and nothing
    else of the file changes; no markers -> False, file untouched. The project's
    docs/wearable-models.md has the markers of both topologies."""
    from spec.constants import ROOT
    _, out = run
    res = json.loads((out / "metrics.json").read_text())
    assert res["command"].startswith("python -m sw.train_fog --data ")
    block = train_fog.readme_block(res)
    assert res["command"] in block and "leave-one-subject-out" in block
    assert f"{res['pooled']['sensitivity']:.3f}" in block
    assert f"{res['compression']['steps'][3]['arm']['flash']} B Flash" in block
    start, end = train_fog.readme_markers("logspec")
    readme = tmp_path / "R.md"
    readme.write_text(f"# x\n\nbefore\n{start}\nold\n{end}\nafter\n")
    assert train_fog.update_readme(readme, res)
    text = readme.read_text()
    assert text == f"# x\n\nbefore\n{start}\n{block}{end}\nafter\n"
    other = tmp_path / "O.md"
    other.write_text("no markers\n")
    assert not train_fog.update_readme(other, res)
    assert other.read_text() == "no markers\n"
    project = (ROOT / "docs" / "wearable-models.md").read_text()
    for model in ("logspec", "yi_hwang"):
        for m in train_fog.readme_markers(model):
            assert project.count(m) == 1, m


def test_c_beyond_its_bound_exits_1(run, data, tmp_path, monkeypatch, capsys):
    from tests.c_bound import check_c_beyond_bound_exits_1
    check_c_beyond_bound_exits_1(train_fog, run[1], data, tmp_path, monkeypatch, capsys)


def test_goal_line_is_judged_from_the_pooled_figures(run):
    _, out = run
    res = json.loads((out / "metrics.json").read_text())
    line = train_fog.goal_line(res)
    p, g = res["pooled"], train_fog.GOAL
    met = all(p[k] >= g[k] for k in ("sensitivity", "specificity", "auc"))
    assert (": met (" in line) == met and (": not met (" in line) == (not met)
    assert f"{p['sensitivity']:.3f} / {p['specificity']:.3f} / {p['auc']:.3f}" in line
    assert "0.731 / 0.816" in line and line in train_fog.readme_block(res)
    assert line in train_fog.report_md(res, [])
    res["pooled"].update(sensitivity=0.9, specificity=0.95, auc=0.95)
    assert ": met (0.900 / 0.950 / 0.950)" in train_fog.goal_line(res)


def test_the_trained_folder_feeds_evaluate_and_fog_detect(run, data, tmp_path):
    """The documented chain on a real train_fog folder: sw.evaluate writes every key the
    issue names; sw.fog_detect gives the same episodes with both engines."""
    from sw import evaluate, fog_detect
    _, out = run
    assert evaluate.main([str(out), "--data", str(data), "--out", str(tmp_path / "ev")]) == 0
    m = json.loads((tmp_path / "ev" / "metrics.json").read_text())
    for key in ("sensitivity", "specificity", "f1", "auc", "episodes_total",
                "episodes_detected", "false_alarms_per_hour", "latency_median_s"):
        assert key in m, key
    assert m["episodes_total"] > 0
    rec = data / "S02R01.txt.gz"
    csvs = {}
    for engine in fog_detect.ENGINES:
        dest = tmp_path / f"{engine}.csv"
        assert fog_detect.main([str(rec), "--model", str(out), "--engine", engine,
                                "--out", str(dest)]) == 0
        csvs[engine] = dest.read_text()
    assert csvs["python"] == csvs["c"] and csvs["c"].startswith("start_s,end_s,peak_p\n")
