"""EEG MRP gateware vs its bit-exact model, record for record (cocotb + Icarus; the long
replays of recordings on the fast Verilator harness, :mod:`sim.fast_engine`)."""


import numpy as np
import pytest

from golden.eeg_mrp_model import EEGParams
from golden.eeg_pipeline import run_golden_eeg
from hdl.eeg_mrp import EEGMRP
from sim.eeg_hdl_engine import run_hdl_eeg
from sim.fast_engine import fast_missing
from sim.hdl_build import run_cocotb, simulator_missing
from sim.records import decode_mrp_records
from spec.constants import SHARED_DATA

pytestmark = pytest.mark.skipif(simulator_missing() is not None,
                                reason=simulator_missing() or "")


def simulate(samples, trigger, enable=None, params=EEGParams(), reset_at=()):
    nch = samples.shape[1]
    enable = np.ones(nch, bool) if enable is None else np.asarray(enable, bool)
    out = run_cocotb(EEGMRP(nch, params), "eeg_mrp", "sim.cocotb_eeg_mrp",
                     dict(samples=np.asarray(samples, np.int16),
                          trigger=np.asarray(trigger, np.uint8),
                          enable=enable, reset_at=np.asarray(reset_at, int)))
    return decode_mrp_records(out["records"], nch), out["cycles"]


def simulate_fast(samples, trigger, enable=None, params=EEGParams()):
    """Long replays: the fast Verilator harness (no reset points)."""
    if fast_missing():
        pytest.skip(fast_missing())
    return run_hdl_eeg(samples, np.asarray(trigger, np.uint8), enable, params,
                       return_cycles=True, sim="fast")


def expected(samples, trigger, enable=None, params=EEGParams(), reset_at=()):
    """Golden records, restarted at every reset point."""
    cuts = [0, *reset_at, len(samples)]
    return [r for a, b in zip(cuts[:-1], cuts[1:])
            for r in run_golden_eeg(samples[a:b], trigger[a:b], enable, params)]


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


def test_synthetic_eeg_walk_with_emg_triggers():
    """7 sites of synthetic EEG, triggered by the LG onsets the EMG golden pipeline finds."""
    from golden.emg_pipeline import run_golden
    from golden.fabric_pipeline import lg_onset_trigger
    from synthetic.eeg_gen import generate_eeg
    from synthetic.emg_gen import generate_walk
    walk = generate_walk(21, "pre", n_strides=2)
    n = min(len(walk.emg), 2500)
    trig_emg, _ = run_golden(walk.emg[:n])
    trigger = lg_onset_trigger(trig_emg)
    assert 2 <= trigger.sum() <= 8
    eeg = generate_eeg(21, n_samples=n, movement_onsets=np.flatnonzero(trigger)).eeg
    got, cycles = simulate_fast(eeg, trigger.astype(np.uint8))
    assert_same(got, expected(eeg, trigger.astype(np.uint8)))
    assert len(got) == 7 * trigger.sum()


@pytest.mark.skipif(not (SHARED_DATA /
                         "eeg-motor-physionet").is_dir(), reason="shared PhysioNet EEG not found")
def test_physionet_recording_with_annotation_triggers():
    """Real EEG (S001R07, 160 Hz -> 500 Hz), T1/T2 onsets as triggers; first 20 s."""
    from scipy.signal import resample_poly

    from spec.channels import EEG_CHANNELS
    from sw.edf import eeg_label_map, read_edf
    rec = read_edf(SHARED_DATA /
                   "eeg-motor-physionet" / "S001R07.edf")
    labels = eeg_label_map(rec.labels)
    uv = np.column_stack([rec.signals[labels[s]] for s in EEG_CHANNELS])[:160 * 20]
    counts = np.clip(np.round(resample_poly(uv, 25, 8, axis=0) / 0.1),
                     -32768, 32767).astype(np.int16)
    trigger = np.zeros(len(counts), np.uint8)
    for onset, _, text in rec.annotations:
        if text in ("T1", "T2") and onset * 500 < len(counts):
            trigger[int(round(onset * 500))] = 1
    assert trigger.sum() >= 2
    got, _ = simulate_fast(counts, trigger)
    assert_same(got, expected(counts, trigger))
