"""The real-recording validation (bench.validate) on ../shared/data: the stride rule pays off."""

import json

import numpy as np
import pytest

from bench import validate
from spec.constants import SHARED_DATA
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
    # just above the measured max |golden - float|: 0.01517 dB over the 3738 band values of
    # S001R03 + S001R07 (this call, 2026-12-01, numpy 2.4.6, scipy 1.17.1; the documented design
    # bound FLOAT_BOUND_DB is 0.25 dB)
    assert g["n"] > 3000 and g["max_abs_db"] < 0.016
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
    # the two walks are copies of shared walks the stride rule was tuned on: in-sample
    assert res["uci"]["tuning_walks"] == 2 and "in-sample: its two parameters were tuned" in md
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


# ------------------------- issue 14.7: the stride rule held out one subject at a time; git

def test_subject_is_parsed_from_the_file_name():
    assert validate.subject_key("1Nmar.txt") == "1N" and validate.walk_label("1Nmar.txt") == (
        1, "healthy")
    assert validate.subject_key(UCI / "3Amar.txt") == "3A"
    assert validate.walk_label("3Amar.txt") == (3, "knee abnormality")
    assert validate.subject_key("12Nwalk2.txt") == "12N"        # same subject, another walk
    assert validate.subject_key("1Nmar.txt") != validate.subject_key("1Amar.txt")
    assert validate.subject_key("walk-a.txt") == "walk-a.txt"   # its own subject


def _walk(file, subject, kinds_by_rule):
    """A walk of the LOSO table: per rule, a score_strides-like dict from (matched, total)."""
    scores = {}
    for rule, (m, n) in kinds_by_rule.items():
        scores[rule] = dict(kind=np.array(["matched"] * m + ["split"] * (n - m)),
                            err_ms=np.array([10.0] * m + [np.nan] * (n - m)))
    return dict(file=file, subject=subject, scores=scores)


def test_loso_never_chooses_with_the_held_out_subject():
    """Each fold's rule is a function of the other subjects' walks only: rewriting the held-out
    subject's own scores (to favour the other rule as much as possible) leaves it unchanged."""
    from golden.stride_indexes_model import MIN_STRIDE, REF_MIN_GAP
    from spec.channels import SAMPLE_MS
    d, o = (MIN_STRIDE, REF_MIN_GAP), (MIN_STRIDE + 100, REF_MIN_GAP + 100)
    walks = [_walk("1Nmar.txt", "1N", {d: (10, 10), o: (0, 10)}),
             _walk("1Nwalk2.txt", "1N", {d: (10, 10), o: (0, 10)}),
             _walk("2Nmar.txt", "2N", {d: (5, 10), o: (6, 10)}),
             _walk("3Amar.txt", "3A", {d: (5, 10), o: (6, 10)})]
    lo = validate.stride_rule_loso(walks, [d, o])
    folds = {f["subject"]: f for f in lo["folds"]}
    assert list(folds) == ["1N", "2N", "3A"]
    assert folds["1N"]["files"] == ["1Nmar.txt", "1Nwalk2.txt"]
    assert folds["1N"]["tuned_on"] == ["2Nmar.txt", "3Amar.txt"]
    assert folds["2N"]["tuned_on"] == ["1Nmar.txt", "1Nwalk2.txt", "3Amar.txt"]
    # 1N left out: the others prefer o; on 1N itself o matches nothing
    assert (folds["1N"]["min_stride_ms"], folds["1N"]["ref_min_gap_ms"]) == (
        o[0] * SAMPLE_MS, o[1] * SAMPLE_MS)
    assert folds["1N"]["matched"] == 0 and folds["1N"]["default_rule"]["matched"] == 20
    assert folds["2N"]["is_default"] and folds["3A"]["is_default"]
    assert lo["pooled"]["strides"] == 40 and lo["pooled"]["matched"] == 0 + 5 + 5
    assert lo["in_sample"]["matched"] == 30 and lo["in_sample_best"]["matched"] == 30
    for subj, fold in folds.items():
        flipped = [w if w["subject"] != subj else
                   _walk(w["file"], subj, {d: (0, 10), o: (10, 10)} if fold["is_default"]
                         else {d: (10, 10), o: (0, 10)}) for w in walks]
        again = {f["subject"]: f for f in validate.stride_rule_loso(flipped, [d, o])["folds"]}
        assert again[subj]["is_default"] == fold["is_default"], subj
        assert again[subj]["min_stride_ms"] == fold["min_stride_ms"], subj
    assert validate.stride_rule_loso(walks[:2], [d, o]) is None        # one subject only


