"""Tests of ``python -m sw.cohort`` and ``python -m sw.feature_select`` (tiny cohorts, < 40 s).

Everything runs in-process through the modules' ``main`` inside ``tmp_path``.
The statistical assertions are about the pairing and the t-test plumbing on
hand-made tables whose answer is known; on the tiny synthetic cohort only the
shape of Table 1 is checked (a handful of strides proves nothing either way).
"""

import csv
import json
import os

import numpy as np
import pandas as pd
import pytest
from scipy import stats

from golden.stride_indexes_model import CSV_COLUMNS
from sw import cohort, feature_select
from sw.cohort import COLUMNS, CORTICAL_COLUMNS, MUSCULAR_COLUMNS, SUBJECTS

TINY = ["--walks", "1", "--steps", "4", "--seed", "7"]


@pytest.fixture(scope="module")
def tiny(tmp_path_factory):
    out = tmp_path_factory.mktemp("cohort") / "c"
    assert cohort.main(["--out", str(out), "--jobs", "1", *TINY]) == 0
    return out


def _bytes(p):
    return open(p, "rb").read()


# ---------------------------------------------------------------- synthetic cohort

def test_columns_and_design(tiny):
    with open(tiny / "cohort.csv", newline="") as f:
        assert tuple(next(csv.reader(f))) == COLUMNS
    df = cohort.read_cohort(str(tiny))
    assert sorted(df["subject"].unique()) == ["S1", "S2", "S3", "S4", "S5"]
    sev = df.groupby("subject")["severity"].first()
    assert list(sev) == ["mild", "mild", "mild", "severe", "severe"]
    assert set(df["session"]) == {"pre", "post"} and set(df["walk"]) == {1}
    assert set(df["leg"]) <= {"L", "R"}
    assert df.groupby(["subject", "session"]).size().min() >= 4
    assert not df[list(MUSCULAR_COLUMNS)].isna().any().any()
    # every stride starts on an LG onset = an EEG trigger, >= 1 s into the walk: all cortical
    # present
    assert df[list(CORTICAL_COLUMNS)].notna().all().all()
    assert df[list(CORTICAL_COLUMNS)].stack().between(0, 100).all()
    # ordinals 0.. per subject, session, walk, leg in start order
    for _, g in df.groupby(["subject", "session", "walk", "leg"]):
        assert list(g["stride"]) == list(range(len(g)))
        assert g["start"].is_monotonic_increasing
    meta = json.load(open(tiny / "cohort.json"))
    assert meta["seed"] == 7 and meta["walks"] == 1 and meta["steps"] == 4


def test_cortical_value_is_the_record_at_the_stride_start():
    """cohort_rows picks the MRP record whose trigger frame == stride start, NaN if none/partial."""
    rec = {"leg": 0, "start": 600, "stride_time": 500, "present": 15, "overflow": 0,
           **{f"{m}_{q}": 100 for m in ("LG", "TA", "BF", "RF")
              for q in ("contraction", "relaxation")},
           **{f"{m}_duty": 2000 for m in ("LG", "TA", "BF", "RF")},
           "cocon_LG_TA": 10, "cocon_BF_RF": 20}
    rec2 = dict(rec, start=1100)
    over = dict(rec, start=1600, overflow=1)
    mrp = [{"channel": c, "index": 600, "BP": 256 * 60 + c, "mu": 256 * 48, "beta": 256 * 40,
            "partial": 0}
           for c in range(7)] + [{"channel": 0, "index": 700, "BP": 1, "mu": 1, "beta": 1,
                                  "partial": 0}]
    rows = cohort.cohort_rows("S9", "mild", "pre", 3, [rec, rec2, over], mrp)
    assert len(rows) == 2                                   # overflow skipped
    assert rows[0]["T3_BP_dBu"] == "60.0" and rows[0]["T4_BP_dBu"] == repr(60 + 1 / 256)
    assert rows[0]["P4_beta_dBu"] == "40.0"
    assert all(rows[1][c] == "" for c in CORTICAL_COLUMNS)  # no trigger at 1100
    assert [r["stride"] for r in rows] == [0, 1] and rows[0]["walk"] == 3


def test_cohort_walk_equals_run_golden_fabric():
    """sw.cohort's own walk (EEG generated between the two branches) gives exactly what
    run_golden_fabric gives on the same EMG and EEG."""
    from golden.fabric_pipeline import run_golden_fabric
    r = cohort.walk_pipeline(11, 5, "severe", "post", 3)
    t2, s2, on2, mrp2 = run_golden_fabric(r.emg, r.eeg, eeg_params=r.eeg_params)
    assert len(r.strides) > 0 and len(r.mrp) > 0
    assert np.array_equal(r.trig, t2) and r.strides == s2
    assert np.array_equal(r.trigger, on2) and r.mrp == mrp2


