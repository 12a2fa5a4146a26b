"""Gateware framer: records -> bytes of the frame format of :mod:`spec.frames`.

:class:`RecordFramer` turns one record stream (a ``data.StructLayout`` whose
fields include every payload field of one frame type) into frame bytes;
:class:`FrameArbiter` merges several framers' byte streams, switching only
between frames; :func:`spec.frames.encode_record` is the golden model (the
cocotb test ``tests/gateware/test_results_uart.py`` compares byte for byte).

Byte stream layout: ``data.StructLayout({"data": 8, "last": 1})``; ``last``
marks the final CRC byte of a frame.
"""

from amaranth.hdl import *
from amaranth.lib import data, stream, wiring
from amaranth.lib.wiring import In, Out

from spec.frames import FRAME_TYPES, PAYLOADS, SYNC

__all__ = ["RecordFramer", "FrameArbiter", "byte_layout", "crc16_byte"]

_SIZES = {"B": 1, "H": 2, "I": 4, "h": 2}


def byte_layout():
    return data.StructLayout({"data": 8, "last": 1})


def crc16_byte(m, crc, byte):
    """CRC-16/CCITT-FALSE of ``crc`` updated by ``byte``: a Signal driven combinationally in
    ``m`` (one intermediate Signal per bit step; mirrors :func:`spec.frames.crc16`)."""
    c = Signal(16)
    m.d.comb += c.eq(crc ^ Cat(C(0, 8), byte))
    for k in range(8):
        nxt = Signal(16, name=f"crc_step{k}")
        m.d.comb += nxt.eq(Mux(c[15], (c << 1)[:16] ^ 0x1021, (c << 1)[:16]))
        c = nxt
    return c


class RecordFramer(wiring.Component):
    """Frames one record stream.

    Parameters
    ----------
    kind : str
        Frame type name of :data:`spec.frames.FRAME_TYPES` (``"STRIDE"`` or ``"MRP"``).
    layout : data.StructLayout
        The record layout; each payload field must exist and fit its byte size
        (narrower fields are zero- or sign-extended according to their shape).

    Attributes
    ----------
    i : In(stream.Signature(layout))
    o : Out(stream.Signature(byte_layout()))
    seq : Out(8)
        Sequence number of the next frame (wraps modulo 256 by design, see spec.frames).
    """

    def __init__(self, kind, layout):
        if kind not in PAYLOADS:
            raise ValueError(f"unknown frame kind {kind!r}")
        fields = dict(layout)
        for name, code in PAYLOADS[kind]:
            if name not in fields:
                raise ValueError(f"{kind} record layout lacks field {name!r}")
            if Shape.cast(fields[name].shape).width > 8 * _SIZES[code]:
                raise ValueError(f"{kind}.{name} is wider than its {_SIZES[code]} payload bytes")
        self.kind = kind
        self._layout = layout
        self.payload_len = sum(_SIZES[c] for _, c in PAYLOADS[kind])
        super().__init__({"i": In(stream.Signature(layout)),
                          "o": Out(stream.Signature(byte_layout())),
                          "seq": Out(8)})

    def elaborate(self, platform):
        m = Module()
        n = self.payload_len
        rec = Signal(self._layout)
        payload = Signal(8 * n)
        crc = Signal(16)
        idx = Signal(range(max(2, n)))

        parts = []
        for name, code in PAYLOADS[self.kind]:
            v = rec[name]
            w = 8 * _SIZES[code]
            shape = Shape.cast(self._layout[name].shape)
            val = Value.cast(v)
            if shape.width == w:
                parts.append(val)
            elif shape.signed:                                  # sign-extend
                parts.append(Cat(val, val[-1].replicate(w - shape.width)))
            else:                                               # zero-extend
                parts.append(Cat(val, C(0, w - shape.width)))
        m.d.comb += payload.eq(Cat(*parts))

        byte = Signal(8)
        crc_next = crc16_byte(m, crc, byte)
        accept = self.o.valid & self.o.ready
        m.d.comb += self.o.payload.data.eq(byte)

        with m.FSM():
            with m.State("WAIT_RECORD"):
                m.d.comb += self.i.ready.eq(1)
                with m.If(self.i.valid):
                    m.d.sync += [rec.eq(self.i.payload), crc.eq(0xFFFF), idx.eq(0)]
                    m.next = "SEND_SYNC0"
            with m.State("SEND_SYNC0"):
                m.d.comb += [byte.eq(SYNC[0]), self.o.valid.eq(1)]
                with m.If(accept):
                    m.next = "SEND_SYNC1"
            with m.State("SEND_SYNC1"):
                m.d.comb += [byte.eq(SYNC[1]), self.o.valid.eq(1)]
                with m.If(accept):
                    m.next = "SEND_TYPE"
            for state, value, nxt in (("SEND_TYPE", C(FRAME_TYPES[self.kind], 8), "SEND_SEQ"),
                                      ("SEND_SEQ", self.seq, "SEND_LEN"),
                                      ("SEND_LEN", C(n, 8), "SEND_PAYLOAD")):
                with m.State(state):
                    m.d.comb += [byte.eq(value), self.o.valid.eq(1)]
                    with m.If(accept):
                        m.d.sync += crc.eq(crc_next)
                        m.next = nxt
            with m.State("SEND_PAYLOAD"):
                m.d.comb += [byte.eq(payload.word_select(idx, 8)), self.o.valid.eq(1)]
                with m.If(accept):
                    m.d.sync += [crc.eq(crc_next), idx.eq(idx + 1)]
                    with m.If(idx == n - 1):
                        m.next = "SEND_CRC_HI"
            with m.State("SEND_CRC_HI"):
                m.d.comb += [byte.eq(crc[8:]), self.o.valid.eq(1)]
                with m.If(accept):
                    m.next = "SEND_CRC_LO"
            with m.State("SEND_CRC_LO"):
                m.d.comb += [byte.eq(crc[:8]), self.o.valid.eq(1), self.o.payload.last.eq(1)]
                with m.If(accept):
                    m.d.sync += self.seq.eq(self.seq + 1)
                    m.next = "WAIT_RECORD"
        return m


class FrameArbiter(wiring.Component):
    """Round-robin merge of ``n`` byte streams, switching only after a ``last`` byte.

    Attributes
    ----------
    i : array of In(stream.Signature(byte_layout())), length n
    o : Out(stream.Signature(byte_layout()))
    """

    def __init__(self, n):
        if n < 1:
            raise ValueError("need at least one input")
        self.n = n
        super().__init__({"i": In(stream.Signature(byte_layout())).array(n),
                          "o": Out(stream.Signature(byte_layout()))})

    def elaborate(self, platform):
        m = Module()
        grant = Signal(range(max(2, self.n)))
        busy = Signal()
        with m.Switch(grant):
            for k in range(self.n):
                with m.Case(k):
                    m.d.comb += [self.o.valid.eq(self.i[k].valid),
                                 self.o.payload.eq(self.i[k].payload),
                                 self.i[k].ready.eq(self.o.ready)]
        accept = self.o.valid & self.o.ready
        nxt = Mux(grant == self.n - 1, 0, grant + 1)
        with m.If(accept):
            m.d.sync += busy.eq(~self.o.payload.last)
            with m.If(self.o.payload.last):
                m.d.sync += grant.eq(nxt)              # round robin after every frame
        with m.Elif(~busy & ~self.o.valid):
            m.d.sync += grant.eq(nxt)                  # poll the next input between frames
        return m
