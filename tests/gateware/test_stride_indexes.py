"""Stride index gateware vs its bit-exact model, record for record (cocotb + Icarus)."""

import numpy as np
import pytest

from golden.stride_indexes_model import (
    MIN_STRIDE,
    RECORD_FIELDS,
    REF_MIN_GAP,
    stride_indexes_bitexact,
    stride_indexes_float,
    stride_onsets,
)
from hdl.stride_indexes import LATENCY_CYCLES, StrideIndexes
from sim.emg_hdl_engine import run_hdl_strides
from sim.hdl_build import simulator_missing

pytestmark = pytest.mark.skipif(simulator_missing() is not None,
                                reason=simulator_missing() or "")


def simulate(trig, present=None, stride_ref=0, count_width=16, reset_at=(), gap=2,
             rule=(MIN_STRIDE, REF_MIN_GAP), latency=False):
    recs, overrun, lat = run_hdl_strides(trig, present, stride_ref, count_width, reset_at, gap,
                                         rule)
    return (recs, overrun, lat) if latency else (recs, overrun)


def expected(trig, present=None, stride_ref=0, count_width=16, reset_at=(),
             rule=(MIN_STRIDE, REF_MIN_GAP)):
    cuts = [0, *reset_at, len(trig)]
    recs = []
    for a, b in zip(cuts[:-1], cuts[1:]):
        recs += stride_indexes_bitexact(trig[a:b], present, stride_ref, count_width,
                                        min_stride=rule[0], ref_min_gap=rule[1])
    return recs


def assert_same(got, want):
    assert len(got) == len(want), f"gateware gave {len(got)} records, model {len(want)}"
    for k, (g, w) in enumerate(zip(got, want)):
        diff = {f: (g[f], w[f]) for f in RECORD_FIELDS if g[f] != w[f]}
        assert not diff, f"record {k} differs (gateware, model): {diff}"


def gait_triggers(n, seed, period=(480, 620), first=300, lengths=(20, 400)):
    """Random periodic bursts per muscle, with jitter: a stand-in for trigger output."""
    rng = np.random.default_rng(seed)
    t = np.zeros((n, 8), np.uint8)
    for c in range(8):
        pos = int(rng.integers(0, first))
        while pos < n:
            length = int(rng.integers(*lengths))
            t[pos:pos + length, c] = 1
            pos += int(rng.integers(*period))
    return t


@pytest.mark.parametrize("seed,rule", [(3, (MIN_STRIDE, REF_MIN_GAP)), (4, (0, 0)),
                                       (10, (200, 60))])
def test_random_gait(seed, rule):
    trig = gait_triggers(4000, seed, period=(180, 620))
    got, overrun, lat = simulate(trig, rule=rule, gap=80, latency=True)
    want = expected(trig, rule=rule)
    assert len(want) > 5
    assert_same(got, want)
    assert overrun == 0
    # documented in hdl/stride_indexes.py; a leg whose stride ends on the same frame as the other's
    # waits for the other's record
    one_leg = [k for k, r in enumerate(got)
               if not any(o is not r
                          and o["start"] + o["stride_time"] == r["start"] + r["stride_time"]
                          for o in got)]
    assert one_leg and all(lat[k] == LATENCY_CYCLES for k in one_leg), lat


def test_stride_onset_rule():
    """Hand-made reference bursts: which rising edges start a stride, in gateware and model."""
    trig = np.zeros((3000, 8), np.uint8)
    for s, n in ((100, 40),    # first burst: a stride onset (off since reset)
                 (160, 30),    # 20 samples after the last: too short a gap -> same stride
                 (500, 40),    # gap 310 but only 400 into the stride (< 450) -> same stride
                 (1000, 50),   # gap 460, 900 into the stride -> stride onset
                 (1400, 30),   # gap 350, only 400 into the stride -> absorbed
                 (1480, 20),   # gap 50 < 120 -> absorbed even though 480 into the stride
                 (2000, 30)):  # gap 380, 1000 into the stride -> onset
        trig[s:s + n, 0] = 1
    trig[:, 1] = 1
    rule = (450, 120)
    assert list(stride_onsets(trig[:, 0], *rule)) == [100, 1000, 2000]
    got, _ = simulate(trig, rule=rule)
    assert_same(got, expected(trig, rule=rule))
    assert [(r["start"], r["stride_time"], r["LG_contraction"]) for r in got] == \
        [(100, 900, 40 + 30 + 40), (1000, 1000, 50 + 30 + 20)]


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
    got, _ = simulate(trig, count_width=cw, gap=1, rule=(0, 0))
    want = expected(trig, count_width=cw, rule=(0, 0))
    assert_same(got, want)
    assert [r["overflow"] for r in got] == [0, 1, 0]
    assert got[1]["stride_time"] == 255 and got[1]["TA_contraction"] == 255


