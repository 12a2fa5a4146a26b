"""Replay a recording through the simulated EMG branch gateware (cocotb + Icarus).

:func:`run_hdl` has the signature and return value of :func:`sw.emg_pipeline.run_golden`.
"""

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
    out = run_cocotb(dut, "emg_branch", "sim.cocotb_emg_branch",
                     dict(samples=samples, present=present, stride_ref=stride_ref),
                     waves=waves, progress=progress, total=len(samples))
    return out["trig"], decode_records(out["records"], count_width)
