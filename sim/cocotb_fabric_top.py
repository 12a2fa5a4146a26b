"""cocotb testbench of :class:`hdl.fabric_top.FabricTop`.

Run by ``tests/gateware/test_fabric_top.py``.

Inputs (``TB_IN``): ``emg`` (n, 8), ``eeg`` (n, n_eeg), ``ext`` (n,), ``present``,
``stride_ref``, ``eeg_enable``. Outputs (``TB_OUT``): raw ``stride`` and ``mrp``
record words (decimal strings).
"""

import cocotb
import numpy as np
from cocotb.triggers import ClockCycles

from sim.cocotb_streams import StreamTB, load_inputs, pack, save_outputs


@cocotb.test()
async def run_test(dut):
    args = load_inputs()
    emg, eeg, ext = args["emg"], args["eeg"], args["ext"]
    n_eeg = eeg.shape[1]
    tb = StreamTB(dut, outputs=("stride", "mrp"))
    dut.present.value = pack(args["present"].astype(int), 1)
    dut.stride_ref.value = int(args["stride_ref"])
    dut.eeg_enable.value = pack(args["eeg_enable"].astype(int), 1)
    dut.i__valid.value = 0
    await tb.reset()
    words = [pack(a, 16) | (pack(b, 16) << 128) | (int(t) << (128 + 16 * n_eeg))
             for a, b, t in zip(emg, eeg, ext)]
    await tb.send(words)
    await ClockCycles(dut.clk, 30000)      # the last EEG computation and stride record
    save_outputs(stride=np.array([str(w) for w in tb.received["stride"]]),
                 mrp=np.array([str(w) for w in tb.received["mrp"]]))
