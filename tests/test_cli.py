"""Unit tests of :mod:`spec.cli`, the conventions every command-line tool shares."""

import csv
import json
import os
from pathlib import Path

import numpy as np
import pytest

from spec import cli, outputs


def test_usage_error_is_one_line_and_exit_2(capsys):
    ap = cli.parser("sw.example", "Example tool.")
    ap.add_argument("--n", type=int, default=1)
    with pytest.raises(SystemExit) as exc:
        ap.parse_args(["--n", "x"])
    assert exc.value.code == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1
    assert err.startswith("sw.example: error: argument --n: invalid int value")
    assert err.rstrip().endswith("(see python -m sw.example --help)")


def test_sub_command_error_names_its_own_help(capsys):
    ap = cli.parser("sw.example", "Example tool.")
    sub = ap.add_subparsers(dest="cmd", required=True)
    e = cli.one_line_errors(sub.add_parser("eeg"), "sw.example")
    e.add_argument("--engine", choices=("golden", "hdl"))
    with pytest.raises(SystemExit) as exc:
        ap.parse_args(["eeg", "--engine", "fpga"])
    assert exc.value.code == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and err.startswith("sw.example: error: ")
    assert "(see python -m sw.example eeg --help)" in err


def test_fail_and_guard(capsys):
    assert cli.fail("sw.example", "bad thing\nsecond line") == 2
    assert capsys.readouterr().err == "sw.example: error: bad thing\n"
    assert cli.fail("sw.example", "x", 1) == 1
    capsys.readouterr()

    def boom():
        raise cli.InputError("no such file")
    assert cli.guard("sw.example", boom) == 2
    assert capsys.readouterr().err == "sw.example: error: no such file\n"
    assert cli.guard("sw.example", lambda: 0) == 0


def test_input_error_is_one_class():
    from sw.recording import InputError
    assert InputError is cli.InputError and issubclass(InputError, ValueError)


def _listing(folder):
    return sorted(os.listdir(folder))


@pytest.mark.parametrize("write", [
    lambda p: outputs.write_text_atomic(p, "new"),
    lambda p: outputs.write_bytes_atomic(p, b"new"),
    lambda p: outputs.write_csv_atomic(p, ["a"], [{"a": 1}]),
    lambda p: outputs.write_json_atomic(p, {"a": 1}),
])
def test_atomic_writers_replace_the_target(tmp_path, write):
    target = tmp_path / "out.txt"
    target.write_text("old")
    write(target)
    assert target.read_bytes() != b"old"
    assert _listing(tmp_path) == ["out.txt"]                 # no temporary left behind
    assert (target.stat().st_mode & 0o777) == 0o666 & ~_umask()


def _umask():
    m = os.umask(0o022)
    os.umask(m)
    return m


class Boom(Exception):
    pass


def test_atomic_path_leaves_the_target_untouched_on_an_exception(tmp_path):
    target = tmp_path / "out.txt"
    target.write_text("old")
    with pytest.raises(Boom):
        with outputs.atomic_path(target) as tmp:
            Path(tmp).write_text("half written")
            raise Boom
    assert target.read_text() == "old"
    assert _listing(tmp_path) == ["out.txt"]


def test_csv_writer_failing_mid_way_keeps_the_old_file(tmp_path):
    target = tmp_path / "t.csv"
    target.write_text("old")

    def rows():
        yield {"a": 1}
        raise Boom
    with pytest.raises(Boom):
        outputs.write_csv_atomic(target, ["a"], rows())
    assert target.read_text() == "old" and _listing(tmp_path) == ["t.csv"]
    with pytest.raises(ValueError):                        # a column the header does not name
        outputs.write_csv_atomic(target, ["a"], [{"b": 1}])
    assert target.read_text() == "old"


def test_csv_writer_output(tmp_path):
    rows = [{"a": 1, "b": ""}, {"a": "x", "b": 2.5}]
    outputs.write_csv_atomic(tmp_path / "t.csv", ("a", "b"), rows)
    with open(tmp_path / "t.csv", newline="") as f:
        assert list(csv.reader(f)) == [["a", "b"], ["1", ""], ["x", "2.5"]]


def test_output_folder_moves_in_on_success_only(tmp_path):
    out = tmp_path / "model"
    with pytest.raises(Boom):
        with outputs.OutputFolder(out, "sw.example") as tmp:
            (Path(tmp) / "new.txt").write_text("new")
            raise Boom
    assert _listing(tmp_path) == []                       # the folder it made is gone again
    with outputs.OutputFolder(out, "sw.example") as tmp:
        (Path(tmp) / "old.txt").write_text("old")
    assert _listing(out) == [outputs.MARKER, "old.txt"]
    assert (out / outputs.MARKER).read_text() == "sw.example\nold.txt\n"
    with pytest.raises(Boom):
        with outputs.OutputFolder(out, "sw.example", force=True) as tmp:
            (Path(tmp) / "new.txt").write_text("new")
            raise Boom
    assert _listing(out) == [outputs.MARKER, "old.txt"] and _listing(tmp_path) == ["model"]
    with outputs.OutputFolder(out, "sw.example", force=True) as tmp:
        os.mkdir(Path(tmp) / "c")
        (Path(tmp) / "c" / "new.txt").write_text("new")
    assert _listing(out) == [outputs.MARKER, "c"] and _listing(out / "c") == ["new.txt"]
    assert (out / "c").stat().st_mode & 0o777 == 0o777 & ~_umask()


def test_json_default_and_dumps(tmp_path):
    obj = {"i": np.int16(3), "f": np.float32(0.5), "b": np.bool_(True),
           "a": np.arange(3), "p": Path("x") / "y"}
    assert json.loads(json.dumps(obj, default=outputs.json_default)) == {
        "i": 3, "f": 0.5, "b": True, "a": [0, 1, 2], "p": os.path.join("x", "y")}
    with pytest.raises(TypeError):
        outputs.json_default(object())
    text = outputs.dumps({"b": 1, "a": np.int64(2)})
    assert text == '{\n  "a": 2,\n  "b": 1\n}\n'
    assert outputs.dumps({"b": 1, "a": 2}, indent=1, sort_keys=False) == '{\n "b": 1,\n "a": 2\n}\n'
    outputs.write_json_atomic(tmp_path / "x.json", obj)
    assert json.loads((tmp_path / "x.json").read_text())["a"] == [0, 1, 2]


def test_guard_turns_ctrl_c_into_130_when_asked(capsys):
    def interrupted():
        raise KeyboardInterrupt
    assert cli.guard("sw.example", interrupted, interrupted="interrupted, nothing written") == 130
    assert capsys.readouterr().err == "sw.example: interrupted, nothing written\n"
    with pytest.raises(KeyboardInterrupt):
        cli.guard("sw.example", interrupted)


def test_error_status_maps_each_failure_to_one_line_and_its_status(capsys):
    assert cli.error_status("sw.example", cli.InputError("bad.csv: row 3")) == 2
    assert cli.error_status("sw.example", PermissionError(13, "Permission denied", "o")) == 1
    assert cli.error_status("sw.example", KeyboardInterrupt()) == 130
    lines = capsys.readouterr().err.splitlines()
    assert lines[0] == "sw.example: error: bad.csv: row 3"
    assert lines[1].startswith("sw.example: error: ") and "Permission denied" in lines[1]
    assert lines[2] == "sw.example: interrupted; nothing written" and len(lines) == 3
