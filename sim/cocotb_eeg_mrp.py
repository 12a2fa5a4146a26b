"""cocotb testbench of :class:`hdl.eeg_mrp.EEGMRP` (run by ``tests/gateware/test_eeg_mrp.py``).

Inputs (``TB_IN``): ``samples`` (n, channels) int16, ``trigger`` (n,) bits,
``enable`` (channels,), optional ``reset_at``, optional ``stall_o`` (stall intervals
of ``o.ready``, :class:`golden.stalls.ReadyPattern`).
Outputs (``TB_OUT``): ``records`` raw record words (decimal strings), and
``cycles`` -- for each trigger, clock cycles from accepting the trigger frame to
the last record of that trigger; ``accepted`` / ``taken`` -- the clock cycle of every
input frame (with the extra frame sent last) / record transfer.
"""

import cocotb
import numpy as np
from cocotb.triggers import ClockCycles
from cocotb.utils import get_sim_time

from sim.cocotb_streams import (
    StreamTB,
    load_inputs,
    pack,
    report_progress,
    save_outputs,
    stall_patterns,
)


@cocotb.test()
async def run_test(dut):
    args = load_inputs()
    samples, trigger = args["samples"], args["trigger"]
    nch = samples.shape[1]
    tb = StreamTB(dut, outputs=("o",), stalls=stall_patterns(args))
    dut.enable.value = pack(args["enable"].astype(int), 1)
    dut.i__valid.value = 0
    await tb.reset()
    period = 10
    accepted = []
    resets = set(int(r) for r in args.get("reset_at", np.zeros(0, int)))

    async def on_accept(k):
        accepted.append(get_sim_time("ns") / period)
        report_progress(k + 1)
        if k + 1 in resets:
            await wait_idle()
            await tb.reset()

    async def wait_idle():
        await ClockCycles(dut.clk, 2)
        await tb.wait_until(lambda: dut.busy.value == 0, "busy (the last computation)",
                            every=32)

    words = [pack(row, 16) | (int(t) << (16 * nch)) for row, t in zip(samples, trigger)]
    # one extra frame without trigger: its acceptance time closes the last computation
    await tb.send(words + [0], on_accept=on_accept)
    await wait_idle()
    await tb.drain(8)
    # cycles from accepting a trigger frame until the branch accepts the next frame,
    # minus the one WAIT_FRAME cycle: the last record left in the cycle before.
    acc = np.array(accepted)
    cycles = [acc[k + 1] - acc[k] - 1 for k in np.flatnonzero(trigger) if k + 1 not in resets]
    save_outputs(records=np.array([str(w) for w in tb.received["o"][:]]),
                 cycles=np.array(cycles, float), accepted=np.array(tb.accepted, np.int64),
                 taken=np.array(tb.stamps["o"], np.int64))
