"""``python -m sw.train_stress`` and ``python -m sw.evaluate`` on a stress folder (issue 17,
items 3-4): a tiny leave-subjects-out run (four real Stress-Predict subjects, two folds, one
epoch), scored with ``sw.evaluate`` on a fifth subject.

Checks the folder layout, that the folds are subject-wise, the metric keys and the baseline
beside EmoHeal on the same folds, the C checks (every held-out window on the host, the final
model also under qemu-arm), the README block, and bad input -> exit 2, nothing written.
"""

import json

import numpy as np
import pytest

from sw import evaluate, stress_data, train_stress
from tests.test_stress_data import copy_subjects

TRAIN = (2, 3, 4, 5)
OTHER = (7,)
KEYS = ("accuracy", "balanced_accuracy", "f1", "auc", "majority")


@pytest.fixture(scope="module")
def data(tmp_path_factory):
    return copy_subjects(tmp_path_factory.mktemp("stress") / "data", TRAIN)


@pytest.fixture(scope="module")
def run(data, tmp_path_factory):
    out = tmp_path_factory.mktemp("stress_run") / "model"
    readme = out.parent / "README.md"
    readme.write_text("a\n" + "\n".join(train_stress.README_MARKERS) + "\nb\n")
    rc = train_stress.main(["--data", str(data), "--out", str(out), "--folds", "2",
                            "--epochs", "1", "--seed", "2", "--arm-windows", "2",
                            "--readme", str(readme)])
    return rc, out, readme


def test_layout_config_readme(run):
    rc, out, readme = run
    assert rc == 0
    for rel in ("model.keras", "config.json", "metrics.json", "REPORT.md", "plots/roc.png",
                "c/stress_emoheal.c", "c/stress_emoheal.h", "c/stress_emoheal_i8.c",
                "c/stress_emoheal_i8.h"):
        assert (out / rel).is_file(), rel
    cfg = json.loads((out / "config.json").read_text())
    assert cfg["kind"] == "stress" and cfg["window_s"] == stress_data.WINDOW_S
    assert cfg["normalisation"] == {"mode": "baseline", "transductive": False,
                                    "baseline_s": stress_data.BASELINE_S}
    assert [i["name"] for i in cfg["inputs"]] == ["bvp", "acc", "eda", "temp"]
    h = (out / "c" / "stress_emoheal_i8.h").read_text()
    assert "#define STRESS_EMOHEAL_I8_IN1_OFFSET 3840" in h       # acc after 60 s of BVP
    text = readme.read_text()
    assert text.startswith("a\n") and text.endswith("b\n") and "| balanced accuracy |" in text
    assert "leave-subjects-out" in (out / "REPORT.md").read_text()


def test_folds_subject_wise_and_metrics(run, data):
    _, out, _ = run
    m = json.loads((out / "metrics.json").read_text())
    assert m["evaluation"] == "leave-subjects-out" and not m["transductive"]
    held = sorted(s for f in m["fold_subjects"] for s in f)
    assert held == list(TRAIN)
    W = stress_data.load_windows(data)
    assert m["n_windows"] == len(W) and m["n_stress"] == int(W.y.sum())
    e = m["emoheal"]
    for key in ("pooled", "pooled_int8_c"):
        for k in KEYS:
            assert k in e[key]
        assert e[key]["n_windows"] == len(W)
        assert np.isclose(e[key]["majority"], max(W.y.mean(), 1 - W.y.mean()))
    for name in ("lr", "rf"):
        b = m["baseline"][name]
        assert [f["subjects"] for f in b["folds"]] == m["fold_subjects"]
        assert b["pooled"]["n_windows"] == len(W)
    assert e["params"] > 1000 and e["int8_param_bytes"] < e["float32_param_bytes"]
    rings = sum(2 * fs * m["window_s"] * ch for fs, ch in ((64, 1), (32, 3), (4, 1), (4, 1)))
    assert e["stream_bytes"] > 4 * rings


def test_c_checks(run):
    _, out, _ = run
    c = json.loads((out / "metrics.json").read_text())["c"]
    assert c["violations"] == [] and c["arm_checked"]
    folds = {k: v for k, v in c["checks"].items() if "_fold" in k}
    assert len(folds) == 4
    m = json.loads((out / "metrics.json").read_text())
    assert sum(v["windows"] for k, v in folds.items() if not k.endswith("_i8")) \
        == m["n_windows"]                             # every held-out window, once
    finals = {k: v for k, v in c["checks"].items() if "_fold" not in k}
    assert set(finals) == {"stress_emoheal", "stress_emoheal_i8"}
    assert all(v["arm_identical"] is True and v["arm_windows"] == 2 for v in finals.values())
    assert finals["stress_emoheal"]["max_abs_dp"] <= train_stress.C_TOL


def test_evaluate_other_subject(run, tmp_path):
    _, out, _ = run
    other = copy_subjects(tmp_path / "other", OTHER)
    assert evaluate.main([str(out), "--data", str(other), "--out", str(tmp_path / "ev")]) == 0
    r = json.loads((tmp_path / "ev" / "metrics.json").read_text())
    assert r["kind"] == "stress" and list(r["subjects"]) == ["7"]
    for k in ("accuracy", "balanced_accuracy", "f1", "auc", "majority_rate"):
        assert k in r
    assert r["n_windows"] == len(stress_data.load_windows(other))


@pytest.mark.parametrize("args, msg", [
    (["--data", "/nonexistent"], "--data /nonexistent: no such folder"),
    (["--folds", "7"], "--folds 7: the data has 4 labelled subjects"),
    (["--norm", "future"], "--norm"),
    (["--epochs", "0"], "--epochs"),
])
def test_bad_input(args, msg, data, tmp_path, capsys):
    out = tmp_path / "o"
    try:
        rc = train_stress.main(["--data", str(data), "--out", str(out), "--epochs", "1"] + args)
    except SystemExit as e:
        rc = e.code
    err = capsys.readouterr().err
    assert rc == 2 and msg in err, err
    assert not out.exists()


def test_c_beyond_its_bound_exits_1(run, data, tmp_path, monkeypatch, capsys):
    from tests.c_bound import check_c_beyond_bound_exits_1
    check_c_beyond_bound_exits_1(train_stress, run[1], data, tmp_path, monkeypatch, capsys)
