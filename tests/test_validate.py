"""The real-recording validation (bench.validate) on ../shared/data: the stride rule pays off."""

import json

import numpy as np
import pytest

from bench import validate
from spec.outputs import json_default

pytestmark = pytest.mark.skipif(not (validate.DATA / "emg-lower-limb-uci").is_dir(),
                                reason=f"real recordings not found in {validate.DATA} "
                                       "(see ../shared/data/README.md)")


@pytest.fixture(scope="module")
def uci(tmp_path_factory):
    return validate.uci_validation(sim="none", plot_dir=tmp_path_factory.mktemp("plots"),
                                   progress=lambda m: None)


def test_stride_onset_rule_matches_the_goniometer_better_than_bare_edges(uci):
    new, old, _ = (uci["summary"][v[0]] for v in validate.VARIANTS)
    # before the rule, hamstring bursts split nearly every gait cycle
    assert old["split"] > 0.7 * old["strides"]
    assert new["matched_pct"] > 50 and new["matched_pct"] > 3 * old["matched_pct"]
    assert new["abs_err_median_ms"] < 100
    assert sum(f["gonio_cycles"] for f in uci["files"]) > 150


def test_every_walk_is_scored_and_plots_written(uci):
    assert len(uci["files"]) == 16
    assert all(f["gonio_cycles"] >= 3 for f in uci["files"])
    signs = {f["file"]: f["knee_sign"] for f in uci["files"]}
    assert signs["1Amar.txt"] == -1 and signs["1Nmar.txt"] == 1   # mixed signs in the real files
    for p in uci["plots"].values():
        assert p.endswith(".png")
    json.dumps(uci, default=json_default)


def test_physionet_golden_within_documented_bound_of_float():
    r = validate.physionet_validation(sim="none", progress=lambda m: None)
    g = r["golden_minus_float"]
    assert g["n"] > 3000 and g["max_abs_db"] < 0.25
    assert {f["file"] for f in r["files"]} == {"S001R03.edf", "S001R07.edf"}
    assert all(f["move_events"] == 15 and f["rest_events"] >= 14 for f in r["files"])
    c = {(x["offset_s"], x["site"], x["band"]): x for x in r["contrast"]}
    assert np.isfinite(c[(1.0, "C3", "mu")]["change_db"])


def test_cli_refuses_missing_data_folder(tmp_path, capsys):
    assert validate.main(["--data", str(tmp_path / "nope"), "--out", str(tmp_path)]) == 2
    assert "not found" in capsys.readouterr().err
    assert not (tmp_path / "VALIDATION.md").exists()


# ------------------------------------------------- any folder: discovery, prose, exit status

UCI, EEG = validate.DATA / "emg-lower-limb-uci", validate.DATA / "eeg-motor-physionet"


def _folder(root, walks=(), runs=(), sub=True):
    """A data folder of symlinks: ``walks``/``runs`` are (new name, shared file name)."""
    u = root / "emg-lower-limb-uci" if sub else root
    e = root / "eeg-motor-physionet" if sub else root
    for d, items, src in ((u, walks, UCI), (e, runs, EEG)):
        if items:
            d.mkdir(parents=True, exist_ok=True)
        for new, old in items:
            (d / new).symlink_to(src / old)
    return root


def _fake_emg(differ):
    from golden.emg_pipeline import run_golden

    def run_hdl(samples, present, ref, sim):
        trig, recs = run_golden(samples, present, ref)
        recs = [dict(r) for r in recs]
        if differ:
            recs[0]["stride_time"] += 1
        return trig, recs
    return run_hdl


def _fake_eeg(differ):
    from golden.eeg_pipeline import run_golden_eeg

    def run_hdl_eeg(samples, trigger, present, params, sim):
        recs = [dict(r) for r in run_golden_eeg(samples, trigger, present, params)]
        return recs[:-1] if differ else recs
    return run_hdl_eeg


def test_subset_folder_with_other_names_is_reported_from_its_own_data(tmp_path, capsys):
    data = _folder(tmp_path / "data", walks=[("walk-b.txt", "2Nmar.txt"),
                                             ("walk-a.txt", "1Nmar.txt")],
                   runs=[("motor.edf", "S001R07.edf")])
    (data / "emg-lower-limb-uci" / "broken.txt").write_text(
        "File Name: x.log\nChannel 1: 'RF', 2 values\n\n0.1\n0.2\n")
    (data / "emg-lower-limb-uci" / "notes.md").write_text("not a recording\n")
    out = tmp_path / "out"
    assert validate.main(["--data", str(data), "--out", str(out), "--sim", "none"]) == 0
    md = (out / "VALIDATION.md").read_text()
    res = json.loads((out / "validation.json").read_text())
    assert [f["file"] for f in res["uci"]["files"]] == ["walk-a.txt", "walk-b.txt"]
    assert "2 walks (2 whose file name does not give the group" in md
    assert "| walk-a.txt | ? |" in md and "| walk-b.txt | ? |" in md
    assert "Skipped 1 file: broken.txt (no BF channel in the header (channels: RF))." in md
    assert "notes.md" not in md
    # the overlay: the better-matched walk (neither has 5 strides, so all walks count)
    files = {f["file"]: f for f in res["uci"]["files"]}
    best = max(sorted(files), key=lambda n: (files[n]["matched"] / max(files[n]["strides"], 1),
                                             files[n]["strides"]))
    assert res["uci"]["overlay"]["file"] == best
    assert f"Trigger overlay: {best}, the walk with the highest share" in md
    assert "among those with at least" not in md
    assert (out / "uci_trigger_overlay.png").stat().st_size > 1000
    # EEG: one run whose name gives neither subject nor run
    assert [f["file"] for f in res["physionet"]["files"]] == ["motor.edf"]
    assert "1 file whose name does not give subject and run (motor.edf)" in md
    assert "Physiology from one run (subjects not all given" in md
    assert "golden and gateware were not compared (no HDL simulator)" in md
    for fixed in ("16 walks", "runs 3 and 7", "S001", "bit for bit", "3Amar", "1Nmar"):
        assert fixed not in md, fixed
    assert res["mismatches"] == [] and res["uci"]["gateware"] is None
    assert capsys.readouterr().err.count("skipped broken.txt") == 1


