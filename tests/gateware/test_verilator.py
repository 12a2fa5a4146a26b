"""The same cocotb testbenches on Verilator (the fast simulator of ``make bench``): same results."""

import numpy as np
import pytest

from golden.emg_pipeline import run_golden
from golden.stride_indexes_model import stride_indexes_bitexact
from hdl.stride_indexes import LATENCY_CYCLES
from sim.emg_hdl_engine import run_hdl, run_hdl_strides
from sim.hdl_build import simulator_missing
from synthetic.emg_gen import generate_walk

pytestmark = pytest.mark.skipif(simulator_missing("verilator") is not None,
                                reason=simulator_missing("verilator") or "")


def test_emg_branch_on_verilator_equals_golden():
    w = generate_walk(11, "post", n_strides=4)
    x = w.emg[:2500]
    trig, recs = run_hdl(x, sim="verilator")
    tg, rg = run_golden(x)
    assert np.array_equal(trig, tg)
    assert recs == rg and len(recs) >= 2


def test_stride_indexes_on_verilator_equals_model_and_latency():
    rng = np.random.default_rng(12)
    trig = np.zeros((4000, 8), np.uint8)
    for c in range(8):
        pos = int(rng.integers(0, 300))
        while pos < len(trig):
            trig[pos:pos + int(rng.integers(20, 300)), c] = 1
            pos += int(rng.integers(400, 700))
    recs, overrun, lat = run_hdl_strides(trig, gap=70, sim="verilator")
    assert recs == stride_indexes_bitexact(trig) and len(recs) > 5
    assert overrun == 0
    assert np.median(lat) == LATENCY_CYCLES
