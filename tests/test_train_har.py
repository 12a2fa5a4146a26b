"""``python -m sw.train_har`` and ``python -m sw.evaluate`` on a HAR folder (issue 16, items
3-4): a tiny subject-wise run (four real HAPT users, two folds, one epoch, DIN and the CNN),
scored with ``sw.evaluate`` on two other users.

Checks the folder layout, that no subject is in two folds and every subject is held out once,
the metric keys and their consistency with the confusion matrices, the int8 C figure, the C
checks (every held-out window on the host; the final models also under qemu-arm), the README
block, and bad input -> exit 2 with one line, nothing written.
"""

import json
import re

import numpy as np
import pytest

from sw import evaluate, har_data, train_har
from sw.har_metrics import classification_metrics
from tests.har_fixture import hapt_subset

TRAIN_USERS = (1, 3, 5, 6)
EVAL_USERS = (7, 8)


@pytest.fixture(scope="module")
def data(tmp_path_factory):
    return hapt_subset(tmp_path_factory.mktemp("hapt") / "RawData", TRAIN_USERS)


@pytest.fixture(scope="module")
def run(data, tmp_path_factory):
    out = tmp_path_factory.mktemp("har_run") / "model"
    readme = out.parent / "README.md"
    readme.write_text("before\n" + "\n".join(train_har.README_MARKERS) + "\nafter\n")
    rc = train_har.main(["--data", str(data), "--out", str(out), "--folds", "2", "--epochs",
                         "1", "--seed", "4", "--arm-windows", "3", "--readme", str(readme)])
    return rc, out, readme


def test_folder_layout_config_and_readme(run):
    rc, out, readme = run
    assert rc == 0
    for rel in ("model.keras", "din.keras", "cnn.keras", "config.json", "metrics.json",
                "REPORT.md", "plots/confusion_din.png", "plots/confusion_cnn.png",
                "c/har_din.c", "c/har_din.h", "c/har_din_i8.c", "c/har_din_i8.h",
                "c/har_cnn.c", "c/har_cnn_i8.h"):
        assert (out / rel).is_file(), rel
    cfg = json.loads((out / "config.json").read_text())
    assert cfg["kind"] == "har" and cfg["model"] == "din" and cfg["classes"] == 6
    assert cfg["class_names"] == list(har_data.class_names(6))
    assert cfg["window"] == har_data.WINDOW and cfg["hop"] == har_data.HOP
    assert cfg["normalisation"]["kind"] == "frozen_batchnorm"
    text = readme.read_text()
    assert text.startswith("before\n") and text.endswith("after\n")
    assert "| `din` |" in text and "| `cnn` |" in text and "--folds 2" in text


def test_folds_are_subject_wise(run, data):
    _, out, _ = run
    m = json.loads((out / "metrics.json").read_text())
    assert m["evaluation"] == "subject-wise k-fold"
    held = [s for f in m["fold_subjects"] for s in f]
    assert sorted(held) == sorted(TRAIN_USERS)             # each subject held out exactly once
    W = har_data.load_windows(data)
    for name, r in m["models"].items():
        assert [f["subjects"] for f in r["folds"]] == m["fold_subjects"]
        for f in r["folds"]:
            assert f["n_test"] == int(np.isin(W.subject, f["subjects"]).sum())
            assert f["n_train"] + f["n_test"] == len(W)


def test_metrics_are_consistent(run):
    _, out, _ = run
    m = json.loads((out / "metrics.json").read_text())
    names = m["class_names"]
    for name, r in m["models"].items():
        for key in ("pooled", "pooled_int8_c"):
            p = r[key]
            C = np.array(p["confusion"])
            assert C.sum() == m["n_windows"] == p["n_windows"]
            assert np.isclose(p["accuracy"], np.trace(C) / C.sum())
            y = np.repeat(np.arange(len(names)), C.sum(1))
            pred = np.concatenate([np.repeat(np.arange(len(names)), row) for row in C])
            again = classification_metrics(y, pred, names)
            assert np.isclose(again["macro_f1"], p["macro_f1"])
            assert set(p["per_class_f1"]) == set(names)
        assert r["params"] > 1000 and r["macc_per_window"] > r["params"]
        assert r["int8_param_bytes"] < r["float32_param_bytes"]


