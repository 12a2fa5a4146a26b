"""Both branches coupled by the LG-onset trigger vs the golden fabric pipeline; a stalled
stride output: the dropped strides as :mod:`golden.backpressure` predicts, counted in the HPS
registers."""

import numpy as np
import pytest
from amaranth.hdl import Module
from amaranth.lib import wiring
from amaranth.lib.wiring import In

from golden.backpressure import random_stalls, stride_record_ends, stride_schedule
from golden.eeg_mrp_model import EEGParams
from golden.emg_trigger_model import TriggerParams
from golden.fabric_pipeline import run_golden_fabric
from hdl.bus import AvalonMMSignature
from hdl.fabric_top import FabricTop
from hdl.hps_regs import MAX_FRAME, HPSRegs
from sim.fabric_hdl_engine import run_hdl_fabric_raw
from sim.fast_engine import fast_missing
from sim.hdl_build import run_cocotb, simulator_missing
from sim.records import decode_mrp_records, decode_records
from spec import registers
from synthetic.eeg_gen import generate_eeg
from synthetic.emg_gen import generate_walk
from tests.seeding import seeds

pytestmark = pytest.mark.skipif(simulator_missing() is not None,
                                reason=simulator_missing() or "")


@pytest.mark.skipif(fast_missing() is not None, reason=fast_missing() or "")
def test_lg_onsets_and_external_trigger_drive_the_eeg_branch():
    w = generate_walk(31, "post", n_strides=2)
    n = min(len(w.emg), 2600)
    emg = w.emg[:n]
    eeg = generate_eeg(31, n_samples=n).eeg
    ext = np.zeros(n, np.uint8)
    ext[[700, 701]] = 1                      # external triggers, back to back
    present = np.array([1, 1, 1, 1, 0, 1, 1, 1], bool)   # right LG absent: left LG triggers only
    enable = np.array([1, 1, 1, 0, 1, 1, 1], bool)
    # a long replay, not a protocol test: the fast Verilator harness (sim.fast_engine)
    out = run_hdl_fabric_raw(emg, eeg, ext, present, 0, enable, eeg_params=EEGParams(0.1),
                             cycles_per_sample=20)
    trig, strides, trigger, mrp = run_golden_fabric(emg, eeg, ext, present, 0, enable,
                                                    eeg_params=EEGParams(0.1))
    assert np.array_equal(out["trig"], trig) and np.array_equal(out["eeg_trigger"], trigger)
    assert trigger.sum() >= 4 and trigger[[700, 701]].all()
    # STRIDE records the stimulus must give, per leg: the walk's complete strides after the
    # trigger's warm-up (left: LG onsets 849 -> 1385 -> 1925), none on the right (its stride
    # reference, LG, is absent, although the walk has right strides in the window)
    truth = {leg: sum(s["leg"] == leg and s["start"] >= TriggerParams().warmup_samples
                      and s["end"] <= n for s in w.strides) for leg in "LR"}
    assert truth["L"] >= 2 and truth["R"] >= 1
    want_per_leg = [truth["L"], 0]
    assert [sum(r["leg"] == leg for r in strides) for leg in (0, 1)] == want_per_leg
    got_strides = decode_records(out["stride"])
    got_mrp = decode_mrp_records(out["mrp"], 7)
    assert [sum(r["leg"] == leg for r in got_strides) for leg in (0, 1)] == want_per_leg
    assert got_strides == strides
    assert len(got_mrp) == len(mrp) == 6 * trigger.sum()
    for k, (g, e) in enumerate(zip(got_mrp, mrp)):
        assert g == e, f"MRP record {k} differs: gateware {g}, model {e}"
    assert list(out["stride_counters"]) == [0, 0]        # nothing stalled, nothing dropped


