"""hdl.const_compare: comparisons with a constant built from LUTs, exhaustively on 6 bits."""

import pytest
from amaranth.hdl import Module, Signal, signed
from amaranth.sim import Simulator

from hdl.const_compare import ge_const, gt_const


def test_exhaustive_against_python():
    value = Signal(6)
    ks = [-5, -1, 0, 1, 2, 7, 32, 33, 42, 62, 63, 64, 100]
    outs = {k: (Signal(name=f"gt_{i}"), Signal(name=f"ge_{i}")) for i, k in enumerate(ks)}
    m = Module()
    for k, (gt, ge) in outs.items():
        m.d.comb += [gt.eq(gt_const(value, k)), ge.eq(ge_const(value, k))]
    checked = []

    async def bench(ctx):
        for v in range(64):
            ctx.set(value, v)
            for k, (gt, ge) in outs.items():
                checked.append((v, k, ctx.get(gt), int(v > k), ctx.get(ge), int(v >= k)))

    sim = Simulator(m)
    sim.add_testbench(bench)
    sim.run()
    assert len(checked) == 64 * len(ks)
    bad = [c for c in checked if c[2] != c[3] or c[4] != c[5]]
    assert not bad, bad[:5]


def test_rejects_signed_and_non_int():
    with pytest.raises(TypeError, match="unsigned"):
        gt_const(Signal(signed(4)), 1)
    with pytest.raises(TypeError, match="integer"):
        gt_const(Signal(4), 1.5)
    with pytest.raises(TypeError, match="integer"):
        ge_const(Signal(4), True)
