"""EMG branch of the fabric: sample pacing -> muscle triggers -> per-stride indexes.

::

    i (sample frames) -> [SamplePacer] -> [EMGTrigger] -> trig frames -+-> [StrideIndexes] -> o
                                                                       +-> trig (level, to EEG)

(``o``: stride records; ``trig``: trigger levels for the EEG branch.)

The pacer admits at most one frame every ``cycles_per_sample`` clock cycles, so a
burst of frames written by the ARM (replay) is consumed at the real sample rate
(50 MHz / 500 Hz = 100 000 cycles on the board), while simulations run at a few
tens of cycles per sample. ``cycles_per_sample=None`` admits frames as fast as
the trigger core accepts them.
"""

from amaranth.hdl import *
from amaranth.lib import data, stream, wiring
from amaranth.lib.wiring import In, Out

from golden.emg_trigger_model import TriggerParams
from hdl.emg_trigger import EMGTrigger
from hdl.stride_indexes import OVERRUNS_WIDTH, StrideIndexes

__all__ = ["EMGBranch"]


class EMGBranch(wiring.Component):
    """Triggers and stride indexes for 8 EMG channels (two legs x LG, TA, BF, RF).

    Parameters
    ----------
    sample_width : int
        Width of the signed EMG samples (16).
    cycles_per_sample : int or None
        Minimum clock cycles between two accepted frames; must be at least the
        trigger core's ``cycles_per_frame`` (``n_channels + 6`` = 14 for 8 channels).
    params : :class:`golden.emg_trigger_model.TriggerParams`
    count_width, start_width : int
        Widths of the stride counters (see :class:`hdl.stride_indexes.StrideIndexes`).

    Attributes
    ----------
    i : In(stream.Signature(ArrayLayout(signed(sample_width), 8)))
    o : Out(stream.Signature(stride record))
    trig : Out(8)
        Trigger bits of the latest processed frame.
    trig_valid : Out(1)
        One-cycle strobe when ``trig`` updates.
    present : In(8), stride_ref : In(2)
    warm, overrun : Out(1)
    overruns : Out(16)
        Strides dropped by the stride core (``overrun`` is its sticky flag); saturates.
    """

    n_channels = 8

    def __init__(self, sample_width=16, cycles_per_sample=None, params=TriggerParams(),
                 count_width=16, start_width=32):
        self.trigger = EMGTrigger(self.n_channels, sample_width, params)
        self.indexes = StrideIndexes(count_width, start_width)
        if cycles_per_sample is not None:
            if not isinstance(cycles_per_sample, int):
                raise TypeError("cycles_per_sample must be an integer or None, "
                                f"not {cycles_per_sample!r}")
            if cycles_per_sample < self.trigger.cycles_per_frame:
                raise ValueError(f"cycles_per_sample={cycles_per_sample} is below the "
                                 f"{self.trigger.cycles_per_frame} cycles the trigger core "
                                 f"needs per frame")
        self.cycles_per_sample = cycles_per_sample
        super().__init__({
            "i": In(stream.Signature(data.ArrayLayout(signed(sample_width), self.n_channels))),
            "o": Out(stream.Signature(self.indexes.record_layout)),
            "trig": Out(self.n_channels),
            "trig_valid": Out(1),
            "present": In(self.n_channels),
            "stride_ref": In(2),
            "warm": Out(1),
            "overrun": Out(1),
            "overruns": Out(OVERRUNS_WIDTH),
        })

    def elaborate(self, platform):
        m = Module()
        m.submodules.trigger = trigger = self.trigger
        m.submodules.indexes = indexes = self.indexes

        # --- pacing ---
        open_ = Signal(init=1)
        if self.cycles_per_sample is not None:
            timer = Signal(range(self.cycles_per_sample))
            with m.If(timer != 0):
                m.d.sync += timer.eq(timer - 1)
            with m.If(self.i.valid & trigger.i.ready & open_):
                # reload wins over the decrement: accepts are cycles_per_sample apart
                m.d.sync += timer.eq(self.cycles_per_sample - 1)
            m.d.comb += open_.eq(timer == 0)
        m.d.comb += [
            trigger.i.payload.eq(self.i.payload),
            trigger.i.valid.eq(self.i.valid & open_),
            self.i.ready.eq(trigger.i.ready & open_),
            trigger.present.eq(self.present),
            self.warm.eq(trigger.warm),
        ]

        # --- triggers -> stride indexes (ready every other cycle: never stalls the trigger's
        # frames, 14 cycles apart) and the level output ---
        wiring.connect(m, trigger.o, indexes.i)
        with m.If(trigger.o.valid & indexes.i.ready):
            m.d.sync += self.trig.eq(trigger.o.payload)
        m.d.sync += self.trig_valid.eq(trigger.o.valid & indexes.i.ready)
        m.d.comb += [
            indexes.present.eq(self.present),
            indexes.stride_ref.eq(self.stride_ref),
            self.overrun.eq(indexes.overrun),
            self.overruns.eq(indexes.overruns),
        ]
        wiring.connect(m, indexes.o, wiring.flipped(self.o))
        return m
