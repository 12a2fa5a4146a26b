"""bench.model_cli, the command line of the FoG, HAR and stress benchmarks: a benchmark whose
float32 C is outside the bound of Keras fails (one line, exit 1) after writing its figures."""

import json

from bench import model_cli


def _bench(dp):
    def run(model_dir, work, windows, check, data=None):
        return {"implementations": [
            {"impl": "ours float32", "max_abs_dp": dp, "check_windows": check},
            {"impl": "ours int8", "max_abs_dp": 0.5, "check_windows": check},
            {"impl": "keras2c", "max_abs_dp": None}]}
    return run


def _main(tmp_path, dp):
    ap = model_cli.model_bench_parser("bench.x", "x", "sw.x", tmp_path, "data")
    return model_cli.run_model_bench("bench.x", ap, [str(tmp_path), "-o", str(tmp_path / "r.json"),
                                                     "--check", "8"],
                                     _bench(dp), lambda r: "figures")


def test_c_within_the_bound_exits_0(tmp_path, capsys):
    assert _main(tmp_path, model_cli.C_TOL / 2) == 0
    assert capsys.readouterr().out == "figures\n"


def test_c_beyond_the_bound_exits_1_after_writing(tmp_path, capsys):
    assert _main(tmp_path, 3e-4) == 1
    out = capsys.readouterr()
    assert out.out == "figures\n"
    assert out.err.count("\n") == 1 and "max |dp| 3.00e-04" in out.err and "8 windows" in out.err
    assert json.loads((tmp_path / "r.json").read_text())["implementations"][0]["max_abs_dp"] \
        == 3e-4


def test_violation_only_for_our_float32_row():
    assert model_cli.c_bound_violation({"implementations": []}) is None
    assert model_cli.c_bound_violation(_bench(float("nan"))(0, 0, 0, 4)) is not None
    assert model_cli.c_bound_violation(_bench(0.0)(0, 0, 0, 4)) is None