def test_cohort_rows_are_those_of_the_walk_pipeline(tiny):
    """The rows the tool wrote for one walk are cohort_rows of walk_pipeline with the walk's
    seeds (subject k: [seed, k]; walk w of session j: [seed, k, j, w])."""
    seed, k, j, w = 7, 3, 1, 0                          # S4 (severe), post, walk 1 of TINY
    r = cohort.walk_pipeline(cohort._seed(seed, k, j, w), cohort._seed(seed, k), "severe",
                             "post", 4)
    want = cohort.cohort_rows("S4", "severe", "post", w + 1, r.strides, r.mrp)
    assert want and cohort.simulate_walk((seed, k, j, w, 4))[1] == want
    with open(tiny / "cohort.csv", newline="") as f:
        got = [row for row in csv.DictReader(f)
               if (row["subject"], row["session"], row["walk"]) == ("S4", "post", "1")]
    assert got == [{c: str(v) for c, v in row.items()} for row in want]


def test_deterministic_across_jobs(tiny, tmp_path):
    out = tmp_path / "again"
    assert cohort.main(["--out", str(out), "--jobs", "2", *TINY]) == 0
    assert _bytes(out / "cohort.csv") == _bytes(tiny / "cohort.csv")


def test_cache_reuse_and_rebuild(tiny, tmp_path, capsys):
    out = tmp_path / "c"
    out.mkdir()
    for name in ("cohort.csv", "cohort.json"):
        (out / name).write_bytes((tiny / name).read_bytes())
    os.utime(out / "cohort.csv", (1, 1))
    capsys.readouterr()
    assert cohort.main(["--out", str(out), "--jobs", "1", *TINY]) == 0
    assert "reusing" in capsys.readouterr().out
    assert os.stat(out / "cohort.csv").st_mtime == 1            # untouched
    assert cohort.main(["--out", str(out), "--jobs", "1", "--walks", "1", "--steps", "2",
                        "--seed", "7"]) == 0
    assert "reusing" not in capsys.readouterr().out
    assert json.load(open(out / "cohort.json"))["steps"] == 2
    assert len(cohort.read_cohort(str(out))) < len(cohort.read_cohort(str(tiny)))


def test_cache_key_is_the_pipeline_source(tiny, tmp_path, monkeypatch, capsys):
    """An edit of any module the cohort is computed by (here: the stride model) invalidates
    the cached table; so does a module added to the list of sources."""
    srcs = cohort.pipeline_sources()
    for m in ("sw.cohort", "golden.emg_pipeline", "golden.emg_trigger_model",
              "golden.stride_indexes_model", "golden.eeg_pipeline", "golden.eeg_mrp_model",
              "golden.fabric_pipeline", "synthetic.emg_gen", "synthetic.eeg_gen",
              "spec.channels"):
        assert m in srcs, m
    assert not [m for m in srcs if m.split(".")[0] in ("hdl", "sim", "bench")]
    assert "sw.train_dnn" not in srcs
    meta = json.load(open(tiny / "cohort.json"))
    assert meta["pipeline"] == cohort.pipeline_digest() and cohort.stale_reason(meta) is None

    out = tmp_path / "c"
    out.mkdir()
    for name in ("cohort.csv", "cohort.json"):
        (out / name).write_bytes((tiny / name).read_bytes())
    os.utime(out / "cohort.csv", (1, 1))
    capsys.readouterr()
    assert cohort.main(["--out", str(out), "--jobs", "1", *TINY]) == 0
    assert "reusing" in capsys.readouterr().out and os.stat(out / "cohort.csv").st_mtime == 1

    real, edited = cohort._source_bytes, srcs["golden.stride_indexes_model"]
    monkeypatch.setattr(cohort, "_source_bytes",
                        lambda p: real(p) + (b"\n# edited\n" if p == edited else b""))
    assert cohort.stale_reason(meta).startswith("built by an older pipeline (pipeline digest")
    assert cohort.main(["--out", str(out), "--jobs", "1", *TINY]) == 0
    said = capsys.readouterr().out
    assert "reusing" not in said and "pipeline source changed: rebuilding" in said
    assert os.stat(out / "cohort.csv").st_mtime != 1
    rebuilt = json.load(open(out / "cohort.json"))
    assert rebuilt["pipeline"] != meta["pipeline"] and cohort.stale_reason(rebuilt) is None
    assert _bytes(out / "cohort.csv") == _bytes(tiny / "cohort.csv")   # same code, same table
    monkeypatch.undo()
    assert cohort.stale_reason(rebuilt) is not None and cohort.stale_reason(meta) is None

    monkeypatch.setattr(cohort, "PIPELINE_ROOTS",
                        (*cohort.PIPELINE_ROOTS, "golden.samples_parser_model"))
    assert "golden.samples_parser_model" in cohort.pipeline_sources()
    assert cohort.pipeline_digest() != meta["pipeline"] and cohort.stale_reason(meta)


