"""Property tests of the CLIs' argument handling: whatever the command line, a tool either
succeeds or ends with exit status 2 (bad input) or 1 (environment) and one line on stderr --
never a traceback -- and when it fails it writes nothing.

Argument lists are drawn from each tool's own option names mixed with hostile values (empty,
``,,,``, non-finite and huge numbers, missing files, folders, the input itself as output, NUL
bytes, non-ASCII). Each tool runs in-process with a fresh empty working folder; the only
file it may read is a small valid recording placed there. Derandomized: every run draws the
same examples, and hypothesis prints the falsifying one.
"""

import contextlib
import io
import os
import tempfile

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from boards import arm_program
from sw import extract, samples_file

SETTINGS = settings(max_examples=60, deadline=None, derandomize=True,
                    suppress_health_check=[HealthCheck.too_slow])

VALUES = ["", ",,,", "=", "R_RF=", "=RF", "R_RF=RF", "inf", "-inf", "nan", "0", "-1", "1e999",
          "1e-300", "3", "1000", "2.5", "missing.csv", "rec.csv", "out.csv", ".", "..", "/",
          "sub/none.csv", "caf\u00e9", "a\x00b", "--", "-o", "T1,T2", "C3=C3", "golden"]


def _recording(folder):
    """A small valid EMG CSV (time column, two muscles) in ``folder``."""
    t = np.arange(0, 2.0, 0.001)
    x = 50 * np.sin(2 * np.pi * 60 * t)
    with open(os.path.join(folder, "rec.csv"), "w") as f:
        f.write("time,RF,BF\n")
        f.writelines(f"{a:.3f},{b:.3f},{-b:.3f}\n" for a, b in zip(t, x))


def _run(main, argv):
    """Run ``main(argv)`` in a fresh folder; returns (status, stderr, files written)."""
    old = os.getcwd()
    with tempfile.TemporaryDirectory() as d:
        _recording(d)
        before = set(os.listdir(d))
        os.chdir(d)
        err = io.StringIO()
        try:
            with contextlib.redirect_stderr(err), contextlib.redirect_stdout(io.StringIO()):
                try:
                    status = main(argv)
                except SystemExit as e:
                    status = e.code
        finally:
            os.chdir(old)
        written = set(os.listdir(d)) - before
    return (0 if status is None else status), err.getvalue(), written


def _check(main, argv):
    status, err, written = _run(main, argv)
    assert status in (0, 1, 2), (argv, status, err)
    if status:
        lines = [ln for ln in err.splitlines() if "error" in ln]
        assert lines and "Traceback" not in err, (argv, err)
        assert not written, (argv, written)
    if status == 2:                     # bad input: exactly one line naming what is wrong
        assert len(lines) == 1 and ": error: " in lines[0], (argv, err)


def _argv(options, positional=()):
    opt = st.tuples(st.sampled_from(options), st.sampled_from(VALUES))
    pos = st.lists(st.sampled_from(list(positional) + VALUES), max_size=2)
    return st.tuples(pos, st.lists(opt, max_size=4)).map(
        lambda p: list(p[0]) + [tok for o, v in p[1] for tok in (o, v)])


EXTRACT_EMG = ["--fs", "--map", "--full-scale", "--stride-ref", "-o", "--engine"]
EXTRACT_EEG = ["--fs", "--map", "--unit", "--uv-per-lsb", "--events", "--triggers", "--emg",
               "--emg-fs", "--emg-map", "-o"]
SAMPLES = ["--synthetic", "--seed", "--emg", "--eeg", "--fs", "--map", "--full-scale", "-o",
           "--port", "--baud"]
ARM = ["--model-dir", "--model", "--out"]


@SETTINGS
@given(_argv(EXTRACT_EMG, ["rec.csv"]))
def test_extract_emg_arguments(argv):
    if "--engine" in argv:                                # the hdl engine is a slow simulation
        i = argv.index("--engine")
        argv[i + 1] = "golden"
    _check(extract.main, ["emg"] + argv)


@SETTINGS
@given(_argv(EXTRACT_EEG, ["rec.csv"]))
def test_extract_eeg_arguments(argv):
    _check(extract.main, ["eeg"] + argv)


@SETTINGS
@given(_argv(SAMPLES))
def test_samples_file_arguments(argv):
    if "--port" in argv:                                  # no serial port in the tests
        i = argv.index("--port")
        argv[i + 1] = "missing.csv"
    _check(samples_file.main, argv)


@SETTINGS
@given(_argv(ARM))
def test_arm_program_arguments(argv):
    _check(arm_program.main, argv)


@pytest.mark.parametrize("main, argv", [
    (extract.main, ["emg", "rec.csv", "-o", "a\x00b"]),
    (extract.main, ["emg", "rec.csv", "--map", ",,,"]),
    (extract.main, ["eeg", "rec.csv", "--uv-per-lsb", "inf"]),
    (extract.main, ["eeg", "rec.csv", "--emg", "rec.csv", "--emg-fs", "1000", "--emg-map", ",,,"]),
    (extract.main, ["emg", "rec.csv", "--fs", "1000", "-o", "/dev/null"]),
    (samples_file.main, ["--emg", "rec.csv", "--fs", "1000", "--map", ",,,", "-o", "s.bin"]),
    (samples_file.main, ["--synthetic", "1", "-o", "/dev/null"])],
    ids=["nul", "map", "uv-inf", "emg-map", "dev-null", "samples-map", "samples-dev-null"])
def test_known_hostile_command_lines(main, argv):
    """The reproductions of the issue: one line, exit 2, nothing written -- and /dev/null (a
    device) is refused, never replaced by a regular file."""
    status, err, written = _run(main, argv)
    assert status == 2 and len(err.strip().splitlines()) == 1 and not written, (status, err)
    assert os.path.exists("/dev/null") and not os.path.isfile("/dev/null")
