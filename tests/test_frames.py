"""Frame format (spec/frames.py): CRC, round trips, and a fuzzed stream decoder."""

import numpy as np
import pytest

from spec import frames
from spec.frames import PAYLOAD_LEN, PAYLOADS, Decoder, crc16, encode_record
from tests.seeding import seeds


def _random_record(kind, rng):
    rec = {}
    for name, code in PAYLOADS[kind]:
        lo, hi = {"B": (0, 255), "H": (0, 65535), "I": (0, 2 ** 32 - 1), "h": (-32768, 32767)}[code]
        rec[name] = int(rng.integers(lo, hi + 1))
    return rec


def test_crc_check_value():
    assert crc16(b"123456789") == 0x29B1        # CRC-16/CCITT-FALSE catalogue value
    assert crc16(b"") == 0xFFFF


@pytest.mark.parametrize("kind", sorted(PAYLOADS))
def test_round_trip(kind):
    rng = np.random.default_rng(1)
    d = Decoder()
    for seq in range(300):
        rec = _random_record(kind, rng)
        f = encode_record(kind, seq % 256, rec)
        assert len(f) == 5 + PAYLOAD_LEN[kind] + 2 and f[:2] == b"\xa5\x5a"
        (got,) = d.feed(f)
        assert got.kind == kind and got.seq == seq % 256 and got.record == rec
    assert d.stats()["seq_gaps"] == 0 and d.crc_errors == 0


def test_payload_sizes_and_field_names():
    from golden.stride_indexes_model import RECORD_FIELDS
    assert [n for n, _ in PAYLOADS["STRIDE"]] == list(RECORD_FIELDS)
    assert PAYLOAD_LEN == {"STRIDE": 37, "MRP": 12, "SAMPLES": 33, "IMU": 17}
    assert [n for n, _ in PAYLOADS["IMU"]] == ["index", *frames.IMU_CHANNELS, "flags"]
    assert frames.IMU_STEP * frames.IMU_FS == 500


def test_encode_rejects_out_of_range():
    rec = _random_record("MRP", np.random.default_rng(0))
    rec["channel"] = 300
    with pytest.raises(frames.FrameError):
        encode_record("MRP", 0, rec)
    rec["channel"] = -1
    with pytest.raises(frames.FrameError):
        encode_record("MRP", 0, rec)


def test_sequence_gaps_counted():
    rng = np.random.default_rng(2)
    d = Decoder()
    for seq in (0, 1, 2, 5, 6, 255, 0):
        d.feed(encode_record("MRP", seq, _random_record("MRP", rng)))
    assert d.frames == 7 and d.seq_gaps == 2 and d.lost_frames == 2 + 248


@pytest.mark.parametrize("seed", seeds(*range(6)))
def test_fuzzed_stream(seed):
    """Flips, drops, inserted bytes, truncated frames: no crash, nothing corrupt accepted,
    every untouched frame recovered -- fed in random-sized chunks."""
    rng = np.random.default_rng(seed)
    sent, spans, stream = [], [], bytearray()
    damaged = set()
    for k in range(400):
        kind = ["STRIDE", "MRP", "SAMPLES"][rng.integers(3)]
        f = bytearray(encode_record(kind, k % 256, _random_record(kind, rng)))
        sent.append(bytes(f))
        r = rng.random()
        if r < 0.08:                                     # bit flip
            i = rng.integers(len(f))
            f[i] ^= 1 << int(rng.integers(8))
            damaged.add(k)
        elif r < 0.14:                                   # byte dropped
            del f[rng.integers(len(f))]
            damaged.add(k)
        elif r < 0.20:                                   # truncated
            f = f[:rng.integers(1, len(f))]
            damaged.add(k)
        elif r < 0.26:                                   # byte inserted inside
            f.insert(int(rng.integers(1, len(f))), int(rng.integers(256)))
            damaged.add(k)
        if rng.random() < 0.1:                           # garbage between frames (with fake syncs)
            g = bytes(rng.integers(0, 256, rng.integers(1, 40), dtype=np.uint8))
            stream += g + (b"\xa5\x5a" if rng.random() < 0.5 else b"")
        spans.append(k)
        stream += f
    d = Decoder()
    got = []
    pos = 0
    while pos < len(stream):
        n = int(rng.integers(1, 64))
        got += d.feed(bytes(stream[pos:pos + n]))
        pos += n
    sent_set = {s: i for i, s in enumerate(sent)}
    got_bytes = [frames.encode(g.type, g.seq, g.payload) for g in got]
    assert all(b in sent_set for b in got_bytes), "a corrupt frame was accepted"
    idx = [sent_set[b] for b in got_bytes]
    assert idx == sorted(idx)
    intact = [k for k in range(len(sent)) if k not in damaged]
    assert set(intact) <= set(idx), f"lost intact frames {sorted(set(intact) - set(idx))[:5]}"
    assert d.crc_errors > 0 and d.garbage_bytes > 0


