"""Real recordings end to end: ``sw.extract emg`` on UCI walks -> ``sw.train_dnn --features``.

The UCI lower-limb walks hold RF and BF only, so LG and TA are *absent* (empty cells in the
extractor's output). ``sw.train_dnn`` drops them from the feature set with a one-line note and
trains on what is there. The UCI "N" (normal) and "A" (abnormal knee) walks stand in for the
Post and Pre sessions of one made-up subject per file number: this tests the plumbing on real
signals, it is no clinical result. Subjects are left out whole (``--train``), never random rows.
"""

import json
import shutil
import subprocess
import sys

import pandas as pd
import pytest

from spec.constants import ROOT, SHARED_DATA
from sw import train_dnn
from sw.wo_data import load_table, make_dataset

UCI_DIR = SHARED_DATA / "emg-lower-limb-uci"
#: file number -> subject; N walk = post (ON), A walk = pre (OFF)
WALKS = (2, 3, 4)
COLUMNS = {"N": "R_RF=RF,R_BF=BF", "A": "R_RF=Recto Femoral,R_BF=Biceps Femoral"}


def _extract_all(jobs):
    """``python -m sw.extract emg`` on each ``(walk, kind, out)``, two at a time."""
    running = []

    def finish(p):
        _, err = p.communicate(timeout=120)
        assert p.returncode == 0, err

    for walk, kind, out in jobs:
        src = UCI_DIR / f"{walk}{kind}mar.txt"
        assert src.is_file(), f"shared UCI recording {src} not found (see ../shared/data/README.md)"
        if len(running) >= 2:
            finish(running.pop(0))
        running.append(subprocess.Popen(
            [sys.executable, "-m", "sw.extract", "emg", str(src), "--fs", "1000",
             "--map", COLUMNS[kind], "--stride-ref", "BF", "-q", "-o", str(out)],
            cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True))
    for p in running:
        finish(p)


@pytest.fixture(scope="module")
def uci_features(tmp_path_factory):
    """Per-walk stride CSVs of the UCI walks plus subject and session columns."""
    d = tmp_path_factory.mktemp("uci")
    jobs = [(w, kind, d / f"{w}{kind}_strides.csv") for w in WALKS for kind in "NA"]
    _extract_all(jobs)
    paths = []
    for w in WALKS:
        for kind, session in (("N", "post"), ("A", "pre")):
            raw = d / f"{w}{kind}_strides.csv"
            df = pd.read_csv(raw, dtype=str, keep_default_na=False)
            assert len(df) >= 1
            assert (df["LG_duty_pct"] == "").all() and (df["TA_duty_pct"] == "").all()
            assert (df["BF_duty_pct"] != "").all()
            df.insert(0, "session", session)
            df.insert(0, "subject", f"U{w}")
            p = d / f"U{w}{kind}.csv"
            df.to_csv(p, index=False)
            paths.append(p)
    return paths


def _copies(uci_features, tmp_path):
    return [str(shutil.copy(p, tmp_path / p.name)) for p in uci_features]


def test_uci_walks_train_without_absent_muscles(uci_features, tmp_path, capsys):
    paths = _copies(uci_features, tmp_path)
    out = tmp_path / "dnn1"
    assert train_dnn.main(["--features", *paths, "--train", "U2,U3", "--model", "dnn1",
                           "--epochs", "2", "--alpha", "0.5", "--out", str(out)]) == 0
    err = capsys.readouterr().err
    notes = [ln for ln in err.splitlines() if "absent" in ln]
    assert notes == ["note: absent muscles LG, TA (every file): 7 columns dropped from the "
                     "features (cocon_LG_TA_ms, LG_duty_pct, TA_duty_pct)"], notes
    m = json.loads((out / "metrics.json").read_text())
    feats = m["dataset"]["features"]
    assert feats and not [f for f in feats if "LG" in f or "TA" in f], feats
    assert m["dataset"]["train_subjects"] == ["U2", "U3"]
    assert m["dataset"]["test_subjects"] == ["U4"]
    assert m["c"]["wo_dnn1_f32"]["label_agreement"] == 1.0
    table1 = (out / "table1.md").read_text()
    assert "BF_duty_pct" in table1 and "LG_duty_pct" not in table1


def test_absent_in_one_recording_only(uci_features, tmp_path, capsys):
    """A muscle empty for every row of one recording is dropped everywhere; a stray empty cell
    in a present muscle is still an error naming file, row and column."""
    paths = _copies(uci_features, tmp_path)
    # RF present everywhere but in every row of one recording
    df = pd.read_csv(paths[1], dtype=str, keep_default_na=False)
    df["RF_duty_pct"] = ""
    df.to_csv(paths[1], index=False)
    notes = []
    df, meta = load_table(features=paths, progress=notes.append)
    assert meta["absent"] == ["LG_contraction_ms", "LG_relaxation_ms", "LG_duty_pct",
                              "TA_contraction_ms", "TA_relaxation_ms", "TA_duty_pct",
                              "RF_duty_pct", "cocon_LG_TA_ms"]
    assert notes[0].startswith(f"note: absent muscles LG, TA (every file); RF (in {paths[1]}): "
                               "8 columns dropped"), notes
    assert df["RF_duty_pct"].isna().all() and df["BF_duty_pct"].notna().all()
    ds = make_dataset(df, meta, train=["U2", "U3"], alpha=0.5)
    assert "RF_duty_pct" not in ds.features and ds.test_subjects == ["U4"]
    assert "RF_duty_pct" not in [r["feature"] for r in ds.table1]
    # one empty BF cell among numbers: bad input, not an absent muscle
    df = pd.read_csv(paths[2], dtype=str, keep_default_na=False)
    df.loc[1, "BF_duty_pct"] = ""
    df.to_csv(paths[2], index=False)
    out2 = tmp_path / "o2"
    assert train_dnn.main(["--features", *paths, "--out", str(out2)]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and paths[2] in err[0] and "row 3, column BF_duty_pct" in err[0]
    assert not out2.exists()


def test_cohort_cli_takes_the_same_files(uci_features, tmp_path, capsys):
    """``python -m sw.cohort --features`` accepts absent muscles (left empty, with a note) and
    refuses a file set with no stride left with one line."""
    from sw import cohort
    paths = _copies(uci_features, tmp_path)
    out = tmp_path / "cohort"
    assert cohort.main(["--features", *paths, "--out", str(out)]) == 0
    err = capsys.readouterr().err
    assert "absent muscle columns left empty: LG_contraction_ms" in err
    df = pd.read_csv(out / "cohort.csv", dtype=str, keep_default_na=False)
    assert (df["LG_duty_pct"] == "").all() and (df["BF_duty_pct"] != "").all()
    for p in paths:                                  # every stride flagged overflow
        d = pd.read_csv(p, dtype=str, keep_default_na=False)
        d["flags"] = "overflow"
        d.to_csv(p, index=False)
    out2 = tmp_path / "c2"
    assert cohort.main(["--features", *paths, "--out", str(out2)]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and "flagged overflow" in err[0], err
    assert not out2.exists()
