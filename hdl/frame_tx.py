"""Gateware framer: records -> bytes of the frame format of :mod:`spec.frames`.

:class:`RecordFramer` turns several record streams (each a ``data.StructLayout`` whose
fields include every payload field of one frame type) into one stream of frame bytes,
taking turns frame by frame; :func:`spec.frames.encode_record` is the golden model (the
cocotb test ``tests/gateware/test_results_uart.py`` compares byte for byte).

Each input holds one record (its ``ready`` is low from the record's arrival until the
last byte of its frame is taken); one header/payload/CRC engine serves the inputs in
turn: after a frame it passes to the next input, and between frames it polls the
inputs round robin, one per cycle, until one holds a record. This is, cycle for cycle,
one framer per frame type (record register, header, payload, CRC) behind a round-robin
frame arbiter -- with the header logic, the byte mux and the CRC built once. The payload
byte of each record is selected by a tree of 4:1 muxes on two bits of the byte index per
level (named signals, so that synthesis keeps the tree: ~20 LUTs fewer than the flat
``word_select`` shift).

Byte stream layout: ``data.StructLayout({"data": 8, "last": 1})``; ``last``
marks the final CRC byte of a frame.
"""

from amaranth.hdl import *
from amaranth.lib import data, stream, wiring
from amaranth.lib.wiring import In, Out

from spec.frames import FRAME_TYPES, PAYLOADS, SYNC

__all__ = ["RecordFramer", "byte_layout", "crc16_byte"]

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


