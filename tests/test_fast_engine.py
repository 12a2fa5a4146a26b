"""The fast HDL replay engine (Verilator harness, :mod:`sim.fast_engine`) vs the golden models.

Every trigger bit and every stride / MRP record of the simulated gateware must equal the
bit-exact golden model: the EMG branch, the EEG branch and FabricTop (8 EMG + 7 EEG), with
default and other parameters, absent channels and a channel that goes silent mid-stream.
"""

import numpy as np
import pytest

from golden.eeg_mrp_model import EEGParams
from golden.eeg_pipeline import run_golden_eeg
from golden.emg_pipeline import run_golden
from golden.emg_trigger_model import TriggerParams
from golden.fabric_pipeline import lg_onset_trigger, run_golden_fabric
from sim.fast_engine import fast_missing, resolve_sim
from synthetic.eeg_gen import generate_eeg
from synthetic.emg_gen import generate_walk
from tests.seeding import seeds

pytestmark = pytest.mark.skipif(fast_missing() is not None, reason=fast_missing() or "")

#: other trigger parameters: slower envelope, lower thresholds, longer minimum burst
OTHER_PARAMS = TriggerParams(env_shift=5, on_gain=36, off_gain=24, min_on=20, min_off=10,
                             warmup_samples=200)


def assert_same_trig(got, want):
    assert got.shape == want.shape, f"gateware gave {got.shape} trigger bits, model {want.shape}"
    bad = np.argwhere(got != want)
    assert bad.size == 0, (f"{len(bad)} trigger bits differ, "
                           f"first at frame {bad[0][0]} channel {bad[0][1]}")


def assert_same_records(got, want, what):
    assert len(got) == len(want), f"gateware gave {len(got)} {what} records, model {len(want)}"
    for k, (g, w) in enumerate(zip(got, want)):
        assert g == w, f"{what} record {k} differs: gateware {g}, model {w}"


