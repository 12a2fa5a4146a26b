"""HPS register block (hdl/hps_regs.py) on an Avalon-MM bus model; map == spec.registers."""

import os
import re

import numpy as np
import pytest

from hdl.hps_regs import CONTROL_RESET, ID_VALUE, MAX_FRAME, REGS, HPSRegs
from sim.hdl_build import run_cocotb, simulator_missing
from spec import constants, registers
from spec.frames import PAYLOADS, Decoder, encode_record

ROOT = str(constants.ROOT)


def test_register_map_matches_the_arm_header():
    """hdl.hps_regs, the generated wo_regs.h and spec.registers give the same map."""
    assert REGS == registers.offsets() and ID_VALUE == registers.ID_VALUE
    assert CONTROL_RESET == registers.REGISTERS["CONTROL"].reset == 0x7F00FF00
    text = open(os.path.join(ROOT, "boards", "arm", "wo_regs.h")).read()
    defs = {k: int(v, 16) for k, v in re.findall(r"#define WO_REG_(\w+)\s+0x([0-9A-Fa-f]+)u", text)}
    assert defs == REGS
    assert int(re.search(r"WO_ID_VALUE\s+0x([0-9A-F]+)u", text).group(1), 16) == ID_VALUE
    assert int(re.search(r"WO_BRIDGE_BASE\s+0x([0-9A-F]+)u", text).group(1), 16) \
        == registers.BRIDGE_BASE == 0xFF200000
    assert int(re.search(r"WO_CONTROL_RESET\s+0x([0-9A-F]+)u", text).group(1), 16) == CONTROL_RESET


def _put(reg, **values):
    return sum(v << registers.field(reg, k).lsb for k, v in values.items())


def _get(reg, name, word):
    f = registers.field(reg, name)
    return (word & f.mask) >> f.lsb