def test_named_runs_give_subject_runs_and_task(tmp_path):
    r = validate.runs_phrase([dict(file="S001R03.edf", subject=1, run=3),
                              dict(file="S001R07.edf", subject=1, run=7)])
    assert r == "Subject S001, runs 3 and 7 (real left/right fist movements on cue)"
    r = validate.runs_phrase([dict(file="S001R03.edf", subject=1, run=3),
                              dict(file="S002R04.edf", subject=2, run=4)])
    assert r == ("Subjects S001, run 3; S002, run 4 (run 3: real left/right fist movements on "
                 "cue; run 4: imagined left/right fist movements on cue)")


def test_a_section_without_data_is_reported_absent(tmp_path):
    # walks straight in DIR (no emg-lower-limb-uci/ folder), no EEG at all
    data = _folder(tmp_path / "d", walks=[("one.txt", "1Nmar.txt")], sub=False)
    out = tmp_path / "out"
    assert validate.main(["--data", str(data), "--out", str(out), "--sim", "none"]) == 0
    md = (out / "VALIDATION.md").read_text()
    assert "1 walk (1 whose file name" in md and "| one.txt |" in md
    assert "Absent: no PhysioNet EDF run in the data folder" in md
    assert "- **EEG:** absent" in md
    assert json.loads((out / "validation.json").read_text())["physionet"] is None


def test_folder_with_nothing_usable_is_one_line_exit_2(tmp_path, capsys):
    (tmp_path / "d").mkdir()
    (tmp_path / "d" / "readme.txt").write_text("nothing here\n")
    out = tmp_path / "out"
    assert validate.main(["--data", str(tmp_path / "d"), "--out", str(out), "--sim", "none"]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "no UCI lower-limb walks" in err and "Traceback" not in err
    assert not out.exists()
    # recordings that are all unusable: the same, naming the file
    (tmp_path / "d" / "bad.txt").write_text("Channel 1: 'RF', 1 values\n\n0.1\n")
    assert validate.main(["--data", str(tmp_path / "d"), "--out", str(out), "--sim", "none"]) == 2
    err = capsys.readouterr().err.splitlines()     # progress lines, then the one error line
    assert sum("error" in ln for ln in err) == 1 and err[-1].startswith("bench.validate: error: ")
    assert err[-1].endswith("no usable recording (bad.txt: no BF channel in the header "
                            "(channels: RF))")
    assert not out.exists()


def test_gateware_differing_from_golden_exits_1(tmp_path, monkeypatch, capsys):
    import sim.emg_hdl_engine
    monkeypatch.setattr(validate, "best_sim", lambda sim: "icarus")
    monkeypatch.setattr(sim.emg_hdl_engine, "run_hdl", _fake_emg(differ=True))
    data = _folder(tmp_path / "d", walks=[("x.txt", "1Nmar.txt"), ("y.txt", "2Nmar.txt")])
    out = tmp_path / "out"
    assert validate.main(["--data", str(data), "--out", str(out)]) == 1
    err = capsys.readouterr().err.strip().splitlines()
    assert err[-1] == ("bench.validate: error: gateware and golden differ: "
                       "UCI x.txt: 1 of 3 stride records")
    md = (out / "VALIDATION.md").read_text()   # the report is still written, saying so
    assert ("Gateware replay of x.txt (the shortest walk; 2841 samples, icarus): trigger bits "
            "identical, 3 stride records against the golden model's 3, 1 DIFFERENT.") in md


def test_eeg_gateware_differing_exits_1_and_identical_emg_says_so(tmp_path, monkeypatch, capsys):
    import sim.eeg_hdl_engine
    import sim.emg_hdl_engine
    monkeypatch.setattr(validate, "best_sim", lambda sim: "icarus")
    monkeypatch.setattr(sim.emg_hdl_engine, "run_hdl", _fake_emg(differ=False))
    monkeypatch.setattr(sim.eeg_hdl_engine, "run_hdl_eeg", _fake_eeg(differ=True))
    data = _folder(tmp_path / "d", walks=[("x.txt", "1Nmar.txt")],
                   runs=[("S001R03.edf", "S001R03.edf")])
    out = tmp_path / "out"
    assert validate.main(["--data", str(data), "--out", str(out)]) == 1
    err = capsys.readouterr().err.strip().splitlines()
    assert err[-1].startswith("bench.validate: error: gateware and golden differ: "
                              "PhysioNet S001R03.edf: ")
    assert "UCI" not in err[-1]
    md = (out / "VALIDATION.md").read_text()
    assert "3 stride records identical to the golden model" in md
    assert "Subject S001, run 3 (real left/right fist movements on cue)" in md
    assert "records against the golden model's" in md and "1 DIFFERENT" in md
    assert "golden and gateware DIFFER on the real EEG" in md
    assert "bit for bit" not in md
