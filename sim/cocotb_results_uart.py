"""cocotb testbench of :class:`hdl.results_uart.ResultsUART`.

Run by ``tests/gateware/test_results_uart.py``.

Inputs (``TB_IN``): ``stride``, ``mrp`` -- record words as decimal strings; ``divisor``;
``gap`` -- idle cycles between records on each input.
Outputs (``TB_OUT``): ``uart`` -- the bytes a UART receiver BFM (cocotbext-uart
``UartSink``, 8N1) decoded from ``tx``; ``tap`` -- the bytes on ``frames_tap``.
"""

import cocotb
import numpy as np
from cocotb.triggers import ClockCycles, RisingEdge
from cocotbext.uart import UartSink

from sim.cocotb_streams import (
    TIMEOUT_CYCLES,
    StreamTB,
    load_inputs,
    save_outputs,
    wait_edges_until,
    within,
)


async def _drive(dut, name, words, gap):
    valid, ready, payload = (getattr(dut, f"{name}__{s}") for s in ("valid", "ready", "payload"))
    for k, w in enumerate(words):
        payload.value = int(w)
        valid.value = 1
        await RisingEdge(dut.clk)
        if ready.value != 1:
            await wait_edges_until(dut.clk, lambda: ready.value == 1,
                                   f"{name}: record {k} not taken (ready low)")
        valid.value = 0
        await ClockCycles(dut.clk, gap)


@cocotb.test()
async def run_test(dut):
    args = load_inputs()
    period = 10
    tb = StreamTB(dut, outputs=(), period_ns=period)
    divisor = int(args["divisor"])
    sink = UartSink(dut.tx, baud=1e9 / (period * divisor), bits=8, stop_bits=1)
    dut.stride__valid.value = 0
    dut.mrp__valid.value = 0
    tap = []

    async def tap_monitor():
        while True:
            await RisingEdge(dut.clk)
            if dut.frames_tap__valid.value == 1:
                tap.append(int(dut.frames_tap__payload.value) & 0xFF)
    await tb.reset()
    cocotb.start_soon(tap_monitor())
    gap = int(args["gap"])
    a = cocotb.start_soon(_drive(dut, "stride", [int(w) for w in args["stride"]], gap))
    b = cocotb.start_soon(_drive(dut, "mrp", [int(w) for w in args["mrp"]], gap))
    await a
    await b
    n_bytes = int(args["n_bytes"])
    got = bytearray()
    while len(got) < n_bytes:      # a byte at least every TIMEOUT_CYCLES, or fail
        got += await within(sink.read(), TIMEOUT_CYCLES, period,
                            f"tx: byte {len(got)} of {n_bytes}")
    await ClockCycles(dut.clk, 20 * divisor)
    got += sink.read_nowait()
    save_outputs(uart=np.frombuffer(bytes(got), np.uint8), tap=np.array(tap, np.uint8))
