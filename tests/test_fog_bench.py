"""bench.fog_bench on a tiny random-weight FoG model: ours (float32, int8) on the Cortex-A9
under qemu-arm, TFLite Micro on the host interpreter, keras2c's verdict when installed."""

import json
import os
import shutil

import numpy as np
import pytest

from bench import fog_bench
from sw import c_build

pytestmark = pytest.mark.skipif(not (c_build.have_arm() and shutil.which("valgrind")),
                                reason="needs gcc-arm-linux-gnueabihf, qemu-user, valgrind")

T, C = 16, 9


@pytest.fixture(scope="module")
def result(tmp_path_factory):
    from sw import fog_model
    from sw.classifiers import quiet_tensorflow
    keras = quiet_tensorflow()
    keras.utils.set_random_seed(3)
    rng = np.random.default_rng(3)
    mean, var = rng.normal(0, 300, C), rng.uniform(1e4, 2e5, C)
    model = fog_model.build_small(C, T=T, mean=mean, var=var, units=4)
    d = tmp_path_factory.mktemp("fogmodel")
    model.save(d / "model.keras")
    (d / "config.json").write_text(json.dumps({"kind": "fog", "model": "tiny", "window": T,
                                               "hop": 16, "channels": C}))
    X = (mean + rng.normal(0, 1, (6, T, C)) * np.sqrt(var)).astype(np.float32)
    work = tmp_path_factory.mktemp("work")
    res = fog_bench.run(d, work, n_windows=2, n_check=6, windows=X, while_timeout=0)
    return res, d, work


def _row(res, impl):
    return next(r for r in res["implementations"] if r["impl"] == impl)


def test_ours_measured(result):
    res, _, work = result
    for w, name in (("float32", "fog_f32"), ("int8", "fog_i8")):
        r = _row(res, f"ours {w}")
        assert r["status"] == "measured"
        c = r["arm_counts"]
        assert c["count_2n"] > c["count_n"] > 0 and c["null_count_2n"] > c["null_count_n"] > 0
        assert r["arm_instructions_per_window"] > 0 and r["host_instructions_per_window"] > 0
        # more work per window than the multiply-accumulates alone cannot be less than MACC/4
        assert r["arm_instructions_per_window"] > r["macc"] / 4
        exe = os.path.join(work, name, name + "_arm")            # plugin count == Trace lines
        assert fog_bench.qemu_count(exe, [str(work / "count.bin"), "2"], fog_bench.plugin_path(
            work), trace=True)[0] == c["count_n"]
        fp = c_build.arm_footprint(os.path.join(work, name), name, str(work))
        assert (r["flash"], r["ram"]) == (fp["flash"], fp["ram"]) and fp["flash"] > 0
        assert r["ram"] >= r["arena_bytes"] > 0
        assert r["check_windows"] == 6
    assert _row(res, "ours float32")["max_abs_dp"] <= 1e-5
    assert _row(res, "ours int8")["max_abs_dp"] < 0.2
    z = res["null_driver"]
    assert z["count_2n"] > z["count_n"] > 0 and z["per_window"] > 0


def test_tflm_measured(result):
    res, _, _ = result
    for w in ("float32", "int8"):
        r = _row(res, f"TFLite Micro {w}")
        assert r["status"] == "partial", r["notes"]
        assert r["flash"] == r["flatbuffer_bytes"] > 0 and r["ram"] > 0
        assert r["arm_instructions_per_window"] is None          # no ARM build of TFLM
        assert r["host_instructions_per_window"] > 0
        assert "WHILE" not in r["ops"] and "FULLY_CONNECTED" in r["ops"]
    assert _row(res, "TFLite Micro float32")["max_abs_dp"] <= 1e-4
    assert _row(res, "TFLite Micro int8")["max_abs_dp"] < 0.3