def test_loso_on_real_walks_groups_walks_by_subject(tmp_path):
    from golden.emg_trigger_model import TriggerParams, trigger_bitexact
    from golden.stride_indexes_model import stride_indexes_bitexact
    data = _folder(tmp_path / "d", walks=[("1Nmar.txt", "1Nmar.txt"), ("1Nwalk2.txt", "2Nmar.txt"),
                                          ("3Nmar.txt", "3Nmar.txt")])
    r = validate.uci_validation(data, sim="none", progress=lambda m: None)
    lo = r["loso"]
    assert [(f["subject"], f["files"], f["tuned_on"]) for f in lo["folds"]] == [
        ("1N", ["1Nmar.txt", "1Nwalk2.txt"], ["3Nmar.txt"]),
        ("3N", ["3Nmar.txt"], ["1Nmar.txt", "1Nwalk2.txt"])]
    assert len(lo["grid"]["min_stride_ms"]) == len(lo["grid"]["ref_min_gap_ms"]) == 5
    assert lo["default"] == dict(min_stride_ms=700, ref_min_gap_ms=300)
    assert lo["pooled"]["strides"] == sum(f["strides"] for f in lo["folds"])
    assert lo["pooled"]["matched"] == sum(f["matched"] for f in lo["folds"])
    md = validate.uci_markdown(r)
    assert ("held out in turn (the subject is the number and group of the file name: "
            "`1Nmar.txt` is subject `1N`, and the N and A groups are different people; 3 walks, "
            "1-2 per subject)") in md
    assert f"{lo['pooled']['matched']} of {lo['pooled']['strides']}" in md
    # the grid's shortcut gives the onsets of the stride records, rule by rule
    samples, present, _, _ = validate.load_uci(UCI / "1Nmar.txt")
    trig = trigger_bitexact(samples, TriggerParams(), present=present)
    for rule in validate.loso_grid() + [(0, 0)]:
        recs = stride_indexes_bitexact(trig, present, 2, min_stride=rule[0],
                                       ref_min_gap=rule[1])
        assert np.array_equal(validate._marker_onsets(trig, present, *rule),
                              validate._onsets(recs)), rule


def test_loso_on_all_walks_is_reported_beside_the_in_sample_figure(uci):
    lo = uci["loso"]
    files = sorted(f["file"] for f in uci["files"])
    assert len(lo["folds"]) == 16 and len(lo["grid"]["min_stride_ms"]) * len(
        lo["grid"]["ref_min_gap_ms"]) == 25
    for f in lo["folds"]:
        assert f["subject"] == f["files"][0][:2] and len(f["files"]) == 1
        assert sorted(f["tuned_on"] + f["files"]) == files and f["files"][0] not in f["tuned_on"]
    assert lo["in_sample"] == uci["summary"][validate.VARIANTS[0][0]]
    assert "in-sample" in validate.VARIANTS[0][0]
    assert lo["pooled"]["strides"] == sum(f["strides"] for f in lo["folds"])
    assert 0 < lo["pooled"]["matched_pct"] <= 100 and lo["pooled"]["abs_err_median_ms"] > 0
    md = validate.uci_markdown(uci) + validate.findings_markdown(uci, None)
    p = lo["pooled"]
    assert (f"**Leave-one-subject-out, pooled over the held-out walks:** {p['matched']} of "
            f"{p['strides']} ({p['matched_pct']:.0f} %)") in md
    assert "so the figures above are **in-sample**" in md
    assert f"it gives {p['matched_pct']:.0f} % (median |error| " in md


