"""The golden EEG branch: sample frames + trigger bits -> one record per trigger and channel.

Emulates :class:`hdl.eeg_mrp.EEGMRP` frame by frame with
:func:`golden.eeg_mrp_model.mrp_bitexact`: the window of a trigger is the last 256
frames up to and including the trigger frame (fewer -> ``partial``, older
samples zero). ``python -m sw.extract eeg --engine golden`` runs it; the
``hdl`` engine (:mod:`sim.eeg_hdl_engine`) must give identical records.
"""

import numpy as np

from golden.eeg_mrp_model import BANDS, EEGParams, N, mrp_bitexact

__all__ = ["run_golden_eeg", "RECORD_FIELDS"]

#: record fields, in the order of the gateware layout
RECORD_FIELDS = ("channel", "index", *BANDS, "partial")


def run_golden_eeg(samples, trigger, enable=None, params=EEGParams()):
    """Records for every trigger frame.

    Parameters
    ----------
    samples : ndarray of int16, shape (n, channels)
    trigger : ndarray of {0, 1}, shape (n,)
    enable : array_like of bool, shape (channels,), optional

    Returns
    -------
    list of dict with keys :data:`RECORD_FIELDS` (band values raw Q8.8 dBµ)
    """
    samples = np.asarray(samples)
    trigger = np.asarray(trigger).astype(bool)
    if samples.ndim != 2 or len(trigger) != len(samples):
        raise ValueError("samples must be (n, channels) and trigger (n,)")
    enable = np.ones(samples.shape[1], bool) if enable is None else np.asarray(enable, bool)
    recs = []
    for t in np.flatnonzero(trigger):
        vals = mrp_bitexact(samples[max(0, t - N + 1):t + 1], params)
        for c in np.flatnonzero(enable):
            recs.append({"channel": int(c), "index": int(t),
                         **{b: int(vals[b][c]) for b in BANDS}, "partial": int(t + 1 < N)})
    return recs
