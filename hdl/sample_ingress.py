"""Sample ingress of the fabric: sensor UART or HPS replay -> SAMPLES parser -> input frames.

::

    rx --> [UARTRx] --> [byte FIFO] --+
                                      +--(source)--> [SamplesParser] --> o (fabric frames)
    replay bytes (HPS SAMPLE reg) ----+

Sensor link: 8N1 at ``divisor`` clock cycles per bit; on the board 921 600 baud
(50 MHz / 54). A SAMPLES frame is 40 bytes = 400 bit times, so 500 frames/s need
200 kbit/s and 921 600 baud leaves 4.6x headroom. The byte FIFO absorbs the
fabric's busy periods (the EEG branch holds the input for ~0.4 ms after a
trigger); a byte that finds it full is dropped and counted in ``overruns``.
``source`` (CONTROL bit 0) selects the byte stream; the unselected one is not
read (the UART keeps filling its FIFO, the replay FIFO keeps its bytes).
"""

from amaranth.hdl import *
from amaranth.lib import stream, wiring
from amaranth.lib.wiring import In, Out

from hdl.bus import BufferedFIFO
from hdl.fabric_top import fabric_frame_layout
from hdl.samples_parser import SamplesParser
from hdl.saturate import sat_inc
from hdl.uart_rx import UARTRx

__all__ = ["SampleIngress"]


class SampleIngress(wiring.Component):
    """UART receiver + byte FIFO + source select + SAMPLES parser.

    Parameters
    ----------
    divisor : int
        Clock cycles per bit of the sensor UART.
    fifo_depth : int
        Byte FIFO depth after the UART receiver.

    Attributes
    ----------
    rx : In(1)
    replay : In(stream.Signature(8))
    source : In(1)
        0 = sensor UART, 1 = replay.
    o : Out(stream.Signature(fabric_frame_layout(8)))
    frames : Out(32)
    bad_frames, lost_frames, framing_errors, overruns : Out(16)
        Saturating counters (parser, parser, UART, UART + FIFO).
    """

    def __init__(self, divisor, fifo_depth=512):
        if not isinstance(fifo_depth, int) or isinstance(fifo_depth, bool) or fifo_depth < 64:
            raise ValueError(f"fifo_depth must be an integer of at least 64, not {fifo_depth!r}")
        self.divisor, self.fifo_depth = divisor, fifo_depth
        self.uart = UARTRx(divisor)
        self.parser = SamplesParser()
        super().__init__({"rx": In(1, init=1), "replay": In(stream.Signature(8)), "source": In(1),
                          "o": Out(stream.Signature(fabric_frame_layout(8))),
                          "frames": Out(32), "bad_frames": Out(16), "lost_frames": Out(16),
                          "framing_errors": Out(16), "overruns": Out(16)})

    def elaborate(self, platform):
        m = Module()
        m.submodules.uart = uart = self.uart
        m.submodules.parser = parser = self.parser
        m.submodules.fifo = bfifo = BufferedFIFO(width=8, depth=self.fifo_depth)

        # UART -> FIFO by hand, not wiring.connect(uart.o, bfifo.w_stream): the UART is never
        # stalled (ready = 1), a byte that finds the FIFO full is dropped here and counted.
        # With ready = 1 the UART's own overrun counter stays 0 (an overrun needs a byte
        # left untaken), so the FIFO drops are all the overruns there are: one counter
        # (the sum of the two, saturated, is this count).
        fifo_drops = Signal(16)
        m.d.comb += [uart.rx.eq(self.rx),
                     bfifo.w_data.eq(uart.o.payload), bfifo.w_en.eq(uart.o.valid),
                     uart.o.ready.eq(1)]
        with m.If(uart.o.valid & ~bfifo.w_rdy):
            m.d.sync += fifo_drops.eq(sat_inc(fifo_drops))
        m.d.comb += self.overruns.eq(fifo_drops)

        # source select: the unselected stream is not connected (its ready stays 0)
        with m.If(self.source):
            wiring.connect(m, wiring.flipped(self.replay), parser.i)
        with m.Else():
            wiring.connect(m, bfifo.r_stream, parser.i)
        wiring.connect(m, parser.o, wiring.flipped(self.o))
        m.d.comb += [self.frames.eq(parser.frames), self.bad_frames.eq(parser.bad_frames),
                     self.lost_frames.eq(parser.lost_frames),
                     self.framing_errors.eq(uart.framing_errors)]
        return m
