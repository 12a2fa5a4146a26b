"""cocotb testbench: AXI3 lightweight-bridge slave + HPS register block.

Run by ``tests/gateware/test_hps_lw_axi.py``.

:class:`AXI3Master` plays the HPS side of ``cyclonev_hps_interface_hps2fpga_light_weight``:
one transaction at a time, INCR bursts, ``ready``/``valid`` handshakes with
optional random delays on the master side (``bready``/``rready``). A handshake the
slave does not complete within ``timeout_cycles`` raises
:class:`sim.cocotb_streams.DUTTimeout`.

Inputs (``TB_IN``): ``frames``, ``last`` -- result frame bytes pushed into the block
before the bus traffic; ``samples`` -- bytes written to SAMPLE with single writes;
``counters`` -- values driven on the ingress counter inputs.
Outputs (``TB_OUT``): ``reads`` -- [(addr, len, [data], resp)] flattened as a list of
rows ``addr, beat, data, resp``; ``write_resps``; ``samples_out``.
"""

import random

import cocotb
import numpy as np
from cocotb.triggers import ClockCycles, RisingEdge

from hdl.bus import AXI3Signature
from sim.cocotb_buses import BusHandles
from sim.cocotb_streams import TIMEOUT_CYCLES, DUTTimeout, StreamTB, load_inputs, save_outputs

#: RESULT words popped at most while draining (the FIFO is 4096 bytes deep at most in the
#: tests): a RESULT register that never reads empty fails instead of looping for ever
MAX_POPS = 1 << 16


class AXI3Master:
    """AXI3 master on the DUT port ``name`` (an ``In(AXI3Signature())``).

    ``bus`` holds the port's handles by member name (``bus.awid`` is
    ``dut.axi__awid``); ``bus.idle()`` drives every master output to 0.
    """

    def __init__(self, dut, seed=1, name="axi", timeout_cycles=TIMEOUT_CYCLES):
        self.dut = dut
        self.timeout_cycles = timeout_cycles
        self.rng = random.Random(seed)
        self.bus = d = BusHandles(dut, name, AXI3Signature())
        for s in ("awvalid", "wvalid", "bready", "arvalid", "rready"):
            getattr(d, s).value = 0
        for s in ("awlock", "awcache", "awprot", "arlock", "arcache", "arprot", "wid"):
            getattr(d, s).value = 0

    def idle(self):
        """Drive 0 on every output of the master (the whole bus at rest)."""
        self.bus.idle()

    async def _wait(self, sig):
        clk = self.dut.clk
        await RisingEdge(clk)
        waited = 1
        while sig.value != 1:
            if waited >= self.timeout_cycles:
                raise DUTTimeout(f"AXI {sig._name} not high after {waited} clock cycles")
            await RisingEdge(clk)
            waited += 1

    async def _delay(self):
        n = self.rng.choice((0, 0, 1, 3))
        if n:
            await ClockCycles(self.dut.clk, n)

    async def read(self, addr, n=1, burst=1, tid=0x5A5):
        d = self.bus
        d.araddr.value, d.arlen.value, d.arsize.value = addr, n - 1, 2
        d.arburst.value, d.arid.value, d.arvalid.value = burst, tid, 1
        await self._wait(d.arready)
        d.arvalid.value = 0
        data, resps = [], []
        for k in range(n):
            await self._delay()
            d.rready.value = 1
            await self._wait(d.rvalid)
            assert int(d.rid.value) == tid
            assert int(d.rlast.value) == (k == n - 1), "rlast on the wrong beat"
            data.append(int(d.rdata.value))
            resps.append(int(d.rresp.value))
            d.rready.value = 0
        return data, resps

    async def write(self, addr, words, strb=0xF, burst=1, tid=0x3C3):
        d = self.bus
        d.awaddr.value, d.awlen.value, d.awsize.value = addr, len(words) - 1, 2
        d.awburst.value, d.awid.value, d.awvalid.value = burst, tid, 1
        await self._wait(d.awready)
        d.awvalid.value = 0
        for k, w in enumerate(words):
            await self._delay()
            d.wdata.value, d.wstrb.value = w, strb
            d.wlast.value, d.wvalid.value = int(k == len(words) - 1), 1
            await self._wait(d.wready)
            d.wvalid.value = 0
        await self._delay()
        d.bready.value = 1
        await self._wait(d.bvalid)
        assert int(d.bid.value) == tid
        resp = int(d.bresp.value)
        d.bready.value = 0
        return resp


@cocotb.test()
async def run_test(dut):
    a = load_inputs()
    tb = StreamTB(dut, outputs=("samples",))   # SAMPLE bytes out, ready held high
    bus = AXI3Master(dut)
    dut.frames__valid.value = 0
    c = [int(v) for v in a["counters"]]
    dut.samples_in.value, dut.bad_frames.value, dut.lost_frames.value = c[0], c[1], c[2]
    dut.framing_errors.value, dut.overruns.value = c[3], c[4]
    samples_out = tb.received["samples"]
    await tb.reset()
    for b, last in zip(a["frames"], a["last"]):
        dut.frames__payload.value = int(b) | (int(last) << 8)
        dut.frames__valid.value = 1
        await RisingEdge(dut.clk)
    dut.frames__valid.value = 0
    rows, wresps = [], []

    async def rd(addr, n=1, burst=1):
        data, resps = await bus.read(addr, n, burst)
        rows.extend([addr, k, v, r] for k, (v, r) in enumerate(zip(data, resps)))

    await rd(0x00, 9)                                  # the whole map in one INCR burst (1 pop)
    wresps.append(await bus.write(0x0C, [0x0100FF01]))
    await rd(0x0C)
    wresps.append(await bus.write(0x0C, [0x12345678], strb=0x3))   # partial: SLVERR, not written
    await rd(0x0C)
    wresps.append(await bus.write(0x400, [1]))         # beyond the block: DECERR
    await rd(0x400, 2)
    await rd(0x08, 16, burst=0)                        # FIXED burst on RESULT: 16 pops
    for _ in range(MAX_POPS):                          # drain RESULT with single reads
        data, _ = await bus.read(0x08)
        rows.append([0x08, 0, data[0], 0])
        if not data[0] >> 8 & 1:
            break
    else:
        raise DUTTimeout(f"RESULT still not empty after {MAX_POPS} pops")
    for s in a["samples"]:
        wresps.append(await bus.write(0x10, [int(s)]))
    await ClockCycles(dut.clk, 10)
    save_outputs(reads=np.array(rows, np.int64), write_resps=np.array(wresps),
                 samples_out=np.array(samples_out))
