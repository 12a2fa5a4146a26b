"""Golden model of :class:`hdl.fabric_top.FabricTop`: both branches and the LG-onset trigger."""

import numpy as np

from golden.eeg_mrp_model import EEGParams
from golden.eeg_pipeline import run_golden_eeg
from golden.emg_pipeline import run_golden
from golden.emg_trigger_model import TriggerParams

__all__ = ["lg_onset_trigger", "run_golden_fabric"]


def lg_onset_trigger(trig):
    """Frames where the left or right LG trigger rises (the EEG branch's trigger)."""
    lg = np.asarray(trig)[:, [0, 4]].astype(np.int8)
    return (np.diff(np.vstack([np.zeros((1, 2), np.int8), lg]), axis=0) == 1).any(axis=1)


def run_golden_fabric(emg, eeg, ext_trigger=None, present=None, stride_ref=0, eeg_enable=None,
                      emg_params=TriggerParams(), eeg_params=EEGParams()):
    """Returns ``(trig, stride_records, eeg_trigger, mrp_records)``."""
    emg, eeg = np.asarray(emg), np.asarray(eeg)
    if len(emg) != len(eeg):
        raise ValueError(f"EMG has {len(emg)} frames but EEG {len(eeg)}")
    trig, strides = run_golden(emg, present, stride_ref, emg_params)
    trigger = lg_onset_trigger(trig)
    if ext_trigger is not None:
        trigger |= np.asarray(ext_trigger, bool)
    return trig, strides, trigger, run_golden_eeg(eeg, trigger, eeg_enable, eeg_params)