def test_check_record_limits_come_from_the_frame_table():
    """leg <= 1, channel < 8 (the fabric's EEG inputs), no undefined present/flag bits."""
    rng = np.random.default_rng(7)
    s = dict(_random_record("STRIDE", rng), leg=1, present=0xF, overflow=1)
    m = dict(_random_record("MRP", rng), channel=7, partial=1)
    assert frames.check_record("STRIDE", s) is None and frames.check_record("MRP", m) is None
    assert frames.check_record("STRIDE", dict(s, leg=2)) == "STRIDE.leg=2 > 1"
    assert frames.check_record("STRIDE", dict(s, present=0x10)) == \
        "STRIDE.present=0x10 outside 0xf"
    assert frames.check_record("STRIDE", dict(s, overflow=2)) == "STRIDE.overflow=0x2 outside 0x1"
    assert frames.check_record("MRP", dict(m, channel=8)) == "MRP.channel=8 > 7"
    assert frames.check_record("MRP", dict(m, partial=0x81)) == "MRP.partial=0x81 outside 0x1"
    assert frames.check_record("SAMPLES", dict(_random_record("SAMPLES", rng), flags=2))
    assert frames.MRP_SITES[:7] == ("T3", "T4", "C3", "C4", "Cz", "P3", "P4")
    assert len(frames.MRP_SITES) == 8 == frames.FRAMES["MRP"].field("channel").max + 1
    checked = {k: [f.name for f in fr.fields if f.checked] for k, fr in frames.FRAMES.items()}
    assert checked == {"STRIDE": ["leg", "present", "overflow"], "MRP": ["channel", "partial"],
                       "SAMPLES": ["flags"], "IMU": ["flags"]}
    assert frames.check_record("IMU", dict(_random_record("IMU", rng), flags=0x80)) == \
        "IMU.flags=0x80 outside 0x1"


def test_decoder_check_rejects_impossible_records_and_goes_on():
    rng = np.random.default_rng(8)
    good = dict(_random_record("STRIDE", rng), leg=0, present=3, overflow=0)
    rejected = []
    d = Decoder(check=True, on_reject=lambda raw, why: rejected.append((raw, why)))
    bad = encode_record("STRIDE", 1, dict(good, leg=2))
    stream = (encode_record("STRIDE", 0, good) + bad + frames.encode(0x33, 0, b"xy")
              + frames.encode("MRP", 0, b"short") + encode_record("STRIDE", 2, good)
              + b"\xa5\x5a\x01")
    got = d.feed(stream)
    assert [f.seq for f in got] == [0, 2]                 # the invalid frame advanced the sequence
    assert rejected == [(bad, "STRIDE.leg=2 > 1"), (frames.encode(0x33, 0, b"xy"),
                                                     "unknown frame type 0x33"),
                        (frames.encode("MRP", 0, b"short"), "MRP payload of 5 bytes, expected 12")]
    d.finish()
    assert d.stats() == dict(frames=2, crc_errors=0, length_errors=1, unknown_types=1,
                             invalid_frames=1, garbage_bytes=3, seq_gaps=0, lost_frames=0)
    assert list(d.stats()) == list(frames.STATS)
    # without check (transport only) the same frame is accepted
    assert [f.record["leg"] for f in Decoder().feed(bad)] == [2]
