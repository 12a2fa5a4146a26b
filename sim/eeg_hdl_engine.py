"""Replay EEG frames and triggers through the simulated EEG branch (cocotb + Icarus).

:func:`run_hdl_eeg` has the signature and return value of
:func:`golden.eeg_pipeline.run_golden_eeg` (plus ``cycles``: clock cycles from each
trigger frame to its last record). ``progress(done, total)`` is called about once
a second with the number of frames sent.
"""

import numpy as np

from golden.eeg_mrp_model import EEGParams
from hdl.eeg_mrp import EEGMRP
from sim.hdl_build import run_cocotb
from sim.records import decode_mrp_records

__all__ = ["run_hdl_eeg"]


def run_hdl_eeg(samples, trigger, enable=None, params=EEGParams(), return_cycles=False,
                progress=None, sim="icarus"):
    samples = np.asarray(samples, np.int16)
    nch = samples.shape[1]
    enable = np.ones(nch, bool) if enable is None else np.asarray(enable, bool)
    out = run_cocotb(EEGMRP(nch, params), "eeg_mrp", "sim.cocotb_eeg_mrp",
                     dict(samples=samples, trigger=np.asarray(trigger, np.uint8), enable=enable),
                     progress=progress, total=len(samples), sim=sim)
    recs = decode_mrp_records(out["records"], nch)
    return (recs, out["cycles"]) if return_cycles else recs
