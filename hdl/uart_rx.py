"""8N1 UART receiver (LSB first, idle high): serial line -> byte stream.

The line is synchronised by two flip-flops; a falling edge starts a frame, the
start bit is re-checked half a bit later and every following bit is sampled at
its middle (``divisor`` clock cycles apart). A byte whose stop bit reads 0 is
dropped and counted as a framing error. A UART cannot be stalled: a byte that
arrives while the previous one is still unaccepted is dropped and counted as an
overrun. Both counters saturate at 0xFFFF (never wrap).
"""

from amaranth.hdl import *
from amaranth.lib import stream, wiring
from amaranth.lib.wiring import In, Out

from hdl.saturate import sat_inc

__all__ = ["UARTRx"]


class UARTRx(wiring.Component):
    """Receives 8N1 bytes.

    Parameters
    ----------
    divisor : int
        Clock cycles per bit (>= 4): 50 MHz / 921 600 baud -> 54 (+0.5 %).

    Attributes
    ----------
    rx : In(1)
        Serial input (asynchronous; 1 when idle).
    o : Out(stream.Signature(8))
        Received bytes; ``valid`` stays high until ``ready``.
    framing_errors, overruns : Out(16)
        Saturating counters.
    """

    def __init__(self, divisor):
        if not isinstance(divisor, int) or divisor < 4:
            raise ValueError(f"divisor must be an integer >= 4, not {divisor!r}")
        self.divisor = divisor
        super().__init__({"rx": In(1, init=1), "o": Out(stream.Signature(8)),
                          "framing_errors": Out(16), "overruns": Out(16)})

    def elaborate(self, platform):
        m = Module()
        sync = Signal(3, init=0b111)
        m.d.sync += sync.eq(Cat(self.rx, sync[:2]))
        line, prev = sync[1], sync[2]

        timer = Signal(range(self.divisor))
        bit = Signal(range(9))
        shreg = Signal(8)

        def bump(counter):
            m.d.sync += counter.eq(sat_inc(counter))

        with m.If(self.o.ready):
            m.d.sync += self.o.valid.eq(0)

        with m.FSM(name="fsm"):
            with m.State("IDLE"):
                with m.If(prev & ~line):
                    m.d.sync += timer.eq(self.divisor // 2 - 1)
                    m.next = "CHECK_START"
            with m.State("CHECK_START"):
                with m.If(timer != 0):
                    m.d.sync += timer.eq(timer - 1)
                with m.Elif(line):
                    m.next = "IDLE"                    # a glitch, not a start bit
                with m.Else():
                    m.d.sync += [timer.eq(self.divisor - 1), bit.eq(0)]
                    m.next = "SAMPLE_BITS"
            with m.State("SAMPLE_BITS"):
                with m.If(timer != 0):
                    m.d.sync += timer.eq(timer - 1)
                with m.Else():
                    m.d.sync += [shreg.eq(Cat(shreg[1:], line)), bit.eq(bit + 1),
                                 timer.eq(self.divisor - 1)]
                    with m.If(bit == 7):
                        m.next = "CHECK_STOP"
            with m.State("CHECK_STOP"):
                with m.If(timer != 0):
                    m.d.sync += timer.eq(timer - 1)
                with m.Else():
                    with m.If(~line):
                        bump(self.framing_errors)
                        m.next = "WAIT_IDLE"
                    with m.Else():
                        with m.If(self.o.valid & ~self.o.ready):
                            bump(self.overruns)
                        with m.Else():
                            m.d.sync += [self.o.payload.eq(shreg), self.o.valid.eq(1)]
                        m.next = "IDLE"
            with m.State("WAIT_IDLE"):                 # break / misaligned: wait for a 1
                with m.If(line):
                    m.next = "IDLE"
        return m
