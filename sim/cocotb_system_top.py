"""cocotb testbench of :class:`hdl.system_top.SystemTop`: sensor samples in, results UART out.

Run by ``tests/gateware/test_system_top.py``.

The sensor bytes (whole SAMPLES frames) arrive in segments, each through one of the two
sources of the sample ingress: the sensor UART -- a UART transmitter BFM (cocotbext-uart
``UartSource``) on ``rx`` -- or the HPS replay path -- the AXI3 master of
``sim/cocotb_system_replay.py`` writing SAMPLE in bursts
(:func:`sim.cocotb_system_replay.write_replay`), which carries the bulk of a long stream in
a fraction of the simulated cycles of the UART (40 bit times a frame). Before a segment
the bench waits until SAMPLES_IN counts every frame sent so far, then sets CONTROL.SOURCE
(read-modify-write: the other CONTROL fields keep their reset values). A UART receiver
BFM (``UartSink``) records ``tx`` throughout.

Inputs (``TB_IN``): ``stream`` -- sensor bytes; ``segments`` -- rows ``(end, source)``: bytes
up to ``end`` go through ``source`` (0 sensor UART, 1 HPS replay); ``divisor`` -- cycles per
bit of both UARTs; ``settle`` -- idle cycles of ``tx`` after the last byte in;
``sample_fifo`` -- depth of the sample (replay) FIFO.
Outputs (``TB_OUT``): ``uart`` -- bytes decoded from ``tx``; ``regs`` -- SAMPLES_IN,
INGRESS, RX_ERRORS at the end.
"""

import cocotb
import numpy as np
from cocotbext.uart import UartSink, UartSource

from hdl.hps_regs import REGS
from sim.cocotb_hps_lw_axi import AXI3Master
from sim.cocotb_streams import TIMEOUT_CYCLES, DUTTimeout, StreamTB, load_inputs, save_outputs
from sim.cocotb_system_replay import FRAME_LEN, POLL_GAP, between_edges, write_replay
from spec.registers import field

#: clock cycles after the last sensor byte within which ``tx`` must have gone quiet
MAX_SETTLE_CYCLES = 10 * TIMEOUT_CYCLES
SOURCE = field("CONTROL", "SOURCE").mask


@cocotb.test()
async def run_test(dut):
    args = load_inputs()
    period = 10
    divisor = int(args["divisor"])
    tb = StreamTB(dut, outputs=(), period_ns=period)
    bus = AXI3Master(dut)
    bus.idle()
    dut.rx.value = 1
    baud = 1e9 / (period * divisor)
    src = UartSource(dut.rx, baud=baud, bits=8, stop_bits=1)
    sink = UartSink(dut.tx, baud=baud, bits=8, stop_bits=1)
    await tb.reset()
    (control,), _ = await bus.read(REGS["CONTROL"])
    data = bytes(args["stream"].astype(np.uint8))
    sent = 0

    async def all_frames_in():
        """Wait until SAMPLES_IN counts every frame sent (none left in a FIFO or the parser)."""
        since = tb.cycle()
        while True:
            (frames,), _ = await bus.read(REGS["SAMPLES_IN"])
            if frames * FRAME_LEN == sent:
                return
            if tb.cycle() - since > TIMEOUT_CYCLES:
                raise DUTTimeout(f"SAMPLES_IN {frames} after {TIMEOUT_CYCLES} clock cycles, "
                                 f"{sent // FRAME_LEN} frames sent")
            await between_edges(dut, POLL_GAP, period)

    for end, source in args["segments"]:
        end, source = int(end), int(source)
        await all_frames_in()
        await bus.write(REGS["CONTROL"], [control & ~SOURCE | (SOURCE if source else 0)])
        if source:
            sent = await write_replay(bus, tb, data[sent:end], sent, int(args["sample_fifo"]))
        else:
            chunk = 400
            for k in range(sent, end, chunk):
                await src.write(data[k:min(k + chunk, end)])
                await src.wait()
            sent = end
            await between_edges(dut, 1, period)
    got = bytearray()
    idle = 0
    settle = int(args["settle"])
    start = tb.cycle()
    while idle < settle:                      # until tx has been quiet for `settle` cycles
        if tb.cycle() - start > MAX_SETTLE_CYCLES:
            raise DUTTimeout(f"tx not quiet for {settle} cycles within {MAX_SETTLE_CYCLES} "
                             "clock cycles after the last sensor byte")
        await between_edges(dut, 1000, period)
        new = sink.read_nowait()
        idle = 0 if new else idle + 1000
        got += new
    regs = []
    for name in ("SAMPLES_IN", "INGRESS", "RX_ERRORS"):
        (v,), _ = await bus.read(REGS[name])
        regs.append(v)
    save_outputs(uart=np.frombuffer(bytes(got), np.uint8), regs=np.array(regs, np.int64))
