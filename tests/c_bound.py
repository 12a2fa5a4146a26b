"""The exit path every trainer shares when its emitted C leaves the bound of Keras: the run's
figures are printed, then one error line, exit status 1 (no README block written)."""

import json


def check_c_beyond_bound_exits_1(trainer, run_out, data, tmp_path, monkeypatch, capsys):
    """Run ``trainer.main`` on ``data`` with its training replaced by the result of an earlier
    real run (``run_out/metrics.json``) whose C check failed; assert the one-line exit 1."""
    res = json.loads((run_out / "metrics.json").read_text())
    res["c"]["violations"] = ["model_f32: float32 max |dp| 3.0e-04 > 1e-05 on 8 windows"]
    monkeypatch.setattr(trainer, "run", lambda a, folder, args: res)
    readme = tmp_path / "R.md"
    readme.write_text("unchanged\n")
    rc = trainer.main(["--data", str(data), "--out", str(tmp_path / "o"), "--readme",
                       str(readme)])
    out = capsys.readouterr()
    assert rc == 1, out.err
    errors = [ln for ln in out.err.splitlines() if "error:" in ln]
    assert len(errors) == 1 and "C differs from Keras" in errors[0] and "3.0e-04" in errors[0]
    assert "Traceback" not in out.err and readme.read_text() == "unchanged\n"