def test_keras2c_and_report(result):
    res, _, _ = result
    k = _row(res, "keras2c")
    assert k["status"] in ("not installed", "unsupported", "not measurable")
    if k["status"] == "unsupported":                 # the ECA multiply broadcasts (T, C) * (1, C)
        assert any("Broadcasting" in u for u in k["unsupported"])
    json.dumps(res)                                  # JSON-able
    md = fog_bench.markdown(res)
    assert md.startswith("## ") and "| ours float32 | measured |" in md
    f32 = _row(res, "ours float32")
    assert f"{f32['flash']:,}" in md and f"{f32['arm_instructions_per_window']:,.0f}" in md


def test_qemu_count_linear(tmp_path):
    """The counter sees exactly the instructions of a loop: 2N - N iterations cost N times."""
    src = tmp_path / "loop.c"
    src.write_text("#include <stdlib.h>\nint main(int c, char **v) { volatile int s = 0; "
                   "int i, n = atoi(v[1]); (void)c; for (i = 0; i < n; i++) s += i; "
                   "return s == -1; }\n")
    exe = str(tmp_path / "loop")
    import subprocess
    subprocess.run([c_build.ARM_CC, *c_build.ARM_FLAGS, "-O1", "-static", str(src), "-o", exe],
                   check=True)
    plugin = fog_bench.plugin_path(tmp_path)
    a, _ = fog_bench.qemu_count(exe, ["1000"], plugin, trace=True)    # both counts, equal
    b, _ = fog_bench.qemu_count(exe, ["2000"], plugin)
    c, _ = fog_bench.qemu_count(exe, ["3000"], None, trace=True)
    assert b > a > 0 and (c - b) == (b - a)


def test_cli_bad_input(tmp_path, capsys):
    """Not a model folder, or a config of another kind: one error line, exit status 2."""
    assert fog_bench.main([str(tmp_path)]) == 2
    assert "not found" in capsys.readouterr().err
    (tmp_path / "config.json").write_text(json.dumps({"kind": "dnn"}))
    (tmp_path / "model.keras").write_bytes(b"")
    assert fog_bench.main([str(tmp_path)]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert err[-1].startswith("bench.fog_bench: error: ") and '"fog"' in err[-1]
    assert fog_bench.main([str(tmp_path), "-o", str(tmp_path / "no" / "r.json")]) == 2
    assert "-o" in capsys.readouterr().err


def test_report_fog_seq_section(result, tmp_path, monkeypatch, capsys):
    """bench.report's fog_seq section: the sequence-model folder benchmarked like the fog one
    (its own title, figures in report.json); left out with a printed line without a model."""
    from bench import report, validate
    res, d, _ = result
    monkeypatch.setattr(validate, "best_sim", lambda sim: "icarus")
    monkeypatch.setattr(fog_bench, "run", lambda *a, **k: res)
    only = ",".join(s for s in report.SECTIONS if s != "fog_seq")
    assert report.main(["--skip", only, "--out", str(tmp_path / "o"), "--work",
                        str(tmp_path / "w"), "--fog-seq-model", str(d)]) == 0
    out = json.loads((tmp_path / "o" / "report.json").read_text())
    assert out["fog_seq"] == json.loads(json.dumps(res)) and out["meta"]["not_run"] == {}
    md = (tmp_path / "o" / "REPORT.md").read_text()
    assert "## Freezing-of-gait sequence model (CNN-GRU) as C" in md
    capsys.readouterr()
    assert report.main(["--skip", only, "--out", str(tmp_path / "o2"), "--work",
                        str(tmp_path / "w2"), "--fog-seq-model", str(tmp_path / "none")]) == 0
    assert "fog_seq: left out (no trained FoG model in" in capsys.readouterr().err
    out = json.loads((tmp_path / "o2" / "report.json").read_text())
    assert "fog_seq" not in out and "fog_seq" in out["meta"]["not_run"]
    md = (tmp_path / "o2" / "REPORT.md").read_text()
    assert "(CNN-GRU) as C: ours vs keras2c vs TFLite Micro\n\n**Not run:** no trained FoG" in md
    assert out["meta"]["failed"] == {}           # a model not trained yet is not a failure
