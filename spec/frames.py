"""The one record/frame format of the system: UART out, sensor UART in, HPS FIFO, log files.

Frame (all multi-byte payload fields little-endian)::

    offset  size  field
    0       2     sync      0xA5 0x5A
    2       1     type      FRAME_TYPES (below)
    3       1     seq       per-type sequence number, +1 per frame, modulo 256
    4       1     len       payload length in bytes (0..255)
    5       len   payload   the record, PAYLOADS[type]
    5+len   2     crc       CRC-16/CCITT-FALSE (poly 0x1021, init 0xFFFF, no reflection,
                            no final xor) over type, seq, len and payload; big-endian

``seq`` is an identifier that wraps by design (a receiver counts a gap as
``(seq - expected) mod 256`` lost frames). The CRC check value of ``b"123456789"``
is 0x29B1.

Record payloads (field names are the golden models' record keys; widths in bytes):

``STRIDE`` (type 0x01, 37 bytes) -- :data:`golden.stride_indexes_model.RECORD_FIELDS`
    leg u8, start u32 (500 Hz frame of the stride's first sample), stride_time u16,
    then for LG, TA, BF, RF: ``{m}_contraction`` u16, ``{m}_relaxation`` u16,
    ``{m}_duty`` u16 (0.01 %), then cocon_LG_TA u16, cocon_BF_RF u16 (times in
    2 ms samples), present u8 (bit k = muscle k of the leg present),
    overflow u8 (bit 0).
``MRP`` (type 0x02, 12 bytes) -- :func:`hdl.eeg_mrp.mrp_record_layout`
    index u32 (trigger frame), channel u8, BP i16, mu i16, beta i16 (Q8.8 dBuV),
    partial u8 (bit 0).
``SAMPLES`` (type 0x10, 33 bytes) -- one 500 Hz input frame of the fabric
    (:func:`hdl.fabric_top.fabric_frame_layout`): emg i16 x 8
    (:data:`spec.channels.EMG_CHANNELS` order), eeg i16 x 8 (EEG_CHANNELS order,
    8th unused), flags u8 (bit 0 = ext_trigger).

:func:`encode` is the golden model of the gateware framer; :class:`Decoder` is
the streaming receiver used by ``python -m sw.uart`` (resynchronises on the
sync bytes after garbage, never accepts a frame whose CRC or length is wrong).
"""

import struct

from spec.channels import COCONTRACTION_PAIRS, MUSCLES

__all__ = ["SYNC", "FRAME_TYPES", "PAYLOADS", "crc16", "encode", "encode_record", "decode_payload",
           "Decoder", "Frame", "HEADER_LEN", "FrameError"]

SYNC = b"\xa5\x5a"
HEADER_LEN = 5
CRC_LEN = 2
FRAME_TYPES = {"STRIDE": 0x01, "MRP": 0x02, "SAMPLES": 0x10}
TYPE_NAMES = {v: k for k, v in FRAME_TYPES.items()}

#: payload fields per frame type: (name, struct code); little-endian
PAYLOADS = {
    "STRIDE": ([("leg", "B"), ("start", "I"), ("stride_time", "H")]
               + [(f"{m}_{q}", "H") for m in MUSCLES for q in ("contraction", "relaxation", "duty")]
               + [(f"cocon_{name}", "H") for name, _, _ in COCONTRACTION_PAIRS]
               + [("present", "B"), ("overflow", "B")]),
    "MRP": [("index", "I"), ("channel", "B"), ("BP", "h"), ("mu", "h"), ("beta", "h"), ("partial", "B")],
    "SAMPLES": [(f"emg{i}", "h") for i in range(8)] + [(f"eeg{i}", "h") for i in range(8)] + [("flags", "B")],
}
_STRUCTS = {k: struct.Struct("<" + "".join(c for _, c in v)) for k, v in PAYLOADS.items()}
PAYLOAD_LEN = {k: s.size for k, s in _STRUCTS.items()}


class FrameError(ValueError):
    pass


def crc16(data, crc=0xFFFF):
    """CRC-16/CCITT-FALSE of ``data`` (bytes), optionally continuing from ``crc``."""
    for b in data:
        crc ^= b << 8
        for _ in range(8):
            crc = ((crc << 1) ^ 0x1021) & 0xFFFF if crc & 0x8000 else (crc << 1) & 0xFFFF
    return crc


