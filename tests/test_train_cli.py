"""``python -m sw.train_dnn`` / ``sw.train_all``: outputs, bad input, metrics, tuning (small
cohort)."""

import json
import os

import numpy as np
import pandas as pd
import pytest

from sw import train_all, train_dnn
from sw.cohort import MUSCULAR_COLUMNS, read_cohort
from sw.wo_metrics import metrics


def test_metrics_by_hand():
    y = np.array([1, 1, 1, 1, 0, 0, 0, 0, 0, 0])
    lab = np.array([1, 1, 1, 0, 0, 0, 0, 0, 1, 1])
    score = np.array([.9, .8, .7, .2, .1, .3, .2, .1, .6, .75])
    m = metrics(y, lab, score)
    assert (m["tp"], m["fn"], m["fp"], m["tn"]) == (3, 1, 2, 4)
    assert m["accuracy"] == pytest.approx(70.0)
    assert m["recall"] == pytest.approx(75.0)
    assert m["precision"] == pytest.approx(60.0)
    assert m["f1"] == pytest.approx(100 * 6 / 9)
    # AUC by counting concordant (Pre, Post) score pairs
    pos, neg = score[y == 1], score[y == 0]
    auc = np.mean([(p > n) + 0.5 * (p == n) for p in pos for n in neg])
    assert m["auc"] == pytest.approx(auc)


def test_train_dnn_writes_a_complete_folder(small_cohort, tmp_path, capsys):
    out = tmp_path / "dnn4"
    assert train_dnn.main(["--cohort", str(small_cohort), "--out", str(out), "--epochs", "4",
                           "--seed", "2"]) == 0
    for fn in ("dnn4.keras", "metrics.json", "dnn4_confusion_roc.png", "table1.md", "table6.md",
               "report.md", "c/wo_dnn4_f32.c", "c/wo_dnn4_f32.h", "c/wo_dnn4_i8.c",
               "c/wo_dnn4_i8.h", "c/wo_predict_main.c"):
        assert (out / fn).is_file(), fn
    assert not [p for p in os.listdir(tmp_path) if "partial" in p or ".old-" in p]
    m = json.loads((out / "metrics.json").read_text())
    assert m["dataset"]["synthetic"] is True and m["dataset"]["train_subjects"]
    assert set(m["dataset"]["train_subjects"]).isdisjoint(m["dataset"]["test_subjects"])
    assert m["c"]["wo_dnn4_f32"]["label_agreement"] == 1.0
    assert m["c"]["wo_dnn4_f32"]["max_abs_dscore"] <= 1e-5
    assert m["c"]["wo_dnn4_i8"]["int8_model_identical"] is True
    assert len(m["cv"]["val_accuracy"]) == 4
    n = len(m["dataset"]["features"])
    assert m["complexity"]["wo_dnn4_f32"]["macc"] == n + 32 * n + 32
    report = (out / "report.md").read_text()
    assert "SYNTHETIC" in report and "Table 4" in report and "Table 6" in report
    assert (out / "dnn4_confusion_roc.png").read_bytes()[:4] == b"\x89PNG"
    assert "test accuracy" in capsys.readouterr().out


def test_train_all_subset(small_cohort, tmp_path):
    out = tmp_path / "cls"
    assert train_all.main(["--cohort", str(small_cohort), "--out", str(out),
                           "--models", "tree,knn"]) == 0
    t4 = pd.read_csv(out / "table4.csv")
    assert list(t4["model"]) == ["tree", "knn"]
    assert ((t4["accuracy"] > 0) & (t4["accuracy"] <= 100)).all()
    assert (t4["tp"] + t4["tn"] + t4["fp"] + t4["fn"]).nunique() == 1
    t6 = (out / "table6.md").read_text()
    assert "wo_tree" in t6 and "wo_knn" in t6
    assert (out / "c" / "wo_knn.c").is_file() and (out / "knn_confusion_roc.png").is_file()


