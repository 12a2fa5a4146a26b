"""Random legal elaboration parameters: gateware vs bit-exact model (cocotb + Icarus), issue 14.1.

For every block, a strategy draws from a seed a parameter set that validation accepts; the
gateware elaborated with it must equal the bit-exact model exactly on a short stimulus:

* EMG trigger -- ``EMGTrigger(n_channels, sample_width, TriggerParams(...))``, every field of
  :class:`golden.emg_trigger_model.TriggerParams`, vs :func:`trigger_bitexact`;
* stride indexes -- ``StrideIndexes(count_width, start_width, min_stride, ref_min_gap)`` and
  the ``stride_ref`` input, vs :func:`stride_indexes_bitexact`;
* EEG branch -- ``EEGMRP(n_channels, EEGParams(uv_per_lsb), index_width)`` and the ``enable``
  mask of sites, vs :func:`golden.eeg_pipeline.run_golden_eeg`. The bands themselves are module
  constants (:data:`golden.eeg_mrp_model.BANDS`), not elaboration parameters;
* sample ingress -- ``SampleIngress(divisor, fifo_depth)`` on both sources, vs
  :class:`golden.samples_parser_model.SamplesParserModel`.

Beside the random sets, named edge sets take the ends of every range validation allows. A
failure names the parameter set. The fast tests (no simulation) check that every drawn set
passes validation, that values just outside the accepted ranges are refused, and that the
EEG bit-exact model stays near the SciPy float reference for the drawn scales.
``WOTRACK_SEED=...`` (tests/seeding.py) replaces the fixed seeds of the random sets.
"""

import gc
import warnings
from contextlib import contextmanager

import numpy as np
import pytest
from amaranth.hdl import UnusedElaboratable

from golden.eeg_mrp_model import (
    BANDS,
    DB_FLOOR,
    FLOAT_BOUND_DB,
    EEGParams,
    N,
    db_from_q,
    mrp_bitexact,
    mrp_float,
)
from golden.eeg_pipeline import run_golden_eeg
from golden.emg_trigger_model import MODEL_BITS, TriggerParams, TriggerWidths, trigger_bitexact
from golden.samples_parser_model import SamplesParserModel
from golden.stride_indexes_model import stride_indexes_bitexact, stride_onsets
from hdl.eeg_mrp import EEGMRP
from hdl.emg_trigger import EMGTrigger
from hdl.sample_ingress import SampleIngress
from hdl.stride_indexes import StrideIndexes
from sim.hdl_build import run_cocotb, simulator_missing
from sim.records import decode_mrp_records, decode_records
from tests.gateware.test_eeg_mrp import assert_same as assert_same_mrp
from tests.gateware.test_eeg_mrp import eeg_like
from tests.gateware.test_emg_trigger import assert_same as assert_same_trig
from tests.gateware.test_emg_trigger import toy_bursts
from tests.gateware.test_sample_ingress import damaged_stream
from tests.gateware.test_stride_indexes import assert_same as assert_same_strides
from tests.seeding import seeds

needs_sim = pytest.mark.skipif(simulator_missing() is not None, reason=simulator_missing() or "")


@contextmanager
def about(what):
    """Any failure inside (a differing output, a simulator or model error) names ``what``."""
    try:
        yield
    except AssertionError as e:
        raise AssertionError(f"{what}: {e}") from None
    except Exception as e:
        raise AssertionError(f"{what}: {type(e).__name__}: {e}") from e


def log_int(rng, top):
    """Integer in 0..top, log-uniform (small values as likely as large ones)."""
    return int(min(top, np.floor(np.expm1(rng.uniform(0, np.log1p(top + 1))))))


# ---------------------------------------------------------------- EMG trigger

