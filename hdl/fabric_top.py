"""Both fabric branches coupled as in the paper (§3.2, Fig. 1): the EEG branch computes
its MRP bands whenever either lateral gastrocnemius trigger of the EMG branch rises, or
on an external trigger.

::

    i (EMG 8 + EEG n + ext_trigger) --emg--> [EMGBranch] --> stride (records)
                                     |           | trig (per frame)
                                     |           v  LG rising edge (L or R) | ext_trigger
                                     +--eeg--> [EEGMRP] --> mrp (records)

One combined frame per 500 Hz sample. ``ACCEPT_FRAME`` hands the EMG part to the
EMG branch and holds the EEG part; ``WAIT_TRIGGERS`` waits for that frame's trigger
bits; ``SEND_EEG`` passes the EEG part with its trigger flag to the EEG branch. The
next frame is accepted once the EEG branch took this one, so a frame is never
paired with another frame's trigger, and a busy EEG branch holds the input.

The golden equivalent is :func:`golden.fabric_pipeline.run_golden_fabric`.
"""

from amaranth.hdl import *
from amaranth.lib import data, stream, wiring
from amaranth.lib.wiring import In, Out

from golden.eeg_mrp_model import EEGParams
from golden.emg_trigger_model import TriggerParams
from hdl.eeg_mrp import EEGMRP
from hdl.emg_branch import EMGBranch
from hdl.stride_indexes import OVERRUNS_WIDTH

__all__ = ["FabricTop", "fabric_frame_layout"]


def fabric_frame_layout(n_eeg=8):
    return data.StructLayout({
        "emg": data.ArrayLayout(signed(16), 8),
        "eeg": data.ArrayLayout(signed(16), n_eeg),
        "ext_trigger": 1,
    })


class FabricTop(wiring.Component):
    """EMG branch + EEG branch with the LG-onset trigger between them.

    Parameters
    ----------
    n_eeg : int
        EEG channel capacity (8; the paper uses 7 sites).
    cycles_per_sample : int or None
        Passed to :class:`hdl.emg_branch.EMGBranch`.
    emg_params, eeg_params
        Algorithm parameters shared with the golden models.

    Attributes
    ----------
    i : In(stream.Signature(fabric_frame_layout(n_eeg)))
    stride : Out(stream.Signature(stride record))
    mrp : Out(stream.Signature(MRP record))
    present : In(8), stride_ref : In(2), eeg_enable : In(n_eeg)
    stride_overrun : Out(1); stride_overruns : Out(16)
        The EMG branch's stride core dropped stride records because ``stride`` stalled for a
        whole stride: sticky flag and saturating count (``overrun``, ``overruns`` of
        :class:`hdl.stride_indexes.StrideIndexes`).
    """

    def __init__(self, n_eeg=8, cycles_per_sample=None, emg_params=TriggerParams(),
                 eeg_params=EEGParams()):
        self.emg = EMGBranch(16, cycles_per_sample, emg_params)
        self.eeg = EEGMRP(n_eeg, eeg_params)
        self.n_eeg = n_eeg
        super().__init__({
            "i": In(stream.Signature(fabric_frame_layout(n_eeg))),
            "stride": Out(stream.Signature(self.emg.o.payload.shape())),
            "mrp": Out(stream.Signature(self.eeg.o.payload.shape())),
            "present": In(8),
            "stride_ref": In(2),
            "eeg_enable": In(n_eeg),
            "stride_overrun": Out(1),
            "stride_overruns": Out(OVERRUNS_WIDTH),
        })

    def elaborate(self, platform):
        m = Module()
        m.submodules.emg = emg = self.emg
        m.submodules.eeg = eeg = self.eeg
        m.d.comb += [
            emg.present.eq(self.present),
            emg.stride_ref.eq(self.stride_ref),
            eeg.enable.eq(self.eeg_enable),
            emg.i.payload.eq(self.i.payload.emg),
            self.stride_overrun.eq(emg.overrun),
            self.stride_overruns.eq(emg.overruns),
        ]
        wiring.connect(m, emg.o, wiring.flipped(self.stride))
        wiring.connect(m, eeg.o, wiring.flipped(self.mrp))

        held = Signal(data.ArrayLayout(signed(16), self.n_eeg))
        ext = Signal()
        trigger = Signal()
        prev_lg = Signal(2)      # LG trigger bits (left, right) of the previous frame
        lg = Cat(emg.trig[0], emg.trig[4])
        m.d.comb += [eeg.i.payload.sample.eq(held), eeg.i.payload.trigger.eq(trigger)]

        with m.FSM(name="fsm"):
            with m.State("ACCEPT_FRAME"):
                m.d.comb += [emg.i.valid.eq(self.i.valid), self.i.ready.eq(emg.i.ready)]
                with m.If(self.i.valid & emg.i.ready):
                    m.d.sync += [held.eq(self.i.payload.eeg), ext.eq(self.i.payload.ext_trigger)]
                    m.next = "WAIT_TRIGGERS"
            with m.State("WAIT_TRIGGERS"):
                with m.If(emg.trig_valid):
                    m.d.sync += [
                        trigger.eq((lg & ~prev_lg).any() | ext),
                        prev_lg.eq(lg),
                    ]
                    m.next = "SEND_EEG"
            with m.State("SEND_EEG"):
                m.d.comb += eeg.i.valid.eq(1)
                with m.If(eeg.i.ready):
                    m.next = "ACCEPT_FRAME"
        return m