class FabricWithRegs(wiring.Component):
    """FabricTop with its ports outside, and the HPS register block reading its stride
    overrun flag and counter as :class:`hdl.system_top.SystemTop` wires them (``bus``:
    the register block's Avalon-MM port)."""

    def __init__(self, **kwargs):
        self.fabric = FabricTop(**kwargs)
        self.regs = HPSRegs(result_depth=2 * MAX_FRAME, sample_depth=4)
        super().__init__({**dict(self.fabric.signature.members.items()),
                          "bus": In(AvalonMMSignature(6))})

    def elaborate(self, platform):
        m = Module()
        m.submodules.fabric, m.submodules.regs = fab, regs = self.fabric, self.regs
        wiring.connect(m, wiring.flipped(self.i), fab.i)
        wiring.connect(m, fab.stride, wiring.flipped(self.stride))
        wiring.connect(m, fab.mrp, wiring.flipped(self.mrp))
        wiring.connect(m, wiring.flipped(self.bus), regs.bus)
        m.d.comb += [fab.present.eq(self.present), fab.stride_ref.eq(self.stride_ref),
                     fab.eeg_enable.eq(self.eeg_enable),
                     self.stride_overrun.eq(fab.stride_overrun),
                     self.stride_overruns.eq(fab.stride_overruns),
                     regs.stride_overrun.eq(fab.stride_overrun),
                     regs.stride_overruns.eq(fab.stride_overruns)]
        return m


@pytest.mark.parametrize("seed", seeds(7))
def test_stalled_stride_output_drops_strides_and_the_registers_count_them(seed):
    """The stride output stalled (short random stalls plus one of about four strides): the
    records delivered, the edge each is taken, and the dropped strides are those
    golden.backpressure.stride_schedule predicts from the same stall pattern; the count and
    the sticky flag reach FabricTop's ports and the HPS registers STRIDE_OVERRUNS and
    STATUS.STRIDE_OVERRUN."""
    w = generate_walk(seed, "post", n_strides=8)
    emg = w.emg
    n = len(emg)
    eeg = generate_eeg(seed, n_samples=n).eeg
    ext = np.zeros(n, np.uint8)
    present = np.ones(8, bool)
    enable = np.zeros(7, bool)
    enable[2] = True                         # one site: the EEG branch holds some frames
    dut = FabricWithRegs(n_eeg=7, cycles_per_sample=20)
    cpf = dut.fabric.emg.trigger.cycles_per_frame
    span = n * 24                            # about the cycles the frames take
    ready = random_stalls(seed, 1000, span, mean_gap=200, max_len=100,
                          long=(int(span * 0.35), int(span * 0.35)))
    out = run_cocotb(dut, "fabric_regs", "sim.cocotb_fabric_top",
                     dict(emg=emg, eeg=eeg, ext=ext, present=present, stride_ref=0,
                          eeg_enable=enable, stall_stride=ready.as_array(), read_regs=1),
                     tag=f"stall{seed}")
    trig, strides, _, mrp = run_golden_fabric(emg, eeg, ext, present, 0, enable)
    # the stride core takes a trigger frame cycles_per_frame - 1 edges after the fabric
    # accepted the sample frame (hdl.emg_trigger; the stride core never stalls the trigger)
    frames = out["accepted"] + cpf - 1
    assert len(frames) == n and ready.end < frames[-1]     # the stalls end within the run
    ends = stride_record_ends(trig, present, 0)
    assert len(ends) == len(strides) >= 14
    kept, order, taken, overrun = stride_schedule(ends, frames, ready)
    dropped = int((~kept).sum())
    assert 2 <= dropped < len(kept) // 2, (dropped, len(kept))
    assert decode_records(out["stride"]) == [strides[k] for k in order]
    assert list(out["stride_cycle"]) == list(taken)
    assert decode_mrp_records(out["mrp"], 7) == mrp
    assert list(out["stride_counters"]) == [overrun, dropped] == [1, dropped]
    status, count = (int(v) for v in out["regs"])
    flag = registers.field("STATUS", "STRIDE_OVERRUN")
    assert (status & flag.mask) >> flag.lsb == 1
    assert count == dropped
