"""cocotb testbench of :class:`hdl.uart_rx.UARTRx`: bytes arriving while ``o`` is stalled.

Run by ``tests/gateware/test_backpressure.py``.

The testbench plays the sensor's transmitter itself, clock-synchronously: byte ``j``
starts (line low) right after clock edge ``starts[j]`` and every bit lasts
``divisor`` clock cycles (8N1, LSB first), so that the pytest side knows where each
byte's stop bit is checked and can put the ``ready`` stalls of ``o``
(:class:`golden.stalls.ReadyPattern`) between them.

Inputs (``TB_IN``): ``data`` (n,) bytes, ``starts`` (n,) clock edges, ``divisor``,
``stall_o`` -- stall intervals of ``o.ready``; optional ``deposit`` -- ``(edge, value)``:
the ``overruns`` counter is forced to ``value`` after that edge (to reach saturation
cheaply); ``sample_at`` -- edges at which the counters are read.
Outputs (``TB_OUT``): ``got`` -- the bytes taken from ``o``; ``taken`` -- their clock
edges; ``counters`` -- (overruns, framing_errors) at each ``sample_at`` edge.
"""

import cocotb
import numpy as np
from cocotb.triggers import ClockCycles

from sim.cocotb_streams import StreamTB, load_inputs, save_outputs, stall_patterns


@cocotb.test()
async def run_test(dut):
    args = load_inputs()
    divisor = int(args["divisor"])
    tb = StreamTB(dut, outputs=("o",), stalls=stall_patterns(args))
    clk = dut.clk
    dut.rx.value = 1
    await tb.reset()
    counters = []

    async def at(edge):
        await ClockCycles(clk, max(0, int(edge) - tb.cycle()))

    async def sample():
        for edge in args["sample_at"]:
            await at(edge)
            counters.append((int(dut.overruns.value), int(dut.framing_errors.value)))

    async def deposit():
        edge, value = (int(v) for v in args["deposit"])
        await at(edge)
        dut.overruns.value = value

    sampler = cocotb.start_soon(sample())
    if "deposit" in args:
        cocotb.start_soon(deposit())
    for byte, start in zip(args["data"], args["starts"]):
        await at(start)
        for bit in [0, *((int(byte) >> k) & 1 for k in range(8)), 1]:
            dut.rx.value = bit
            await ClockCycles(clk, divisor)
    await sampler
    await ClockCycles(clk, max(0, tb.stalls_end() - tb.cycle()) + 4 * divisor)
    save_outputs(got=np.array(tb.received["o"], np.int64),
                 taken=np.array(tb.stamps["o"], np.int64),
                 counters=np.array(counters, np.int64).reshape(-1, 2))
