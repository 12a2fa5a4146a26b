"""Replay a recording through the simulated EMG branch gateware.

:func:`run_hdl` has the signature and return value of :func:`golden.emg_pipeline.run_golden`.
Its default simulator is the fast Verilator harness (:mod:`sim.fast_engine`, no Python
in the clock loop); ``sim="icarus"`` / ``"verilator"`` run the cocotb testbench
(:mod:`sim.cocotb_emg_branch`) instead.
"""

import numpy as np

from golden.emg_trigger_model import TriggerParams
from golden.stride_indexes_model import MIN_STRIDE, REF_MIN_GAP
from hdl.emg_branch import EMGBranch
from hdl.stride_indexes import StrideIndexes
from sim.fast_engine import mask, resolve_sim, run_fast, words_to_ints
from sim.hdl_build import run_cocotb
from sim.records import decode_records

__all__ = ["run_hdl", "run_hdl_strides"]


def run_hdl_strides(trig, present=None, stride_ref=0, count_width=16, reset_at=(), gap=2,
                    rule=(MIN_STRIDE, REF_MIN_GAP), sim="icarus"):
    """Simulate :class:`hdl.stride_indexes.StrideIndexes` alone on trigger frames.

    ``gap`` idle cycles follow every frame; ``reset_at`` lists frame indexes
    before which the core is reset; ``rule`` is ``(min_stride, ref_min_gap)``.

    Returns
    -------
    records : list of dict
    overrun : int
    latency : ndarray of int
        Per record, clock cycles from accepting the trigger frame that ended its
        stride (the next stride onset) to the record on ``o``.
    """
    trig = np.asarray(trig, np.uint8)
    present = np.ones(8, bool) if present is None else np.asarray(present, bool)
    dut = StrideIndexes(count_width, min_stride=rule[0], ref_min_gap=rule[1])
    out = run_cocotb(dut, "stride_indexes", "sim.cocotb_stride_indexes",
                     dict(trig=trig, present=present, stride_ref=stride_ref,
                          reset_at=np.asarray(reset_at, int), gap=gap),
                     tag=f"{count_width}_{rule[0]}_{rule[1]}", sim=sim)
    recs = decode_records(out["records"], count_width)
    # frame index (since the last reset) of each stride's end -> absolute frame index
    cuts = sorted(int(r) for r in reset_at)
    frame_cycle = out["frame_cycle"]
    latency = []
    seg_start = 0
    last_start = -1
    for rec, cyc in zip(recs, out["record_cycle"]):
        # records arrive in end order; a start lower than the previous one means a reset
        if rec["start"] < last_start and cuts:
            seg_start = cuts.pop(0)
        last_start = rec["start"]
        end = seg_start + rec["start"] + rec["stride_time"]
        latency.append(int(cyc) - int(frame_cycle[end]))
    return recs, int(out["overrun"]), np.array(latency, np.int64)

#: Cycles per sample of the cocotb replays (``sim="icarus"``/``"verilator"``): the trigger
#: core's minimum plus a little slack. The fast engine admits frames as fast as the core
#: takes them.
REPLAY_CYCLES_PER_SAMPLE = 20


def run_hdl(samples, present=None, stride_ref=0, params=TriggerParams(), count_width=16,
            progress=None, waves=False, sim=None):
    """Simulate :class:`hdl.emg_branch.EMGBranch` on ``samples``.

    Parameters
    ----------
    samples, present, stride_ref, params, count_width
        As for :func:`golden.emg_pipeline.run_golden`.
    progress : callable, optional
        ``progress(done, total)`` is called from a helper thread while the simulation runs.
    waves : bool
        Dump a waveform (cocotb simulators only; with the default simulator, selects
        ``"icarus"``).
    sim : {None, "fast", "icarus", "verilator"}
        ``None``: ``"fast"`` when Verilator and g++ are available, else ``"icarus"``
        (:func:`sim.fast_engine.resolve_sim`). ``"fast"`` replays with the Verilator
        harness (frames admitted as fast as the trigger core takes them); the others run
        the cocotb testbench paced at :data:`REPLAY_CYCLES_PER_SAMPLE`.

    Returns
    -------
    trig : ndarray of uint8, shape (n, 8)
    records : list of dict
    """
    samples = np.asarray(samples, np.int16)
    present = np.ones(8, bool) if present is None else np.asarray(present, bool)
    sim = resolve_sim("icarus" if sim is None and waves else sim)
    if sim == "fast":
        if waves:
            raise ValueError("waves=True needs a cocotb simulator (sim='icarus'/'verilator')")
        dut = EMGBranch(16, None, params, count_width)
        out = run_fast(dut, "emg_branch", "emg_branch", samples.reshape(-1, 8),
                       args=dict(present=mask(present), stride_ref=stride_ref),
                       progress=progress, total=len(samples))
        trig = ((out["trig"][:, :1] >> np.arange(8, dtype=np.uint32)) & 1).astype(np.uint8)
        return trig, decode_records(words_to_ints(out["records"]), count_width)
    dut = EMGBranch(16, REPLAY_CYCLES_PER_SAMPLE, params, count_width)
    out = run_cocotb(dut, "emg_branch", "sim.cocotb_emg_branch",
                     dict(samples=samples, present=present, stride_ref=stride_ref),
                     waves=waves, progress=progress, total=len(samples), sim=sim)
    return out["trig"], decode_records(out["records"], count_width)
