"""bench.stress_bench on a tiny random-weight EmoHeal (four inputs) over real Stress-Predict
windows: ours (float32, int8) on the Cortex-A9 under qemu-arm, keras2c's verdict (or why there
is none), TFLite Micro of the four-input model on the host interpreter (or why it cannot run),
the goals decided from the numbers, and the stress section of bench.report."""

import json
import os
import shutil

import numpy as np
import pytest

from bench import fog_bench, report, stress_bench
from spec.constants import SHARED_DATA
from sw import c_build

DATA = SHARED_DATA / "stress-wrist-e4"
#: one subject with stress and rest windows (the bench normalises per subject anyway)
SUBJECTS = [2]
NO_CALLGRIND = "TFLM callgrind left out of this test"

pytestmark = [
    pytest.mark.skipif(not (c_build.have_arm() and shutil.which("valgrind")),
                       reason="needs gcc-arm-linux-gnueabihf, qemu-user, valgrind"),
    pytest.mark.skipif(not DATA.is_dir(), reason=f"needs the Stress-Predict data in {DATA}"),
]


def make_folder(d, seed=0):
    """A tiny EmoHeal saved as a sw.train_stress model folder."""
    from sw import stress_data, stress_model
    from sw.classifiers import quiet_tensorflow
    keras = quiet_tensorflow()
    keras.utils.set_random_seed(seed)
    model = stress_model.build_emoheal(60, filters=4, bvp_filters=2, gru=4)
    os.makedirs(d, exist_ok=True)
    model.save(os.path.join(d, "model.keras"))
    with open(os.path.join(d, "config.json"), "w") as f:
        json.dump({"kind": "stress", "model": "emoheal", "model_file": "model.keras",
                   "seed": seed, "epochs": 0, "window_s": 60, "hop_s": stress_data.HOP_S,
                   "inputs": [{"name": n, "rate_hz": fs, "channels": c}
                              for n, (fs, c) in stress_model.INPUTS.items()],
                   "normalisation": {"mode": "baseline", "transductive": False,
                                     "baseline_s": stress_data.BASELINE_S},
                   "threshold": 0.5, "c": "c/stress_emoheal.c",
                   "c_int8": "c/stress_emoheal_i8.c"}, f)
    return model


@pytest.fixture(scope="module")
def result(tmp_path_factory):
    d = tmp_path_factory.mktemp("stressmodel")
    model = make_folder(d)
    work = tmp_path_factory.mktemp("work")
    run_tflm = fog_bench._tflm_run

    def no_callgrind(*a, callgrind=False, **k):
        # TFLM's host count (callgrind of the interpreter, ~25 s a run) is the fog and har
        # benches' code, tested there; here only its absence is recorded, to keep the time
        if callgrind:
            raise RuntimeError(NO_CALLGRIND)
        return run_tflm(*a, **k)
    with pytest.MonkeyPatch.context() as mp:
        mp.setattr(fog_bench, "_tflm_run", no_callgrind)
        # every matrix int8 (the tiny model's are all below the emitter's default minimum)
        res = stress_bench.run(d, work, n_windows=1, n_check=2, data=DATA,
                               int8_min_weights=0, subjects=SUBJECTS)
    return res, d, work, model


def _row(res, impl):
    return next(r for r in res["implementations"] if r["impl"] == impl)


def test_windows_are_real_and_both_classes(result):
    from sw import stress_data, stress_model
    res, _, _, model = result
    win = res["windows"]
    assert win["kind"] == "stress-predict" and win["n_check"] == 2 and win["n_count"] == 1
    assert sorted(win["stress"]) == [0, 1] and win["normalisation"] == "baseline"
    assert [i["name"] for i in res["model"]["inputs"]] == list(stress_model.INPUTS)
    assert res["model"]["n_in"] == 3840 + 1920 * 3 + 240 + 240
    # the windows counted are the ones stress_windows picks (real, normalised, split)
    X, origin, _ = stress_bench.stress_windows(DATA, 2, json.loads(
        (result[1] / "config.json").read_text()), subjects=SUBJECTS)
    assert origin["stress"] == win["stress"] and [x.shape[1:] for x in X] == [
        (3840, 1), (1920, 3), (240, 1), (240, 1)]
    W = stress_data.normalise_windows(stress_data.load_windows(DATA, SUBJECTS), "baseline")
    flat = fog_bench.flat_windows(X, fog_bench.input_shapes(model))
    for k, t in enumerate(origin["session_s"]):
        j, = np.flatnonzero(W.session_s == t)
        assert W.y[j] == origin["stress"][k]
        assert np.array_equal(flat[k], np.concatenate([W.bvp[j], W.acc[j].ravel(), W.eda[j],
                                                       W.temp[j]]))


