"""Avalon-MM slave register block behind the HPS-to-FPGA lightweight bridge (base 0xFF200000).

Register map: :data:`spec.registers.REGISTERS`, the one table (offsets, access, fields, reset
values) from which this block decodes the bus and ``python -m boards.gen_headers`` writes
``boards/arm/wo_regs.h``; rendered for humans in ``docs/frames-and-registers.md``.

Bus: Avalon-MM slave, word addressing (``address`` = byte offset / 4), fixed read
latency 1 (``readdata`` valid the cycle after ``read``), no wait states. A frame
of the result stream enters the FIFO only if the whole frame fits (space >= 262
bytes, the largest frame, when its first byte arrives); otherwise all its bytes
are dropped, ``DROPPED`` counts it and the overflow flag is set -- the ARM never
sees a partial frame from the fabric.

Stride records the stride core dropped (:class:`hdl.stride_indexes.StrideIndexes`: results
path stalled for a whole stride) show in ``STATUS.STRIDE_OVERRUN`` (sticky until reset) and
``STRIDE_OVERRUNS`` (saturating count).
"""

from amaranth.hdl import *
from amaranth.lib import stream, wiring
from amaranth.lib.wiring import In, Out

from hdl.bus import AvalonMMSignature, BufferedFIFO
from hdl.frame_tx import byte_layout
from hdl.params import check_int
from hdl.saturate import sat_inc
from hdl.stride_indexes import OVERRUNS_WIDTH
from spec import registers
from spec.frames import CRC_LEN, HEADER_LEN

__all__ = ["HPSRegs", "REGS", "ID_VALUE", "CONTROL_RESET", "MAX_FRAME"]

#: register name -> byte offset (:data:`spec.registers.REGISTERS`)
REGS = registers.offsets()
ID_VALUE = registers.ID_VALUE
CONTROL_RESET = registers.REGISTERS["CONTROL"].reset
#: the largest frame: header, 255 payload bytes, CRC
MAX_FRAME = HEADER_LEN + 255 + CRC_LEN


def _word(reg, **values):
    """The read value of ``reg``: each field's value (a Value no wider than the field) at the
    field's bit position of :data:`spec.registers.REGISTERS`, other bits 0."""
    parts, pos = [], 0
    for f in sorted(registers.REGISTERS[reg].fields, key=lambda f: f.lsb):
        if f.name in values:
            v = Value.cast(values.pop(f.name))
            assert len(v) <= f.width, (reg, f.name)
            parts += [C(0, f.lsb - pos), v] if f.lsb > pos else [v]
            pos = f.lsb + len(v)
    assert not values, (reg, values)
    return Cat(*parts)


_CLEAR_OVERFLOW = registers.field("CONTROL", "CLEAR_OVERFLOW")


