"""Replay EEG frames and triggers through the simulated EEG branch.

:func:`run_hdl_eeg` has the signature and return value of
:func:`golden.eeg_pipeline.run_golden_eeg` (plus ``cycles``: clock cycles from each
trigger frame to its last record). ``progress(done, total)`` is called about once
a second with the number of frames sent. The default simulator is the fast Verilator
harness (:mod:`sim.fast_engine`); ``sim="icarus"`` / ``"verilator"`` run the cocotb
testbench (:mod:`sim.cocotb_eeg_mrp`).
"""

import numpy as np

from golden.eeg_mrp_model import EEGParams
from hdl.eeg_mrp import EEGMRP
from sim.fast_engine import mask, resolve_sim, run_fast, words_to_ints
from sim.hdl_build import run_cocotb
from sim.records import decode_mrp_records

__all__ = ["run_hdl_eeg"]


def run_hdl_eeg(samples, trigger, enable=None, params=EEGParams(), return_cycles=False,
                progress=None, sim=None):
    """Simulate :class:`hdl.eeg_mrp.EEGMRP` on ``samples`` with ``trigger`` bits.

    Parameters
    ----------
    samples : ndarray of int16, shape (n, channels)
    trigger : array_like of bool, shape (n,)
    enable : array_like of bool, shape (channels,), optional
    params : :class:`golden.eeg_mrp_model.EEGParams`
    return_cycles : bool
        Also return, per trigger, the clock cycles from the trigger frame to its last record.
    progress : callable, optional
        ``progress(done, total)``, about once a second.
    sim : {None, "fast", "icarus", "verilator"}
        ``None``: ``"fast"`` when Verilator and g++ are available, else ``"icarus"``
        (:func:`sim.fast_engine.resolve_sim`).

    Returns
    -------
    records : list of dict
        As :func:`golden.eeg_pipeline.run_golden_eeg`.
    cycles : ndarray of float
        With ``return_cycles``.
    """
    samples = np.asarray(samples, np.int16)
    nch = samples.shape[1]
    trigger = np.asarray(trigger, np.uint8)
    enable = np.ones(nch, bool) if enable is None else np.asarray(enable, bool)
    sim = resolve_sim(sim)
    if sim == "fast":
        # one extra frame without trigger: its acceptance time closes the last computation
        frames = np.zeros((len(samples) + 1, nch + 1), np.int16)
        frames[:-1, :nch] = samples
        frames[:-1, nch] = trigger != 0
        out = run_fast(EEGMRP(nch, params), "eeg_mrp", "eeg_mrp", frames,
                       args=dict(enable=mask(enable)), progress=progress, total=len(samples))
        recs = decode_mrp_records(words_to_ints(out["records"]), nch)
        if not return_cycles:
            return recs
        acc = out["accepted"].astype(np.int64)
        acc = acc[:, 0] | (acc[:, 1] << 32)
        k = np.flatnonzero(trigger)
        return recs, (acc[k + 1] - acc[k] - 1).astype(float)
    out = run_cocotb(EEGMRP(nch, params), "eeg_mrp", "sim.cocotb_eeg_mrp",
                     dict(samples=samples, trigger=trigger, enable=enable),
                     progress=progress, total=len(samples), sim=sim)
    recs = decode_mrp_records(out["records"], nch)
    return (recs, out["cycles"]) if return_cycles else recs
