"""Both branches coupled by the LG-onset trigger vs the golden fabric pipeline."""

import numpy as np
import pytest

from golden.eeg_mrp_model import EEGParams
from golden.fabric_pipeline import run_golden_fabric
from hdl.fabric_top import FabricTop
from sim.hdl_build import run_cocotb, simulator_missing
from sim.records import decode_mrp_records, decode_records
from synthetic.eeg_gen import generate_eeg
from synthetic.emg_gen import generate_walk

pytestmark = pytest.mark.skipif(simulator_missing() is not None,
                                reason=simulator_missing() or "")


def test_lg_onsets_and_external_trigger_drive_the_eeg_branch():
    w = generate_walk(31, "post", n_strides=2)
    n = min(len(w.emg), 2600)
    emg = w.emg[:n]
    eeg = generate_eeg(31, n_samples=n).eeg
    ext = np.zeros(n, np.uint8)
    ext[[700, 701]] = 1                      # external triggers, back to back
    present = np.array([1, 1, 1, 1, 0, 1, 1, 1], bool)   # right LG absent: left LG triggers only
    enable = np.array([1, 1, 1, 0, 1, 1, 1], bool)
    dut = FabricTop(n_eeg=7, cycles_per_sample=20, eeg_params=EEGParams(0.1))
    out = run_cocotb(dut, "fabric_top", "sim.cocotb_fabric_top",
                     dict(emg=emg, eeg=eeg, ext=ext, present=present, stride_ref=0,
                          eeg_enable=enable))
    trig, strides, trigger, mrp = run_golden_fabric(emg, eeg, ext, present, 0, enable,
                                                    eeg_params=EEGParams(0.1))
    assert trigger.sum() >= 4 and trigger[[700, 701]].all()
    got_strides = decode_records(out["stride"])
    got_mrp = decode_mrp_records(out["mrp"], 7)
    assert got_strides == strides
    assert len(got_mrp) == len(mrp) == 6 * trigger.sum()
    for k, (g, e) in enumerate(zip(got_mrp, mrp)):
        assert g == e, f"MRP record {k} differs: gateware {g}, model {e}"
