"""Shared fixtures and hooks.

* ``small_cohort``: one small synthetic cohort per test worker (about 20-40 s to build).
* A failing test that takes a ``seed`` parameter (:mod:`tests.seeding`) gets a report section
  with the command that reruns it with that seed.
"""

import pytest

from sw import cohort
from tests.seeding import SEED_ENV

#: 2 walks x 80 strides per leg x 5 subjects x 2 sessions: ~1000 test rows (S2, S5)
SMALL = ["--walks", "2", "--steps", "80", "--seed", "11", "--jobs", "2"]


@pytest.fixture(scope="session")
def small_cohort(tmp_path_factory):
    out = tmp_path_factory.mktemp("small_cohort") / "cohort"
    assert cohort.main(["--out", str(out), *SMALL]) == 0
    return out


@pytest.hookimpl(wrapper=True)
def pytest_runtest_makereport(item, call):
    rep = yield
    params = getattr(getattr(item, "callspec", None), "params", {})
    if rep.failed and "seed" in params:
        rep.sections.append(("random seed", f"seed {params['seed']}; rerun with\n"
                             f"  {SEED_ENV}={params['seed']} python -m pytest '{item.nodeid}'"))
    return rep