def draw_trigger(rng):
    """``(n_channels, sample_width, TriggerParams)`` drawn over what validation accepts.

    Ranges: n_channels 1..10, sample_width 2..32, hp_shift 1..8, env_shift 1..10,
    floor_on_shift 1..16, the other shifts 1..floor_on_shift, frac_bits 0..min(12, what the
    int64 model leaves, MODEL_BITS), off_gain 1..on_gain 1..255, min_level 0..4x the stimulus'
    noise envelope (below 2**env bits). Unbounded fields are capped to the stimulus:
    warmup_samples 0..200, min_on/min_off 1..60 (1 in 5: 61..3000).
    """
    while True:
        sw, hp = int(rng.integers(2, 33)), int(rng.integers(1, 9))
        es, g = int(rng.integers(1, 11)), int(rng.integers(1, 17))
        room = MODEL_BITS - (sw + 2 * hp + 4 + max(g, es, 8))   # see TriggerWidths.of
        if room >= 0:
            break
    frac = int(rng.integers(0, min(room, 12) + 1))
    env_bits = sw + frac + 2 * hp + 4
    on = int(rng.integers(1, 256))

    def hold():
        return int(rng.integers(1, 61)) if rng.random() < 0.8 else int(rng.integers(61, 3001))

    noise = 2.0 ** (sw - 10 + frac)   # ~ background noise of trigger_stimulus, Q.frac_bits
    p = TriggerParams(
        hp_shift=hp, frac_bits=frac, env_shift=es, floor_on_shift=g,
        floor_up_shift=int(rng.integers(1, g + 1)), floor_down_shift=int(rng.integers(1, g + 1)),
        warmup_shift=int(rng.integers(1, g + 1)), warmup_samples=int(rng.integers(0, 201)),
        on_gain=on, off_gain=int(rng.integers(1, on + 1)),
        min_level=min(int(rng.uniform(0, 4) * noise), (1 << env_bits) - 1),
        min_on=hold(), min_off=hold())
    return int(rng.integers(1, 11)), sw, p


def _widest_frac(sw, hp, es, g):
    return MODEL_BITS - (sw + 2 * hp + 4 + max(g, es, 8))


def _env_bits(sw, p):
    return sw + p.frac_bits + 2 * p.hp_shift + 4


_ALL_MIN = dict(hp_shift=1, frac_bits=0, env_shift=1, floor_up_shift=1, floor_on_shift=1,
                floor_down_shift=1, warmup_shift=1, warmup_samples=0, on_gain=1, off_gain=1,
                min_level=0, min_on=1, min_off=1)
_ALL_MAX = dict(hp_shift=8, env_shift=10, floor_up_shift=16, floor_on_shift=16,
                floor_down_shift=16, warmup_shift=16, warmup_samples=400, on_gain=255,
                off_gain=255, min_on=3000, min_off=3000)
#: name -> (n_channels, sample_width, TriggerParams): the ends of every range
TRIGGER_EDGES = {
    # every field at its lowest, the narrowest sample, one channel
    "all_min_sw2": (1, 2, TriggerParams(**_ALL_MIN)),
    # every shift, hold and level at its lowest, the default gains
    "min_shifts_sw16": (3, 16, TriggerParams(**{**_ALL_MIN, "on_gain": 40, "off_gain": 28})),
    # every shift/gain/hold at its highest; frac_bits as wide as the model allows (62 bits)
    "all_max_sw16": (2, 16, TriggerParams(**_ALL_MAX, frac_bits=_widest_frac(16, 8, 10, 16))),
    # the widest sample: what the 62-bit model leaves for the other widths
    "widest_sample_sw32": (2, 32, TriggerParams(hp_shift=1, frac_bits=_widest_frac(32, 1, 10, 16),
                                                env_shift=10, floor_on_shift=16)),
    # no warm-up, shortest holds, no hysteresis (off_gain == on_gain)
    "no_warmup_no_hysteresis": (4, 16, TriggerParams(warmup_samples=0, min_on=1, min_off=1,
                                                     on_gain=20, off_gain=20)),
    # the highest min_level validation accepts at 12 bits: never triggers
    "min_level_top": (2, 12, TriggerParams(
        min_level=(1 << _env_bits(12, TriggerParams())) - 1, warmup_samples=0)),
}


def trigger_stimulus(n, nch, sw, seed):
    """toy bursts scaled to the full ``sw``-bit range, a full-scale Nyquist stretch on the last
    channel and a full-scale step on the first."""
    x = toy_bursts(n, nch, seed).astype(float)
    hi = (1 << (sw - 1)) - 1
    x = np.round(x * (hi / np.abs(x).max())).astype(np.int64)
    k = n // 3
    x[k:k + 60, -1] = np.where(np.arange(60) % 2, hi, -hi - 1)
    x[2 * k:2 * k + 80, 0] = -hi - 1
    x[2 * k + 80:2 * k + 160, 0] = hi
    return x


