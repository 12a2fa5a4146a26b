"""Results over a UART: stride and MRP records -> frames (spec.frames format) -> 8N1 serial line.

::

    stride records -> +----------------------------------+
                      | RecordFramer (STRIDE, MRP):      | -> frames (bytes) -> [UARTTx] -> tx
    MRP records    -> | frame by frame, round robin      |
                      +----------------------------------+

One header/payload/CRC engine serves both record streams (see :mod:`hdl.frame_tx`).

``frames`` is also an output (``frames_tap``): the same bytes, offered to a second
consumer (the HPS FIFO of :mod:`hdl.hps_regs`) that never stalls the line; the
tap is valid for exactly the cycles a byte goes to the UART.
"""

from amaranth.hdl import *
from amaranth.lib import stream, wiring
from amaranth.lib.wiring import In, Out

from hdl.frame_tx import RecordFramer, byte_layout
from hdl.uart_tx import UARTTx

__all__ = ["ResultsUART"]


class ResultsUART(wiring.Component):
    """Frames stride and MRP records onto one UART.

    Parameters
    ----------
    stride_layout, mrp_layout : data.StructLayout
        Record layouts (``hdl.stride_indexes.stride_record_layout()``,
        ``hdl.eeg_mrp.mrp_record_layout()``).
    divisor : int
        Clock cycles per UART bit (50 MHz: 434 -> 115 200 baud).

    Attributes
    ----------
    stride : In(stream.Signature(stride_layout))
    mrp : In(stream.Signature(mrp_layout))
    tx : Out(1)
    frames_tap : Out(stream.Signature(byte_layout()))  (``ready`` ignored)
    """

    def __init__(self, stride_layout, mrp_layout, divisor):
        self.framer = RecordFramer([("STRIDE", stride_layout), ("MRP", mrp_layout)])
        self.uart = UARTTx(divisor)
        super().__init__({"stride": In(stream.Signature(stride_layout)),
                          "mrp": In(stream.Signature(mrp_layout)),
                          "tx": Out(1, init=1),
                          "frames_tap": Out(stream.Signature(byte_layout()))})

    def elaborate(self, platform):
        m = Module()
        m.submodules.framer = arb = self.framer
        m.submodules.uart = uart = self.uart
        wiring.connect(m, wiring.flipped(self.stride), arb.i.k0)
        wiring.connect(m, wiring.flipped(self.mrp), arb.i.k1)
        m.d.comb += [uart.i.valid.eq(arb.o.valid), uart.i.payload.eq(arb.o.payload.data),
                     arb.o.ready.eq(uart.i.ready), self.tx.eq(uart.tx),
                     self.frames_tap.valid.eq(arb.o.valid & uart.i.ready),
                     self.frames_tap.payload.eq(arb.o.payload)]
        return m