def test_bad_options(tmp_path, capsys):
    for args in (["--steps", "1"], ["--walks", "0"], ["--jobs", "0"], ["--seed", "-1"]):
        assert cohort.main(["--out", str(tmp_path / "x"), *args]) == 2
        err = capsys.readouterr().err.strip()
        assert err.startswith("sw.cohort: error:") and "\n" not in err
    assert not (tmp_path / "x").exists()


# ---------------------------------------------------------------- user feature CSVs

def _user_csv(path, tiny, subject, session, severity=None, drop=None, blank=None):
    """An sw.extract emg CSV (from the tiny cohort's strides) plus subject/session."""
    df = cohort.read_cohort(str(tiny))
    df = df[(df["subject"] == "S1") & (df["session"] == session)]
    rows = []
    for _, r in df.iterrows():
        row = {c: r[c] for c in CSV_COLUMNS if c in r}
        row.update(start_s=f"{r['start_s']:.3f}", flags="", subject=subject, session=session)
        if severity:
            row["severity"] = severity
        rows.append(row)
    cols = list(CSV_COLUMNS) + ["subject", "session"] + (["severity"] if severity else [])
    if drop:
        cols.remove(drop)
    if blank:
        rows[1][blank] = ""
    with open(path, "w", newline="") as f:
        w = csv.DictWriter(f, fieldnames=cols, extrasaction="ignore")
        w.writeheader()
        w.writerows(rows)
    return str(path)


def test_user_features_ok(tiny, tmp_path):
    files = [_user_csv(tmp_path / f"{s}_{sess}.csv", tiny, s, sess)
             for s in ("P1", "P2") for sess in ("pre", "post")]
    out = tmp_path / "u"
    assert cohort.main(["--out", str(out), "--features", *files]) == 0
    df = cohort.read_cohort(str(out))
    src = cohort.read_cohort(str(tiny))
    assert tuple(df.columns) == COLUMNS
    assert len(df) == 2 * len(src[src["subject"] == "S1"])
    assert df[list(CORTICAL_COLUMNS)].isna().all().all()
    pre = df[(df["subject"] == "P1") & (df["session"] == "pre")]
    s1 = src[(src["subject"] == "S1") & (src["session"] == "pre")]
    assert np.array_equal(pre["stride_time_ms"].to_numpy(), s1["stride_time_ms"].to_numpy())
    assert json.load(open(out / "cohort.json"))["source"] == "features"
    assert feature_select.main(["--cohort", str(out)]) == 0       # no severities: all subjects


@pytest.mark.parametrize("case,msg", [
    ("missing", "missing column cocon_BF_RF_ms"),
    ("nan", "column TA_duty_pct"),
    ("single", "only session 'pre'"),
    ("nofile", "no such file"),
])
def test_user_features_errors(tiny, tmp_path, capsys, case, msg):
    a = _user_csv(tmp_path / "a.csv", tiny, "P1", "pre",
                  drop="cocon_BF_RF_ms" if case == "missing" else None,
                  blank="TA_duty_pct" if case == "nan" else None)
    b = (_user_csv(tmp_path / "b.csv", tiny, "P1", "pre") if case == "single"
         else str(tmp_path / "nope.csv") if case == "nofile"
         else _user_csv(tmp_path / "b.csv", tiny, "P1", "post"))
    out = tmp_path / "u"
    capsys.readouterr()
    assert cohort.main(["--out", str(out), "--features", a, b]) == 2
    err = capsys.readouterr().err.strip()
    assert err.startswith("sw.cohort: error:") and msg in err and "\n" not in err
    assert not out.exists()


# ---------------------------------------------------------------- feature selection

def _table(pre, post, subject="A", walk=1, leg="L"):
    rows = []
    for session, vals in (("pre", pre), ("post", post)):
        for i, v in enumerate(vals):
            rows.append({"subject": subject, "severity": "mild", "session": session, "walk": walk,
                         "leg": leg, "stride": i, "start": i, "start_s": i / 500,
                         "stride_time_ms": v, "T3_BP_dBu": 60.0 + (i % 3) * 0.1})
    return rows