def test_ours_measured(result):
    res, _, work, model = result
    z = res["null_driver"]
    assert z["count_2n"] > z["count_n"] > 0 and z["per_window"] > 0
    for w, name in (("float32", "stress_f32"), ("int8", "stress_i8")):
        r = _row(res, f"ours {w}")
        assert r["status"] == "measured"
        c = r["arm_counts"]
        assert c["count_2n"] > c["count_n"] > 0
        assert c["per_window"] == ((c["count_2n"] - c["count_n"])
                                   - (z["count_2n"] - z["count_n"]))
        assert r["arm_instructions_per_window"] > r["macc"] / 4 > 0
        assert r["host_instructions_per_window"] > r["macc"] / 4
        # the plugin's count of a run equals its -d nochain,exec Trace lines
        exe = os.path.join(work, name, name + "_arm")
        n, out = fog_bench.qemu_count(exe, [str(work / "count.bin"), "1"],
                                      fog_bench.plugin_path(work), trace=True)
        assert n == c["count_n"] and len(out.splitlines()) == 1
        fp = c_build.arm_footprint(os.path.join(work, name), name, str(work))
        assert (r["flash"], r["ram"]) == (fp["flash"], fp["ram"]) and r["ram"] >= r["arena_bytes"]
        assert r["params"] == model.count_params() and r["check_windows"] == 2
        assert r["est_ms_per_window"] == pytest.approx(r["arm_instructions_per_window"] / 800e3)
    # the four inputs one after the other: 10080 floats a window in the counting file
    assert os.path.getsize(work / "count.bin") == 2 * 10080 * 4
    f32, i8 = _row(res, "ours float32"), _row(res, "ours int8")
    assert i8["flash"] < f32["flash"]
    assert f32["max_abs_dp"] <= 1e-5 and i8["max_abs_dp"] < 0.05


def test_keras2c_and_tflm_measured_or_why_not(result):
    res, _, _, _ = result
    k = _row(res, "keras2c")
    assert k["arm_instructions_per_window"] is None
    assert k["status"] in ("not installed", "unsupported", "not measurable", "check failed")
    if k["status"] == "unsupported":           # GaussianNoise, (T, F) * (1, F) broadcasting
        assert k["unsupported"] and any("GaussianNoise" in u for u in k["unsupported"])
    for w in ("float32", "int8"):
        r = _row(res, f"TFLite Micro {w}")
        assert r["arm_instructions_per_window"] is None and r["est_ms_per_window"] is None
        assert any("No ARM build" in n for n in r["notes"])
        assert r["status"] in ("partial", "run failed", "conversion failed"), r
        if r["status"] == "partial":            # the four inputs each set to its own tensor
            assert sorted(r["tflm_inputs"].values()) == [0, 1, 2, 3]
            assert r["flash"] == r["flatbuffer_bytes"] > 0 and r["ram"] > 0
            assert r["host_instructions_per_window"] is None
            assert f"callgrind run failed: {NO_CALLGRIND}" in r["notes"]
            assert "WHILE" not in r["ops"]        # the bidirectional GRU unrolled
            assert r["max_abs_dp"] < (1e-4 if w == "float32" else 0.2)
        else:
            assert len(r["notes"]) > 1


def test_goals_follow_the_numbers(result):
    res, _, _, _ = result
    g = {x["name"]: x for x in res["goals"]}
    i8 = _row(res, "ours int8")
    assert g["flash"]["measured"] == i8["flash"] and g["flash"]["limit"] == 65536
    assert g["flash"]["passed"] == (i8["flash"] <= 65536)
    assert g["ram"]["limit"] == 32768 and g["ram"]["passed"] == (i8["ram"] <= 32768)
    for w in ("int8", "float32"):
        x = g[f"vs_keras2c_{w}"]
        assert x["passed"] is None and "keras2c" in x["why"]
    json.dumps(res)
    md = stress_bench.markdown(res)
    assert md.startswith("## ") and "| ours int8 | measured |" in md
    assert f"{i8['arm_instructions_per_window']:,.0f} | {i8['est_ms_per_window']:.2f} |" in md
    for x in res["goals"]:
        verdict = {True: "PASS", False: "FAIL", None: "NOT EVALUATED"}[x["passed"]]
        assert f"* **{verdict}** {x['goal']}" in md


