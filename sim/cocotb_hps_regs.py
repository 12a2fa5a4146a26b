"""cocotb testbench of :class:`hdl.hps_regs.HPSRegs` with a small Avalon-MM master BFM.

Inputs (``TB_IN``): ``frames`` -- bytes of result frames (uint8), ``last`` -- their LAST
flags, ``samples`` -- bytes to write to SAMPLE, ``control`` -- a CONTROL value to write,
optional ``stride`` -- ``(stride_overrun, stride_overruns)`` driven on those inputs (default 0).
Outputs (``TB_OUT``): ``id``, ``control_reset``, ``control_back``, ``fields`` (source,
present, stride_ref, eeg_enable after the write), ``status_full``, ``popped`` (RESULT
words read until VALID was 0), ``dropped``, ``stride_overruns`` (the STRIDE_OVERRUNS
register), ``status_after``, ``status_cleared``, ``samples_out``.
"""

import cocotb
import numpy as np
from cocotb.triggers import ReadOnly, RisingEdge

from hdl.bus import AvalonMMSignature
from sim.cocotb_buses import BusHandles
from sim.cocotb_streams import DUTTimeout, StreamTB, load_inputs, save_outputs

#: RESULT words popped at most (a RESULT register that never reads empty fails)
MAX_POPS = 1 << 16


class AvalonMaster:
    """Avalon-MM master: word addresses, fixed read latency 1, no waitrequest.

    Drives the DUT port ``name`` (an ``In(AvalonMMSignature(addr_width))``).
    """

    def __init__(self, dut, name="bus", addr_width=6):
        self.dut = dut
        self.bus = BusHandles(dut, name, AvalonMMSignature(addr_width))
        self.bus.read.value = 0
        self.bus.write.value = 0

    async def read(self, byte_offset):
        b, clk = self.bus, self.dut.clk
        b.address.value = byte_offset // 4
        b.read.value = 1
        await RisingEdge(clk)              # the slave samples read here ...
        b.read.value = 0
        await ReadOnly()                   # ... and readdata holds the value until the next edge
        v = int(b.readdata.value)
        await RisingEdge(clk)
        return v

    async def write(self, byte_offset, value):
        b = self.bus
        b.address.value = byte_offset // 4
        b.writedata.value = value
        b.write.value = 1
        await RisingEdge(self.dut.clk)
        b.write.value = 0


@cocotb.test()
async def run_test(dut):
    a = load_inputs()
    tb = StreamTB(dut, outputs=("samples",))   # SAMPLE bytes out, ready held high
    bus = AvalonMaster(dut)
    dut.frames__valid.value = 0
    dut.stride_overrun.value, dut.stride_overruns.value = \
        (int(v) for v in a.get("stride", (0, 0)))
    samples_out = tb.received["samples"]
    await tb.reset()
    out = {"id": await bus.read(0x00), "control_reset": await bus.read(0x0C)}
    await bus.write(0x0C, int(a["control"]))
    await RisingEdge(dut.clk)
    out["control_back"] = await bus.read(0x0C)
    out["fields"] = [int(dut.source.value), int(dut.present.value), int(dut.stride_ref.value),
                     int(dut.eeg_enable.value)]
    # result frames, one byte per cycle, without reading: some will not fit
    for b, last in zip(a["frames"], a["last"]):
        dut.frames__payload.value = int(b) | (int(last) << 8)
        dut.frames__valid.value = 1
        await RisingEdge(dut.clk)
    dut.frames__valid.value = 0
    await RisingEdge(dut.clk)
    out["status_full"] = await bus.read(0x04)
    out["dropped"] = await bus.read(0x14)
    out["stride_overruns"] = await bus.read(0x24)
    popped = []
    for _ in range(MAX_POPS):
        v = await bus.read(0x08)
        popped.append(v)
        if not v >> 8 & 1:
            break
    else:
        raise DUTTimeout(f"RESULT still not empty after {MAX_POPS} pops")
    out["popped"] = popped
    out["status_after"] = await bus.read(0x04)
    await bus.write(0x0C, int(a["control"]) | 2)
    await RisingEdge(dut.clk)
    out["status_cleared"] = await bus.read(0x04)
    for b in a["samples"]:
        await bus.write(0x10, int(b))
    for _ in range(10):
        await RisingEdge(dut.clk)
    out["samples_out"] = samples_out
    save_outputs(**{k: np.array(v, dtype=np.int64) for k, v in out.items()})
