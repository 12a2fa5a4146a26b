"""Replay EMG + EEG frames through the simulated :class:`hdl.fabric_top.FabricTop`.

:func:`run_hdl_fabric` has the signature and return value of
:func:`golden.fabric_pipeline.run_golden_fabric`. It runs the fast Verilator harness
(:mod:`sim.fast_engine`, ``sim/harness/fabric_top.cpp``) on :class:`FabricTaps`: FabricTop
with its ports, plus read-only taps of the per-frame trigger bits of the EMG branch and the
trigger flag of every frame the EEG branch takes (FabricTop keeps both inside), so that all
four results come from the gateware.
"""

import numpy as np
from amaranth.hdl import Module
from amaranth.lib import wiring
from amaranth.lib.wiring import Out

from golden.eeg_mrp_model import EEGParams
from golden.emg_trigger_model import TriggerParams
from hdl.fabric_top import FabricTop
from sim.fast_engine import mask, resolve_sim, run_fast, words_to_ints
from sim.records import decode_mrp_records, decode_records

__all__ = ["FabricTaps", "run_hdl_fabric", "run_hdl_fabric_raw"]


class FabricTaps(wiring.Component):
    """:class:`hdl.fabric_top.FabricTop` plus observation outputs for the replay harness.

    Parameters
    ----------
    **kwargs
        Passed to :class:`hdl.fabric_top.FabricTop`.

    Attributes
    ----------
    (FabricTop's ports)
    tap_trig : Out(8), tap_trig_valid : Out(1)
        The EMG branch's ``trig`` and its update strobe.
    tap_eeg_fire : Out(1), tap_eeg_trigger : Out(1)
        The EEG branch takes a frame (its input ``valid & ready``), and that frame's
        trigger flag.
    tap_eeg_busy : Out(1)
        The EEG branch's ``busy``.
    """

    def __init__(self, **kwargs):
        self.fabric = FabricTop(**kwargs)
        super().__init__({
            **dict(self.fabric.signature.members.items()),
            "tap_trig": Out(8),
            "tap_trig_valid": Out(1),
            "tap_eeg_fire": Out(1),
            "tap_eeg_trigger": Out(1),
            "tap_eeg_busy": Out(1),
        })

    def elaborate(self, platform):
        m = Module()
        m.submodules.fabric = fab = self.fabric
        wiring.connect(m, wiring.flipped(self.i), fab.i)
        wiring.connect(m, fab.stride, wiring.flipped(self.stride))
        wiring.connect(m, fab.mrp, wiring.flipped(self.mrp))
        eeg = fab.eeg
        m.d.comb += [
            fab.present.eq(self.present), fab.stride_ref.eq(self.stride_ref),
            fab.eeg_enable.eq(self.eeg_enable),
            self.stride_overrun.eq(fab.stride_overrun),
            self.stride_overruns.eq(fab.stride_overruns),
            self.tap_trig.eq(fab.emg.trig), self.tap_trig_valid.eq(fab.emg.trig_valid),
            self.tap_eeg_fire.eq(eeg.i.valid & eeg.i.ready),
            self.tap_eeg_trigger.eq(eeg.i.payload.trigger),
            self.tap_eeg_busy.eq(eeg.busy),
        ]
        return m


def _u64(items):
    items = items.astype(np.int64)
    return items[:, 0] | (items[:, 1] << 32)


