"""cocotb testbench of :class:`hdl.system_top.SystemTop`.

Run by ``tests/gateware/test_system_top.py``.

A UART transmitter BFM (cocotbext-uart ``UartSource``) plays the sensor receiver
on ``rx``; a UART receiver BFM (``UartSink``) records ``tx``. The AXI3 bridge
ports are held idle (the HPS path is tested in ``tests/gateware/test_hps_lw_axi.py``).

Inputs (``TB_IN``): ``stream`` -- sensor bytes; ``divisor`` -- cycles per bit of both
UARTs; ``settle`` -- idle cycles after the last byte in.
Outputs (``TB_OUT``): ``uart`` -- bytes decoded from ``tx``; ``cycles``.
"""

import cocotb
import numpy as np
from cocotb.triggers import ClockCycles
from cocotbext.uart import UartSink, UartSource

from hdl.bus import AXI3Signature
from sim.cocotb_buses import BusHandles
from sim.cocotb_streams import StreamTB, load_inputs, save_outputs


@cocotb.test()
async def run_test(dut):
    args = load_inputs()
    period = 10
    divisor = int(args["divisor"])
    tb = StreamTB(dut, outputs=(), period_ns=period)
    BusHandles(dut, "axi", AXI3Signature()).idle()
    dut.rx.value = 1
    baud = 1e9 / (period * divisor)
    src = UartSource(dut.rx, baud=baud, bits=8, stop_bits=1)
    sink = UartSink(dut.tx, baud=baud, bits=8, stop_bits=1)
    await tb.reset()
    data = bytes(args["stream"].astype(np.uint8))
    chunk = 400
    for k in range(0, len(data), chunk):
        await src.write(data[k:k + chunk])
        await src.wait()
    got = bytearray()
    idle = 0
    settle = int(args["settle"])
    while idle < settle:                      # until tx has been quiet for `settle` cycles
        await ClockCycles(dut.clk, 1000)
        new = sink.read_nowait()
        idle = 0 if new else idle + 1000
        got += new
    save_outputs(uart=np.frombuffer(bytes(got), np.uint8))