def check_trigger(nch, sw, p, seed, n=1000, all_present=False):
    what = f"EMGTrigger(n_channels={nch}, sample_width={sw}, params={p!r})"
    x = trigger_stimulus(n, nch, sw, seed)
    present = np.random.default_rng(seed + 1).random(nch) < 0.85
    present |= all_present
    reset = n // 2 + seed % 7          # a reset mid-stream restarts every filter
    with about(what):
        want = np.concatenate([trigger_bitexact(x[a:b], p, sample_width=sw, present=present)
                               for a, b in ((0, reset), (reset, n))])
        out = run_cocotb(EMGTrigger(nch, sw, p), "emg_trigger", "sim.cocotb_emg_trigger",
                         dict(samples=x, present=present, reset_at=np.array([reset])))
        assert_same_trig(out["trig"], want)
    return want


@needs_sim
@pytest.mark.parametrize("seed", seeds(2, 5, 19, 42, 52))
def test_trigger_random_params(seed):
    nch, sw, p = draw_trigger(np.random.default_rng(seed))
    check_trigger(nch, sw, p, seed)


@needs_sim
@pytest.mark.parametrize("name", list(TRIGGER_EDGES))
def test_trigger_edge_params(name):
    nch, sw, p = TRIGGER_EDGES[name]
    want = check_trigger(nch, sw, p, seed=len(name), all_present=True)
    if name == "min_level_top":
        assert not want.any(), "min_level at the top of the envelope's range never triggers"


# ---------------------------------------------------------------- stride indexes

def draw_stride(rng):
    """Stride rule and counters: count_width 4..24, start_width count_width..48, min_stride
    0..min(4095, 2**count_width - 1) and ref_min_gap 0..4095 (log-uniform), stride_ref 0..3."""
    cw = int(rng.integers(4, 25))
    return dict(count_width=cw, start_width=int(rng.integers(cw, 49)),
                min_stride=log_int(rng, min(4095, (1 << cw) - 1)),
                ref_min_gap=log_int(rng, 4095), stride_ref=int(rng.integers(0, 4)))


STRIDE_EDGES = {
    "all_min": dict(count_width=4, start_width=4, min_stride=0, ref_min_gap=0, stride_ref=0),
    "all_max": dict(count_width=24, start_width=48, min_stride=4095, ref_min_gap=4095,
                    stride_ref=3),
    "min_stride_is_counter_top": dict(count_width=8, start_width=9, min_stride=255,
                                      ref_min_gap=1, stride_ref=1),
    "gap_only": dict(count_width=16, start_width=32, min_stride=0, ref_min_gap=4095,
                     stride_ref=2),
}


