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

Record payloads: the table :data:`FRAMES` (per frame type: type code, payload length, and per
field: name, byte offset, size, signedness, scale, CSV column; the rendered tables are in
``docs/frames-and-registers.md``, written by ``python -m boards.gen_headers`` with
``boards/arm/wo_frames.h``). Field names are the golden models' record keys, columns are the
CSV columns of ``python -m sw.extract`` (``value = raw * mul / div`` in the column's unit):

``STRIDE`` (type 0x01) -- :data:`golden.stride_indexes_model.RECORD_FIELDS`
``MRP`` (type 0x02) -- :func:`hdl.eeg_mrp.mrp_record_layout`
``SAMPLES`` (type 0x10) -- one input frame of the fabric
    (:func:`hdl.fabric_top.fabric_frame_layout`)
``IMU`` (type 0x11) -- one :data:`IMU_FS` Hz sample of the body-worn IMU (acc in g, gyro in
    rad/s, the channels of :mod:`sw.har_data`), stamped with the fabric's 500 Hz sample index;
    a second input stream that goes to the ARM program, not to the fabric
    (``docs/imu-ingress.md``: link, scales, alignment with the STRIDE records)

:func:`encode` is the golden model of the gateware framer; :class:`Decoder` is
the streaming receiver used by ``python -m sw.uart`` (resynchronises on the
sync bytes after garbage, never accepts a frame whose CRC or length is wrong).

Valid records (defined once, here): a frame can pass the CRC and still carry a record no
transmitter of the system produces. :func:`check_record` says why a record is impossible, from
two limits of the frame table per field: :attr:`PayloadField.max` (the largest raw value, e.g.
``leg`` <= 1, ``channel`` <= 7: the fabric's eight EEG inputs, :data:`MRP_SITES`) and
:attr:`PayloadField.mask` (the defined bits of a flag field, e.g. ``present`` & ~0x0F must be 0).
``Decoder(check=True)`` (the monitors) counts such frames as ``invalid_frames`` instead of
accepting them; ``boards/arm/wo_frames.h`` carries the same limits (``WO_<FRAME>_CHECKS``) for
``boards/arm/wo_monitor.c``.
"""

import struct
from typing import NamedTuple

from spec.channels import COCONTRACTION_PAIRS, EEG_CHANNELS, EMG_CHANNELS, MUSCLES, SAMPLE_MS
from spec.constants import FS

__all__ = ["SYNC", "FRAME_TYPES", "PAYLOADS", "crc16", "encode", "encode_record", "decode_payload",
           "Decoder", "Frame", "HEADER_LEN", "FrameError", "FRAMES", "HEADER", "PayloadField",
           "FrameType", "PAYLOAD_LEN", "CRC_LEN", "check_record", "MRP_SITES", "STATS",
           "IMU_FS", "IMU_STEP", "IMU_CHANNELS"]

SYNC = b"\xa5\x5a"


class PayloadField(NamedTuple):
    """One little-endian integer of a payload (or of the frame header).

    ``column`` is the CSV column of the scaled value ``raw * mul / div`` (in ``unit``), empty
    when the field has none; ``bits`` names single bits of a flag field as ``(name, bit)``;
    ``needs`` (STRIDE measures only) is the mask of ``present`` bits the measure needs, ``None``
    for fields that are not per-stride measures. ``hi`` is the largest valid raw value when it
    is below the field's range (``None``: any value); see :attr:`max` and :attr:`mask`.
    """

    name: str
    offset: int
    size: int
    signed: bool
    meaning: str
    mul: int = 1
    div: int = 1
    unit: str = ""
    column: str = ""
    bits: tuple = ()
    needs: int | None = None
    hi: int | None = None

    @property
    def max(self):
        """Largest valid raw value (unsigned fields): ``hi``, else the field's full range."""
        return (1 << 8 * self.size) - 1 if self.hi is None else self.hi

    @property
    def mask(self):
        """Bits a valid raw value may have set: the named ``bits`` of a flag field, else all."""
        if not self.bits:
            return (1 << 8 * self.size) - 1
        return sum(1 << n for _, n in self.bits)

    @property
    def checked(self):
        """True when some raw values of this field are invalid (:func:`check_record`)."""
        full = (1 << 8 * self.size) - 1
        return not self.signed and (self.max != full or self.mask != full)

    @property
    def code(self):
        """:mod:`struct` code (``B H I`` unsigned, ``b h i`` signed)."""
        c = {1: "B", 2: "H", 4: "I"}[self.size]
        return c.lower() if self.signed else c

    @property
    def scale(self):
        """The scale as text, ``"/500 -> s"``, ``"x2 -> ms"``, ``""`` for raw values."""
        s = (f"x{self.mul}" if self.mul != 1 else "") + (f"/{self.div}" if self.div != 1 else "")
        return f"{s} -> {self.unit}" if s else ""


class FrameType(NamedTuple):
    """A frame type: name, type byte, payload fields in order."""

    name: str
    code: int
    meaning: str
    fields: tuple

    @property
    def length(self):
        """Payload length in bytes."""
        return sum(f.size for f in self.fields)

    def field(self, name):
        for f in self.fields:
            if f.name == name:
                return f
        raise KeyError(f"{self.name} has no field {name!r}")


def _layout(rows):
    """Fields with consecutive offsets from ``(name, size, signed, meaning, **extra)`` rows."""
    out, off = [], 0
    for name, size, signed, meaning, *extra in rows:
        out.append(PayloadField(name, off, size, signed, meaning, **(extra[0] if extra else {})))
        off += size
    return tuple(out)


_MS = dict(mul=SAMPLE_MS, unit="ms")
#: MRP ``channel`` -> site name: the EEG sites, then ``chN`` for the fabric's other EEG inputs
#: (eight in a SAMPLES frame; CONTROL.EEG_ENABLE may enable the eighth).
MRP_SITES = EEG_CHANNELS + tuple(f"ch{k}" for k in range(len(EEG_CHANNELS), 8))
_STRIDE = ([("leg", 1, False, "0 left, 1 right", dict(column="leg", hi=1)),
            ("start", 4, False, f"{FS} Hz sample index of the stride's first sample",
             dict(div=FS, unit="s", column="start_s")),
            ("stride_time", 2, False, "stride time, samples",
             dict(_MS, column="stride_time_ms", needs=0))]
           + [row for k, m in enumerate(MUSCLES) for row in (
               (f"{m}_contraction", 2, False, f"{m} contraction time, samples",
                dict(_MS, column=f"{m}_contraction_ms", needs=1 << k)),
               (f"{m}_relaxation", 2, False, f"{m} relaxation time, samples",
                dict(_MS, column=f"{m}_relaxation_ms", needs=1 << k)),
               (f"{m}_duty", 2, False, f"{m} duty cycle, 0.01 %",
                dict(div=100, unit="%", column=f"{m}_duty_pct", needs=1 << k)))]
           + [(f"cocon_{name}", 2, False, f"{name} co-contraction time, samples",
               dict(_MS, column=f"cocon_{name}_ms", needs=1 << a | 1 << b))
              for name, a, b in COCONTRACTION_PAIRS]
           + [("present", 1, False, "bit k: muscle k of the leg present",
               dict(bits=tuple((m, k) for k, m in enumerate(MUSCLES)))),
              ("overflow", 1, False, "the stride counter saturated",
               dict(column="flags", bits=(("SATURATED", 0),)))])
_MRP = ([("index", 4, False, f"{FS} Hz sample index of the trigger",
          dict(div=FS, unit="s", column="trigger_s")),
         ("channel", 1, False, "EEG site, EEG_CHANNELS order (MRP_SITES)",
          dict(column="site", hi=len(MRP_SITES) - 1))]
        + [(band, 2, True, f"{band} band power, Q8.8 dBuV",
            dict(div=256, unit="dBuV", column=f"{band}_dBu")) for band in ("BP", "mu", "beta")]
        + [("partial", 1, False, "fewer than 256 samples since reset",
            dict(column="flags", bits=(("INCOMPLETE", 0),)))])
#: IMU sample rate (Hz) and the fabric samples between two IMU samples (FS / IMU_FS)
IMU_FS = 50
IMU_STEP = FS // IMU_FS
assert IMU_STEP * IMU_FS == FS
#: IMU channels, in payload order: the HAR models' input channels (sw.har_data.CHANNELS)
IMU_CHANNELS = ("acc_x", "acc_y", "acc_z", "gyro_x", "gyro_y", "gyro_z")
_IMU = ([("index", 4, False, f"{FS} Hz fabric sample index of this IMU sample (the hub's count "
          f"of SAMPLES frames sent before it; +{IMU_STEP} per IMU sample)",
          dict(div=FS, unit="s", column="time_s"))]
        + [(c, 2, True, f"{c[:-2]} {c[-1]}, {'1 mg' if c.startswith('acc') else '1 mrad/s'} "
            "per LSB, saturated to the int16 range",
            dict(div=1000, unit="g" if c.startswith("acc") else "rad/s", column=c))
           for c in IMU_CHANNELS]
        + [("flags", 1, False, "a channel was clipped to the int16 range",
            dict(bits=(("CLIPPED", 0),)))])
_SAMPLES = ([(f"emg{i}", 2, True, f"EMG {name}") for i, name in enumerate(EMG_CHANNELS)]
            + [(f"eeg{i}", 2, True, f"EEG {name}")
               for i, name in enumerate(EEG_CHANNELS + ("unused",) * (8 - len(EEG_CHANNELS)))]
            + [("flags", 1, False, "input flags", dict(bits=(("EXT_TRIGGER", 0),)))])

#: The frame table: name -> :class:`FrameType`.
FRAMES = {f.name: f for f in (
    FrameType("STRIDE", 0x01, "one stride record of the EMG branch", _layout(_STRIDE)),
    FrameType("MRP", 0x02, "one MRP record (trigger x EEG site) of the EEG branch", _layout(_MRP)),
    FrameType("SAMPLES", 0x10, f"one {FS} Hz input frame of the fabric (sensor in)",
              _layout(_SAMPLES)),
    FrameType("IMU", 0x11, f"one {IMU_FS} Hz sample of the body-worn IMU (sensor in, to the "
              "ARM program, not the fabric: docs/imu-ingress.md)", _layout(_IMU)),
)}

#: Frame header and trailer (offsets from the first sync byte; the CRC is big-endian).
HEADER = _layout([("sync", 2, False, "0xA5 0x5A"),
                  ("type", 1, False, "frame type (FRAMES)"),
                  ("seq", 1, False, "per-type sequence number, +1 per frame, modulo 256"),
                  ("len", 1, False, "payload length in bytes (0..255)")])
HEADER_LEN = sum(f.size for f in HEADER)
CRC_LEN = 2
FRAME_TYPES = {k: f.code for k, f in FRAMES.items()}
TYPE_NAMES = {v: k for k, v in FRAME_TYPES.items()}

#: payload fields per frame type: (name, struct code); little-endian
PAYLOADS = {k: [(p.name, p.code) for p in f.fields] for k, f in FRAMES.items()}
_STRUCTS = {k: struct.Struct("<" + "".join(c for _, c in v)) for k, v in PAYLOADS.items()}
PAYLOAD_LEN = {k: f.length for k, f in FRAMES.items()}
assert all(_STRUCTS[k].size == n for k, n in PAYLOAD_LEN.items())


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
        if code.isupper() and v < 0:
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


def check_record(kind, rec):
    """Why the record dict ``rec`` of ``kind`` is impossible (one line), or ``None`` if valid.

    The first field, in payload order, whose raw value exceeds :attr:`PayloadField.max`
    (``"STRIDE.leg=2 > 1"``) or has a bit outside :attr:`PayloadField.mask`
    (``"STRIDE.present=0x10 outside 0xf"``). ``boards/arm/wo_monitor.c`` writes the same text.
    """
    for f in FRAMES[kind].fields:
        if not f.checked:
            continue
        v = rec[f.name]
        if v > f.max:
            return f"{kind}.{f.name}={v} > {f.max}"
        if v & ~f.mask:
            return f"{kind}.{f.name}=0x{v:x} outside 0x{f.mask:x}"
    return None


#: The receiver counters, in the order both monitors print them.
STATS = ("frames", "crc_errors", "length_errors", "unknown_types", "invalid_frames",
         "garbage_bytes", "seq_gaps", "lost_frames")


class Frame:
    __slots__ = ("type", "seq", "payload", "kind", "record")

    def __init__(self, ftype, seq, payload):
        self.type, self.seq, self.payload = ftype, seq, bytes(payload)
        self.kind = TYPE_NAMES.get(ftype)
        self.record = decode_payload(ftype, payload) if self.kind else None

    def __repr__(self):
        body = self.record or self.payload.hex()
        return f"Frame({self.kind or hex(self.type)}, seq={self.seq}, {body})"


class Decoder:
    """Streaming frame decoder: ``feed(bytes)`` -> list of valid :class:`Frame`.

    Counters (never wrap; Python ints; :data:`STATS`): ``frames`` accepted, ``crc_errors``,
    ``length_errors`` (a known type with the wrong payload length, CRC good),
    ``unknown_types``, ``invalid_frames`` (``check=True`` only: CRC and length good but the
    record impossible, :func:`check_record`), ``garbage_bytes`` skipped while hunting for sync,
    ``seq_gaps`` (events) and ``lost_frames`` (sum of gap sizes) per type; an invalid frame
    still advances its type's sequence (it was received).
    On a bad CRC the decoder drops only the first sync byte and hunts again, so
    a frame starting inside a corrupted one is still found.

    ``on_reject(raw, reason)``, if given, is called with the bytes and a one-line reason of
    every frame that passed the CRC and was not accepted (length, unknown type, invalid).
    :meth:`finish` counts an incomplete frame left at the end of the stream as garbage.
    """

    def __init__(self, check=False, on_reject=None):
        self.buf = bytearray()
        self.check, self.on_reject = check, on_reject
        self.frames = self.crc_errors = self.length_errors = self.unknown_types = 0
        self.invalid_frames = self.garbage_bytes = self.seq_gaps = self.lost_frames = 0
        self._next_seq = {}

    def _reject(self, raw, reason):
        if self.on_reject is not None:
            self.on_reject(bytes(raw), reason)

    def finish(self):
        """End of stream: the bytes still buffered (an incomplete frame) become garbage."""
        self.garbage_bytes += len(self.buf)
        self.buf.clear()

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
                if ftype not in TYPE_NAMES:
                    raise FrameError(f"unknown frame type 0x{ftype:02x}")
                frame = Frame(ftype, seq, body[3:])
            except FrameError as e:
                if ftype in TYPE_NAMES:
                    self.length_errors += 1
                else:
                    self.unknown_types += 1
                self._reject(buf[:total], str(e))
                del buf[:total]
                continue
            raw = bytes(buf[:total])
            del buf[:total]
            exp = self._next_seq.get(ftype)
            if exp is not None and seq != exp:
                self.seq_gaps += 1
                self.lost_frames += (seq - exp) % 256
            self._next_seq[ftype] = (seq + 1) % 256
            why = check_record(frame.kind, frame.record) if self.check else None
            if why is not None:
                self.invalid_frames += 1
                self._reject(raw, why)
                continue
            self.frames += 1
            out.append(frame)
        return out

    def stats(self):
        """The counters as a dict, in :data:`STATS` order."""
        return {k: getattr(self, k) for k in STATS}