def run_hdl_fabric_raw(emg, eeg, ext_trigger=None, present=None, stride_ref=0, eeg_enable=None,
                       emg_params=TriggerParams(), eeg_params=EEGParams(),
                       cycles_per_sample=None, progress=None):
    """Replay through FabricTop with the fast harness; return the raw harness outputs.

    Parameters
    ----------
    emg, eeg, ext_trigger, present, stride_ref, eeg_enable, emg_params, eeg_params
        As for :func:`golden.fabric_pipeline.run_golden_fabric`.
    cycles_per_sample : int or None
        The EMG branch's pacing (``None``: as fast as the trigger core takes frames).
    progress : callable, optional
        ``progress(done, total)``, about once a second.

    Returns
    -------
    dict
        ``trig`` (n, 8) uint8; ``stride`` / ``mrp`` record words (lists of int);
        ``eeg_trigger`` (n,) bool; ``accepted`` / ``stride_cycle`` (int64 clock cycles of
        every input transfer / stride record); ``stride_counters`` (overrun flag, count);
        ``cycles`` (total clock cycles); ``seconds``, ``build_s`` (wall times).
    """
    emg, eeg = np.asarray(emg, np.int16), np.asarray(eeg, np.int16)
    if len(emg) != len(eeg):
        raise ValueError(f"EMG has {len(emg)} frames but EEG {len(eeg)}")
    n, n_eeg = eeg.shape
    present = np.ones(8, bool) if present is None else np.asarray(present, bool)
    eeg_enable = np.ones(n_eeg, bool) if eeg_enable is None else np.asarray(eeg_enable, bool)
    ext = np.zeros(n, bool) if ext_trigger is None else np.asarray(ext_trigger, bool)
    frames = np.zeros((n, 8 + n_eeg + 1), np.int16)
    frames[:, :8] = emg
    frames[:, 8:8 + n_eeg] = eeg
    frames[:, -1] = ext
    dut = FabricTaps(n_eeg=n_eeg, cycles_per_sample=cycles_per_sample, emg_params=emg_params,
                     eeg_params=eeg_params)
    out = run_fast(dut, "fabric_taps", "fabric_top", frames,
                   args=dict(present=mask(present), stride_ref=stride_ref,
                             eeg_enable=mask(eeg_enable)),
                   progress=progress, total=n)
    state = _u64(out["state"])
    return dict(
        trig=((out["trig"][:, :1] >> np.arange(8, dtype=np.uint32)) & 1).astype(np.uint8),
        stride=words_to_ints(out["stride"]), mrp=words_to_ints(out["mrp"]),
        eeg_trigger=out["eeg_trigger"][:, 0].astype(bool),
        accepted=_u64(out["accepted"]), stride_cycle=_u64(out["stride_cycle"]),
        stride_counters=state[:2], cycles=int(state[2]),
        seconds=out["seconds"], build_s=out["build_s"])


def run_hdl_fabric(emg, eeg, ext_trigger=None, present=None, stride_ref=0, eeg_enable=None,
                   emg_params=TriggerParams(), eeg_params=EEGParams(), progress=None,
                   sim="fast"):
    """Simulate :class:`hdl.fabric_top.FabricTop` (8 EMG + ``eeg.shape[1]`` EEG channels).

    Parameters
    ----------
    emg : ndarray of int16, shape (n, 8)
    eeg : ndarray of int16, shape (n, n_eeg)
    ext_trigger, present, stride_ref, eeg_enable, emg_params, eeg_params
        As for :func:`golden.fabric_pipeline.run_golden_fabric`.
    progress : callable, optional
        ``progress(done, total)``, about once a second.
    sim : {"fast"}
        Only the fast Verilator harness replays FabricTop (the cocotb testbench
        ``sim.cocotb_fabric_top`` is for protocol tests, ``tests/gateware/test_fabric_top.py``).

    Returns
    -------
    trig : ndarray of uint8, shape (n, 8)
        The EMG branch's trigger bits of every frame.
    stride_records : list of dict
    eeg_trigger : ndarray of bool, shape (n,)
        The trigger flag of every frame the EEG branch took.
    mrp_records : list of dict
    """
    if resolve_sim(sim) != "fast":
        raise ValueError(f"run_hdl_fabric replays with sim='fast' only, not {sim!r}")
    out = run_hdl_fabric_raw(emg, eeg, ext_trigger, present, stride_ref, eeg_enable,
                             emg_params, eeg_params, progress=progress)
    n_eeg = np.shape(eeg)[1]
    return (out["trig"], decode_records(out["stride"]), out["eeg_trigger"],
            decode_mrp_records(out["mrp"], n_eeg))
