"""The golden EMG pipeline: 16-bit samples -> trigger bits -> stride records.

This chains the bit-exact models of :mod:`golden.emg_trigger_model` and
:mod:`golden.stride_indexes_model` exactly as :class:`hdl.emg_branch.EMGBranch`
chains its cores. ``python -m sw.extract emg --engine golden`` runs it;
``--engine hdl`` runs the simulated gateware (:mod:`sim.emg_hdl_engine`) instead
and must give identical records.
"""

import numpy as np

from golden.emg_trigger_model import TriggerParams, trigger_bitexact
from golden.stride_indexes_model import MIN_STRIDE, REF_MIN_GAP, stride_indexes_bitexact

__all__ = ["run_golden"]


def run_golden(samples, present=None, stride_ref=0, params=TriggerParams(), count_width=16,
               min_stride=MIN_STRIDE, ref_min_gap=REF_MIN_GAP):
    """Run the bit-exact EMG branch model.

    Parameters
    ----------
    samples : ndarray of int16, shape (n, 8)
        ADC counts in :data:`spec.channels.EMG_CHANNELS` order.
    present : array_like of bool, shape (8,)
    stride_ref : int
        Muscle index whose onset starts a stride (0 = LG).
    min_stride, ref_min_gap : int
        Stride-onset rule in samples (:mod:`golden.stride_indexes_model`).

    Returns
    -------
    trig : ndarray of uint8, shape (n, 8)
    records : list of dict
    """
    samples = np.asarray(samples)
    present = np.ones(8, bool) if present is None else np.asarray(present, bool)
    trig = trigger_bitexact(samples, params, present=present)
    return trig, stride_indexes_bitexact(trig, present, stride_ref, count_width,
                                         min_stride=min_stride, ref_min_gap=ref_min_gap)
