"""Replay a recording through the simulated EMG branch gateware (cocotb + Icarus).

:func:`run_hdl` has the signature and return value of :func:`sw.emg_pipeline.run_golden`.
"""

import os
import tempfile
import threading

import numpy as np

from hdl.emg_branch import EMGBranch
from sw.emg_trigger_model import TriggerParams
from .hdl_build import run_cocotb
from .records import decode_records

__all__ = ["run_hdl"]

#: Cycles per sample used for replay: the core's minimum (18) plus a little slack.
REPLAY_CYCLES_PER_SAMPLE = 20


def run_hdl(samples, present=None, stride_ref=0, params=TriggerParams(), count_width=16,
            progress=None, waves=False):
    """Simulate :class:`hdl.emg_branch.EMGBranch` on ``samples``.

    ``progress(done, total)`` is called from a helper thread while the
    simulation runs.
    """
    samples = np.asarray(samples, np.int16)
    present = np.ones(8, bool) if present is None else np.asarray(present, bool)
    dut = EMGBranch(16, REPLAY_CYCLES_PER_SAMPLE, params, count_width)
    with tempfile.TemporaryDirectory() as tmp:
        pfile = os.path.join(tmp, "progress")
        stop = threading.Event()

        def poll():
            while not stop.wait(1.0):
                try:
                    with open(pfile) as f:
                        done = int(f.read() or 0)
                except (OSError, ValueError):
                    continue
                progress(done, len(samples))

        thread = None
        if progress is not None:
            thread = threading.Thread(target=poll, daemon=True)
            thread.start()
        try:
            out = run_cocotb(dut, "emg_branch", "sim.cocotb_emg_branch",
                             dict(samples=samples, present=present, stride_ref=stride_ref),
                             extra_env={"TB_PROGRESS": pfile}, waves=waves)
        finally:
            stop.set()
            if thread is not None:
                thread.join()
    if progress is not None:
        progress(len(samples), len(samples))
    return out["trig"], decode_records(out["records"], count_width)
