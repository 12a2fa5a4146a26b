"""cocotb testbench: the ARM's replay path through the whole design.

Run by ``tests/gateware/test_system_top.py``.

An AXI3 master BFM plays ``wo_monitor --devmem --replay``: it sets CONTROL.SOURCE to
the HPS replay, writes the SAMPLES frame bytes to SAMPLE one by one (polling
STATUS bit 2, sample FIFO full, before each), then pops RESULT until the result
FIFO stays empty.

Inputs (``TB_IN``): ``stream`` -- SAMPLES frame bytes; ``control`` -- CONTROL value.
Outputs (``TB_OUT``): ``result`` -- the RESULT words popped (VALID set);
``regs`` -- SAMPLES_IN, INGRESS, RX_ERRORS, DROPPED at the end.
"""

import cocotb
import numpy as np
from cocotb.triggers import ClockCycles

from hdl.hps_regs import REGS
from sim.cocotb_hps_lw_axi import AXI3Master
from sim.cocotb_streams import StreamTB, load_inputs, save_outputs


@cocotb.test()
async def run_test(dut):
    args = load_inputs()
    tb = StreamTB(dut, outputs=())
    bus = AXI3Master(dut)
    bus.idle()
    dut.rx.value = 1
    bus.rng.seed(0)
    await tb.reset()
    await bus.write(REGS["CONTROL"], [int(args["control"])])
    result = []

    async def pop_all():
        while True:
            (v,), _ = await bus.read(REGS["RESULT"])
            if not v >> 8 & 1:
                return
            result.append(v)

    for k, b in enumerate(args["stream"]):
        while True:
            (st,), _ = await bus.read(REGS["STATUS"])
            if not st >> 2 & 1:
                break
        await bus.write(REGS["SAMPLE"], [int(b)])
        if k % 2000 == 1999:
            await pop_all()
    idle = 0
    while idle < 20:                          # the fabric may still be computing MRP records
        n = len(result)
        await pop_all()
        idle = idle + 1 if len(result) == n else 0
        await ClockCycles(dut.clk, 2000)
    regs = []
    for name in ("SAMPLES_IN", "INGRESS", "RX_ERRORS", "DROPPED"):
        (v,), _ = await bus.read(REGS[name])
        regs.append(v)
    save_outputs(result=np.array(result, np.int64), regs=np.array(regs, np.int64))