def walk(seed, n, n_eeg=7):
    """``n`` frames of a synthetic walk (EMG) and synthetic EEG (``n_eeg`` sites)."""
    print(f"synthetic walk seed={seed}")
    w = generate_walk(seed, "post", n_strides=max(4, n // 450))
    assert len(w.emg) >= n, (len(w.emg), n)
    eeg = generate_eeg(seed, n_samples=n).eeg[:, :n_eeg]
    return np.ascontiguousarray(w.emg[:n]), eeg


# --- EMG branch ---

@pytest.mark.parametrize("seed", seeds(11, 4242))
def test_emg_branch_equals_golden(seed):
    from sim.emg_hdl_engine import run_hdl
    emg, _ = walk(seed, 4000)
    seen = []
    trig, recs = run_hdl(emg, progress=lambda done, total: seen.append((done, total)))
    tg, rg = run_golden(emg)
    assert_same_trig(trig, tg)
    assert_same_records(recs, rg, "stride")
    assert len(rg) >= 2 and {r["leg"] for r in rg} == {0, 1}
    assert seen and seen[-1] == (len(emg), len(emg))


def test_emg_branch_other_params_absent_muscles_and_silent_channel():
    """Other TriggerParams, stride reference BF, right TA absent, and the left RF electrode
    falling off (zeros) in the middle of the recording."""
    from sim.emg_hdl_engine import run_hdl
    emg, _ = walk(5, 5000)
    emg = emg.copy()
    emg[2500:, 3] = 0                               # L_RF silent from frame 2500 on
    present = np.array([1, 1, 1, 1, 1, 0, 1, 1], bool)
    emg[:, ~present] = 0
    tg, rg = run_golden(emg, present, 2, OTHER_PARAMS)
    # the parameters change the result (else this test would repeat the default one)
    assert not np.array_equal(tg, run_golden(emg, present, 2)[0])
    assert tg[:2400, 3].any() and not tg[2600:, 3].any()
    trig, recs = run_hdl(emg, present, 2, OTHER_PARAMS)
    assert_same_trig(trig, tg)
    assert_same_records(recs, rg, "stride")
    assert len(rg) >= 2
    assert all(r["present"] == (0b1111 if r["leg"] == 0 else 0b1101) for r in rg)


# --- EEG branch ---

def test_eeg_branch_equals_golden_with_lg_triggers():
    from sim.eeg_hdl_engine import run_hdl_eeg
    emg, eeg = walk(21, 3000)
    trigger = lg_onset_trigger(run_golden(emg)[0])
    trigger[[400, 401]] = True                      # back to back: one queued behind the other
    assert trigger.sum() >= 4
    recs, cycles = run_hdl_eeg(eeg, trigger, return_cycles=True)
    want = run_golden_eeg(eeg, trigger)
    assert_same_records(recs, want, "MRP")
    assert len(recs) == 7 * trigger.sum()
    # 7 channels: about 2900 cycles each from the trigger frame to its last record
    assert len(cycles) == trigger.sum() and np.all((cycles > 7 * 2000) & (cycles < 7 * 3500))


def test_eeg_branch_other_scale_disabled_and_silent_channel():
    from sim.eeg_hdl_engine import run_hdl_eeg
    _, eeg = walk(22, 2000, n_eeg=5)
    eeg = eeg.copy()
    eeg[1000:, 4] = 0                               # site 4 silent from frame 1000 on
    trigger = np.zeros(len(eeg), bool)
    trigger[[100, 900, 1400, 1999]] = True          # 100: partial window
    enable = np.array([1, 0, 1, 1, 1], bool)
    params = EEGParams(uv_per_lsb=0.5)
    want = run_golden_eeg(eeg, trigger, enable, params)
    assert want != run_golden_eeg(eeg, trigger, enable)     # the scale matters
    recs = run_hdl_eeg(eeg, trigger, enable, params)
    assert_same_records(recs, want, "MRP")
    assert {r["channel"] for r in recs} == {0, 2, 3, 4} and recs[0]["partial"] == 1


# --- FabricTop ---

def test_fabric_top_equals_golden():
    from sim.fabric_hdl_engine import run_hdl_fabric
    emg, eeg = walk(31, 4500)
    trig, strides, trigger, mrp = run_hdl_fabric(emg, eeg)
    tg, sg, eg, mg = run_golden_fabric(emg, eeg)
    assert_same_trig(trig, tg)
    assert_same_records(strides, sg, "stride")
    assert np.array_equal(trigger, eg)
    assert_same_records(mrp, mg, "MRP")
    assert len(sg) >= 4 and eg.sum() >= 4 and len(mg) == 7 * eg.sum()


def test_fabric_top_other_params_masks_and_external_triggers():
    """Right LG absent (left LG onsets only), stride reference TA, one EEG site disabled,
    other trigger and EEG parameters, external triggers (two back to back), and a right
    BF electrode going silent mid-stream."""
    from sim.fabric_hdl_engine import run_hdl_fabric, run_hdl_fabric_raw
    emg, eeg = walk(32, 5000)
    emg = emg.copy()
    emg[3000:, 6] = 0
    present = np.array([1, 1, 1, 1, 0, 1, 1, 1], bool)
    enable = np.array([1, 1, 0, 1, 1, 1, 1], bool)
    ext = np.zeros(len(emg), bool)
    ext[[700, 701, 4100]] = True
    kw = dict(ext_trigger=ext, present=present, stride_ref=1, eeg_enable=enable,
              emg_params=OTHER_PARAMS, eeg_params=EEGParams(0.25))
    tg, sg, eg, mg = run_golden_fabric(emg, eeg, **kw)
    assert eg[[700, 701, 4100]].all() and eg.sum() >= 6
    assert len(sg) >= 2 and all(r["leg"] == 0 or r["present"] == 0b1110 for r in sg)
    trig, strides, trigger, mrp = run_hdl_fabric(emg, eeg, **kw)
    assert_same_trig(trig, tg)
    assert_same_records(strides, sg, "stride")
    assert np.array_equal(trigger, eg)
    assert_same_records(mrp, mg, "MRP")
    raw = run_hdl_fabric_raw(emg, eeg, **kw)
    assert len(raw["accepted"]) == len(emg) and np.all(np.diff(raw["accepted"]) > 0)
    assert list(raw["stride_counters"]) == [0, 0]


# --- engine selection and the portable build ---

def test_default_simulator_and_errors(monkeypatch):
    import sim.fast_engine as fe
    assert resolve_sim(None) == "fast"
    with pytest.raises(RuntimeError, match="unknown simulator"):
        resolve_sim("ghdl")
    # without Verilator/g++ the default falls back to the cocotb testbench on Icarus ...
    monkeypatch.setattr(fe, "fast_missing", lambda: "g++ not found: apt-get install g++")
    monkeypatch.setattr(fe, "simulator_missing", lambda sim="icarus": None)
    assert resolve_sim(None) == "icarus"
    with pytest.raises(RuntimeError, match="^g\\+\\+ not found"):
        resolve_sim("fast")
    # ... and without either, a one-line install hint
    monkeypatch.setattr(fe, "simulator_missing", lambda sim="icarus": "no iverilog")
    with pytest.raises(RuntimeError) as err:
        resolve_sim(None)
    assert str(err.value) == ("no HDL simulator: g++ not found: apt-get install g++; or, "
                              "slower, the cocotb testbench: no iverilog")


def test_portable_eval_loop_gives_the_same_result(monkeypatch):
    """WOTRACK_FAST_SAFE=1 builds the harness without the generated-model shortcuts."""
    from sim.emg_hdl_engine import run_hdl
    emg, _ = walk(12, 2500)
    monkeypatch.setenv("WOTRACK_FAST_SAFE", "1")
    trig, recs = run_hdl(emg)
    tg, rg = run_golden(emg)
    assert_same_trig(trig, tg)
    assert_same_records(recs, rg, "stride")
    assert len(rg) >= 2