def test_gateware_decode_follows_spec_registers():
    """Amaranth simulation: every register read, the CONTROL write and its fields at the
    offsets and bit positions of spec.registers."""
    from amaranth.sim import Simulator
    dut = HPSRegs(result_depth=2 * MAX_FRAME, sample_depth=4)
    counters = dict(samples_in=0x12345678, bad_frames=0x1111, lost_frames=0x2222,
                    framing_errors=0x3333, overruns=0x4444, stride_overrun=1,
                    stride_overruns=0x5555)
    got = {}

    async def read(ctx, reg):
        ctx.set(dut.bus.address, REGS[reg] // 4)
        ctx.set(dut.bus.read, 1)
        await ctx.tick()
        ctx.set(dut.bus.read, 0)
        return ctx.get(dut.bus.readdata)

    async def bench(ctx):
        for k, v in counters.items():
            ctx.set(getattr(dut, k), v)
        await ctx.tick()
        for reg in ("ID", "CONTROL", "STATUS", "RESULT", "SAMPLES_IN", "INGRESS", "RX_ERRORS",
                    "STRIDE_OVERRUNS"):
            got[reg] = await read(ctx, reg)
        ctx.set(dut.frames.valid, 1)
        ctx.set(dut.frames.payload, {"data": 0xAB, "last": 1})    # one byte, last of its frame
        await ctx.tick()
        ctx.set(dut.frames.valid, 0)
        await ctx.tick().repeat(3)
        got["STATUS_1"] = await read(ctx, "STATUS")
        got["RESULT_1"] = await read(ctx, "RESULT")
        ctx.set(dut.bus.address, REGS["CONTROL"] // 4)
        ctx.set(dut.bus.writedata, 0xA503_5A01 | registers.field("CONTROL", "CLEAR_OVERFLOW").mask)
        ctx.set(dut.bus.write, 1)
        await ctx.tick()
        ctx.set(dut.bus.write, 0)
        got["CONTROL_1"] = await read(ctx, "CONTROL")
        got["ports"] = [ctx.get(p)
                        for p in (dut.source, dut.present, dut.stride_ref, dut.eeg_enable)]

    sim = Simulator(dut)
    sim.add_clock(1e-6)
    sim.add_testbench(bench)
    sim.run()
    assert got["ID"] == registers.ID_VALUE and got["CONTROL"] == CONTROL_RESET
    assert got["STATUS"] == _put("STATUS", STRIDE_OVERRUN=1) and got["RESULT"] == 0
    assert got["SAMPLES_IN"] == counters["samples_in"]
    assert got["INGRESS"] == _put("INGRESS", REJECTED=0x1111, LOST=0x2222)
    assert got["RX_ERRORS"] == _put("RX_ERRORS", FRAMING=0x3333, OVERRUN=0x4444)
    assert got["STRIDE_OVERRUNS"] == _put("STRIDE_OVERRUNS", COUNT=0x5555)
    assert got["STATUS_1"] == _put("STATUS", RESULT_NOT_EMPTY=1, LEVEL=1, STRIDE_OVERRUN=1)
    assert got["RESULT_1"] == _put("RESULT", BYTE=0xAB, VALID=1, LAST=1)
    assert got["CONTROL_1"] == 0xA503_5A01
    assert got["ports"] == [_get("CONTROL", f, 0xA503_5A01)
                            for f in ("SOURCE", "PRESENT", "STRIDE_REF", "EEG_ENABLE")]


@pytest.mark.skipif(simulator_missing() is not None, reason=simulator_missing() or "")
def test_bus_fifo_drop_whole_frames_and_replay_bytes():
    rng = np.random.default_rng(5)
    frames = []
    for k in range(40):
        kind = "STRIDE" if k % 3 else "MRP"
        rec = {n: int(rng.integers(0, 200)) for n, _ in PAYLOADS[kind]}
        frames.append(encode_record(kind, k, rec))
    data = np.frombuffer(b"".join(frames), np.uint8)
    last = np.zeros(len(data), np.uint8)
    ends = np.cumsum([len(f) for f in frames]) - 1
    last[ends] = 1
    depth = 2 * MAX_FRAME
    samples = rng.integers(0, 256, 20)
    control = 0x5A02A5_01 & 0xFFFFFFFF
    out = run_cocotb(HPSRegs(result_depth=depth, sample_depth=16), "hps_regs",
                     "sim.cocotb_hps_regs",
                     dict(frames=data, last=last, samples=samples, control=control,
                          stride=np.array([1, 0xFFFF])))
    assert int(out["id"]) == ID_VALUE and int(out["control_reset"]) == CONTROL_RESET
    assert int(out["control_back"]) == control & ~2
    assert list(out["fields"]) == [_get("CONTROL", f, control)
                                   for f in ("SOURCE", "PRESENT", "STRIDE_REF", "EEG_ENABLE")]
    popped = [int(v) for v in out["popped"]]
    assert not popped[-1] >> 8 & 1                       # read until VALID = 0
    got = bytes(v & 0xFF for v in popped[:-1])
    lasts = [v >> 9 & 1 for v in popped[:-1]]
    dec = Decoder()
    kept = dec.feed(got)
    # whole frames only, in order, a prefix-free subset of what was sent
    assert dec.crc_errors == 0 and dec.garbage_bytes == 0 and len(dec.buf) == 0
    assert b"".join(frames[:len(kept)]) == got           # the first frames that fitted, whole
    assert sum(lasts) == len(kept) and lasts[-1] == 1
    n_dropped = len(frames) - len(kept)
    assert n_dropped > 0 and int(out["dropped"]) == n_dropped
    st = int(out["status_full"])
    assert st & 1 and st >> 1 & 1 and st >> 16 == len(got)
    assert _get("STATUS", "STRIDE_OVERRUN", st) == 1 and int(out["stride_overruns"]) == 0xFFFF
    assert int(out["status_after"]) & 1 == 0 and int(out["status_after"]) >> 1 & 1
    assert int(out["status_cleared"]) >> 1 & 1 == 0
    assert list(out["samples_out"]) == list(samples)