def test_goals_decide_on_given_numbers():
    rows = [dict(impl="ours float32", flash=100000, ram=1000, arm_instructions_per_window=4e6),
            dict(impl="ours int8", flash=65536, ram=32769, arm_instructions_per_window=3e6),
            dict(impl="keras2c", kind="keras2c", status="measured",
                 arm_instructions_per_window=3.5e6)]
    g = {x["name"]: x for x in stress_bench.goals(rows)}
    assert g["flash"]["passed"] is True and g["ram"]["passed"] is False
    assert g["vs_keras2c_int8"]["passed"] is True and g["vs_keras2c_float32"]["passed"] is False
    rows[2] = dict(impl="keras2c", kind="keras2c", status="not installed", notes=["x"],
                   arm_instructions_per_window=None)
    x = {x["name"]: x for x in stress_bench.goals(rows)}["vs_keras2c_int8"]
    assert x["passed"] is None and "not installed" in x["why"]


def test_keras2c_failure_is_recorded(monkeypatch):
    def boom(model):
        raise ImportError("no module named tensorflow.keras")
    monkeypatch.setattr(fog_bench, "_keras2c", boom)
    r = stress_bench.keras2c_row(None)
    assert r["status"] == "check failed" and "ImportError" in r["notes"][0]


def test_report_section_and_readme_block(result, tmp_path, monkeypatch, capsys):
    """bench.report's stress section: the measured table in REPORT.md, the figures in
    report.json, the README block between the bench:stress markers; left out (a printed
    line) without a model folder."""
    from bench import validate
    res, d, _, _ = result
    monkeypatch.setattr(validate, "best_sim", lambda sim: "icarus")
    monkeypatch.setattr(stress_bench, "run", lambda *a, **k: res)
    only = ",".join(s for s in report.SECTIONS if s != "stress")
    assert report.main(["--skip", only, "--out", str(tmp_path / "o"), "--work",
                        str(tmp_path / "w"), "--stress-model", str(d)]) == 0
    out = json.loads((tmp_path / "o" / "report.json").read_text())
    assert out["stress"]["goals"] == res["goals"] and out["meta"]["not_run"] == {}
    md = (tmp_path / "o" / "REPORT.md").read_text()
    assert "## Stress model as C: ours vs keras2c vs TFLite Micro\n" in md
    assert "\n".join(fog_bench.table_md(res["implementations"],
                                        stress_bench.estimated_ms)) in md
    readme = tmp_path / "README.md"
    readme.write_text(f"a\n{report.STRESS_README_START}\nold\n{report.STRESS_README_END}\nb\n")
    assert report.update_readme_stress(readme, out["stress"], out["meta"])
    text = readme.read_text()
    assert text.startswith(f"a\n{report.STRESS_README_START}\n") and text.endswith(
        f"{report.STRESS_README_END}\nb\n") and "\nold\n" not in text
    i8 = _row(res, "ours int8")
    assert f"| Flash / RAM | {i8['flash']:,} B / {i8['ram']:,} B |" in text
    q = tmp_path / "other.md"
    q.write_text("no markers\n")
    assert not report.update_readme_stress(q, out["stress"], out["meta"])
    capsys.readouterr()
    assert report.main(["--skip", only, "--out", str(tmp_path / "o2"), "--work",
                        str(tmp_path / "w2"), "--stress-model", str(tmp_path / "none")]) == 0
    err = capsys.readouterr().err
    assert "stress: left out (no trained stress model in" in err
    out = json.loads((tmp_path / "o2" / "report.json").read_text())
    assert "stress" not in out and "no trained stress model" in out["meta"]["not_run"]["stress"]
    md = (tmp_path / "o2" / "REPORT.md").read_text()     # said, not faked: no figures
    assert "TFLite Micro\n\n**Not run:** no trained stress model in" in md


def test_cli_bad_input(tmp_path, capsys):
    """Not a model folder, or a config of another kind: one error line, exit status 2."""
    assert stress_bench.main([str(tmp_path)]) == 2
    assert "sw.train_stress" in capsys.readouterr().err
    (tmp_path / "config.json").write_text(json.dumps({"kind": "har"}))
    (tmp_path / "model.keras").write_bytes(b"")
    assert stress_bench.main([str(tmp_path)]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert err[-1].startswith("bench.stress_bench: error: ") and '"stress"' in err[-1]
    assert stress_bench.main([str(tmp_path), "-o", str(tmp_path / "no" / "r.json")]) == 2
    assert "-o" in capsys.readouterr().err