# ---------------------------------------------------------------- bad input

def _user_csvs(small_cohort, tmp_path, mutate=None, sessions=("pre", "post")):
    df = read_cohort(str(small_cohort))
    df = df[df["session"].isin(sessions)]
    cols = ["subject", "session", "leg", "start_s"] + list(MUSCULAR_COLUMNS)
    paths = []
    for sid, g in df.groupby("subject"):
        g = g[cols].copy()
        if mutate:
            g = mutate(g)
        p = tmp_path / f"{sid}.csv"
        g.to_csv(p, index=False)
        paths.append(str(p))
    return paths


def _fails(capsys, argv, text):
    assert train_dnn.main(argv) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and err[0].startswith("sw.train_dnn: error:") and text in err[0], err


def test_user_features_train(small_cohort, tmp_path):
    paths = _user_csvs(small_cohort, tmp_path)
    out = tmp_path / "o"
    assert train_dnn.main(["--features", *paths, "--train", "S1,S3,S4", "--out", str(out),
                           "--epochs", "2"]) == 0
    m = json.loads((out / "metrics.json").read_text())
    assert m["dataset"]["source"] == "features" and m["dataset"]["synthetic"] is False
    assert m["dataset"]["test_subjects"] == ["S2", "S5"]


def test_missing_column(small_cohort, tmp_path, capsys):
    paths = _user_csvs(small_cohort, tmp_path, lambda g: g.drop(columns=["TA_duty_pct"]))
    _fails(capsys, ["--features", *paths, "--out", str(tmp_path / "o")],
           "missing column TA_duty_pct")
    assert not (tmp_path / "o").exists()


def test_nan_feature(small_cohort, tmp_path, capsys):
    def nan(g):
        g = g.copy()
        g.iloc[3, g.columns.get_loc("stride_time_ms")] = np.nan
        return g
    paths = _user_csvs(small_cohort, tmp_path, nan)
    _fails(capsys, ["--features", *paths, "--out", str(tmp_path / "o")], "stride_time_ms")
    assert not (tmp_path / "o").exists()


def test_single_class(small_cohort, tmp_path, capsys):
    paths = _user_csvs(small_cohort, tmp_path, sessions=("pre",))
    _fails(capsys, ["--features", *paths, "--out", str(tmp_path / "o")], "pre")
    assert not (tmp_path / "o").exists()


def test_single_class_in_test_subjects(small_cohort, tmp_path, capsys):
    def only_pre_for_s5(g):
        return g[(g["subject"] != "S5") | (g["session"] == "pre")]
    paths = _user_csvs(small_cohort, tmp_path, only_pre_for_s5)
    paths = [p for p in paths if not p.endswith("S2.csv")]
    _fails(capsys, ["--features", *paths, "--train", "S1,S3,S4", "--out", str(tmp_path / "o")],
           "single class")


def test_unknown_subject_and_existing_output_kept(small_cohort, tmp_path, capsys):
    out = tmp_path / "o"
    out.mkdir()
    (out / "keep.txt").write_text("mine")
    _fails(capsys, ["--cohort", str(small_cohort), "--train", "S1,S9", "--out", str(out)], "S9")
    assert (out / "keep.txt").read_text() == "mine"       # a failed run leaves the old folder alone


def test_tune_tiny(small_cohort):
    pytest.importorskip("keras_tuner", reason="pip install keras-tuner tensorboard (make setup)")
    from sw.dnn_tune import ACTIVATIONS, OPTIMIZERS, UNITS, tune
    df = read_cohort(str(small_cohort))
    rng = np.random.default_rng(0)
    idx = rng.permutation(len(df))[:400]
    X = df[list(MUSCULAR_COLUMNS[:4])].to_numpy(float)[idx]
    y = (df["session"].to_numpy() == "pre").astype(int)[idx]
    layers, opt, info = tune(X, y, seed=0, max_epochs=2, progress=lambda m: None)
    assert 1 <= len(layers) <= 3
    assert all(u in UNITS and a in ACTIVATIONS for u, a in layers)
    assert opt in OPTIMIZERS and info["trials"] >= 2 and np.isfinite(info["best_val_loss"])


