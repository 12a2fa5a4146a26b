"""The bit-exact trigger model against the float SciPy reference, and parameter checks."""

import dataclasses

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
from tests.seeding import seeds


@pytest.mark.parametrize("seed", seeds(0, 1, 2))
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


def _full_scale_then_silence():
    """Full-scale square at Nyquist, then full-scale steps every 50 samples, then silence: the
    registers peak mid-run and have decayed to almost nothing by the end."""
    n = 4000
    t = np.arange(n)
    x = np.where(t % 2, 32767, -32768)
    x[2000:3000] = np.where((t[2000:3000] // 50) % 2, 32767, -32768)
    x[3000:] = 0
    return np.column_stack([x, np.clip(-x, -32768, 32767)]).astype(np.int16)


def test_full_scale_input_does_not_overflow():
    """The peak of every register over the whole run fits its TriggerWidths width (the final
    state alone says nothing: after the silence it is a few LSB)."""
    p = TriggerParams()
    w = TriggerWidths.of(p)
    _, st = trigger_bitexact(_full_scale_then_silence(), p, return_state=True)
    st["r"] = np.abs(st["y"])
    st["on_lvl"] = np.maximum((st["floor"] * p.on_gain) >> 4, p.min_level)
    signed_bits = {"h": w.h_reg, "y": w.y_reg}
    unsigned_bits = {"r": w.r_reg, "eacc": w.eacc_reg, "env": w.env_reg, "floor": w.env_reg,
                     "facc": w.facc_reg,
                     "on_lvl": w.env_reg + 4}     # hdl/emg_trigger.py: levels env_reg + 4 bit
    for k, bits in signed_bits.items():
        lo, hi = int(st[k].min()), int(st[k].max())
        assert -(1 << (bits - 1)) <= lo and hi < 1 << (bits - 1), (k, lo, hi, bits)
    for k, bits in unsigned_bits.items():
        assert 0 <= st[k].min() and st[k].max() < 1 << bits, (k, int(st[k].max()), bits)
    for k in ("h", "y", "eacc", "facc"):          # the stimulus did drive them, early on
        assert np.abs(st[k]).max() > 1000 * (np.abs(st[k][-1]).max() + 1), k


def test_overflow_mid_run_is_caught_though_the_final_state_is_small(monkeypatch):
    """The model's own check looks at the peak over the run, not at the last sample."""
    import golden.emg_trigger_model as m
    real = m.TriggerWidths.of
    x = _full_scale_then_silence()
    _, st = trigger_bitexact(x, return_state=True)
    peak_y = int(np.abs(st["y"]).max())
    narrow = peak_y.bit_length()              # signed: the peak needs one bit more than this
    assert np.abs(st["y"][-1]).max() < 1 << (narrow - 2)

    def narrow_y(params, sample_width=16):
        return dataclasses.replace(real(params, sample_width), y_reg=narrow)
    monkeypatch.setattr(m.TriggerWidths, "of", staticmethod(narrow_y))
    with pytest.raises(AssertionError, match="register y overflows signed"):
        trigger_bitexact(x)


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
    for f in ("y", "y_reg", "facc_reg"):
        assert getattr(TriggerWidths.of(TriggerParams(), 24), f) == \
            getattr(TriggerWidths.of(TriggerParams(), 16), f) + 8


def _rails(sw, n, seed=0):
    """Full-scale stimuli: squares of several periods, random rail-to-rail and uniform noise,
    DC at either rail and steps between them."""
    hi, lo = (1 << (sw - 1)) - 1, -(1 << (sw - 1))
    t = np.arange(n)
    rng = np.random.default_rng(seed)
    cols = [np.where((t // per) % 2, hi, lo) for per in (1, 2, 3, 4, 5, 7, 8, 16, 50)]
    cols += [np.where(t % 2, lo, hi), np.where(t < n // 2, hi, lo), np.where(t < n // 2, lo, hi),
             rng.choice([lo, hi], n), rng.integers(lo, hi + 1, n), np.full(n, hi), np.full(n, lo)]
    return np.column_stack(cols).astype(np.int64)


_EXTREMES = {
    "default": (16, TriggerParams()),
    "min_shifts": (16, TriggerParams(hp_shift=1, frac_bits=0, env_shift=1, floor_up_shift=1,
                                     floor_on_shift=1, floor_down_shift=1, warmup_shift=1,
                                     warmup_samples=0, min_level=0, min_on=1, min_off=1)),
    "max_shifts": (16, TriggerParams(hp_shift=8, frac_bits=10, env_shift=10, floor_up_shift=16,
                                     floor_on_shift=16, floor_down_shift=16, warmup_shift=16,
                                     on_gain=255, off_gain=255)),
    "hp8_frac0": (16, TriggerParams(hp_shift=8, frac_bits=0)),
    "sw2": (2, TriggerParams(hp_shift=1, frac_bits=0, env_shift=1, floor_on_shift=1,
                             floor_up_shift=1, floor_down_shift=1, warmup_shift=1,
                             warmup_samples=0)),
    "sw32": (32, TriggerParams(hp_shift=1, frac_bits=2, env_shift=10, floor_on_shift=16)),
}


@pytest.mark.parametrize("name", list(_EXTREMES))
def test_register_widths_hold_full_scale_peaks(name):
    """The proven extremes of TriggerWidths hold on rail-to-rail stimuli (trigger_bitexact
    asserts it on every run), the default widths are tight -- a peak reaches the top bit of
    h and y (one below for eacc and facc: their bound takes |y| at its peak on every sample)
    -- and no register is wider than its budget."""
    sw, p = _EXTREMES[name]
    w = TriggerWidths.of(p, sw)
    long_tc = max(p.env_shift, p.floor_on_shift) > 8
    _, st = trigger_bitexact(_rails(sw, 6000 if long_tc else 1500), p, sample_width=sw,
                             return_state=True)

    def sbits(v):
        return max(int(v.max()).bit_length(), (-int(v.min()) - 1).bit_length()) + 1
    if name == "default":
        assert (sbits(st["h"]), sbits(st["y"])) == (w.h_reg, w.y_reg)
        assert int(st["eacc"].max()).bit_length() == w.eacc_reg - 1
        assert int(st["facc"].max()).bit_length() == w.facc_reg - 1
    assert max(int(st["env"].max()), int(st["floor"].max())) <= w.r_max
    for reg, budget in ((w.h_reg, w.h), (w.y_reg, w.y), (w.r_reg, w.r), (w.eacc_reg, w.eacc),
                        (w.env_reg, w.env), (w.facc_reg, w.facc)):
        assert reg <= budget


def test_default_register_widths():
    """The widths of the docstring tables (16-bit samples, default parameters)."""
    w = TriggerWidths.of(TriggerParams())
    assert (w.h_reg, w.y_reg, w.r_reg, w.eacc_reg, w.env_reg, w.facc_reg) == (21, 22, 21, 25,
                                                                               21, 32)


def test_bad_samples_rejected():
    with pytest.raises(ValueError, match="integers"):
        trigger_bitexact(np.zeros((10, 2)))
    with pytest.raises(ValueError, match="16-bit"):
        trigger_bitexact(np.full((10, 1), 40000))
    with pytest.raises(ValueError, match="NaN"):
        trigger_float(np.full((10, 1), np.nan))
