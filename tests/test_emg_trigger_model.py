"""The bit-exact trigger model against the float SciPy reference, and parameter checks."""

import numpy as np
import pytest

from golden.emg_trigger_model import (
    FLOAT_BOUND,
    TriggerParams,
    TriggerWidths,
    trigger_bitexact,
    trigger_float,
)
from sw.emg_eval import rising_edges
from synthetic.emg_gen import generate_walk, make_subject


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_bitexact_within_documented_bound_of_float(seed):
    w = generate_walk(seed, "pre" if seed % 2 else "post", n_strides=12,
                      subject=make_subject(seed + 40, "severe" if seed == 2 else "mild"))
    p = TriggerParams()
    tb, sb = trigger_bitexact(w.emg, p, return_state=True)
    tf, sf = trigger_float(w.emg, p, return_state=True)
    env_b = sb["env"] / 2 ** p.frac_bits
    err = np.abs(env_b - sf["env"])
    assert np.all(err <= FLOAT_BOUND["env_abs"] + FLOAT_BOUND["env_rel"] * sf["env"]), \
        f"envelope differs by up to {err.max():.3f} counts"
    matched = total = 0
    for c in range(8):
        eb, ef = rising_edges(tb[:, c]), rising_edges(tf[:, c])
        total += len(eb) + len(ef)
        matched += sum(np.any(np.abs(ef - e) <= FLOAT_BOUND["edge_tol"]) for e in eb)
        matched += sum(np.any(np.abs(eb - e) <= FLOAT_BOUND["edge_tol"]) for e in ef)
    assert total > 100
    assert matched / total >= FLOAT_BOUND["edge_match"], f"only {matched}/{total} edges agree"


def test_trigger_follows_bursts_and_ignores_flat_line():
    w = generate_walk(3, "pre", n_strides=10, artefacts=False)
    x = w.emg.copy()
    x[:, 3] = 0
    trig = trigger_bitexact(x)
    assert not trig[:, 3].any()
    act = w.activation()
    for c in (0, 1, 2, 4, 5, 6, 7):
        inside = trig[act[:, c] > 0, c].mean()
        outside = trig[act[:, c] == 0, c].mean()
        # offsets lag (the envelope must decay below the off-level), so some
        # "outside" time right after each burst is on
        assert inside > 0.7 and outside < 0.35, (c, inside, outside)


def test_warmup_holds_trigger_low():
    w = generate_walk(4, "pre", n_strides=3)
    p = TriggerParams(warmup_samples=400)
    assert not trigger_bitexact(w.emg, p)[:400].any()


def test_full_scale_input_does_not_overflow():
    n = 4000
    x = np.where(np.arange(n) % 2, 32767, -32768).astype(np.int16)[:, None]
    x = np.hstack([x, -x.astype(np.int32).clip(-32768, 32767)[:, :1].astype(np.int16)])
    trigger_bitexact(x)  # raises AssertionError on register overflow


@pytest.mark.parametrize("kwargs, match", [
    (dict(hp_shift=0), "hp_shift"),
    (dict(floor_down_shift=12), "floor_down_shift"),
    (dict(floor_on_shift=17, floor_up_shift=8), "floor_on_shift"),
    (dict(on_gain=20, off_gain=30), "off_gain"),
    (dict(min_on=0), "min_on"),
    (dict(env_shift=-1), "non-negative"),
    (dict(warmup_samples=1.5), "integer"),
])
def test_parameters_validated(kwargs, match):
    with pytest.raises(ValueError, match=match):
        TriggerParams(**kwargs)


def test_widths_grow_with_sample_width():
    assert TriggerWidths.of(TriggerParams(), 24).y == TriggerWidths.of(TriggerParams(), 16).y + 8


def test_bad_samples_rejected():
    with pytest.raises(ValueError, match="integers"):
        trigger_bitexact(np.zeros((10, 2)))
    with pytest.raises(ValueError, match="16-bit"):
        trigger_bitexact(np.full((10, 1), 40000))
    with pytest.raises(ValueError, match="NaN"):
        trigger_float(np.full((10, 1), np.nan))
