"""SAMPLES frame parser: byte stream (sensor UART or HPS replay) -> fabric input frames.

Frame format: :mod:`spec.frames` (``SAMPLES``, type 0x10, 33-byte payload: emg i16 x 8,
eeg i16 x 8, flags u8 with bit 0 = ext_trigger). The payload bytes, little-endian,
are exactly the bits of :func:`hdl.fabric_top.fabric_frame_layout` ``(n_eeg=8)``
(emg at bits 0-127, eeg at 128-255, ext_trigger at bit 256), so the parser shifts
bytes into a 264-bit register and hands its low 257 bits on.

States are named for the byte being read; the bit-exact model and the description
of resynchronisation are in :mod:`golden.samples_parser_model`.
"""

from amaranth.hdl import *
from amaranth.lib import stream, wiring
from amaranth.lib.wiring import In, Out

from golden.samples_parser_model import SAMPLES_LEN, SAMPLES_TYPE
from hdl.fabric_top import fabric_frame_layout
from hdl.frame_tx import crc16_byte
from hdl.saturate import sat_add, sat_inc

__all__ = ["SamplesParser"]


class SamplesParser(wiring.Component):
    """Parses SAMPLES frames.

    Attributes
    ----------
    i : In(stream.Signature(8))
        Bytes; ``ready`` is low only while a parsed frame waits to be taken.
    o : Out(stream.Signature(fabric_frame_layout(8)))
    frames : Out(32)
        Frames accepted (saturating).
    bad_frames, lost_frames : Out(16)
        Frames rejected (type, length or CRC) and frames missing according to the
        sequence numbers (saturating).
    """

    def __init__(self):
        super().__init__({"i": In(stream.Signature(8)),
                          "o": Out(stream.Signature(fabric_frame_layout(8))),
                          "frames": Out(32), "bad_frames": Out(16), "lost_frames": Out(16)})

    def elaborate(self, platform):
        m = Module()
        b = self.i.payload
        take = self.i.valid & self.i.ready
        crc = Signal(16, init=0xFFFF)      # 0xFFFF (the CRC seed) while hunting for a frame
        crc_next = crc16_byte(m, crc, b)
        buf = Signal(8 * SAMPLES_LEN)
        count = Signal(range(SAMPLES_LEN + 1))
        seq = Signal(8)
        prev_seq = Signal(8)               # sequence number of the last good frame
        have_seq = Signal()
        crc_hi = Signal(8)
        gap = Signal(8)                    # frames missing: seq - (prev_seq + 1) mod 256
        # (a subtraction, not seq + ~prev_seq: its inversion folds into the adder cells)
        m.d.comb += [self.o.payload.eq(buf[:len(self.o.payload.as_value())]),
                     gap.eq(seq - prev_seq - 1)]

        with m.FSM(name="fsm"):
            def bad_and_resync():
                m.d.sync += self.bad_frames.eq(sat_inc(self.bad_frames))
                with m.If(b == 0xA5):
                    m.next = "HUNT_SYNC2"
                with m.Else():
                    m.next = "HUNT_SYNC1"

            with m.State("HUNT_SYNC1"):
                m.d.comb += self.i.ready.eq(1)
                m.d.sync += crc.eq(0xFFFF)
                with m.If(take & (b == 0xA5)):
                    m.next = "HUNT_SYNC2"
            with m.State("HUNT_SYNC2"):
                m.d.comb += self.i.ready.eq(1)
                m.d.sync += crc.eq(0xFFFF)
                with m.If(take):
                    with m.If(b == 0x5A):
                        m.next = "READ_TYPE"
                    with m.Elif(b != 0xA5):
                        m.next = "HUNT_SYNC1"
            with m.State("READ_TYPE"):
                m.d.comb += self.i.ready.eq(1)
                with m.If(take):
                    with m.If(b == SAMPLES_TYPE):
                        m.d.sync += crc.eq(crc_next)
                        m.next = "READ_SEQ"
                    with m.Else():
                        bad_and_resync()
            with m.State("READ_SEQ"):
                m.d.comb += self.i.ready.eq(1)
                with m.If(take):
                    m.d.sync += [crc.eq(crc_next), seq.eq(b)]
                    m.next = "READ_LEN"
            with m.State("READ_LEN"):
                m.d.comb += self.i.ready.eq(1)
                with m.If(take):
                    with m.If(b == SAMPLES_LEN):
                        m.d.sync += [crc.eq(crc_next), count.eq(0)]
                        m.next = "READ_PAYLOAD"
                    with m.Else():
                        bad_and_resync()
            with m.State("READ_PAYLOAD"):
                m.d.comb += self.i.ready.eq(1)
                with m.If(take):
                    m.d.sync += [crc.eq(crc_next), buf.eq(Cat(buf[8:], b)), count.eq(count + 1)]
                    with m.If(count == SAMPLES_LEN - 1):
                        m.next = "READ_CRC_HI"
            with m.State("READ_CRC_HI"):
                m.d.comb += self.i.ready.eq(1)
                with m.If(take):
                    m.d.sync += crc_hi.eq(b)
                    m.next = "READ_CRC_LO"
            with m.State("READ_CRC_LO"):
                m.d.comb += self.i.ready.eq(1)
                with m.If(take):
                    with m.If(Cat(b, crc_hi) == crc):
                        with m.If(have_seq & (gap != 0)):
                            m.d.sync += self.lost_frames.eq(sat_add(self.lost_frames, gap))
                        m.d.sync += [prev_seq.eq(seq), have_seq.eq(1),
                                     self.frames.eq(sat_inc(self.frames))]
                        m.next = "EMIT_FRAME"
                    with m.Else():
                        m.d.sync += self.bad_frames.eq(sat_inc(self.bad_frames))
                        m.next = "HUNT_SYNC1"
            with m.State("EMIT_FRAME"):
                m.d.comb += self.o.valid.eq(1)
                with m.If(self.o.ready):
                    m.next = "HUNT_SYNC1"
        return m
