"""cocotb testbench of :class:`hdl.stride_indexes.StrideIndexes`.

Run by ``tests/gateware/test_stride_indexes.py``.

Inputs (``TB_IN``): ``trig`` (n, 8) trigger bits, ``present`` (8,), ``stride_ref``,
optional ``reset_at``, ``gap`` (idle cycles between frames), optional ``stall_o`` (stall
intervals of ``o.ready``, :class:`golden.stalls.ReadyPattern`).
Outputs (``TB_OUT``): ``records`` -- raw record words as decimal strings;
``record_cycle`` -- clock cycle each record was taken; ``frame_cycle`` -- clock
cycle each trigger frame was accepted (latency = record_cycle - frame_cycle of
the frame that ended the stride); ``overrun``, ``overruns`` -- the sticky flag and the
dropped-stride count at the end.
"""

import cocotb
import numpy as np

from sim.cocotb_streams import StreamTB, load_inputs, pack, save_outputs, stall_patterns


@cocotb.test()
async def run_test(dut):
    args = load_inputs()
    trig = args["trig"]
    tb = StreamTB(dut, outputs=("o",), stalls=stall_patterns(args))
    dut.present.value = pack(args["present"].astype(int), 1)
    dut.stride_ref.value = int(args["stride_ref"])
    dut.i__valid.value = 0
    await tb.reset()
    resets = set(int(r) for r in args["reset_at"])

    async def maybe_reset(k):
        if k + 1 in resets:
            await tb.drain(200)
            await tb.reset()

    await tb.send([pack(row, 1) for row in trig], gap=int(args["gap"]), on_accept=maybe_reset)
    await tb.drain(max(0, tb.stalls_end() - tb.cycle()) + 400)   # past any stall of o
    save_outputs(records=np.array([str(w) for w in tb.received["o"]]),
                 record_cycle=np.array(tb.stamps["o"], np.int64),
                 frame_cycle=np.array(tb.accepted, np.int64),
                 overrun=np.array(int(dut.overrun.value)),
                 overruns=np.array(int(dut.overruns.value)))
