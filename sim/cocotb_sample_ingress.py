"""cocotb testbench of :class:`hdl.sample_ingress.SampleIngress`.

Run by ``tests/gateware/test_sample_ingress.py``.

Inputs (``TB_IN``): ``stream`` -- the bytes to send; ``source`` -- 0 sends them
through a UART transmitter BFM (cocotbext-uart ``UartSource``, 8N1) on ``rx``,
1 drives them on the ``replay`` stream; ``divisor``; ``stall`` -- if 1, the
consumer of ``o`` drops ``ready`` for random stretches; ``brk`` -- if 1, a break
(line low for 12 bit times) follows the bytes; optional ``stall_o`` -- stall intervals of
``o.ready`` (:class:`golden.stalls.ReadyPattern`, instead of ``stall``) and
``tx_start`` -- clock cycle at which the first byte starts.
Outputs (``TB_OUT``): ``frames`` -- the ``o`` payloads as decimal strings;
``counters`` -- frames, bad_frames, lost_frames, framing_errors, overruns.
"""

import random

import cocotb
import numpy as np
from cocotb.triggers import ClockCycles, RisingEdge, Timer
from cocotbext.uart import UartSource

from sim.cocotb_streams import StreamTB, load_inputs, save_outputs, stall_patterns


@cocotb.test()
async def run_test(dut):
    args = load_inputs()
    period = 10
    divisor = int(args["divisor"])
    data = bytes(args["stream"].astype(np.uint8))
    stalls = stall_patterns(args)
    tb = StreamTB(dut, outputs=("o",) if stalls else (), period_ns=period, stalls=stalls)
    dut.o__ready.value = 1
    got = tb.received["o"] if stalls else []

    async def monitor():                 # a transfer needs valid and ready on the same edge
        while True:
            await RisingEdge(dut.clk)
            if dut.o__valid.value == 1 and dut.o__ready.value == 1:
                got.append(int(dut.o__payload.value))
    dut.rx.value = 1
    dut.replay__valid.value = 0
    dut.source.value = int(args["source"])
    await tb.reset()
    if not stalls:
        cocotb.start_soon(monitor())
    if "tx_start" in args:
        await ClockCycles(dut.clk, max(0, int(args["tx_start"]) - tb.cycle()))

    if int(args["stall"]):
        rng = random.Random(int(args.get("stall_seed", 5)))

        async def staller():
            while True:
                await ClockCycles(dut.clk, rng.randint(1, 400))
                dut.o__ready.value = 0
                await ClockCycles(dut.clk, rng.randint(1, 1500))
                dut.o__ready.value = 1
        stall = cocotb.start_soon(staller())

    bit_ns = period * divisor
    if int(args["source"]) == 0:
        src = UartSource(dut.rx, baud=1e9 / bit_ns, bits=8, stop_bits=1)
        await src.write(data)
        await src.wait()
    else:
        await tb.send(list(data), input_name="replay")
    if int(args["brk"]):
        await Timer(bit_ns * 3, unit="ns")
        dut.rx.value = 0
        await Timer(bit_ns * 12, unit="ns")
        dut.rx.value = 1
    await ClockCycles(dut.clk, 20 * divisor)
    if int(args["stall"]):
        stall.cancel()
        dut.o__ready.value = 1
    await ClockCycles(dut.clk, max(0, tb.stalls_end() - tb.cycle()) + 4000)
    counters = [int(getattr(dut, n).value) for n in
                ("frames", "bad_frames", "lost_frames", "framing_errors", "overruns")]
    save_outputs(frames=np.array([str(w) for w in got]), counters=np.array(counters))