def _bytes(value):
    return [value[8 * k:8 * (k + 1)] for k in range((len(value) + 7) // 8)]


def _mux_tree(m, sel, items, name):
    """``items[sel]`` (0 past the end) as a tree of 4:1 muxes on two bits of ``sel`` per level,
    each level named signals: synthesis keeps that structure, which takes fewer LUTs than the
    flat ``word_select`` shift it replaces."""
    level = 0
    while len(items) > 1:
        bits = sel[2 * level:2 * level + 2]
        nxt = []
        for j in range(0, len(items), 4):
            part = items[j:j + 4]
            if len(part) == 1:
                nxt.append(part[0])
                continue
            g = Signal(len(part[0]), name=f"{name}_mux{level}_{j // 4}")
            m.d.comb += g.eq(Array(part)[bits[:(len(part) - 1).bit_length()]])
            nxt.append(g)
        items, level = nxt, level + 1
    return items[0]


class RecordFramer(wiring.Component):
    """Frames record streams, one frame type each, onto one byte stream.

    Parameters
    ----------
    kinds : sequence of (str, data.StructLayout)
        Per input, a frame type name of :data:`spec.frames.FRAME_TYPES` (``"STRIDE"``,
        ``"MRP"``, ...) and the record layout; each payload field must exist and fit its
        byte size (narrower fields are zero- or sign-extended according to their shape).

    Attributes
    ----------
    i : In(Signature({"k0": Out(stream.Signature(layout0)), "k1": ...}))
        The record streams, member ``k<j>`` for ``kinds[j]``.
    o : Out(stream.Signature(byte_layout()))
        Frame bytes. The CRC takes in each header/payload byte the cycle after it is taken,
        so ``o.valid`` is low for that one cycle (a UART consumer is not ready then anyway).
    seq : Out(ArrayLayout(8, len(kinds)))
        Sequence number of the next frame of that kind (wraps modulo 256 by design, see
        spec.frames).

    Raises
    ------
    ValueError
        No kinds, an unknown kind, or a layout that lacks or cannot hold a payload field.
    """

    def __init__(self, kinds):
        kinds = list(kinds)
        if not kinds:
            raise ValueError("need at least one frame kind")
        for kind, layout in kinds:
            if kind not in PAYLOADS:
                raise ValueError(f"unknown frame kind {kind!r}")
            fields = dict(layout)
            for name, code in PAYLOADS[kind]:
                if name not in fields:
                    raise ValueError(f"{kind} record layout lacks field {name!r}")
                if Shape.cast(fields[name].shape).width > 8 * _SIZES[code]:
                    raise ValueError(f"{kind}.{name} is wider than its {_SIZES[code]} "
                                     "payload bytes")
        self.kinds = kinds
        self.payload_lens = [sum(_SIZES[c] for _, c in PAYLOADS[k]) for k, _ in kinds]
        super().__init__({
            "i": In(wiring.Signature({f"k{j}": Out(stream.Signature(layout))
                                      for j, (_, layout) in enumerate(kinds)})),
            "o": Out(stream.Signature(byte_layout())),
            "seq": Out(data.ArrayLayout(8, len(kinds))),
        })

    def _payload(self, kind, layout, rec):
        parts = []
        for name, code in PAYLOADS[kind]:
            w = 8 * _SIZES[code]
            shape = Shape.cast(layout[name].shape)
            val = Value.cast(rec[name])
            if shape.width == w:
                parts.append(val)
            elif shape.signed:                                  # sign-extend
                parts.append(Cat(val, val[-1].replicate(w - shape.width)))
            else:                                               # zero-extend
                parts.append(Cat(val, C(0, w - shape.width)))
        return Cat(*parts)

    def elaborate(self, platform):
        m = Module()
        nk = len(self.kinds)
        grant = Signal(range(max(2, nk)))
        idx = Signal(range(max(2, max(self.payload_lens))))
        byte = Signal(8)
        accept = self.o.valid & self.o.ready
        m.d.comb += self.o.payload.data.eq(byte)

        # CRC of the byte taken, one cycle later (a register between the byte mux and the
        # CRC logic); stored inverted so that the seed 0xFFFF is a clear. The CRC bytes are
        # offered only once it is done (a UART consumer takes a byte at most every 10 bit
        # times >= 20 cycles, so it never waits).
        crc_n = Signal(16)                    # ~CRC
        crc = ~crc_n
        crc_byte = Signal(8)
        crc_busy = Signal()
        feed = Signal()                       # the byte taken now is covered by the CRC
        crc_next = crc16_byte(m, crc, crc_byte)
        with m.If(accept & feed):
            m.d.sync += [crc_byte.eq(byte), crc_busy.eq(1)]
        with m.Elif(crc_busy):
            m.d.sync += [crc_n.eq(~crc_next), crc_busy.eq(0)]

        hold = Signal(nk)                     # input j holds a record (its frame is pending)
        payload_byte = Signal(8)
        payload_end = Signal()
        kind_type, kind_len, kind_seq = Signal(8), Signal(8), Signal(8)
        for j, ((kind, layout), n) in enumerate(zip(self.kinds, self.payload_lens)):
            inp = getattr(self.i, f"k{j}")
            rec = Signal(layout, name=f"rec_{kind.lower()}")
            m.d.comb += inp.ready.eq(~hold[j])
            with m.If(inp.valid & ~hold[j]):
                m.d.sync += [rec.eq(inp.payload), hold[j].eq(1)]
            with m.If(grant == j):
                # (the tree's signals are driven under this condition too: 0 when not granted,
                # which maps to fewer LUTs than the same tree driven unconditionally)
                byte_j = _mux_tree(m, idx, _bytes(self._payload(kind, layout, rec)),
                                   f"payload_{kind.lower()}")
                m.d.comb += [self.o.valid.eq(hold[j] & ~crc_busy), kind_type.eq(FRAME_TYPES[kind]),
                             kind_len.eq(n), kind_seq.eq(self.seq[j]),
                             payload_byte.eq(byte_j), payload_end.eq(idx == n - 1)]

        with m.FSM():
            with m.State("SEND_SYNC0"):
                m.d.comb += byte.eq(SYNC[0])
                with m.If(accept):
                    m.next = "SEND_SYNC1"
                with m.Elif(~self.o.valid):           # poll the next input between frames
                    m.d.sync += grant.eq(Mux(grant == nk - 1, 0, grant + 1))
            with m.State("SEND_SYNC1"):
                m.d.comb += byte.eq(SYNC[1])
                with m.If(accept):
                    m.next = "SEND_TYPE"
            for state, value, nxt in (("SEND_TYPE", kind_type, "SEND_SEQ"),
                                      ("SEND_SEQ", kind_seq, "SEND_LEN"),
                                      ("SEND_LEN", kind_len, "SEND_PAYLOAD")):
                with m.State(state):
                    m.d.comb += [byte.eq(value), feed.eq(1)]
                    with m.If(accept):
                        m.d.sync += idx.eq(0)
                        m.next = nxt
            with m.State("SEND_PAYLOAD"):
                m.d.comb += [byte.eq(payload_byte), feed.eq(1)]
                with m.If(accept):
                    m.d.sync += idx.eq(idx + 1)
                    with m.If(payload_end):
                        m.next = "SEND_CRC_HI"
            with m.State("SEND_CRC_HI"):
                m.d.comb += byte.eq(crc[8:])
                with m.If(accept):
                    m.next = "SEND_CRC_LO"
            with m.State("SEND_CRC_LO"):
                m.d.comb += [byte.eq(crc[:8]), self.o.payload.last.eq(1)]
                with m.If(accept):
                    m.d.sync += [crc_n.eq(0), grant.eq(Mux(grant == nk - 1, 0, grant + 1))]
                    for j in range(nk):
                        with m.If(grant == j):
                            m.d.sync += [self.seq[j].eq(self.seq[j] + 1), hold[j].eq(0)]
                    m.next = "SEND_SYNC0"
        return m
