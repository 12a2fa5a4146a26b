"""cocotb testbench of :class:`hdl.emg_branch.EMGBranch`.

Inputs (``TB_IN``): ``samples`` (n, 8) int16, ``present`` (8,), ``stride_ref``, optional
``stall_o`` (stall intervals of ``o.ready``, :class:`golden.stalls.ReadyPattern`).
Outputs (``TB_OUT``): ``trig`` (n, 8) trigger bits sampled on every ``trig_valid``
strobe, ``records`` raw record words (decimal strings), ``overrun``.
If ``TB_PROGRESS`` names a file, the number of frames sent is written to it
every 2000 frames (``sw.extract --engine hdl`` shows it as progress).
"""

import cocotb
import numpy as np
from cocotb.triggers import RisingEdge

from sim.cocotb_streams import (
    StreamTB,
    load_inputs,
    pack,
    report_progress,
    save_outputs,
    stall_patterns,
)


class BranchTB(StreamTB):
    def __init__(self, dut, stalls=None):
        super().__init__(dut, outputs=("o",), stalls=stalls)
        self.trig = []
        cocotb.start_soon(self._trig_monitor())

    async def _trig_monitor(self):
        dut = self.dut
        while True:
            await RisingEdge(dut.trig_valid)
            await RisingEdge(dut.clk)
            self.trig.append(int(dut.trig.value))


@cocotb.test()
async def run_test(dut):
    args = load_inputs()
    samples = args["samples"]
    tb = BranchTB(dut, stall_patterns(args))
    dut.present.value = pack(args["present"].astype(int), 1)
    dut.stride_ref.value = int(args["stride_ref"])
    dut.i__valid.value = 0
    await tb.reset()

    async def report(k):
        report_progress(k + 1)

    await tb.send([pack(row, 16) for row in samples], on_accept=report)
    await tb.drain(max(0, tb.stalls_end() - tb.cycle()) + 600)   # past any stall of o
    trig = np.array([[(w >> c) & 1 for c in range(8)] for w in tb.trig], np.uint8).reshape(-1, 8)
    save_outputs(trig=trig, records=np.array([str(w) for w in tb.received["o"]]),
                 overrun=np.array(int(dut.overrun.value)))
