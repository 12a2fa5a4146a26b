"""bench.har_bench on a tiny random-weight DIN over real HAPT windows: ours (float32, int8) on
the Cortex-A9 under qemu-arm, TFLite Micro on the host interpreter (or why it cannot run), the
goals decided from the numbers, and the har section of bench.report."""

import json
import os
import shutil

import pytest

from bench import fog_bench, har_bench, report
from spec.constants import SHARED_DATA
from sw import c_build
from tests.seeding import seeds

DATA = SHARED_DATA / "har-hapt" / "RawData"

pytestmark = [
    pytest.mark.skipif(not (c_build.have_arm() and shutil.which("valgrind")),
                       reason="needs gcc-arm-linux-gnueabihf, qemu-user, valgrind"),
    pytest.mark.skipif(not DATA.is_dir(), reason=f"needs the UCI HAPT raw signals in {DATA}"),
]


@pytest.fixture(scope="module", params=seeds(5))
def seed(request):
    print(f"test_har_bench: seed {request.param}")
    return request.param


def make_folder(d, seed):
    """A tiny DIN as a sw.train_har model folder (mean and variance of two real experiments)."""
    from sw import har_data, har_model
    from sw.classifiers import quiet_tensorflow
    keras = quiet_tensorflow()
    keras.utils.set_random_seed(seed)
    w = har_data.load_windows(DATA, experiments=[1, 2])
    mean, var = har_model.channel_stats(w.X)
    model = har_model.build_din(6, 128, 6, mean, var, d=8, heads=2, branch=4)
    os.makedirs(d, exist_ok=True)
    model.save(os.path.join(d, "model.keras"))
    with open(os.path.join(d, "config.json"), "w") as f:
        json.dump({"kind": "har", "model": "din", "model_file": "model.keras", "seed": seed,
                   "classes": 6, "class_names": har_data.class_names(6),
                   "window": har_data.WINDOW, "hop": har_data.HOP, "fs": har_data.FS,
                   "channels": list(har_data.CHANNELS)}, f)
    return model


@pytest.fixture(scope="module")
def result(seed, tmp_path_factory):
    d = tmp_path_factory.mktemp("harmodel")
    model = make_folder(d, seed)
    work = tmp_path_factory.mktemp("work")
    # every matrix int8 (the tiny model's are all below the emitter's default minimum)
    res = har_bench.run(d, work, n_windows=1, n_check=4, data=DATA, int8_min_weights=0)
    return res, d, work, model


def _row(res, impl):
    return next(r for r in res["implementations"] if r["impl"] == impl)


def test_ours_measured(result):
    res, _, work, model = result
    assert res["windows"]["kind"] == "hapt" and res["windows"]["n_check"] == 4
    assert len(set(res["windows"]["classes"])) == 4             # classes mixed: 4 of 6
    assert res["model"]["outputs"] == 6 and res["clock_hz"] == 800e6
    z = res["null_driver"]
    assert z["count_2n"] > z["count_n"] > 0 and z["per_window"] > 0
    for w, name in (("float32", "har_f32"), ("int8", "har_i8")):
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
        assert len(out.split(",")) == 6                          # six probabilities printed
        fp = c_build.arm_footprint(os.path.join(work, name), name, str(work))
        assert (r["flash"], r["ram"]) == (fp["flash"], fp["ram"]) and r["ram"] >= r["arena_bytes"]
        # latency = ARM instructions / 800 MHz, in ms
        assert r["est_ms_per_window"] == pytest.approx(r["arm_instructions_per_window"] / 800e3)
        assert r["params"] == model.count_params() and r["check_windows"] == 4
    f32, i8 = _row(res, "ours float32"), _row(res, "ours int8")
    assert i8["flash"] < f32["flash"]
    assert f32["max_abs_dp"] <= 1e-5 and i8["max_abs_dp"] < 0.05


