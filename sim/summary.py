"""``make sim``: run every cocotb testbench and print a pass/fail summary per block.

The testbenches are ``sim/cocotb_*.py``, driven by ``tests/gateware/``.

Usage: ``python -m sim.summary [--waves] [-k EXPR]``. With ``--waves`` each
simulation dumps an FST waveform and its path is printed (open with GTKWave).
"""

import os
import sys
from collections import defaultdict
from pathlib import Path

import pytest

from spec.cli import parser
from spec.constants import ROOT

DRIVERS = ROOT / "tests" / "gateware"


class _Collect:
    def __init__(self):
        self.blocks = defaultdict(lambda: {"passed": 0, "failed": 0, "skipped": 0})

    def pytest_runtest_logreport(self, report):
        block = Path(report.nodeid.split("::")[0]).stem.removeprefix("test_")
        if report.when == "call" or (report.when == "setup" and report.outcome != "passed"):
            self.blocks[block][report.outcome] += 1


def main(argv=None):
    ap = parser("sim.summary", __doc__.splitlines()[0])
    ap.add_argument("--waves", action="store_true", help="dump FST waveforms")
    ap.add_argument("-k", default=None, help="only tests matching this pytest expression")
    args = ap.parse_args(argv)
    if args.waves:
        os.environ["WAVES"] = "1"
    col = _Collect()
    pargs = ["-q", "-p", "no:cacheprovider", str(DRIVERS)] + (["-k", args.k] if args.k else [])
    if args.waves:
        pargs.append("-s")
    rc = pytest.main(pargs, plugins=[col])
    print("\n== make sim: summary per block ==")
    for block, c in sorted(col.blocks.items()):
        status = ("PASS" if c["failed"] == 0 and c["passed"]
                  else ("SKIP" if not c["failed"] else "FAIL"))
        print(f"  {block:<22} {status}  ({c['passed']} passed, {c['failed']} failed, "
              f"{c['skipped']} skipped)")
    return int(rc)


if __name__ == "__main__":
    sys.exit(main())
