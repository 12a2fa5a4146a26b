"""Shared fixtures: one small synthetic cohort per test worker (about 20-40 s to build)."""

import pytest

from sw import cohort

#: 2 walks x 80 strides per leg x 5 subjects x 2 sessions: ~1000 test rows (S2, S5)
SMALL = ["--walks", "2", "--steps", "80", "--seed", "11", "--jobs", "2"]


@pytest.fixture(scope="session")
def small_cohort(tmp_path_factory):
    out = tmp_path_factory.mktemp("small_cohort") / "cohort"
    assert cohort.main(["--out", str(out), *SMALL]) == 0
    return out
