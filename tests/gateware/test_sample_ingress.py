"""Sample ingress gateware (UART RX + byte FIFO + SAMPLES parser) vs its bit-exact model.

The byte stream mixes intact SAMPLES frames with the damage a real link produces:
flipped bits, dropped and inserted bytes, a truncated frame, a sequence gap, a
frame of another type and a wrong length. The gateware's output frames and its
counters must equal :class:`golden.samples_parser_model.SamplesParserModel` fed the
same bytes, and no frame that was damaged may come out.
"""

import numpy as np
import pytest

from golden.samples_parser_model import SamplesParserModel
from hdl.sample_ingress import SampleIngress
from sim.hdl_build import run_cocotb, simulator_missing
from spec.frames import Decoder, encode
from tests.seeding import seeds

pytestmark = pytest.mark.skipif(simulator_missing() is not None, reason=simulator_missing() or "")


def damaged_stream(rng, n=40):
    """(bytes, payloads of the intact frames) -- a link with every kind of damage."""
    out, intact = bytearray(b"\x00\xa5\x13"), []
    seq = 0
    for k in range(n):
        payload = rng.integers(0, 256, 33, dtype=np.uint8).tobytes()
        if k == 3:
            payload = b"\xa5\x5a" + payload[2:]          # sync pattern inside a payload
        frame = bytearray(encode("SAMPLES", seq % 256, payload))
        seq += 1
        damage = k % 8
        if damage == 1:
            frame[int(rng.integers(2, len(frame)))] ^= 1 << int(rng.integers(0, 8))
        elif damage == 3:
            del frame[int(rng.integers(5, len(frame)))]
        elif damage == 5:
            frame = frame[:int(rng.integers(3, len(frame) - 1))]
        elif damage == 6:
            seq += 3                                      # three frames lost upstream
        if damage in (0, 2, 4, 6, 7):
            intact.append(payload)
        out += frame
        if k == 10:
            out += encode("STRIDE", 0, bytes(37))         # another frame type
        if k == 20:
            out += encode(0x10, 0, bytes(32))             # wrong length
        if k == 30:
            out += rng.integers(0, 256, 17, dtype=np.uint8).tobytes()
    return bytes(out), intact


@pytest.mark.parametrize("seed", seeds(5))
@pytest.mark.parametrize("source,divisor,stall", [(0, 4, 0), (0, 7, 1), (1, 4, 1)])
def test_ingress_matches_model(source, divisor, stall, seed):
    """``seed``: the consumer's random ready stalls (with ``stall``)."""
    rng = np.random.default_rng(100 + divisor)
    data, intact = damaged_stream(rng)
    model = SamplesParserModel()
    want = model.feed(data)
    # the model never accepts a damaged frame (ordered subsequence of the intact ones);
    # without look-back it loses at most the one frame after each dropped/truncated frame
    it = iter(intact)
    assert all(any(p == q for q in it) for p in want)
    assert len(want) >= len(intact) - 10
    assert model.bad_frames > 0 and model.lost_frames >= 3
    brk = int(source == 0)
    out = run_cocotb(SampleIngress(divisor, fifo_depth=512), "sample_ingress",
                     "sim.cocotb_sample_ingress",
                     dict(stream=np.frombuffer(data, np.uint8), source=source, divisor=divisor,
                          stall=stall, stall_seed=seed, brk=brk), tag=f"s{source}d{divisor}")
    got = [int(w).to_bytes(33, "little") for w in out["frames"]]
    # bit 256 is ext_trigger = flags bit 0; the parser passes 257 bits of the payload on
    want_words = [int.from_bytes(p, "little") & ((1 << 257) - 1) for p in want]
    assert [int(w) for w in out["frames"]] == want_words
    frames, bad, lost, framing, overruns = (int(c) for c in out["counters"])
    assert (frames, bad, lost) == (model.frames, model.bad_frames, model.lost_frames)
    assert framing == brk and overruns == 0
    assert len(got) == len(want) > 0


def test_model_agrees_with_reference_decoder_on_clean_link():
    """On an undamaged link the bit-exact parser and spec.frames.Decoder accept the same frames."""
    rng = np.random.default_rng(3)
    payloads = [rng.integers(0, 256, 33, dtype=np.uint8).tobytes() for _ in range(300)]
    data = b"".join(encode("SAMPLES", k % 256, p) for k, p in enumerate(payloads))
    ref = [f.payload for f in Decoder().feed(data)]
    m = SamplesParserModel()
    assert m.feed(data) == ref == payloads
    assert (m.bad_frames, m.lost_frames, m.frames) == (0, 0, 300)


def test_model_counters_saturate():
    m = SamplesParserModel()
    m.lost_frames = 0xFFF0
    m.feed(encode("SAMPLES", 0, bytes(33)) + encode("SAMPLES", 200, bytes(33)))
    assert m.lost_frames == 0xFFFF
    m.bad_frames = 0xFFFF
    m.feed(encode(0x10, 0, bytes(5)))
    assert m.bad_frames == 0xFFFF


def test_saturating_helpers():
    """hdl.saturate: sat_inc sticks at all ones (or at ``top``), sat_add clamps to all ones."""
    from amaranth.hdl import Const, Module, Signal, signed
    from amaranth.sim import Simulator

    from hdl.saturate import sat_add, sat_inc
    x, inc = Signal(4), Signal(3)
    exprs = {"inc": sat_inc(x), "inc_top": sat_inc(x, 9), "add": sat_add(x, inc),
             "add_const": sat_add(x, 5)}
    m = Module()
    outs = {k: Signal(4, name=k) for k in exprs}
    m.d.comb += [outs[k].eq(e) for k, e in exprs.items()]
    got = []

    async def bench(ctx):
        for v in range(16):
            for d in range(8):
                ctx.set(x, v)
                ctx.set(inc, d)
                got.append((v, d, {k: ctx.get(o) for k, o in outs.items()}))

    sim = Simulator(m)
    sim.add_testbench(bench)
    sim.run()
    for v, d, g in got:
        assert g == {"inc": min(v + 1, 15), "inc_top": v if v == 9 else (v + 1) & 0xF,
                     "add": min(v + d, 15), "add_const": min(v + 5, 15)}
    with pytest.raises(TypeError):
        sat_inc(Signal(signed(8)))
    with pytest.raises(TypeError):
        sat_add(Signal(8), Const(-1, signed(2)))
