"""Seeds of the random tests: fixed, shown in the test id, printed with the rerun command.

A random test takes its seed as a parameter::

    @pytest.mark.parametrize("seed", seeds(1, 2, 3))
    def test_x(seed):
        rng = np.random.default_rng(seed)

The test ids read ``test_x[seed=1]``. ``WOTRACK_SEED=7,8`` replaces the fixed seeds by others
(to rerun a failure or to explore); on a failure, ``tests/conftest.py`` adds the exact rerun
command to the report. Seeds are the same in every pytest-xdist worker (no fresh draws at
collection time, which would also make the workers collect different tests).
"""

import os

import pytest

#: environment variable that replaces the fixed seeds (comma-separated integers)
SEED_ENV = "WOTRACK_SEED"


def seeds(*fixed):
    """``pytest.param`` list for ``parametrize("seed", ...)``: ``fixed``, or ``$WOTRACK_SEED``."""
    env = os.environ.get(SEED_ENV, "").strip()
    try:
        values = [int(s) for s in env.split(",")] if env else [int(s) for s in fixed]
    except ValueError:
        raise pytest.UsageError(f"{SEED_ENV}={env!r}: give comma-separated integers") from None
    return [pytest.param(s, id=f"seed={s}") for s in values]
