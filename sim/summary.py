"""``make sim``: run every cocotb testbench and print a pass/fail/skip summary per block.

The testbenches are ``sim/cocotb_*.py``, driven by ``tests/gateware/``.

Usage: ``python -m sim.summary [--waves] [-k EXPR]``. With ``--waves`` each
simulation dumps an FST waveform and its path is printed (open with GTKWave).

A block is PASS only when every one of its tests ran and passed; SKIP when none failed but
some were skipped (the reasons are printed: a missing simulator, the shared data folder);
FAIL when a test failed or errored (setup, call or teardown) or its module could not be
collected. Exit status: 0 when nothing failed, 1 when something failed -- or was skipped
while ``WOTRACK_NO_SKIP=1`` (as in CI: every skip is then a failure, see ``tests/conftest.py``),
2 when ``-k`` selects no test.
"""

import os
import sys
from collections import defaultdict
from pathlib import Path

import pytest

from spec.cli import parser
from spec.constants import ROOT

DRIVERS = ROOT / "tests" / "gateware"
#: the environment variable of tests/conftest.py: set (not empty, not 0), a skip is a failure
NO_SKIP_ENV = "WOTRACK_NO_SKIP"


def _no_skip():
    return os.environ.get(NO_SKIP_ENV, "").strip() not in ("", "0")


def _block(nodeid):
    path = nodeid.split("::")[0]
    return Path(path).stem.removeprefix("test_") if path.endswith(".py") else (path or "(session)")


def _reason(report):
    """One line: why the report skipped or failed."""
    lr = report.longrepr
    if isinstance(lr, tuple) and len(lr) == 3:          # a skip: (path, line, reason)
        text = lr[2]
    elif getattr(getattr(lr, "reprcrash", None), "message", None):
        text = lr.reprcrash.message
    else:
        text = str(lr or "")
    lines = [ln.strip() for ln in text.removeprefix("Skipped: ").splitlines() if ln.strip()]
    return lines[0] if lines else "(no reason given)"


class _Collect:
    def __init__(self):
        self.blocks = defaultdict(lambda: {"passed": 0, "failed": 0, "skipped": 0,
                                           "reasons": defaultdict(int)})

    def _count(self, report, outcome, what=""):
        b = self.blocks[_block(report.nodeid)]
        b[outcome] += 1
        if outcome != "passed":
            b["reasons"][(outcome, what + _reason(report))] += 1

    def pytest_collectreport(self, report):
        if report.failed:
            self._count(report, "failed", "collection: ")
        elif report.skipped:
            self._count(report, "skipped", "whole module: ")

    def pytest_runtest_logreport(self, report):
        if hasattr(report, "wasxfail"):                 # an expected failure is not a skip
            if report.when == "call" or report.failed:
                self._count(report, "failed" if report.failed else "passed")
        elif report.when == "call":
            self._count(report, report.outcome)
        elif report.when == "setup" and report.outcome != "passed":
            self._count(report, report.outcome, "setup: " if report.failed else "")
        elif report.when == "teardown" and report.failed:
            self._count(report, "failed", "teardown: ")


def status(counts):
    """PASS, SKIP or FAIL for one block's counts (see the module docstring)."""
    if counts["failed"]:
        return "FAIL"
    if counts["skipped"] or not counts["passed"]:
        return "SKIP"
    return "PASS"


def report(blocks, show=print):
    """Print the table; return ``(failed blocks, skipped blocks)``."""
    show("\n== make sim: summary per block ==")
    failed, skipped = [], []
    for block, c in sorted(blocks.items()):
        st = status(c)
        {"FAIL": failed, "SKIP": skipped}.get(st, []).append(block)
        show(f"  {block:<22} {st}  ({c['passed']} passed, {c['failed']} failed, "
             f"{c['skipped']} skipped)")
        for (outcome, why), n in sorted(c["reasons"].items()):
            show(f"      {outcome}: {why}"
                 + (f"  (x{n})" if n > 1 else ""))
    return failed, skipped


def main(argv=None):
    ap = parser("sim.summary", __doc__.splitlines()[0])
    ap.add_argument("--waves", action="store_true", help="dump FST waveforms")
    ap.add_argument("-k", default=None, help="only tests matching this pytest expression")
    args = ap.parse_args(argv)
    if args.waves:
        os.environ["WAVES"] = "1"
    col = _Collect()
    # a module that cannot be imported is its block's FAIL; the other blocks still run
    pargs = (["-q", "-p", "no:cacheprovider", "--continue-on-collection-errors", str(DRIVERS)]
             + (["-k", args.k] if args.k else []))
    if args.waves:
        pargs.append("-s")
    rc = int(pytest.main(pargs, plugins=[col]))
    if rc == pytest.ExitCode.NO_TESTS_COLLECTED and (args.k or not col.blocks):
        what = f"matches -k {args.k}" if args.k else "found"
        print(f"sim.summary: error: no testbench test {what} in {DRIVERS}", file=sys.stderr)
        return 2 if args.k else 1
    failed, skipped = report(col.blocks)
    strict = _no_skip()
    verdict = (f"{len(col.blocks) - len(failed) - len(skipped)} PASS, {len(skipped)} SKIP, "
               f"{len(failed)} FAIL")
    if skipped and strict:
        verdict += f" -- {NO_SKIP_ENV}=1: a skip counts as a failure"
    print(f"== {verdict}")
    if failed or (skipped and strict):
        return 1
    # pytest's own failures that no block shows (an internal error, an interrupted run)
    return 0 if rc in (pytest.ExitCode.OK, pytest.ExitCode.NO_TESTS_COLLECTED) else 1


if __name__ == "__main__":
    sys.exit(main())
