"""Shared fixtures and hooks.

* ``small_cohort``: one small synthetic cohort per test worker (about 20-40 s to build).
* A failing test that takes a ``seed`` parameter (:mod:`tests.seeding`) gets a report section
  with the command that reruns it with that seed.
* ``WOTRACK_NO_SKIP=1`` (set by ``.ci/run``): no silent skips. Every skip -- a ``skipif`` or
  ``skip`` mark, ``pytest.skip()`` or ``pytest.importorskip()`` in a test or fixture, or a whole
  module skipped at import -- becomes a failure whose message names what is missing (the skip's
  reason: the shared data folder, the ARM toolchain, a simulator, a package). Expected failures
  (``xfail``) are left alone.
"""

import os

import pytest

from sw import cohort
from tests.seeding import SEED_ENV

#: environment variable: 1 (any value but empty or 0) turns every skip into a failure naming
#: what is missing
NO_SKIP_ENV = "WOTRACK_NO_SKIP"

#: 2 walks x 80 strides per leg x 5 subjects x 2 sessions: ~1000 test rows (S2, S5)
SMALL = ["--walks", "2", "--steps", "80", "--seed", "11", "--jobs", "2"]


@pytest.fixture(scope="session")
def small_cohort(tmp_path_factory):
    out = tmp_path_factory.mktemp("small_cohort") / "cohort"
    assert cohort.main(["--out", str(out), *SMALL]) == 0
    return out


def _no_skip():
    return os.environ.get(NO_SKIP_ENV, "").strip() not in ("", "0")


def _skip_to_failure(rep):
    """Turn a skipped report into a failed one whose message is the skip's reason."""
    lr = rep.longrepr
    reason = lr[2] if isinstance(lr, tuple) and len(lr) == 3 else str(lr or "")
    reason = reason.removeprefix("Skipped: ").strip() or "(the skip gave no reason)"
    rep.outcome = "failed"
    rep.longrepr = f"{reason} [a skip, refused: {NO_SKIP_ENV}=1]"


def pytest_collection_modifyitems(items):
    """pytest-xdist ``--dist loadgroup`` (the Makefile): the tests that use ``small_cohort``
    run in one worker, so the cohort is built once; every other file is one group
    (as ``--dist loadfile``: module fixtures such as trained models are built once)."""
    for item in items:
        cohort = "small_cohort" in getattr(item, "fixturenames", ())
        item.add_marker(pytest.mark.xdist_group(
            "small_cohort" if cohort else item.nodeid.split("::")[0]))


@pytest.hookimpl(wrapper=True)
def pytest_runtest_makereport(item, call):
    rep = yield
    params = getattr(getattr(item, "callspec", None), "params", {})
    if rep.skipped and not hasattr(rep, "wasxfail") and _no_skip():
        _skip_to_failure(rep)
    if rep.failed and "seed" in params:
        rep.sections.append(("random seed", f"seed {params['seed']}; rerun with\n"
                             f"  {SEED_ENV}={params['seed']} python -m pytest '{item.nodeid}'"))
    return rep


@pytest.hookimpl(wrapper=True)
def pytest_make_collect_report(collector):
    """A module skipped as a whole (``pytest.importorskip`` or ``pytest.skip(...,
    allow_module_level=True)`` at import) is a collection error under ``WOTRACK_NO_SKIP=1``."""
    rep = yield
    if rep.skipped and _no_skip():
        _skip_to_failure(rep)
    return rep