def test_git_state_of_a_checkout_and_of_a_plain_folder(tmp_path, monkeypatch):
    import shutil
    import subprocess
    if shutil.which("git") is None:
        pytest.skip("git is not installed")
    g = validate.git_state(tmp_path)                      # not a checkout: said, not raised
    assert g["commit"] is None and g["dirty"] is None and g["note"].startswith("not a git "
                                                                               "checkout")
    assert validate.git_phrase(g) == g["note"]
    repo = tmp_path / "repo"
    repo.mkdir()
    git = ["git", "-C", str(repo), "-c", "user.name=t", "-c", "user.email=t@t"]
    subprocess.run([*git, "init", "-q"], check=True)
    (repo / "a.txt").write_text("a\n")
    subprocess.run([*git, "add", "a.txt"], check=True)
    subprocess.run([*git, "commit", "-q", "-m", "a"], check=True)
    head = subprocess.run([*git, "rev-parse", "HEAD"], capture_output=True, text=True,
                          check=True).stdout.strip()
    assert validate.git_state(repo) == dict(commit=head, dirty=False, changed=0, note=None)
    assert validate.git_phrase(validate.git_state(repo)) == f"commit {head[:12]} (tree clean)"
    (repo / "a.txt").write_text("b\n")
    (repo / "new.txt").write_text("untracked\n")
    g = validate.git_state(repo)
    assert g["commit"] == head and g["dirty"] is True and g["changed"] == 2
    assert validate.git_phrase(g) == f"commit {head[:12]} (tree dirty: 2 changed or untracked " \
                                     "files)"
    (repo / "sub").mkdir()                                # a folder inside someone's checkout
    assert validate.git_state(repo / "sub")["commit"] is None
    monkeypatch.setenv("PATH", str(tmp_path / "empty"))   # no git at all
    assert validate.git_state(repo)["note"] == "git is not installed"


def test_validation_json_records_the_checkout(tmp_path, monkeypatch):
    data = _folder(tmp_path / "d", walks=[("1Nmar.txt", "1Nmar.txt")])
    out = tmp_path / "out"
    assert validate.main(["--data", str(data), "--out", str(out), "--sim", "none"]) == 0
    meta = json.loads((out / "validation.json").read_text())["meta"]
    assert meta["git"] == validate.git_state()
    head = (out / "VALIDATION.md").read_text().splitlines()[2]
    assert validate.git_phrase(meta["git"]) in head
    md = (out / "VALIDATION.md").read_text()
    assert "Not done: it needs walks of at least two subjects (here 1 subject)." in md
    monkeypatch.setattr(validate, "ROOT", tmp_path)       # not a checkout: said, no crash
    monkeypatch.setattr(validate.git_state, "__defaults__", (tmp_path,))
    assert validate.main(["--data", str(data), "--out", str(out), "--sim", "none",
                          "--force"]) == 0
    meta = json.loads((out / "validation.json").read_text())["meta"]
    assert meta["git"]["commit"] is None and meta["git"]["note"].startswith("not a git checkout")
    assert "not a git checkout" in (out / "VALIDATION.md").read_text().splitlines()[2]


def test_in_sample_is_computed_from_the_walks(tmp_path):
    """Whether the stride-rule figures are in-sample depends on the walks scored: a walk whose
    content is not one of the tuning walks counts as out of sample."""
    src = SHARED_DATA / "emg-lower-limb-uci"
    same, other = tmp_path / "a.txt", tmp_path / "b.txt"
    same.write_bytes((src / "1Nmar.txt").read_bytes())
    other.write_bytes((src / "1Nmar.txt").read_bytes() + b"\n")
    assert validate.tuning_walks([same, other]) == 1
    files = [{"file": "a.txt"}, {"file": "b.txt"}]
    assert validate._tuning_phrase({"files": files, "tuning_walks": 2}).startswith("in-sample")
    assert "1 of these 2 walks" in validate._tuning_phrase({"files": files, "tuning_walks": 1})
    assert validate._tuning_phrase({"files": files, "tuning_walks": 0}).startswith(
        "out of sample")
    assert "out of sample" in validate._in_sample_sentence({"files": files, "tuning_walks": 0})


def test_uci_channels_follow_the_readers_role_rule():
    names = ["Rectus Femoris", "Biceps femoris", "Vasto Medial", "Knee goniometer"]
    assert validate.uci_channels("x.txt", names) == ["Rectus Femoris", "Biceps femoris",
                                                    "Knee goniometer"]
    with pytest.raises(validate.InputError, match="no BF channel"):
        validate.uci_channels("x.txt", ["RF", "FX"])


def test_golden_beyond_the_float_bound_is_a_mismatch():
    from golden.eeg_mrp_model import FLOAT_BOUND_DB
    ok = {"physionet": {"gateware": [], "golden_minus_float": {"n": 5, "max_abs_db": 0.01}}}
    assert validate.mismatches(ok) == []
    bad = {"physionet": {"gateware": [], "golden_minus_float": {
        "n": 5, "max_abs_db": FLOAT_BOUND_DB + 0.01}}}
    assert "from SciPy float" in validate.mismatches(bad)[0]