# ------------------------------------------- issue #13: no traceback on degenerate training data

def test_every_row_overflow(small_cohort, tmp_path, capsys):
    paths = _user_csvs(small_cohort, tmp_path, lambda g: g.assign(flags="overflow"))
    out = tmp_path / "o"
    _fails(capsys, ["--features", *paths, "--out", str(out)], "flagged overflow")
    assert not out.exists()


def test_overflow_rows_left_out_with_a_note(small_cohort, tmp_path):
    def some_overflow(g):
        return g.assign(flags=["overflow" if i % 10 == 0 else "" for i in range(len(g))])
    from sw.wo_data import load_table
    paths = _user_csvs(small_cohort, tmp_path, some_overflow)
    notes = []
    df, meta = load_table(None, paths, progress=notes.append)
    n = sum((pd.read_csv(p)["flags"] == "overflow").sum() for p in paths)
    assert n > 0 and meta["overflow_dropped"] == n and meta["absent"] == []
    assert notes == [f"note: {n} strides flagged overflow left out"]
    assert len(df) == sum(len(pd.read_csv(p)) for p in paths) - n


def test_too_few_rows_for_four_folds(small_cohort, tmp_path, capsys):
    def one_post_stride(g):
        post = g[g["session"] == "post"]
        return pd.concat([g[g["session"] == "pre"], post.iloc[:1]])
    paths = _user_csvs(small_cohort, tmp_path, one_post_stride)
    out = tmp_path / "o"
    _fails(capsys, ["--features", *paths, "--train", "S1,S3,S4", "--out", str(out)],
           "4-fold validation needs at least 4")
    assert not out.exists()


def test_tune_epochs_zero(small_cohort, tmp_path, capsys):
    out = tmp_path / "o"
    _fails(capsys, ["--cohort", str(small_cohort), "--tune", "--tune-epochs", "0",
                    "--out", str(out)], "--tune-epochs")
    assert not out.exists()


# ------------------- issue 14.6: C beyond its bound against Python -> outputs written, exit 1

def _perturb_c_scores(monkeypatch, prefix, delta=0.01):
    """Every host run of an emitted C model whose executable starts with ``prefix`` returns
    its scores shifted by ``delta`` (what a wrong C would print)."""
    from sw import c_build
    real = c_build.run

    def run(exe, X, arm=False, text=None):
        lab, sc, out = real(exe, X, arm=arm, text=text)
        return lab, (sc + delta if os.path.basename(exe).startswith(prefix) else sc), out
    monkeypatch.setattr(c_build, "run", run)


def _error_lines(capsys, prog):
    return [ln for ln in capsys.readouterr().err.splitlines() if ln.startswith(f"{prog}:")]


def test_train_dnn_c_beyond_its_bound_exits_1_after_writing(small_cohort, tmp_path, monkeypatch,
                                                            capsys):
    from sw import wo_train
    _perturb_c_scores(monkeypatch, "wo_dnn4_f32")                       # a wrong float C
    monkeypatch.setitem(wo_train.C_BOUNDS, "int8_min_label_agreement", 1.01)  # unreachable
    out = tmp_path / "dnn4"
    assert train_dnn.main(["--cohort", str(small_cohort), "--out", str(out), "--epochs", "2",
                           "--seed", "2"]) == 1
    err = _error_lines(capsys, "sw.train_dnn")
    assert len(err) == 1, err
    assert err[0] == ("sw.train_dnn: error: C differs from the Python model beyond its bound: "
                      "dnn4 wo_dnn4_f32: max |dp| vs Keras 1.00e-02 > bound 1e-05 "
                      "(and 1 more, see report.md)")
    m = json.loads((out / "metrics.json").read_text())           # the outputs are there
    assert m["c"]["wo_dnn4_f32"]["max_abs_dscore"] == pytest.approx(0.01, abs=1e-4)
    assert m["c_bounds"]["float_dnn_max_abs_dp"] == 1e-5
    assert len(m["c_violations"]) == 2 and "< bound 101.00 %" in m["c_violations"][1]
    report = (out / "report.md").read_text()
    assert "OUTSIDE THE BOUND" in report and "max |dp| vs Keras 1.00e-02 > bound 1e-05" in report
    assert (out / "c" / "wo_dnn4_f32.c").is_file() and (out / "dnn4.keras").is_file()