def test_other_stride_reference():
    trig = gait_triggers(3000, 6)
    got, _ = simulate(trig, stride_ref=2)
    assert_same(got, expected(trig, stride_ref=2))


def test_bitexact_matches_float_model():
    """Not a simulation: the integer model against the float reference."""
    trig = gait_triggers(6000, 8, period=(180, 620))
    ints = stride_indexes_bitexact(trig)
    flts = stride_indexes_float(trig)
    assert len(ints) == len(flts) > 10
    assert len(stride_indexes_bitexact(trig, min_stride=0, ref_min_gap=0)) > len(ints)
    for a, b in zip(ints, flts):
        assert a["stride_time"] * 2 == b["stride_time_ms"]
        assert a["cocon_LG_TA"] * 2 == b["cocon_LG_TA_ms"]
        for mus in ("LG", "TA", "BF", "RF"):
            assert a[f"{mus}_contraction"] * 2 == b[f"{mus}_contraction_ms"]
            assert 0 <= b[f"{mus}_duty_pct"] - a[f"{mus}_duty"] / 100 < 0.01


def test_rule_parameters_are_validated():
    with pytest.raises(ValueError, match="does not fit"):
        StrideIndexes(8, min_stride=300)
    with pytest.raises(ValueError, match=r"ref_min_gap must be in 0\.\.4095 \(samples\), not -1"):
        StrideIndexes(ref_min_gap=-1)
    with pytest.raises(TypeError, match=r"ref_min_gap must be an integer in 0\.\.4095"):
        StrideIndexes(ref_min_gap=150.0)
    with pytest.raises(ValueError, match="min_stride"):
        stride_onsets(np.zeros(10), min_stride=1.5)


def test_overruns_saturate_at_all_ones():
    """The dropped-stride count adds 1 per dropped stride (both legs of one frame: on its two
    cycles) and stops at 0xFFFF: the counter is preset near the top (Amaranth simulator) and
    both legs, then one, drop."""
    from amaranth.sim import Simulator
    dut = StrideIndexes(min_stride=0, ref_min_gap=0)
    sim = Simulator(dut)
    sim.add_clock(1e-6)
    seen = []

    async def bench(ctx):
        ctx.set(dut.present, 0xFF)
        ctx.set(dut.o.ready, 0)                  # the first record waits: later strides drop
        ctx.set(dut.i.valid, 1)

        async def frame(bits):               # offered until taken, then the right leg's cycle
            ctx.set(dut.i.payload, [int(b) for b in bits])
            while not ctx.get(dut.i.ready):
                await ctx.tick()
            await ctx.tick()
            await ctx.tick()

        both, left, off = [1, 0, 0, 0, 1, 0, 0, 0], [1, 0, 0, 0, 0, 0, 0, 0], [0] * 8
        for _ in range(4):                       # start, pend, taken into the record, pend
            await frame(both)
            await frame(off)
        for preset, bits in ((0xFFFC, both), (0xFFFD, both), (0xFFFE, both), (0xFFFF, both),
                             (0xFFFE, left), (0xFFFF, left), (0xFFFD, left), (None, both)):
            if preset is not None:
                ctx.set(dut.overruns, preset)
            await frame(bits)
            seen.append(ctx.get(dut.overruns))
            await frame(off)
    sim.add_testbench(bench)
    sim.run()
    assert seen == [0xFFFE, 0xFFFF, 0xFFFF, 0xFFFF, 0xFFFF, 0xFFFF, 0xFFFE, 0xFFFF]
