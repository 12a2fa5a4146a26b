"""HPS register block (hdl/hps_regs.py) on an Avalon-MM bus model; register map == wo_regs.h."""

import os
import re

import numpy as np
import pytest

from hdl.hps_regs import CONTROL_RESET, ID_VALUE, MAX_FRAME, REGS, HPSRegs
from sim.hdl_build import run_cocotb, simulator_missing
from spec import constants
from spec.frames import PAYLOADS, Decoder, encode_record

ROOT = str(constants.ROOT)


def test_register_map_matches_the_arm_header():
    text = open(os.path.join(ROOT, "boards", "arm", "wo_regs.h")).read()
    defs = {k: int(v, 16) for k, v in re.findall(r"#define WO_REG_(\w+)\s+0x([0-9A-Fa-f]+)u", text)}
    assert defs == REGS
    assert int(re.search(r"WO_ID_VALUE\s+0x([0-9A-F]+)u", text).group(1), 16) == ID_VALUE
    assert int(re.search(r"WO_BRIDGE_BASE\s+0x([0-9A-F]+)u", text).group(1), 16) == 0xFF200000


@pytest.mark.skipif(simulator_missing() is not None, reason=simulator_missing() or "")
def test_bus_fifo_drop_whole_frames_and_replay_bytes():
    rng = np.random.default_rng(5)
    frames = []
    for k in range(40):
        kind = "STRIDE" if k % 3 else "MRP"
        rec = {n: int(rng.integers(0, 200)) for n, _ in PAYLOADS[kind]}
        frames.append(encode_record(kind, k, rec))
    data = np.frombuffer(b"".join(frames), np.uint8)
    last = np.zeros(len(data), np.uint8)
    ends = np.cumsum([len(f) for f in frames]) - 1
    last[ends] = 1
    depth = 2 * MAX_FRAME
    samples = rng.integers(0, 256, 20)
    control = 0x5A02A5_01 & 0xFFFFFFFF
    out = run_cocotb(HPSRegs(result_depth=depth, sample_depth=16), "hps_regs", "sim.cocotb_hps_regs",
                     dict(frames=data, last=last, samples=samples, control=control))
    assert int(out["id"]) == ID_VALUE and int(out["control_reset"]) == CONTROL_RESET
    assert int(out["control_back"]) == control & ~2
    assert list(out["fields"]) == [control & 1, control >> 8 & 0xFF, control >> 16 & 3, control >> 24 & 0xFF]
    popped = [int(v) for v in out["popped"]]
    assert not popped[-1] >> 8 & 1                       # read until VALID = 0
    got = bytes(v & 0xFF for v in popped[:-1])
    lasts = [v >> 9 & 1 for v in popped[:-1]]
    dec = Decoder()
    kept = dec.feed(got)
    # whole frames only, in order, a prefix-free subset of what was sent
    assert dec.crc_errors == 0 and dec.garbage_bytes == 0 and len(dec.buf) == 0
    assert b"".join(frames[:len(kept)]) == got           # the first frames that fitted, whole
    assert sum(lasts) == len(kept) and lasts[-1] == 1
    n_dropped = len(frames) - len(kept)
    assert n_dropped > 0 and int(out["dropped"]) == n_dropped
    st = int(out["status_full"])
    assert st & 1 and st >> 1 & 1 and st >> 16 == len(got)
    assert int(out["status_after"]) & 1 == 0 and int(out["status_after"]) >> 1 & 1
    assert int(out["status_cleared"]) >> 1 & 1 == 0
    assert list(out["samples_out"]) == list(samples)