def test_c_checks(run):
    _, out, _ = run
    m = json.loads((out / "metrics.json").read_text())
    c = m["c"]
    assert c["violations"] == [] and c["arm_checked"]
    folds = {k: v for k, v in c["checks"].items() if "_fold" in k}
    assert len(folds) == 2 * 2 * 2                        # folds x models x weight formats
    assert sum(v["windows"] for k, v in folds.items() if k.startswith("har_din_fold")
               and k.endswith("_i8")) == m["n_windows"]  # every held-out window, once
    for k, v in c["checks"].items():
        if v["weights"] == "float32":
            assert v["max_abs_dp"] <= train_har.C_TOL and v["classes_identical"], k
        else:
            assert v["class_agreement"] >= train_har.INT8_AGREEMENT, k
    finals = {k: v for k, v in c["checks"].items() if "_fold" not in k}
    assert set(finals) == {"har_din", "har_din_i8", "har_cnn", "har_cnn_i8"}
    assert all(v["arm_identical"] is True and v["arm_windows"] == 3 for v in finals.values())


def test_evaluate_on_other_users(run, tmp_path):
    _, out, _ = run
    other = hapt_subset(tmp_path / "other", EVAL_USERS)
    rc = evaluate.main([str(out), "--data", str(other), "--out", str(tmp_path / "ev")])
    assert rc == 0
    r = json.loads((tmp_path / "ev" / "metrics.json").read_text())
    assert r["kind"] == "har"
    W = har_data.load_windows(other)
    assert r["n_windows"] == len(W) and sorted(r["subjects"]) == [str(u) for u in EVAL_USERS]
    for key in ("accuracy", "macro_f1", "per_class_f1", "confusion"):
        assert key in r
    assert np.array(r["confusion"]).sum() == len(W)


@pytest.mark.parametrize("args, msg", [
    (["--data", "/nonexistent"], "--data /nonexistent: no such folder"),
    (["--folds", "9"], "--folds 9: the data has 4 subjects"),
    (["--models", "din,rnn"], "--models"),
    (["--classes", "7"], "--classes"),
    (["--epochs", "0"], "--epochs"),
])
def test_bad_input_exit_2_one_line_nothing_written(args, msg, data, tmp_path, capsys):
    out = tmp_path / "o"
    full = ["--data", str(data), "--out", str(out), "--epochs", "1"] + args
    try:
        rc = train_har.main(full)
    except SystemExit as e:                     # option errors: argparse, one line, status 2
        rc = e.code
    err = capsys.readouterr().err.strip().splitlines()
    assert rc == 2
    assert any(msg in ln for ln in err), err
    assert not out.exists()


def test_refuses_a_folder_it_did_not_write(data, tmp_path, capsys):
    out = tmp_path / "mine"
    out.mkdir()
    (out / "keep.txt").write_text("user data")
    assert train_har.main(["--data", str(data), "--out", str(out)]) == 2
    assert (out / "keep.txt").read_text() == "user data"
    assert "sw.train_har: error:" in capsys.readouterr().err


def test_c_beyond_its_bound_exits_1(run, data, tmp_path, monkeypatch, capsys):
    from tests.c_bound import check_c_beyond_bound_exits_1
    check_c_beyond_bound_exits_1(train_har, run[1], data, tmp_path, monkeypatch, capsys)


def test_twelve_classes_end_to_end(data, tmp_path):
    """--classes 12 (the postural transitions too): trained subject-wise, emitted as C with
    twelve outputs, and scored by sw.evaluate with a 12 x 12 confusion matrix."""
    out = tmp_path / "m12"
    rc = train_har.main(["--data", str(data), "--out", str(out), "--classes", "12", "--models",
                         "cnn", "--folds", "2", "--epochs", "1", "--seed", "5",
                         "--arm-windows", "0"])
    assert rc == 0
    res = json.loads((out / "metrics.json").read_text())
    assert res["classes"] == 12 and len(res["class_names"]) == 12
    assert len(res["models"]["cnn"]["pooled"]["confusion"]) == 12
    cfg = json.loads((out / "config.json").read_text())
    header = (out / cfg["c_int8"]).with_suffix(".h").read_text()
    assert re.search(r"_N_OUT 12\b", header)
    other = hapt_subset(tmp_path / "other", EVAL_USERS)
    assert evaluate.main([str(out), "--data", str(other), "--out", str(tmp_path / "ev")]) == 0
    r = json.loads((tmp_path / "ev" / "metrics.json").read_text())
    assert np.array(r["confusion"]).shape == (12, 12)
    assert np.array(r["confusion"]).sum() == len(har_data.load_windows(other, classes=12))