def test_train_all_c_beyond_its_bound_exits_1_after_writing(small_cohort, tmp_path, monkeypatch,
                                                            capsys):
    _perturb_c_scores(monkeypatch, "wo_tree")
    out = tmp_path / "cls"
    assert train_all.main(["--cohort", str(small_cohort), "--out", str(out),
                           "--models", "knn,tree"]) == 1
    err = _error_lines(capsys, "sw.train_all")
    assert err == ["sw.train_all: error: C differs from the Python model beyond its bound: "
                   "tree wo_tree: max relative |d score| vs Python 1.00e-02 > bound 1e-06"]
    m = json.loads((out / "metrics.json").read_text())
    assert [r["c_violations"] for r in m["models"]] == [[], [err[0].split("bound: ", 1)[1]]]
    assert list(pd.read_csv(out / "table4.csv")["model"]) == ["knn", "tree"]
    assert "OUTSIDE THE BOUND" in (out / "report.md").read_text()


def test_c_bound_violations_by_hand():
    from sw.wo_train import C_BOUNDS, c_bound_violations, violation_line
    ok = {"model": "dnn2", "c": {
        "wo_dnn2_f32": dict(rows=100, label_agreement=1.0, label_mismatches=1,
                            label_mismatches_decided=0, max_abs_dscore=9e-6, arm_identical=True),
        "wo_dnn2_i8": dict(rows=100, label_agreement=0.995, label_mismatches=0,
                           max_abs_dscore=None, arm_identical=None, int8_model_identical=True)}}
    assert c_bound_violations(ok) == []           # at the bounds, a flip at p = 0.5 allowed
    bad = {"model": "dnn2", "c": {
        "wo_dnn2_f32": dict(ok["c"]["wo_dnn2_f32"], label_mismatches_decided=2,
                            arm_identical=False),
        "wo_dnn2_i8": dict(ok["c"]["wo_dnn2_i8"], label_agreement=0.99,
                           int8_model_identical=False)}}
    assert c_bound_violations(bad) == [
        "dnn2 wo_dnn2_f32: 2 of 100 labels differ from Keras away from p = 0.5 (bound: 0)",
        "dnn2 wo_dnn2_f32: qemu-arm output differs from the host build (bound: identical)",
        "dnn2 wo_dnn2_i8: labels differ from the int8 golden model (bound: identical)",
        "dnn2 wo_dnn2_i8: labels agree with Keras on 99.00 % of 100 rows < bound 99.50 %"]
    svm = {"model": "svm", "c": {"wo_svm": dict(rows=10, label_agreement=0.9, label_mismatches=1,
                                                max_abs_dscore=3e-6, max_rel_dscore=2e-6,
                                                arm_identical=True)}}
    assert c_bound_violations(svm) == [
        "svm wo_svm: max relative |d score| vs Python 2.00e-06 > bound 1e-06",
        "svm wo_svm: 1 of 10 labels differ from Python (bound: 0)"]
    assert violation_line(c_bound_violations(svm)) == (
        "C differs from the Python model beyond its bound: svm wo_svm: max relative |d score| "
        "vs Python 2.00e-06 > bound 1e-06 (and 1 more, see report.md)")
    assert C_BOUNDS["float_dnn_max_abs_dp"] == 1e-5 and C_BOUNDS["shallow_max_rel_dscore"] == 1e-6