class HPSRegs(wiring.Component):
    """Register block, result FIFO and replay byte FIFO.

    Parameters
    ----------
    result_depth : int
        Result FIFO depth in bytes (>= 2 x 262).
    sample_depth : int
        Replay byte FIFO depth.

    Attributes
    ----------
    bus : In(AvalonMMSignature(6))
        Avalon-MM slave (word address; ports ``bus__address``, ``bus__read``, ...).
    frames : In(stream.Signature(byte_layout()))
        Result frame bytes (``ready`` is always 1: full frames are dropped, not stalled).
    samples : Out(stream.Signature(8))
        Bytes written to SAMPLE, for the SAMPLES frame parser.
    source, present, stride_ref, eeg_enable : Out
        CONTROL fields.
    samples_in : In(32); bad_frames, lost_frames, framing_errors, overruns : In(16)
        Ingress counters (:class:`hdl.sample_ingress.SampleIngress`), shown read-only.
    stride_overrun : In(1); stride_overruns : In(16)
        The stride core's sticky flag and dropped-stride counter
        (:class:`hdl.fabric_top.FabricTop`), shown read-only.
    """

    def __init__(self, result_depth=2048, sample_depth=64):
        if result_depth < 2 * MAX_FRAME:
            raise ValueError(f"result_depth must be at least {2 * MAX_FRAME}")
        check_int("sample_depth", sample_depth, 2)
        self.result_depth, self.sample_depth = result_depth, sample_depth
        super().__init__({
            "bus": In(AvalonMMSignature(6)),
            "frames": In(stream.Signature(byte_layout())),
            "samples": Out(stream.Signature(8)),
            "source": Out(1), "present": Out(8), "stride_ref": Out(2), "eeg_enable": Out(8),
            "samples_in": In(32), "bad_frames": In(16), "lost_frames": In(16),
            "framing_errors": In(16), "overruns": In(16),
            "stride_overrun": In(1), "stride_overruns": In(OVERRUNS_WIDTH),
        })

    def elaborate(self, platform):
        m = Module()
        m.submodules.rfifo = rfifo = BufferedFIFO(width=9, depth=self.result_depth)
        m.submodules.sfifo = sfifo = BufferedFIFO(width=8, depth=self.sample_depth)

        control = Signal(32, init=CONTROL_RESET)
        overflow = Signal()
        dropped = Signal(32)
        in_frame = Signal()          # inside a frame that is being kept
        dropping = Signal()          # inside a frame that is being dropped

        def ctrl(name):                  # a CONTROL field, at its place in spec.registers
            f = registers.field("CONTROL", name)
            return control[f.lsb:f.msb + 1]
        m.d.comb += [self.source.eq(ctrl("SOURCE")), self.present.eq(ctrl("PRESENT")),
                     self.stride_ref.eq(ctrl("STRIDE_REF")), self.eeg_enable.eq(ctrl("EEG_ENABLE"))]

        # --- result frames into the FIFO, whole frames or nothing. Wired by hand, not with
        # rfifo.w_stream: `frames` never stalls (ready = 1) and a byte is written only if its
        # frame is kept; the read side is popped by RESULT reads, not by a stream consumer.
        m.d.comb += self.frames.ready.eq(1)
        first = self.frames.valid & ~in_frame & ~dropping
        keep = Signal()
        # space = depth - level >= MAX_FRAME, as a compare of level with a constant
        m.d.comb += keep.eq(Mux(first, rfifo.level <= self.result_depth - MAX_FRAME, in_frame))
        m.d.comb += [rfifo.w_data.eq(Cat(self.frames.payload.data, self.frames.payload.last)),
                     rfifo.w_en.eq(self.frames.valid & keep)]
        with m.If(self.frames.valid):
            with m.If(first & ~keep):
                m.d.sync += [overflow.eq(1), dropped.eq(sat_inc(dropped))]
            last = self.frames.payload.last
            m.d.sync += [in_frame.eq(keep & ~last), dropping.eq(~keep & ~last)]

        # --- bus
        rd = Signal(32)
        m.d.sync += self.bus.readdata.eq(rd)
        with m.If(self.bus.read):
            with m.Switch(self.bus.address):
                with m.Case(REGS["ID"] // 4):
                    m.d.comb += rd.eq(ID_VALUE)
                with m.Case(REGS["STATUS"] // 4):
                    m.d.comb += rd.eq(_word("STATUS", RESULT_NOT_EMPTY=rfifo.r_rdy,
                                            OVERFLOW=overflow, SAMPLE_FULL=~sfifo.w_rdy,
                                            STRIDE_OVERRUN=self.stride_overrun,
                                            LEVEL=rfifo.level[:16]))
                with m.Case(REGS["RESULT"] // 4):
                    popped = _word("RESULT", BYTE=rfifo.r_data[:8], VALID=C(1, 1),
                                   LAST=rfifo.r_data[8])
                    m.d.comb += [rd.eq(Mux(rfifo.r_rdy, popped, 0)),
                                 rfifo.r_en.eq(1)]
                with m.Case(REGS["CONTROL"] // 4):
                    m.d.comb += rd.eq(control & ~C(_CLEAR_OVERFLOW.mask, 32))
                with m.Case(REGS["DROPPED"] // 4):
                    m.d.comb += rd.eq(dropped)
                with m.Case(REGS["SAMPLES_IN"] // 4):
                    m.d.comb += rd.eq(self.samples_in)
                with m.Case(REGS["INGRESS"] // 4):
                    m.d.comb += rd.eq(_word("INGRESS", REJECTED=self.bad_frames,
                                            LOST=self.lost_frames))
                with m.Case(REGS["RX_ERRORS"] // 4):
                    m.d.comb += rd.eq(_word("RX_ERRORS", FRAMING=self.framing_errors,
                                            OVERRUN=self.overruns))
                with m.Case(REGS["STRIDE_OVERRUNS"] // 4):
                    m.d.comb += rd.eq(_word("STRIDE_OVERRUNS", COUNT=self.stride_overruns))
        with m.If(self.bus.write):
            with m.Switch(self.bus.address):
                with m.Case(REGS["CONTROL"] // 4):
                    m.d.sync += control.eq(self.bus.writedata & ~C(_CLEAR_OVERFLOW.mask, 32))
                    with m.If(self.bus.writedata[_CLEAR_OVERFLOW.lsb]):
                        m.d.sync += overflow.eq(0)
                with m.Case(REGS["SAMPLE"] // 4):
                    # not a stream: an Avalon write has no back-pressure, so a byte
                    # written while the FIFO is full is lost (the ARM polls STATUS bit 2)
                    m.d.comb += [sfifo.w_data.eq(self.bus.writedata[:8]), sfifo.w_en.eq(1)]
        wiring.connect(m, sfifo.r_stream, wiring.flipped(self.samples))
        return m
