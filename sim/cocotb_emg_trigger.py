"""cocotb testbench of :class:`hdl.emg_trigger.EMGTrigger`.

Run by ``tests/gateware/test_emg_trigger.py``.

Inputs (``TB_IN``): ``samples`` (n, channels) int, ``present`` (channels,) bool,
optional ``reset_at`` (sample indices before which the core is reset), optional
``stall_o`` (stall intervals of ``o.ready``, :class:`golden.stalls.ReadyPattern`).
Outputs (``TB_OUT``): ``trig`` (n, channels) uint8, one row per accepted frame;
``accepted`` / ``taken`` -- the clock cycle each input frame / trigger frame was transferred.
The scoreboard (ordered compare against :func:`golden.emg_trigger_model.trigger_bitexact`)
runs in the pytest process so that a failure prints the first differing sample.
"""

import cocotb
import numpy as np

from sim.cocotb_streams import StreamTB, load_inputs, pack, save_outputs, stall_patterns


@cocotb.test()
async def run_test(dut):
    args = load_inputs()
    samples = args["samples"]
    n, nch = samples.shape
    width = len(dut.i__payload) // nch
    tb = StreamTB(dut, outputs=("o",), stalls=stall_patterns(args))
    dut.present.value = pack(args["present"].astype(int), 1)
    dut.i__valid.value = 0
    await tb.reset()
    resets = set(int(r) for r in args.get("reset_at", np.zeros(0, int)))

    async def maybe_reset(k):
        if k + 1 in resets:
            await tb.drain(4 * nch + 8)  # let the frame finish
            await tb.reset()

    words = [pack(row, width) for row in samples]
    await tb.send(words, on_accept=maybe_reset)
    # past the end of any stall of o (which may hold the last frame), then the last frame
    await tb.drain(max(0, tb.stalls_end() - tb.cycle()) + 4 * nch + 8)
    got = tb.received["o"]
    trig = np.array([[(w >> c) & 1 for c in range(nch)] for w in got], np.uint8).reshape(-1, nch)
    save_outputs(trig=trig, accepted=np.array(tb.accepted, np.int64),
                 taken=np.array(tb.stamps["o"], np.int64))