def encode(ftype, seq, payload):
    """One frame (bytes) of raw ``payload`` bytes."""
    if isinstance(ftype, str):
        ftype = FRAME_TYPES[ftype]
    if not 0 <= ftype <= 255 or not 0 <= seq <= 255 or len(payload) > 255:
        raise FrameError("type, seq must be bytes and the payload at most 255 bytes")
    body = bytes([ftype, seq, len(payload)]) + bytes(payload)
    return SYNC + body + crc16(body).to_bytes(2, "big")


def encode_record(kind, seq, rec):
    """Frame of one record dict (keys: :data:`PAYLOADS` names) of ``kind`` STRIDE/MRP/SAMPLES."""
    vals = []
    for name, code in PAYLOADS[kind]:
        v = int(rec[name])
        if code in "BHI" and v < 0:
            raise FrameError(f"{kind}.{name} = {v} is negative")
        vals.append(v)
    try:
        payload = _STRUCTS[kind].pack(*vals)
    except struct.error as e:
        raise FrameError(f"{kind}: {e}") from None
    return encode(kind, seq, payload)


def decode_payload(ftype, payload):
    """Payload bytes of a known type -> record dict; :class:`FrameError` if the length is wrong."""
    kind = TYPE_NAMES.get(ftype)
    if kind is None:
        raise FrameError(f"unknown frame type 0x{ftype:02x}")
    if len(payload) != PAYLOAD_LEN[kind]:
        raise FrameError(f"{kind} payload of {len(payload)} bytes, expected {PAYLOAD_LEN[kind]}")
    return dict(zip((n for n, _ in PAYLOADS[kind]), _STRUCTS[kind].unpack(payload)))


class Frame:
    __slots__ = ("type", "seq", "payload", "kind", "record")

    def __init__(self, ftype, seq, payload):
        self.type, self.seq, self.payload = ftype, seq, bytes(payload)
        self.kind = TYPE_NAMES.get(ftype)
        self.record = decode_payload(ftype, payload) if self.kind else None

    def __repr__(self):
        return f"Frame({self.kind or hex(self.type)}, seq={self.seq}, {self.record or self.payload.hex()})"


class Decoder:
    """Streaming frame decoder: ``feed(bytes)`` -> list of valid :class:`Frame`.

    Counters (never wrap; Python ints): ``frames`` accepted, ``crc_errors``,
    ``length_errors`` (a known type with the wrong payload length, CRC good),
    ``unknown_types``, ``garbage_bytes`` skipped while hunting for sync,
    ``seq_gaps`` (events) and ``lost_frames`` (sum of gap sizes) per type.
    On a bad CRC the decoder drops only the first sync byte and hunts again, so
    a frame starting inside a corrupted one is still found.
    """

    def __init__(self):
        self.buf = bytearray()
        self.frames = self.crc_errors = self.length_errors = self.unknown_types = 0
        self.garbage_bytes = self.seq_gaps = self.lost_frames = 0
        self._next_seq = {}

    def feed(self, data):
        self.buf += data
        out = []
        buf = self.buf
        while True:
            i = buf.find(SYNC)
            if i < 0:
                keep = 1 if buf[-1:] == SYNC[:1] else 0
                self.garbage_bytes += len(buf) - keep
                del buf[:len(buf) - keep]
                break
            if i:
                self.garbage_bytes += i
                del buf[:i]
            if len(buf) < HEADER_LEN:
                break
            n = buf[4]
            total = HEADER_LEN + n + CRC_LEN
            if len(buf) < total:
                break
            body = bytes(buf[2:HEADER_LEN + n])
            crc = int.from_bytes(buf[HEADER_LEN + n:total], "big")
            if crc16(body) != crc:
                self.crc_errors += 1
                del buf[:1]                      # hunt again from the next byte
                continue
            ftype, seq = body[0], body[1]
            try:
                frame = Frame(ftype, seq, body[3:])
            except FrameError:
                if ftype in TYPE_NAMES:
                    self.length_errors += 1
                else:
                    self.unknown_types += 1
                del buf[:total]
                continue
            del buf[:total]
            exp = self._next_seq.get(ftype)
            if exp is not None and seq != exp:
                self.seq_gaps += 1
                self.lost_frames += (seq - exp) % 256
            self._next_seq[ftype] = (seq + 1) % 256
            self.frames += 1
            out.append(frame)
        return out

    def stats(self):
        return {k: getattr(self, k) for k in ("frames", "crc_errors", "length_errors", "unknown_types",
                                              "garbage_bytes", "seq_gaps", "lost_frames")}
