"""EEG MRP gateware vs its bit-exact model, record for record (cocotb + Icarus)."""

import numpy as np
import pytest

from hdl.eeg_mrp import EEGMRP, mrp_record_layout
from sim.hdl_build import run_cocotb, simulator_missing
from sw.eeg_mrp_model import BANDS, N, EEGParams, mrp_bitexact

pytestmark = pytest.mark.skipif(simulator_missing() is not None,
                                reason=simulator_missing() or "")


def decode(words, nch):
    layout = mrp_record_layout(nch)
    out = []
    for w in map(int, words):
        rec = {}
        for name, field in layout:
            v = (w >> field.offset) & ((1 << field.width) - 1)
            if name in BANDS and v >= 1 << 15:
                v -= 1 << 16
            rec[name] = v
        out.append(rec)
    return out


def simulate(samples, trigger, enable=None, params=EEGParams(), reset_at=()):
    nch = samples.shape[1]
    enable = np.ones(nch, bool) if enable is None else np.asarray(enable, bool)
    out = run_cocotb(EEGMRP(nch, params), "eeg_mrp", "sim.cocotb_eeg_mrp",
                     dict(samples=np.asarray(samples, np.int16), trigger=np.asarray(trigger, np.uint8),
                          enable=enable, reset_at=np.asarray(reset_at, int)))
    return decode(out["records"], nch), out["cycles"]


def expected(samples, trigger, enable=None, params=EEGParams(), reset_at=()):
    """Bit-exact records: per trigger, per enabled channel, in channel order."""
    nch = samples.shape[1]
    enable = np.ones(nch, bool) if enable is None else np.asarray(enable, bool)
    cuts = [0, *reset_at, len(samples)]
    recs = []
    for a, b in zip(cuts[:-1], cuts[1:]):
        for t in np.flatnonzero(trigger[a:b]):
            win = samples[a + max(0, t - N + 1):a + t + 1]
            vals = mrp_bitexact(win, params)
            for c in np.flatnonzero(enable):
                recs.append({"channel": int(c), "index": int(t), "partial": int(t + 1 < N),
                             **{band: int(vals[band][c]) for band in BANDS}})
    return recs


def assert_same(got, want):
    assert len(got) == len(want), f"gateware gave {len(got)} records, model {len(want)}"
    for k, (g, w) in enumerate(zip(got, want)):
        assert g == w, f"record {k} differs: gateware {g}, model {w}"


def eeg_like(n, nch, seed, amp=200):
    rng = np.random.default_rng(seed)
    t = np.arange(n) / 500
    x = rng.normal(0, amp, (n, nch)).cumsum(axis=0) * 0.05
    x += amp * np.sin(2 * np.pi * rng.uniform(2, 30, nch) * t[:, None])
    x -= x.mean(axis=0)
    return np.clip(np.round(x), -32768, 32767).astype(np.int16)


def test_random_eeg_and_triggers():
    x = eeg_like(900, 8, 1)
    trig = np.zeros(900, np.uint8)
    trig[[300, 301, 620, 899]] = 1        # 300/301: a trigger queued behind a computation
    got, cycles = simulate(x, trig)
    assert_same(got, expected(x, trig))
    assert len(cycles) == 4 and cycles.max() < 8 * 3000


def test_edge_cases_partial_zero_fullscale_disabled_reset():
    n = 700
    x = eeg_like(n, 4, 2).astype(np.int32)
    x[:, 1] = 0                                                   # zero input
    x[:, 2] = np.where(np.arange(n) % 7 < 3, 32767, -32768)      # full scale
    x = x.astype(np.int16)
    trig = np.zeros(n, np.uint8)
    trig[[10, 400, 650]] = 1                                      # 10: before the FIFO is full
    enable = np.array([1, 1, 1, 0], bool)
    got, _ = simulate(x, trig, enable, reset_at=[500])
    want = expected(x, trig, enable, reset_at=[500])
    assert_same(got, want)
    assert got[0]["partial"] == 1 and got[3]["partial"] == 0
    assert [r["partial"] for r in got[-3:]] == [1, 1, 1], "after reset the FIFO refills"
    assert all(r["BP"] == -(1 << 15) for r in got if r["channel"] == 1), "zero input -> -inf"
    assert {r["channel"] for r in got} == {0, 1, 2}


def test_other_scale_and_channel_count():
    p = EEGParams(uv_per_lsb=0.5)
    x = eeg_like(400, 3, 3)
    trig = np.zeros(400, np.uint8)
    trig[[260, 399]] = 1
    got, _ = simulate(x, trig, params=p)
    assert_same(got, expected(x, trig, params=p))
