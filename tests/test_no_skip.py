"""``WOTRACK_NO_SKIP=1`` (tests/conftest.py): every kind of skip becomes a failure naming what is
missing; without the flag the same tests skip. Each case runs in a pytest subprocess with the
project's conftest loaded as a plugin (``-p tests.conftest``) on throw-away test files."""

import os
import subprocess
import sys
import xml.etree.ElementTree as ET

import pytest

from spec.constants import ROOT
from tests.conftest import NO_SKIP_ENV

CASES = '''
import pytest

@pytest.fixture
def needs_board():
    pytest.skip("no DE10-Nano attached")

@pytest.mark.skipif(True, reason="ARM toolchain not found (mark)")
def test_skipif_mark():
    pass

@pytest.mark.skip(reason="plain skip mark")
def test_skip_mark():
    pass

def test_runtime_skip():
    pytest.skip("shared data folder absent (runtime)")

def test_importorskip():
    pytest.importorskip("no_such_module_wotrack", reason="pip install no-such-module")

def test_skip_in_fixture(needs_board):
    pass

@pytest.mark.xfail(reason="known", strict=True)
def test_xfail_stays_xfail():
    assert False

def test_passes():
    pass
'''

MODULE_SKIP = '''
import pytest
pytest.importorskip("no_such_module_wotrack_either", reason="pip install whole-module-dep")

def test_never_collected():
    pass
'''

#: test name -> text its skip reason contains
REASONS = {"test_skipif_mark": "ARM toolchain not found (mark)",
           "test_skip_mark": "plain skip mark",
           "test_runtime_skip": "shared data folder absent (runtime)",
           "test_importorskip": "pip install no-such-module",
           "test_skip_in_fixture": "no DE10-Nano attached"}


def _session(tmp_path, flag):
    d = tmp_path / ("on" if flag else "off")
    d.mkdir()
    (d / "pytest.ini").write_text("[pytest]\n")
    (d / "test_cases.py").write_text(CASES)
    (d / "test_module_skip.py").write_text(MODULE_SKIP)
    env = {k: v for k, v in os.environ.items() if k != NO_SKIP_ENV}
    if flag is not None:
        env[NO_SKIP_ENV] = flag
    xml = d / "junit.xml"
    r = subprocess.run([sys.executable, "-m", "pytest", "-p", "tests.conftest", "-p", "no:xdist",
                        "-p", "no:cacheprovider", "-p", "no:randomly", "-p", "no:benchmark",
                        "-c", str(d / "pytest.ini"), "--rootdir", str(d),
                        "--continue-on-collection-errors", "-rA", f"--junitxml={xml}", str(d)],
                       cwd=ROOT, env=env, capture_output=True, text=True, timeout=300)
    results = {}
    for case in ET.parse(xml).iter("testcase"):
        name = case.get("name") or case.get("classname")
        kids = [k for k in case if k.tag in ("failure", "error", "skipped")]
        if not kids:
            results[name] = ("passed", "")
        else:
            k = kids[0]
            results[name] = (k.tag, f"{k.get('message', '')} {k.text or ''}")
    return r, results


@pytest.mark.parametrize("flag", [None, "0"])
def test_without_the_flag_skips_stay_skips(tmp_path, flag):
    r, res = _session(tmp_path, flag)
    assert r.returncode == 0, r.stdout + r.stderr
    for name, reason in REASONS.items():
        assert res[name][0] == "skipped" and reason in res[name][1], (name, res[name])
    assert res["test_passes"][0] == "passed"
    assert res["test_xfail_stays_xfail"][0] == "skipped"             # junit's xfail
    assert "1 passed, 6 skipped, 1 xfailed" in r.stdout, r.stdout


def test_with_the_flag_every_skip_fails_naming_what_is_missing(tmp_path):
    r, res = _session(tmp_path, "1")
    assert r.returncode != 0
    for name, reason in REASONS.items():
        kind, text = res[name]
        assert kind in ("failure", "error"), (name, res[name])
        assert f"{NO_SKIP_ENV}=1" in text and reason in text, (name, text)
    # the whole module skipped at import is a collection error naming its missing package
    out = r.stdout
    assert "ERROR" in out and "test_module_skip.py" in out
    assert "pip install whole-module-dep" in out, out
    # an expected failure is not a skip; a passing test still passes
    assert res["test_xfail_stays_xfail"][0] == "skipped"
    assert res["test_passes"][0] == "passed"
    assert "1 passed" in out and "1 xfailed" in out and " skipped" not in out.splitlines()[-1]