def test_tflm_measured_or_why_not(result):
    res, _, _, _ = result
    for w in ("float32", "int8"):
        r = _row(res, f"TFLite Micro {w}")
        proxy = [x for x in res["implementations"] if x.get("proxy") and x["weights"] == w]
        assert r["arm_instructions_per_window"] is None and r["est_ms_per_window"] is None
        assert any("No ARM build" in n for n in r["notes"])
        assert r["status"] in ("partial", "run failed", "conversion failed"), r
        if r["status"] == "partial":
            assert r["host_instructions_per_window"] > 0 and r["max_abs_dp"] < 0.3
        elif r["status"] == "run failed":           # an operator TFLM lacks, named
            assert r["flash"] == r["flatbuffer_bytes"] > 0
            assert r["tflm_missing_ops"] and set(r["tflm_missing_ops"]) <= set(r["ops"])
            assert any(op in " ".join(r["notes"]) for op in r["tflm_missing_ops"])
            if r["tflm_missing_ops"] == ["GELU"]:     # then the proxy ran: no GELU, LOGISTIC
                p, = proxy
                assert p["impl"] == f"TFLite Micro {w}{har_bench.PROXY[1]}"
                assert p["status"] == "partial", p["notes"]
                assert "GELU" not in p["ops"] and p["ops"]["LOGISTIC"] == r["ops"]["GELU"]
                assert p["host_instructions_per_window"] > 0
                assert p["max_abs_dp"] < (0.1 if w == "float32" else 1.0)
                assert p["arm_instructions_per_window"] is None
        else:
            assert any("converter" in n for n in r["notes"])


def test_goals_follow_the_numbers(result):
    res, _, _, _ = result
    g = {x["name"]: x for x in res["goals"]}
    i8 = _row(res, "ours int8")
    assert g["flash"]["measured"] == i8["flash"] and g["flash"]["limit"] == 65536
    assert g["flash"]["passed"] == (i8["flash"] <= 65536)
    assert g["ram"]["passed"] == (i8["ram"] <= 65536)
    assert g["latency"]["measured"] == pytest.approx(i8["arm_instructions_per_window"] / 800e3)
    assert g["latency"]["passed"] == (g["latency"]["measured"] <= 10)
    for w in ("int8", "float32"):
        t, ours = _row(res, f"TFLite Micro {w}"), _row(res, f"ours {w}")
        x = g[f"vs_tflm_{w}"]
        if t["host_instructions_per_window"] is None:
            assert x["passed"] is None and t["status"] in x["why"]
            p = _row(res, f"TFLite Micro {w}{har_bench.PROXY[1]}")
            y = g[f"vs_tflm_proxy_{w}"]
            if p["max_abs_dp"] <= har_bench.PROXY_MAX_DP:
                assert y["limit"] == p["host_instructions_per_window"] and y["passed"] == (
                    ours["host_instructions_per_window"] < p["host_instructions_per_window"])
            else:                       # a proxy that computes another function: not compared
                assert y["passed"] is None and "does not compute the model" in y["why"]
        else:
            assert x["passed"] == (ours["host_instructions_per_window"]
                                   < t["host_instructions_per_window"])
    json.dumps(res)
    md = har_bench.markdown(res)
    assert md.startswith("## ") and "| ours int8 | measured |" in md
    assert f"{i8['arm_instructions_per_window']:,.0f} | {i8['est_ms_per_window']:.2f} |" in md
    assert "estimate" in md and "800 MHz" in md and "one instruction per cycle" in md
    for x in res["goals"]:
        verdict = {True: "PASS", False: "FAIL", None: "NOT EVALUATED"}[x["passed"]]
        assert f"* **{verdict}** {x['goal']}" in md


def test_goals_decide_on_given_numbers():
    rows = [dict(impl="ours float32", flash=100000, ram=1000, arm_instructions_per_window=4e6,
                 host_instructions_per_window=3e6),
            dict(impl="ours int8", flash=65536, ram=65537, arm_instructions_per_window=8e6,
                 host_instructions_per_window=5e6),
            dict(impl="TFLite Micro float32", status="partial",
                 host_instructions_per_window=2e6, notes=["x"]),
            dict(impl="TFLite Micro int8", status="partial", host_instructions_per_window=6e6,
                 notes=["x"])]
    g = {x["name"]: x for x in har_bench.goals(rows)}
    assert g["flash"]["passed"] is True and g["ram"]["passed"] is False
    assert g["latency"]["measured"] == 10.0 and g["latency"]["passed"] is True
    assert g["vs_tflm_int8"]["passed"] is True and g["vs_tflm_float32"]["passed"] is False
    rows[1]["arm_instructions_per_window"] = 8e6 + 1
    assert har_bench.goals(rows)[2]["passed"] is False
    rows[3] = dict(impl="TFLite Micro int8", status="run failed",
                   host_instructions_per_window=None, notes=["No ARM build", "GELU missing"])
    x = {x["name"]: x for x in har_bench.goals(rows)}["vs_tflm_int8"]
    assert x["passed"] is None and "run failed" in x["why"] and "GELU missing" in x["why"]
    proxy = f"TFLite Micro int8{har_bench.PROXY[1]}"
    rows.append(dict(impl=proxy, status="partial", host_instructions_per_window=9e6,
                     max_abs_dp=0.05, notes=["x"]))
    y = {x["name"]: x for x in har_bench.goals(rows)}["vs_tflm_proxy_int8"]
    assert y["passed"] is True and y["limit"] == 9e6
    rows[-1]["max_abs_dp"] = 0.94                          # a broken int8 conversion
    y = {x["name"]: x for x in har_bench.goals(rows)}["vs_tflm_proxy_int8"]
    assert y["passed"] is None and "max |dp| 0.94" in y["why"]


