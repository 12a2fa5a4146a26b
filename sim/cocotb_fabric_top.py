"""cocotb testbench of :class:`hdl.fabric_top.FabricTop`.

Run by ``tests/gateware/test_fabric_top.py``.

Inputs (``TB_IN``): ``emg`` (n, 8), ``eeg`` (n, n_eeg), ``ext`` (n,), ``present``,
``stride_ref``, ``eeg_enable``, optional ``stall_stride`` / ``stall_mrp`` (stall intervals
of the outputs' ``ready``, :class:`golden.stalls.ReadyPattern`), optional ``read_regs``
(1: the DUT also has the HPS register block's Avalon-MM ``bus``; its STATUS and
STRIDE_OVERRUNS registers are read at the end).
Outputs (``TB_OUT``): raw ``stride`` and ``mrp`` record words (decimal strings);
``stride_cycle`` -- clock cycle each stride record was taken; ``accepted`` -- clock cycle
each input frame was accepted; ``stride_counters`` -- ``(stride_overrun, stride_overruns)``
at the end; with ``read_regs``: ``regs`` -- the STATUS and STRIDE_OVERRUNS words.
"""

import cocotb
import numpy as np
from cocotb.triggers import ClockCycles

from hdl.hps_regs import REGS
from sim.cocotb_hps_regs import AvalonMaster
from sim.cocotb_streams import StreamTB, load_inputs, pack, save_outputs, stall_patterns


@cocotb.test()
async def run_test(dut):
    args = load_inputs()
    emg, eeg, ext = args["emg"], args["eeg"], args["ext"]
    n_eeg = eeg.shape[1]
    outputs = ("stride", "mrp")
    tb = StreamTB(dut, outputs=outputs, stalls=stall_patterns(args, outputs))
    bus = AvalonMaster(dut) if int(args.get("read_regs", 0)) else None
    dut.present.value = pack(args["present"].astype(int), 1)
    dut.stride_ref.value = int(args["stride_ref"])
    dut.eeg_enable.value = pack(args["eeg_enable"].astype(int), 1)
    dut.i__valid.value = 0
    await tb.reset()
    words = [pack(a, 16) | (pack(b, 16) << 128) | (int(t) << (128 + 16 * n_eeg))
             for a, b, t in zip(emg, eeg, ext)]
    await tb.send(words)
    # past any output stall, then the last EEG computation and stride record
    await ClockCycles(dut.clk, max(0, tb.stalls_end() - tb.cycle()) + 30000)
    out = dict(stride=np.array([str(w) for w in tb.received["stride"]]),
               mrp=np.array([str(w) for w in tb.received["mrp"]]),
               stride_cycle=np.array(tb.stamps["stride"], np.int64),
               accepted=np.array(tb.accepted, np.int64),
               stride_counters=np.array([int(dut.stride_overrun.value),
                                         int(dut.stride_overruns.value)], np.int64))
    if bus is not None:
        out["regs"] = np.array([await bus.read(REGS["STATUS"]),
                                await bus.read(REGS["STRIDE_OVERRUNS"])], np.int64)
    save_outputs(**out)
