"""Results UART gateware (framers + arbiter + 8N1 TX) vs spec.frames, byte for byte.

A UART receiver BFM (cocotbext-uart) decodes the ``tx`` pin; the bytes are cut
into frames at their sync/length fields and every frame must equal
:func:`spec.frames.encode_record` of the record that went in, in order and with
consecutive sequence numbers per frame type; the ``frames_tap`` output must
carry exactly the same bytes.
"""

import numpy as np
import pytest
from amaranth.hdl import Shape

from hdl.eeg_mrp import mrp_record_layout
from hdl.results_uart import ResultsUART
from hdl.stride_indexes import stride_record_layout
from sim.hdl_build import run_cocotb, simulator_missing
from sim.records import encode_words
from spec.frames import FRAME_TYPES, encode_record

pytestmark = pytest.mark.skipif(simulator_missing() is not None, reason=simulator_missing() or "")


def _random(layout, rng, n, kind):
    recs = []
    for _ in range(n):
        r = {}
        for name, field in layout:
            w = field.width
            if Shape.cast(field.shape).signed:
                r[name] = int(rng.integers(-(1 << (w - 1)), 1 << (w - 1)))
            else:
                r[name] = int(rng.integers(0, 1 << w, dtype=np.uint64))
        recs.append(r)
    # corner values: all zeros, all ones
    recs[0] = {name: 0 for name, _ in layout}
    recs[-1] = {name: (-1 if Shape.cast(f.shape).signed else (1 << f.width) - 1)
                for name, f in layout}
    return recs


def split_frames(stream):
    frames, i = [], 0
    while i < len(stream):
        assert stream[i:i + 2] == b"\xa5\x5a", f"no sync at byte {i}"
        n = stream[i + 4]
        frames.append(bytes(stream[i:i + 7 + n]))
        i += 7 + n
    assert i == len(stream)
    return frames


@pytest.mark.parametrize("seed,divisor,gap", [(1, 4, 0), (2, 7, 300)])
def test_uart_frames_byte_for_byte(seed, divisor, gap):
    rng = np.random.default_rng(seed)
    sl, ml = stride_record_layout(), mrp_record_layout()
    strides = _random(sl, rng, 12, "STRIDE")
    mrps = _random(ml, rng, 30, "MRP")
    want = {"STRIDE": [encode_record("STRIDE", k % 256, r) for k, r in enumerate(strides)],
            "MRP": [encode_record("MRP", k % 256, r) for k, r in enumerate(mrps)]}
    n_bytes = sum(len(f) for v in want.values() for f in v)
    out = run_cocotb(ResultsUART(sl, ml, divisor), "results_uart", "sim.cocotb_results_uart",
                     dict(stride=np.array([str(w) for w in encode_words(sl, strides)]),
                          mrp=np.array([str(w) for w in encode_words(ml, mrps)]),
                          divisor=divisor, gap=gap, n_bytes=n_bytes), tag=f"s{seed}")
    got = bytes(out["uart"])
    assert len(got) == n_bytes
    frames = split_frames(got)
    by_type = {k: [f for f in frames if f[2] == t] for k, t in FRAME_TYPES.items() if k in want}
    for kind in want:
        assert by_type[kind] == want[kind], f"{kind} frames differ"
    assert bytes(out["tap"]) == got
    # both sources were busy at once: the arbiter interleaved them at frame boundaries
    kinds = [f[2] for f in frames]
    assert any(a != b for a, b in zip(kinds, kinds[1:]))