def test_pairing_truncates_to_the_shorter_session():
    pre = [1100.0, 1080, 1120, 1090, 1110]
    post = [1040.0, 1050, 1030, 1045, 1060, 999, 998]          # 2 extra post strides: dropped
    pre_b = [1000.0, 1010, 1005]
    post_b = [1001.0, 1012]                                    # 1 extra pre stride: dropped
    df = pd.DataFrame(_table(pre, post) + _table(pre_b, post_b, walk=2))
    pairs = feature_select.pair_sessions(df)
    assert len(pairs) == 5 + 2
    rows = {r["feature"]: r
            for r in feature_select.paired_ttests(df, ["stride_time_ms", "T3_BP_dBu"])}
    a = np.array(pre + pre_b[:2])
    b = np.array(post[:5] + post_b)
    r = rows["stride_time_ms"]
    assert r["n_pairs"] == 7
    assert r["p"] == pytest.approx(stats.ttest_rel(a, b).pvalue)
    assert r["mean_pre"] == pytest.approx(a.mean()) and r["mean_post"] == pytest.approx(b.mean())
    # identical pre and post values: difference constant 0 -> no test, not selected
    assert np.isnan(rows["T3_BP_dBu"]["p"]) and not rows["T3_BP_dBu"]["selected"]


def test_known_answer_significant_and_not():
    rng = np.random.default_rng(0)
    base = rng.normal(1000, 50, 40)
    df = pd.DataFrame(_table(base + 50 + rng.normal(0, 5, 40), base))
    r = feature_select.paired_ttests(df, ["stride_time_ms"])[0]
    assert r["selected"] and r["p"] < 1e-10
    df = pd.DataFrame(_table(base + rng.normal(0, 5, 40), base + rng.normal(0, 5, 40)))
    r = feature_select.paired_ttests(df, ["stride_time_ms"])[0]
    assert r["p"] == pytest.approx(
        stats.ttest_rel(df[df.session == "pre"]["stride_time_ms"],
                        df[df.session == "post"]["stride_time_ms"]).pvalue)


def test_pairs_do_not_cross_subjects_or_legs():
    df = pd.DataFrame(_table([1.0, 2, 3], [1.5, 2.5], subject="A")
                      + _table([10.0], [20.0, 30.0], subject="B", leg="R"))
    pairs = feature_select.pair_sessions(df)
    got = sorted(zip(pairs["subject"], pairs["stride_time_ms_pre"], pairs["stride_time_ms_post"]))
    assert got == [("A", 1.0, 1.5), ("A", 2.0, 2.5), ("B", 10.0, 20.0)]


def test_default_train_is_two_mild_one_severe():
    sev = dict(SUBJECTS)
    t = feature_select.default_train(sev, 2024)
    assert len(t) == 3 and sum(sev[s] == "mild" for s in t) == 2
    assert t == feature_select.default_train(sev, 2024)
    assert feature_select.default_train({"A": "mild", "B": ""}, 1) is None


def test_feature_select_cli_on_tiny_cohort(tiny, capsys):
    assert feature_select.main(["--cohort", str(tiny)]) == 0
    out = capsys.readouterr().out
    assert "SYNTHETIC" in out and "stride_time_ms" in out
    t = pd.read_csv(tiny / "table1.csv")
    assert list(t.columns) == ["feature", "mean_pre", "mean_post", "p", "selected", "n_pairs"]
    assert tuple(t["feature"]) == feature_select.TABLE1_FEATURES
    assert (t["n_pairs"] > 0).all() and set(t["selected"]) <= {"yes", "no"}
    assert ((t["p"] < 0.05) == (t["selected"] == "yes")).all()
    assert (tiny / "table1.md").read_text().count("\n| ") == 1 + len(t)
    assert feature_select.main(["--cohort", str(tiny), "--train", "S1,S2,S4"]) == 0
    assert "training subjects: S1, S2, S4" in capsys.readouterr().out
    assert feature_select.main(["--cohort", str(tiny), "--train", "S1,S9"]) == 2
    assert "unknown subject 'S9'" in capsys.readouterr().err


def test_train_dnn_rebuilds_a_cohort_of_an_older_pipeline(tmp_path, monkeypatch):
    """A cached cohort made before a pipeline change (another pipeline digest or an older
    FORMAT_VERSION) is rebuilt, same size; a current one is reused."""
    from sw import cohort as cohort_mod
    from sw import train_dnn
    current = cohort_mod.synthetic_params(seed=7, walks=1, steps=4)
    (tmp_path / "cohort.csv").write_text("subject\n")
    calls, msgs = [], []
    monkeypatch.setattr(cohort_mod, "main", lambda argv: calls.append(argv) or 0)
    for stale, why in ((dict(current, pipeline="0" * 64), "pipeline digest 000000000000"),
                       (dict(current, format=cohort_mod.FORMAT_VERSION - 1), "format")):
        calls.clear()
        msgs.clear()
        (tmp_path / "cohort.json").write_text(json.dumps(stale))
        train_dnn.ensure_cohort(str(tmp_path), msgs.append)
        assert calls == [["--out", str(tmp_path), "--seed=7", "--walks=1", "--steps=4"]]
        assert "older pipeline" in msgs[0] and why in msgs[0]
    calls.clear()
    (tmp_path / "cohort.json").write_text(json.dumps(current))
    train_dnn.ensure_cohort(str(tmp_path), msgs.append)
    assert calls == []                      # current cohort: reused
