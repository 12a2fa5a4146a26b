"""Bit-exact model of the gateware SAMPLES frame parser (:mod:`hdl.samples_parser`).

The fabric's sample ingress (sensor UART or HPS replay) carries one 500 Hz input
frame per ``SAMPLES`` frame of :mod:`spec.frames` (type 0x10, 33-byte payload:
emg i16 x 8, eeg i16 x 8, flags u8 with bit 0 = ext_trigger; 40 bytes on the
wire). The float/reference equivalent is :class:`spec.frames.Decoder` restricted to
SAMPLES frames.

The parser is a byte-at-a-time state machine with no look-back (the gateware keeps
no byte history)::

    HUNT_SYNC1 --A5--> HUNT_SYNC2 --5A--> READ_TYPE --10--> READ_SEQ --> READ_LEN --33-->
    READ_PAYLOAD (33 bytes) --> READ_CRC_HI --> READ_CRC_LO --CRC ok--> EMIT_FRAME

A wrong type or length byte counts a bad frame and re-examines that byte as a
possible first sync byte; a CRC mismatch counts a bad frame and hunts from the
next byte. Unlike :class:`spec.frames.Decoder` (which rescans a corrupted frame's
bytes), a frame whose sync bytes lie inside a rejected frame's body is lost; it
shows up in ``lost_frames`` through the sequence number of the next good frame.
Counters saturate: ``frames`` at 2**32-1, ``bad_frames`` and ``lost_frames`` at
0xFFFF.
"""

from spec.frames import FRAME_TYPES, PAYLOAD_LEN, crc16

__all__ = ["SamplesParserModel", "SAMPLES_TYPE", "SAMPLES_LEN"]

SAMPLES_TYPE = FRAME_TYPES["SAMPLES"]
SAMPLES_LEN = PAYLOAD_LEN["SAMPLES"]


def _sat(v, top):
    return min(v, top)


class SamplesParserModel:
    """``feed(bytes)`` -> list of accepted 33-byte payloads (bytes), in order."""

    def __init__(self):
        self.state = "HUNT_SYNC1"
        self.frames = self.bad_frames = self.lost_frames = 0
        self.expected = None
        self._crc = 0xFFFF
        self._buf = bytearray()
        self._seq = 0
        self._crc_hi = 0

    def _resync(self, b):
        self.state = "HUNT_SYNC2" if b == 0xA5 else "HUNT_SYNC1"

    def _bad(self):
        self.bad_frames = _sat(self.bad_frames + 1, 0xFFFF)

    def feed(self, data):
        out = []
        for b in data:
            s = self.state
            if s == "HUNT_SYNC1":
                self._resync(b)
            elif s == "HUNT_SYNC2":
                if b == 0x5A:
                    self.state = "READ_TYPE"
                else:
                    self._resync(b)
            elif s == "READ_TYPE":
                if b == SAMPLES_TYPE:
                    self._crc = crc16(bytes([b]))
                    self.state = "READ_SEQ"
                else:
                    self._bad()
                    self._resync(b)
            elif s == "READ_SEQ":
                self._crc = crc16(bytes([b]), self._crc)
                self._seq = b
                self.state = "READ_LEN"
            elif s == "READ_LEN":
                if b == SAMPLES_LEN:
                    self._crc = crc16(bytes([b]), self._crc)
                    self._buf = bytearray()
                    self.state = "READ_PAYLOAD"
                else:
                    self._bad()
                    self._resync(b)
            elif s == "READ_PAYLOAD":
                self._crc = crc16(bytes([b]), self._crc)
                self._buf.append(b)
                if len(self._buf) == SAMPLES_LEN:
                    self.state = "READ_CRC_HI"
            elif s == "READ_CRC_HI":
                self._crc_hi = b
                self.state = "READ_CRC_LO"
            elif s == "READ_CRC_LO":
                self.state = "HUNT_SYNC1"
                if (self._crc_hi << 8 | b) == self._crc:
                    if self.expected is not None and self._seq != self.expected:
                        self.lost_frames = _sat(
                            self.lost_frames + (self._seq - self.expected) % 256, 0xFFFF)
                    self.expected = (self._seq + 1) % 256
                    self.frames = _sat(self.frames + 1, 0xFFFFFFFF)
                    out.append(bytes(self._buf))
                else:
                    self._bad()
        return out