def test_report_section_and_readme_block(result, tmp_path, monkeypatch, capsys):
    """bench.report's har section: the measured table in REPORT.md, the figures in report.json,
    the README block between the bench:har markers; left out (a printed line) without a
    model folder."""
    from bench import validate
    res, d, _, _ = result
    monkeypatch.setattr(validate, "best_sim", lambda sim: "icarus")
    monkeypatch.setattr(har_bench, "run", lambda *a, **k: res)
    readme = tmp_path / "README.md"
    readme.write_text(f"a\n{report.HAR_README_START}\nold\n{report.HAR_README_END}\nb\n")
    only = ",".join(s for s in report.SECTIONS if s != "har")
    assert report.main(["--skip", only, "--out", str(tmp_path / "o"), "--work",
                        str(tmp_path / "w"), "--har-model", str(d), "--readme",
                        str(readme)]) == 0
    out = json.loads((tmp_path / "o" / "report.json").read_text())
    assert out["har"]["goals"] == res["goals"] and out["meta"]["not_run"] == {}
    md = (tmp_path / "o" / "REPORT.md").read_text()
    assert "## Activity-recognition model as C: ours vs TFLite Micro\n" in md
    assert "\n".join(fog_bench.table_md(res["implementations"], har_bench.estimated_ms)) in md
    text = readme.read_text()      # --skip given: no README rewrite (as for the headline)
    assert "old" in text
    meta = out["meta"]
    assert report.update_readme_har(readme, out["har"], meta)
    text = readme.read_text()
    assert text.startswith(f"a\n{report.HAR_README_START}\n") and text.endswith(
        f"{report.HAR_README_END}\nb\n") and "old" not in text
    i8 = _row(res, "ours int8")
    assert f"| Flash / RAM | {i8['flash']:,} B / {i8['ram']:,} B |" in text
    assert f"{i8['est_ms_per_window']:.2f} ms" in text and "**estimated**" in text
    capsys.readouterr()
    assert report.main(["--skip", only, "--out", str(tmp_path / "o2"), "--work",
                        str(tmp_path / "w2"), "--har-model", str(tmp_path / "none")]) == 0
    err = capsys.readouterr().err
    assert "har: left out (no trained HAR model in" in err
    out = json.loads((tmp_path / "o2" / "report.json").read_text())
    assert "har" not in out and "no trained HAR model" in out["meta"]["not_run"]["har"]
    md = (tmp_path / "o2" / "REPORT.md").read_text()     # said, not faked: no figures
    assert "as C: ours vs TFLite Micro\n\n**Not run:** no trained HAR model in" in md


def test_cli_bad_input(tmp_path, capsys):
    """Not a model folder, or a config of another kind: one error line, exit status 2."""
    assert har_bench.main([str(tmp_path)]) == 2
    assert "sw.train_har" in capsys.readouterr().err
    (tmp_path / "config.json").write_text(json.dumps({"kind": "fog"}))
    (tmp_path / "model.keras").write_bytes(b"")
    assert har_bench.main([str(tmp_path)]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert err[-1].startswith("bench.har_bench: error: ") and '"har"' in err[-1]
    (tmp_path / "config.json").write_text(json.dumps({"kind": "har"}))
    assert har_bench.main([str(tmp_path)]) == 2
    assert "not a loadable Keras model" in capsys.readouterr().err
    assert har_bench.main([str(tmp_path), "-o", str(tmp_path / "no" / "r.json")]) == 2
    assert "-o" in capsys.readouterr().err
