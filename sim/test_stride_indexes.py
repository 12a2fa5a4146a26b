"""Stride index gateware vs its bit-exact model, record for record (cocotb + Icarus)."""

import numpy as np
import pytest

from hdl.stride_indexes import StrideIndexes
from sim.hdl_build import run_cocotb, simulator_missing
from sim.records import decode_records
from sw.stride_indexes_model import stride_indexes_bitexact, stride_indexes_float, RECORD_FIELDS

pytestmark = pytest.mark.skipif(simulator_missing() is not None,
                                reason=simulator_missing() or "")


def simulate(trig, present=None, stride_ref=0, count_width=16, reset_at=(), gap=2):
    present = np.ones(8, bool) if present is None else np.asarray(present, bool)
    out = run_cocotb(StrideIndexes(count_width), "stride_indexes", "sim.cocotb_stride_indexes",
                     dict(trig=np.asarray(trig, np.uint8), present=present,
                          stride_ref=stride_ref, reset_at=np.asarray(reset_at, int), gap=gap))
    return decode_records(out["records"], count_width), int(out["overrun"])


def expected(trig, present=None, stride_ref=0, count_width=16, reset_at=()):
    cuts = [0, *reset_at, len(trig)]
    recs = []
    for a, b in zip(cuts[:-1], cuts[1:]):
        recs += stride_indexes_bitexact(trig[a:b], present, stride_ref, count_width)
    return recs


def assert_same(got, want):
    assert len(got) == len(want), f"gateware gave {len(got)} records, model {len(want)}"
    for k, (g, w) in enumerate(zip(got, want)):
        diff = {f: (g[f], w[f]) for f in RECORD_FIELDS if g[f] != w[f]}
        assert not diff, f"record {k} differs (gateware, model): {diff}"


def gait_triggers(n, seed, period=(480, 620)):
    """Random periodic bursts per muscle, with jitter: a stand-in for trigger output."""
    rng = np.random.default_rng(seed)
    t = np.zeros((n, 8), np.uint8)
    for c in range(8):
        pos = int(rng.integers(0, 300))
        while pos < n:
            length = int(rng.integers(20, 400))
            t[pos:pos + length, c] = 1
            pos += int(rng.integers(*period))
    return t


@pytest.mark.parametrize("seed", [3, 4])
def test_random_gait(seed):
    trig = gait_triggers(4000, seed)
    got, overrun = simulate(trig)
    want = expected(trig)
    assert len(want) > 5
    assert_same(got, want)
    assert overrun == 0


def test_edge_cases():
    n = 3000
    trig = gait_triggers(n, 9)
    trig[:, 4:8] = 0
    trig[:, 5] = 1                          # right TA never relaxes (its leg has no LG anyway)
    trig[:, 1] = 1                          # left TA never relaxes
    present = np.array([1, 1, 1, 0, 1, 1, 1, 1], bool)   # left RF absent
    got, _ = simulate(trig, present, reset_at=[1500])
    want = expected(trig, present, reset_at=[1500])
    assert_same(got, want)
    assert all(r["leg"] == 0 for r in got), "a leg without LG activity has no strides"
    assert all(r["TA_duty"] == 10000 and r["TA_relaxation"] == 0 for r in got)
    assert all(r["present"] == 0b0111 for r in got)


def test_no_strides_and_missing_leg():
    trig = gait_triggers(1500, 5)
    trig[:, 0] = 0                          # left LG silent: no strides on the left
    present = np.array([1] * 4 + [0] * 4, bool)   # right leg absent
    got, _ = simulate(trig, present)
    assert got == [] and expected(trig, present) == []


def test_stride_longer_than_counter_saturates_and_flags():
    cw = 8                                  # 255 samples = 510 ms counter range
    trig = np.zeros((900, 8), np.uint8)
    for s in (10, 100, 500, 560):           # strides of 90, 400 (> 255) and 60 samples
        trig[s:s + 20, 0] = 1
        trig[s:s + 300, 1] = 1
    got, _ = simulate(trig, count_width=cw, gap=1)
    want = expected(trig, count_width=cw)
    assert_same(got, want)
    assert [r["overflow"] for r in got] == [0, 1, 0]
    assert got[1]["stride_time"] == 255 and got[1]["TA_contraction"] == 255


def test_other_stride_reference():
    trig = gait_triggers(3000, 6)
    got, _ = simulate(trig, stride_ref=2)
    assert_same(got, expected(trig, stride_ref=2))


def test_bitexact_matches_float_model():
    """Not a simulation: the integer model against the float reference."""
    trig = gait_triggers(6000, 8)
    ints = stride_indexes_bitexact(trig)
    flts = stride_indexes_float(trig)
    assert len(ints) == len(flts) > 10
    for a, b in zip(ints, flts):
        assert a["stride_time"] * 2 == b["stride_time_ms"]
        assert a["cocon_LG_TA"] * 2 == b["cocon_LG_TA_ms"]
        for mus in ("LG", "TA", "BF", "RF"):
            assert a[f"{mus}_contraction"] * 2 == b[f"{mus}_contraction_ms"]
            assert 0 <= b[f"{mus}_duty_pct"] - a[f"{mus}_duty"] / 100 < 0.01