def rule_triggers(n, scale, seed):
    """Bursts of 1..scale/2 samples, gaps of 1..2*scale+1: around both rule thresholds."""
    rng = np.random.default_rng(seed)
    t = np.zeros((n, 8), np.uint8)
    for c in range(8):
        pos = int(rng.integers(0, scale))
        while pos < n:
            length = int(rng.integers(1, max(2, scale // 2) + 1))
            t[pos:pos + length, c] = 1
            pos += length + int(rng.integers(1, 2 * scale + 2))
    return t


def check_strides(s, seed, all_present=False):
    what = f"StrideIndexes({s})"
    scale = max(s["min_stride"], s["ref_min_gap"], 20)
    n = int(np.clip(10 * scale, 1500, 24000))
    trig = rule_triggers(n, scale, seed)
    present = (np.random.default_rng(seed + 1).random(8) < 0.85) | all_present
    # idle cycles per frame so that the serialiser (64 cycles a record, two legs) keeps up with
    # the shortest possible stride: no overrun, which the model does not have
    shortest = max(s["min_stride"], s["ref_min_gap"] + 1, 2)
    gap = max(2, -(-140 // shortest))
    reset = n * 2 // 3                 # a reset mid-stream: counters and the rule restart
    with about(what):
        dut = StrideIndexes(s["count_width"], s["start_width"], s["min_stride"],
                            s["ref_min_gap"])
        out = run_cocotb(dut, "stride_indexes", "sim.cocotb_stride_indexes",
                         dict(trig=trig, present=present, stride_ref=s["stride_ref"],
                              reset_at=np.array([reset]), gap=gap))
        got = decode_records(out["records"], s["count_width"], s["start_width"])
        want = [r for a, b in ((0, reset), (reset, n))
                for r in stride_indexes_bitexact(trig[a:b], present, s["stride_ref"],
                                                 s["count_width"], s["start_width"],
                                                 min_stride=s["min_stride"],
                                                 ref_min_gap=s["ref_min_gap"])]
        assert int(out["overrun"]) == 0, f"overrun with {gap} idle cycles per frame"
        assert_same_strides(got, want)
    return want


@needs_sim
@pytest.mark.parametrize("seed", seeds(1, 6, 23, 34, 36))
def test_stride_random_params(seed):
    check_strides(draw_stride(np.random.default_rng(seed)), seed)


@needs_sim
@pytest.mark.parametrize("name", list(STRIDE_EDGES))
def test_stride_edge_params(name):
    want = check_strides(STRIDE_EDGES[name], seed=9, all_present=True)
    if name == "all_min":
        assert any(r["overflow"] for r in want), "4-bit counters must saturate"


# ---------------------------------------------------------------- EEG branch

def draw_eeg(rng):
    """n_channels 1..16, uv_per_lsb log-uniform in (1e-6, 1e3), index_width 8..48, each site
    enabled with probability 3/4."""
    nch = int(rng.integers(1, 17))
    uv = float(np.clip(10 ** rng.uniform(-6, 3), np.nextafter(1e-6, 1), np.nextafter(1e3, 0)))
    return dict(n_channels=nch, uv_per_lsb=uv, index_width=int(rng.integers(8, 49)),
                enable=[bool(b) for b in rng.random(nch) < 0.75])


EEG_EDGES = {
    # one site, the smallest scale and index counter (saturates at 255), a trigger on frame 0
    "all_min": dict(n_channels=1, uv_per_lsb=float(np.nextafter(1e-6, 1)), index_width=8,
                    enable=[True]),
    # sixteen sites (the odd ones enabled, so the last), the largest scale and index counter
    "all_max": dict(n_channels=16, uv_per_lsb=float(np.nextafter(1e3, 0)), index_width=48,
                    enable=[k % 2 == 1 for k in range(16)]),
    "integer_scale_no_site": dict(n_channels=5, uv_per_lsb=1, index_width=9,
                                  enable=[False] * 5),
}


def check_eeg(e, seed, n=400):
    what = (f"EEGMRP(n_channels={e['n_channels']}, EEGParams(uv_per_lsb={e['uv_per_lsb']!r}), "
            f"index_width={e['index_width']}), enable={e['enable']}")
    rng = np.random.default_rng(seed)
    nch, p = e["n_channels"], EEGParams(e["uv_per_lsb"])
    x = eeg_like(n, nch, seed, amp=float(rng.choice([20, 300, 3000])))
    trigger = np.zeros(n, np.uint8)
    trigger[[int(rng.integers(0, 3)) if seed % 2 else int(rng.integers(0, N)),
             int(rng.integers(N, n))]] = 1
    enable = np.asarray(e["enable"], bool)
    with about(what):
        out = run_cocotb(EEGMRP(nch, p, e["index_width"]), "eeg_mrp", "sim.cocotb_eeg_mrp",
                         dict(samples=x, trigger=trigger, enable=enable,
                              reset_at=np.zeros(0, int)))
        got = decode_mrp_records(out["records"], nch, e["index_width"])
        want = run_golden_eeg(x, trigger, enable, p, index_width=e["index_width"])
        assert_same_mrp(got, want)
    return want


@needs_sim
@pytest.mark.parametrize("seed", seeds(31, 32, 33, 34))
def test_eeg_random_params(seed):
    check_eeg(draw_eeg(np.random.default_rng(seed)), seed)


@needs_sim
@pytest.mark.parametrize("name", list(EEG_EDGES))
def test_eeg_edge_params(name):
    want = check_eeg(EEG_EDGES[name], seed=len(name) * 2 + 1)   # odd: a trigger in frames 0..2
    if name == "all_min":
        assert want[-1]["index"] == 255, "an 8-bit index saturates at 255"


# ---------------------------------------------------------------- sample ingress

def draw_ingress(rng):
    """divisor 4..40 (clock cycles per UART bit), fifo_depth 64..700 (any integer), source
    UART or replay, consumer stalls or not."""
    return dict(divisor=int(rng.integers(4, 41)), fifo_depth=int(rng.integers(64, 701)),
                source=int(rng.integers(0, 2)), stall=int(rng.integers(0, 2)))


INGRESS_EDGES = {
    "all_min_stalled": dict(divisor=4, fifo_depth=64, source=0, stall=1),
    "board_divisor": dict(divisor=54, fifo_depth=512, source=0, stall=0),
    "odd_depth_replay": dict(divisor=5, fifo_depth=1001, source=1, stall=1),
}


def check_ingress(g, seed):
    what = f"SampleIngress(divisor={g['divisor']}, fifo_depth={g['fifo_depth']}), " \
           f"source={g['source']}, stall={g['stall']}"
    # a slow line (large divisor) gets fewer frames: simulated time grows with the divisor
    data, _ = damaged_stream(np.random.default_rng(seed), 12 if g["divisor"] <= 30 else 6)
    model = SamplesParserModel()
    want = [int.from_bytes(p, "little") & ((1 << 257) - 1) for p in model.feed(data)]
    brk = int(g["source"] == 0)
    with about(what):
        out = run_cocotb(SampleIngress(g["divisor"], g["fifo_depth"]), "sample_ingress",
                         "sim.cocotb_sample_ingress",
                         dict(stream=np.frombuffer(data, np.uint8), source=g["source"],
                              divisor=g["divisor"], stall=g["stall"], brk=brk),
                         tag=f"fuzz{g['source']}")
        got = [int(w) for w in out["frames"]]
        first = next((k for k, (a, b) in enumerate(zip(got, want)) if a != b), None)
        assert got == want, (f"gateware gave {len(got)} frames, model {len(want)}; "
                             f"first differing frame {first}")
        counters = tuple(int(c) for c in out["counters"])
        model_counters = (model.frames, model.bad_frames, model.lost_frames, brk, 0)
        assert counters == model_counters, \
            (f"counters (frames, bad, lost, framing, overruns): gateware {counters}, "
             f"model {model_counters}")
        assert want, "the stream must carry intact frames"


@needs_sim
@pytest.mark.parametrize("seed", seeds(41, 42, 43))
def test_ingress_random_params(seed):
    check_ingress(draw_ingress(np.random.default_rng(seed)), seed)


@needs_sim
@pytest.mark.parametrize("name", list(INGRESS_EDGES))
def test_ingress_edge_params(name):
    check_ingress(INGRESS_EDGES[name], seed=len(name))


# ---------------------------------------------------------------- validation (no simulation)

@contextmanager
def quiet_components():
    """Components built only to be validated are never elaborated: no UnusedElaboratable."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", UnusedElaboratable)
        yield
        gc.collect()


#: draws per block in the validation test (cheap: constructors only)
N_DRAWS = 300


def test_drawn_and_edge_sets_pass_validation():
    with quiet_components():
        for seed in range(N_DRAWS):
            rng = np.random.default_rng(seed)
            nch, sw, p = draw_trigger(rng)
            w = TriggerWidths.of(p, sw)
            assert max(w.facc, w.eacc, w.env + 8, w.cnt) <= MODEL_BITS
            EMGTrigger(nch, sw, p)
            s = draw_stride(rng)
            stride_onsets(np.zeros(4), s["min_stride"], s["ref_min_gap"])
            stride_indexes_bitexact(np.zeros((4, 8)), None, s["stride_ref"], s["count_width"],
                                    s["start_width"], min_stride=s["min_stride"],
                                    ref_min_gap=s["ref_min_gap"])
            StrideIndexes(s["count_width"], s["start_width"], s["min_stride"], s["ref_min_gap"])
            e = draw_eeg(rng)
            EEGMRP(e["n_channels"], EEGParams(e["uv_per_lsb"]), e["index_width"])
            g = draw_ingress(rng)
            SampleIngress(g["divisor"], g["fifo_depth"])
        for nch, sw, p in TRIGGER_EDGES.values():
            TriggerWidths.of(p, sw)
            EMGTrigger(nch, sw, p)
        for s in STRIDE_EDGES.values():
            StrideIndexes(s["count_width"], s["start_width"], s["min_stride"], s["ref_min_gap"])
        for e in EEG_EDGES.values():
            EEGMRP(e["n_channels"], EEGParams(e["uv_per_lsb"]), e["index_width"])
        for g in INGRESS_EDGES.values():
            SampleIngress(g["divisor"], g["fifo_depth"])


@pytest.mark.parametrize("kwargs, match", [
    (dict(hp_shift=0), "hp_shift"), (dict(hp_shift=9), "hp_shift"),
    (dict(env_shift=0), "env_shift"), (dict(env_shift=11), "env_shift"),
    (dict(floor_on_shift=17, floor_up_shift=8), "floor_on_shift"),
    (dict(floor_on_shift=0), "must be in 1..floor_on_shift"),
    (dict(floor_down_shift=0), "floor_down_shift"), (dict(floor_down_shift=12), "floor_down_shift"),
    (dict(warmup_shift=12), "warmup_shift"), (dict(floor_up_shift=12), "floor_up_shift"),
    (dict(warmup_samples=-1), "warmup_samples"), (dict(frac_bits=-1), "frac_bits"),
    (dict(min_level=-1), "min_level"), (dict(on_gain=256, off_gain=28), "on_gain"),
    (dict(off_gain=0), "off_gain"), (dict(on_gain=20, off_gain=21), "off_gain"),
    (dict(min_on=0), "min_on"), (dict(min_off=0), "min_off"),
    (dict(min_on=1.5), "min_on"), (dict(hp_shift=True), "hp_shift"),
])
def test_trigger_params_just_outside_rejected(kwargs, match):
    with pytest.raises(ValueError, match=match):
        TriggerParams(**kwargs)


@pytest.mark.parametrize("sw", [2, 16, 32])
def test_trigger_widths_just_outside_rejected(sw):
    """One more fractional bit than the int64 model holds, a hold of 2**62 samples or min_level
    at 2**env: refused by the model and the gateware alike (both go through TriggerWidths.of)."""
    hp, es, g = 8, 10, 16
    widest = _widest_frac(sw, hp, es, g)
    top = dict(hp_shift=hp, env_shift=es, floor_on_shift=g)
    if widest >= 0:
        ok = TriggerParams(**top, frac_bits=widest)
        assert max(TriggerWidths.of(ok, sw).facc, TriggerWidths.of(ok, sw).eacc) == MODEL_BITS
    wide = TriggerParams(**top, frac_bits=max(widest, 0) + 1)
    x = np.zeros((4, 1), np.int64)
    with quiet_components():
        for build in (lambda: TriggerWidths.of(wide, sw),
                      lambda: trigger_bitexact(x, wide, sample_width=sw),
                      lambda: EMGTrigger(1, sw, wide)):
            with pytest.raises(ValueError, match="bit-exact model holds at most 62"):
                build()
        env = _env_bits(sw, TriggerParams())
        if env <= MODEL_BITS - 11:
            TriggerWidths.of(TriggerParams(min_level=(1 << env) - 1), sw)
            with pytest.raises(ValueError, match="min_level must be below"):
                EMGTrigger(1, sw, TriggerParams(min_level=1 << env))
        TriggerWidths.of(TriggerParams(min_on=(1 << MODEL_BITS) - 1), sw)   # hold counters:
        for hold in (dict(min_on=1 << MODEL_BITS), dict(min_off=1 << MODEL_BITS)):
            with pytest.raises(ValueError, match="min_on or min_off"):
                trigger_bitexact(x, TriggerParams(**hold), sample_width=sw)
        with pytest.raises(ValueError, match=r"sample_width must be in 2\.\.32, not 33"):
            EMGTrigger(1, 33)
        with pytest.raises(ValueError, match=r"sample_width must be in 2\.\.32, not 1"):
            EMGTrigger(1, 1)
        with pytest.raises(ValueError, match="n_channels must be >= 1, not 0"):
            EMGTrigger(0)
        for bad in (16.0, "16", True):                  # a wrong type stays a TypeError
            with pytest.raises(TypeError, match="sample_width must be an integer in 2..32"):
                EMGTrigger(1, bad)


def test_stride_eeg_ingress_just_outside_rejected():
    """Model-side validation raises ValueError, and so do the gateware constructors for an
    integer out of range (naming the parameter and its range); a wrong type (a float, a str,
    a bool) is a TypeError."""
    with quiet_components():
        for kw in (dict(min_stride=-1), dict(min_stride=4096), dict(ref_min_gap=-1),
                   dict(ref_min_gap=4096)):
            with pytest.raises(ValueError, match=next(iter(kw))):
                stride_onsets(np.zeros(4), **kw)
            with pytest.raises(ValueError, match=rf"{next(iter(kw))} must be in 0\.\.4095"):
                StrideIndexes(**kw)
        for ref in (-1, 4):
            with pytest.raises(ValueError, match="stride_ref"):
                stride_indexes_bitexact(np.zeros((4, 8)), stride_ref=ref)
        for kw, match in ((dict(count_width=3), r"count_width must be in 4\.\.24, not 3"),
                          (dict(count_width=25), r"count_width must be in 4\.\.24, not 25"),
                          (dict(count_width=8, start_width=7),
                           r"start_width must be in count_width\.\.48 \(8\.\.48\), not 7"),
                          (dict(start_width=49), r"start_width must be in count_width\.\.48"),
                          (dict(count_width=8, min_stride=256), "min_stride 256 does not fit")):
            with pytest.raises(ValueError, match=match):
                StrideIndexes(**kw)
        for kw in (dict(count_width=16.0), dict(start_width="32"), dict(min_stride=350.0),
                   dict(ref_min_gap=True)):
            with pytest.raises(TypeError, match=f"{next(iter(kw))} must be an integer"):
                StrideIndexes(**kw)
        for uv in (1e-6, 1e3, 0, -1.0, float("nan"), float("inf"), "0.1", None, True):
            with pytest.raises(ValueError, match="uv_per_lsb"):
                EEGParams(uv)
        for kw, match in ((dict(n_channels=0), r"n_channels must be in 1\.\.16, not 0"),
                          (dict(n_channels=17), r"n_channels must be in 1\.\.16, not 17"),
                          (dict(index_width=7), r"index_width must be in 8\.\.48, not 7"),
                          (dict(index_width=49), r"index_width must be in 8\.\.48, not 49")):
            with pytest.raises(ValueError, match=match):
                EEGMRP(**kw)
        for kw in (dict(n_channels=7.0), dict(n_channels="7"), dict(index_width=32.0)):
            with pytest.raises(TypeError, match=f"{next(iter(kw))} must be an integer"):
                EEGMRP(**kw)
        for divisor in (3, 4.0, True):
            with pytest.raises(ValueError, match="divisor"):
                SampleIngress(divisor)
        for depth in (63, 64.0, True):
            with pytest.raises(ValueError, match="fifo_depth"):
                SampleIngress(4, depth)


@pytest.mark.parametrize("seed", seeds(31, 32, 33, 34, 35, 36))
def test_eeg_bitexact_near_float_for_drawn_scales(seed):
    """The drawn uv_per_lsb against the SciPy float reference, loosely: FLOAT_BOUND_DB holds
    from 20 dBµ at 0.1 µV/LSB, i.e. from the same magnitude in ADC counts at other scales
    (20 + 20 log10(uv_per_lsb / 0.1) dBµ), up to the Q8.8 saturation."""
    e = draw_eeg(np.random.default_rng(seed))
    p = EEGParams(e["uv_per_lsb"])
    top = (-DB_FLOOR - 1) / 256
    low = 20 + 20 * np.log10(p.uv_per_lsb / 0.1)
    checked = 0
    for amp in (20, 300, 3000):
        win = eeg_like(N, e["n_channels"], seed, amp=amp)
        b, f = mrp_bitexact(win, p), mrp_float(win, p)
        for band in BANDS:
            ok = f[band] >= low
            err = np.abs(db_from_q(b[band])[ok] - np.clip(f[band][ok], -top, top))
            assert not err.size or err.max() <= FLOAT_BOUND_DB, \
                f"EEGParams(uv_per_lsb={p.uv_per_lsb!r}) band {band}: {err.max():.3f} dB off"
            checked += ok.sum()
    assert checked, f"uv_per_lsb={p.uv_per_lsb!r}: no band value above {low:.1f} dBµ"
