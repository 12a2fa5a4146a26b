"""Golden models of the EMG dynamic-threshold muscle trigger.

Two models of one algorithm live here:

* :func:`trigger_float` -- the float reference, written with :mod:`scipy.signal`
  filters and a floating-point threshold tracker;
* :func:`trigger_bitexact` -- the integer model of exactly what the gateware in
  :mod:`hdl.emg_trigger` computes, sample for sample and bit for bit.

cocotb compares the gateware to :func:`trigger_bitexact` exactly; the tests compare
:func:`trigger_bitexact` to :func:`trigger_float` within the bound documented in
:data:`FLOAT_BOUND`.

Algorithm (per channel, one step per 500 Hz sample)
---------------------------------------------------
1. **High-pass** (baseline wander, motion artefacts, electrode offset): two
   cascaded first-order IIR sections ``y[n] = u[n] - u[n-1] + a*y[n-1]`` with
   ``a = 1 - 2**-hp_shift``. ``hp_shift = 2`` gives ``a = 0.75``, a corner near
   23 Hz per section (-3 dB at 36 Hz for the pair): the classical 20 Hz sEMG
   high-pass, reachable with shifts and subtractions. The second section
   (40 dB/decade) matters: heel-strike motion artefacts (5-15 Hz) pass a single
   section at -8 dB and fire the gastrocnemius trigger ~50 ms before its onset.
2. **Rectify**: ``r = |y|``.
3. **Envelope**: one-pole low-pass ``env += (r - env) * 2**-env_shift``.
   ``env_shift = 4`` is a time constant of 16 samples = 32 ms. A one-pole
   envelope reacts to a burst from its first sample (a moving average of the same
   smoothing waits for half its window); 16 ms (``env_shift = 3``) was faster
   still but doubled the false bursts on the synthetic cohort (``make bench``).
4. **Noise floor**: ``floor += (env - floor) * 2**-s`` where the step ``s`` is

   * ``warmup_shift`` (fast, 32 ms) during the first ``warmup_samples`` samples
     after reset, while the trigger is held at 0 (there is no floor yet);
   * ``floor_down_shift`` (64 ms) whenever ``env < floor`` -- the floor follows
     the envelope down quickly, so it settles on the low part of the envelope,
     i.e. the noise between bursts;
   * ``floor_up_shift`` (512 ms) when ``env >= floor`` and the trigger is off;
   * ``floor_on_shift`` (4 s) while the trigger is on: bursts pull the floor up
     only slowly (a running mean of the whole envelope would sit inside the
     bursts and fire late, see ``emg-onset-notes.md``). Not freezing it has two
     uses, both measured on data: the off-level climbs a little during a long
     burst, which halves the release lag (offset delay 77 -> 36 ms median on the
     synthetic cohort, duty-cycle bias +5.8 -> +3.2 points); and a channel whose
     baseline steps up for good (seen in UCI ``8Amar``) cannot stay on forever.
     The price: a tonic contraction held for more than ~3 s fades to "relaxed".

5. **Dynamic threshold with hysteresis**: on-level ``max(k_on*floor, min_level)``,
   off-level ``max(k_off*floor, min_level)`` with ``k_on = on_gain/16`` and
   ``k_off = off_gain/16``. Being relative to the floor, the trigger does not
   care about the 10x gain differences between electrodes; ``min_level`` keeps a
   flat-line (dead) channel silent.
6. **Minimum durations**: the trigger switches on at the first sample with
   ``env > on-level`` -- there is no confirmation delay -- but only if it has been
   off for at least ``min_off`` samples; it switches off at the first sample with
   ``env < off-level`` once it has been on for ``min_on`` samples. Chatter
   therefore never produces bursts or gaps shorter than 30 ms, and the minimum
   durations add no latency to the onset.

Warm-up: for ``warmup_samples`` (512 ms) after reset the trigger output is 0 and
the floor tracks the envelope quickly. A recording that starts mid-burst may
therefore miss its first onset; strides start at the first onset after warm-up.

Offsets lag more than onsets: the envelope must decay below the off-level
(median 36 ms on the synthetic cohort), which lengthens contraction times and
co-contractions by a few tens of ms. ``make bench`` prints the figures.

Integer arithmetic (what the gateware does)
-------------------------------------------
Widths are the register widths ``*_reg`` of :class:`TriggerWidths` for 16-bit samples and
the default parameters: the narrowest that hold each register's proven extremes (bounds and
proofs in :class:`TriggerWidths`), so that no register can overflow. All shifts are
arithmetic (floor towards -inf), as in Amaranth's ``>>`` on signed
values. ``F = frac_bits`` fractional bits are carried from the high-pass on.

======== ============================================== =======================
name     update                                         format
======== ============================================== =======================
x        input sample                                   signed 16 (ADC counts)
x1       previous input                                 signed 16
h        ``((x - x1) << F) + h - (h >> hp_shift)``      signed, Q.F (21 bit)
h1       previous ``h``                                 signed, Q.F (21 bit)
y        ``(h - h1) + y - (y >> hp_shift)``             signed, Q.F (22 bit)
r        ``|y|``                                        unsigned, Q.F (21 bit)
eacc     ``eacc + r - (eacc >> env_shift)``             unsigned (25 bit)
env      ``eacc >> env_shift``                          unsigned, Q.F (21 bit)
facc     ``facc + (env << (G - s)) - (facc >> s)``      unsigned (32 bit)
floor    ``facc >> G`` (``G = floor_on_shift``)         unsigned, Q.F (21 bit)
on-lvl   ``max((floor * on_gain) >> 4, min_level)``     unsigned, Q.F
off-lvl  ``max((floor * off_gain) >> 4, min_level)``    unsigned, Q.F
cnt      samples since last transition, saturating      unsigned
======== ============================================== =======================

Decisions in one step use the floor of the *previous* step; the floor update
then uses this step's envelope and this step's trigger.
"""

from dataclasses import asdict, dataclass

import numpy as np
from scipy import signal

__all__ = ["TriggerParams", "TriggerWidths", "trigger_float", "trigger_bitexact",
           "FLOAT_BOUND", "MODEL_BITS"]

#: widest register (bits) the int64 bit-exact model can hold with room for one addition;
#: :meth:`TriggerWidths.of` rejects parameter sets that need more
MODEL_BITS = 62


@dataclass(frozen=True)
class TriggerParams:
    """Parameters of the dynamic-threshold trigger (see module docstring).

    All values are integers shared verbatim by the gateware and both models.
    """
    #: high-pass pole ``a = 1 - 2**-hp_shift`` (2 -> 0.75, -3 dB at 23 Hz @ 500 Hz)
    hp_shift: int = 2
    #: fractional bits carried after the high-pass
    frac_bits: int = 4
    #: envelope time constant ``2**env_shift`` samples (4 -> 32 ms)
    env_shift: int = 4
    #: floor rise time constant when the trigger is off (8 -> 512 ms)
    floor_up_shift: int = 8
    #: floor rise time constant while the trigger is on (11 -> 4.1 s); also the
    #: number of fractional bits of the floor accumulator
    floor_on_shift: int = 11
    #: floor fall time constant when env < floor (5 -> 64 ms)
    floor_down_shift: int = 5
    #: floor time constant during warm-up (4 -> 32 ms)
    warmup_shift: int = 4
    #: warm-up length after reset, samples (256 -> 512 ms)
    warmup_samples: int = 256
    #: on-level gain over the floor, in 1/16 (40 -> 2.5x)
    on_gain: int = 40
    #: off-level gain over the floor, in 1/16 (28 -> 1.75x)
    off_gain: int = 28
    #: lowest on/off level, Q.frac_bits ADC counts (64 -> 4 counts)
    min_level: int = 64
    #: minimum burst length, samples (15 -> 30 ms)
    min_on: int = 15
    #: minimum gap between bursts, samples (15 -> 30 ms)
    min_off: int = 15

    def __post_init__(self):
        for name, value in asdict(self).items():
            if not isinstance(value, int) or isinstance(value, bool) or value < 0:
                raise ValueError(f"TriggerParams.{name} must be a non-negative "
                                 f"integer, not {value!r}")
        if not 1 <= self.hp_shift <= 8:
            raise ValueError(f"hp_shift must be in 1..8, not {self.hp_shift}")
        if not 1 <= self.env_shift <= 10:
            raise ValueError(f"env_shift must be in 1..10, not {self.env_shift}")
        for name in ("floor_down_shift", "warmup_shift", "floor_up_shift"):
            if not 1 <= getattr(self, name) <= self.floor_on_shift:
                raise ValueError(f"{name} must be in 1..floor_on_shift "
                                 f"({self.floor_on_shift}), not {getattr(self, name)}")
        if self.floor_on_shift > 16:
            raise ValueError(f"floor_on_shift must be at most 16, not {self.floor_on_shift}")
        if not 0 < self.off_gain <= self.on_gain < 256:
            raise ValueError("need 0 < off_gain <= on_gain < 256, not "
                             f"off_gain={self.off_gain}, on_gain={self.on_gain}")
        if self.min_on < 1 or self.min_off < 1:
            raise ValueError("min_on and min_off must be at least 1 sample")


def _signed_bits(lo, hi):
    """Width of the narrowest two's-complement register holding every integer in [lo, hi]."""
    return max(hi.bit_length(), (-lo - 1).bit_length()) + 1


@dataclass(frozen=True)
class TriggerWidths:
    """Proven register bounds and widths for a parameter set and a sample width.

    Two sets of widths live here:

    * the **register widths** ``*_reg`` the gateware builds (and the model checks its peaks
      against), computed from proven extremes ``h_lo .. facc_max`` (below);
    * the **budget widths** ``h, y, r, eacc, env, facc`` (looser closed forms: each high-pass
      section taken as ``hp_shift + 1`` bits of gain over its input). Validation is stated in
      them alone -- the int64 limit :data:`MODEL_BITS` and the ``min_level`` limit -- so the
      set of accepted parameters does not depend on the proof. Every register width is at
      most its budget width.

    Notes
    -----
    Bounds (``S = sample_width``, ``F = frac_bits``, ``k = hp_shift``, ``e = env_shift``,
    ``G = floor_on_shift``; every run starts from the all-zero state). A section
    ``v[n] = u[n] - u[n-1] + v[n-1] - (v[n-1] >> k)`` with ``u[-1] = 0`` is, since
    ``v - (v >> k) = a*v + {v / 2**k}`` (``a = 1 - 2**-k``, fractional part in
    ``[0, 1 - 2**-k]``), the linear filter plus an error ``g[n] = a*g[n-1] + {.}`` in
    ``[0, 2**k - 1]``; the linear part telescopes to ``u[n] - (1-a) * sum_j a**(j-1) u[n-j]``:
    ``u[n]`` minus a weighted mean of the past inputs with weights summing to at most 1 (and
    0 lies in ``u``'s range), so it lies in ``[u_lo - u_hi, u_hi - u_lo]``.

    * ``h`` (input ``u = x << F``, ``x`` in ``[-2**(S-1), 2**(S-1) - 1]``):
      ``h_lo = -(2**S - 1) << F``, ``h_hi = ((2**S - 1) << F) + 2**k - 1``;
    * ``y`` (input ``u = h``): ``y_lo = h_lo - h_hi``, ``y_hi = h_hi - h_lo + 2**k - 1``;
    * ``r = |y| <= r_max = y_hi`` (``-y_lo <= y_hi``);
    * ``eacc' = r + f(eacc)`` with ``f(v) = v - (v >> e)`` non-decreasing and
      ``r_max + f(E) = E`` for ``E = eacc_max = ((r_max + 1) << e) - 1``: by induction
      ``eacc <= eacc_max``, so ``env = eacc >> e <= r_max``;
    * ``facc' = facc - (facc >> s) + (env << (G - s))`` for any step ``1 <= s <= G``: with
      ``F_max = facc_max = ((r_max + 1) << G) - 1``, ``F_max - (F_max >> s) + (r_max << (G - s))
      = F_max + 1 - 2**(G - s) <= F_max``, so ``facc <= facc_max`` and ``floor <= r_max``;
    * ``eacc`` and ``facc`` never go negative (``f(v) >= 0`` for ``v >= 0``, addends ``>= 0``);
    * the levels ``(floor * gain) >> 4 < 2**(env_reg + 4)`` (``gain < 256``).

    For 16-bit samples and the default parameters: ``h`` 21, ``y`` 22, ``r``/``env``/floor
    21, ``eacc`` 25, ``facc`` 32 bits (budget: 24, 29, 28, 32, 39). ``trigger_bitexact`` asserts
    every peak against these bounds on every run.
    """
    sample: int
    h: int        # budget widths (validation only, see above)
    y: int
    r: int
    eacc: int
    env: int
    facc: int
    cnt: int      # hold counter (exact: 0 .. max(min_on, min_off))
    warm: int
    h_lo: int     # proven extremes (inclusive)
    h_hi: int
    y_lo: int
    y_hi: int
    r_max: int    # also the largest env and floor
    eacc_max: int
    facc_max: int
    h_reg: int    # register widths built by hdl.emg_trigger: h, y signed, the rest unsigned
    y_reg: int
    r_reg: int
    eacc_reg: int
    env_reg: int  # env and floor
    facc_reg: int

    @classmethod
    def of(cls, params, sample_width=16):
        # budget: |x - x1| < 2**sample_width and a section's impulse response sums to
        # 1 + (1-a)/(1-a) = 2 in absolute value (+ rounding), so each section
        # needs hp_shift + 1 more bits than its input difference.
        h = sample_width + params.frac_bits + params.hp_shift + 2
        r = h + params.hp_shift + 2
        env = r
        # proven extremes (class docstring)
        rnd = (1 << params.hp_shift) - 1
        h_lo = -(((1 << sample_width) - 1) << params.frac_bits)
        h_hi = -h_lo + rnd
        y_lo, y_hi = h_lo - h_hi, h_hi - h_lo + rnd
        r_max = y_hi
        eacc_max = ((r_max + 1) << params.env_shift) - 1
        facc_max = ((r_max + 1) << params.floor_on_shift) - 1
        w = cls(sample=sample_width, h=h, y=r + 1, r=r, eacc=r + params.env_shift,
                env=env, facc=env + params.floor_on_shift,
                cnt=max(params.min_on, params.min_off).bit_length(),
                warm=max(params.warmup_samples, 1).bit_length(),
                h_lo=h_lo, h_hi=h_hi, y_lo=y_lo, y_hi=y_hi, r_max=r_max,
                eacc_max=eacc_max, facc_max=facc_max,
                h_reg=_signed_bits(h_lo, h_hi), y_reg=_signed_bits(y_lo, y_hi),
                r_reg=r_max.bit_length(), eacc_reg=eacc_max.bit_length(),
                env_reg=r_max.bit_length(), facc_reg=facc_max.bit_length())
        # the bit-exact model computes in int64: a register plus an addend must stay below 2**63
        bits = max(w.facc, w.eacc, w.env + 8, w.cnt)
        if bits > MODEL_BITS:
            raise ValueError(
                f"TriggerParams with sample_width={sample_width}, frac_bits={params.frac_bits}, "
                f"hp_shift={params.hp_shift}, env_shift={params.env_shift}, floor_on_shift="
                f"{params.floor_on_shift}, min_on/min_off={max(params.min_on, params.min_off)} "
                f"need {bits}-bit registers; the bit-exact model holds at most {MODEL_BITS}: "
                "lower sample_width, frac_bits, hp_shift, env_shift, floor_on_shift, min_on or "
                "min_off")
        if params.min_level >= 1 << env:
            raise ValueError(f"min_level must be below 2**{env} (the envelope's range at "
                             f"sample_width={sample_width}), not {params.min_level}: no channel "
                             "could ever trigger")
        return w


#: Documented agreement between the bit-exact and the float model, checked by
#: ``tests/test_emg_trigger_model.py`` on synthetic walks:
#: the envelope differs by at most ``env_abs`` ADC counts plus ``env_rel`` of its
#: value; at least ``edge_match`` of the trigger edges of one model have an edge
#: of the other within ``edge_tol`` samples (decisions near the threshold may
#: flip a sample early or late when both models sit within an LSB of it).
FLOAT_BOUND = dict(env_abs=1.0, env_rel=0.002, edge_tol=2, edge_match=0.98)


def _as_samples(x, sample_width=16):
    x = np.asarray(x)
    if x.ndim == 1:
        x = x[:, None]
    if x.ndim != 2:
        raise ValueError(f"samples must be a (n_samples, n_channels) array, not shape {x.shape}")
    if not np.issubdtype(x.dtype, np.integer):
        raise ValueError(f"samples must be integers (ADC counts), not {x.dtype}")
    lo, hi = -(1 << (sample_width - 1)), (1 << (sample_width - 1)) - 1
    if x.size and (x.min() < lo or x.max() > hi):
        raise ValueError(f"samples exceed the signed {sample_width}-bit range")
    return x.astype(np.int64)


def trigger_bitexact(x, params=TriggerParams(), sample_width=16, present=None,
                     return_state=False):
    """Bit-exact integer model of :class:`hdl.emg_trigger.EMGTrigger`.

    Parameters
    ----------
    x : array_like of int, shape (n_samples, n_channels)
        ADC counts, signed ``sample_width`` bit.
    params : TriggerParams
    present : array_like of bool, shape (n_channels,), optional
        Channels marked absent have their trigger forced to 0 (the datapath still
        runs on them, as in the gateware).
    return_state : bool
        Also return a dict of per-sample internal signals, each of shape
        ``(n_samples, n_channels)``: ``env`` and ``floor`` (as the decisions of that
        sample saw them) and the registers after that sample, ``h``, ``y``, ``eacc``,
        ``facc`` (their peaks over the run are what :class:`TriggerWidths` must hold).

    Raises :class:`AssertionError` if any register leaves its proven range or its register
    width (:class:`TriggerWidths` ``*_lo``/``*_hi``/``*_max`` and ``*_reg``) at any sample of
    the run (the proofs make this impossible).

    Returns
    -------
    trig : ndarray of uint8, shape (n_samples, n_channels)
    """
    x = _as_samples(x, sample_width)
    p = params
    w = TriggerWidths.of(p, sample_width)
    n, nch = x.shape
    F, G = p.frac_bits, p.floor_on_shift
    present = np.ones(nch, bool) if present is None else np.asarray(present, bool)
    x1 = np.zeros(nch, np.int64)
    h = np.zeros(nch, np.int64)
    h1 = np.zeros(nch, np.int64)
    y = np.zeros(nch, np.int64)
    eacc = np.zeros(nch, np.int64)
    facc = np.zeros(nch, np.int64)
    trig = np.zeros(nch, bool)
    cmax = max(p.min_on, p.min_off)
    cnt = np.full(nch, cmax, np.int64)
    out = np.zeros((n, nch), np.uint8)
    names = ("env", "floor", "h", "y", "eacc", "facc")
    if return_state:
        st = {k: np.zeros((n, nch), np.int64) for k in names}
    lo = {k: np.zeros(nch, np.int64) for k in ("h", "y")}     # whole-run extremes
    hi = {k: np.zeros(nch, np.int64) for k in ("h", "y", "eacc", "facc")}
    for i in range(n):
        xi = x[i]
        h = ((xi - x1) << F) + h - (h >> p.hp_shift)
        y = (h - h1) + y - (y >> p.hp_shift)
        x1 = xi
        h1 = h
        r = np.abs(y)
        eacc = eacc + r - (eacc >> p.env_shift)
        env = eacc >> p.env_shift
        floor = facc >> G
        warm = i < p.warmup_samples
        on_lvl = np.maximum((floor * p.on_gain) >> 4, p.min_level)
        off_lvl = np.maximum((floor * p.off_gain) >> 4, p.min_level)
        c = np.minimum(cnt + 1, cmax)
        if warm:
            new = np.zeros(nch, bool)
            cnt = np.full(nch, cmax, np.int64)
        else:
            go_on = ~trig & (env > on_lvl) & (c >= p.min_off)
            go_off = trig & (env < off_lvl) & (c >= p.min_on)
            new = (trig | go_on) & ~go_off
            cnt = np.where(go_on | go_off, 0, c)
        if warm:
            s = np.full(nch, p.warmup_shift)
        else:
            s = np.where(env < floor, p.floor_down_shift,
                         np.where(new, p.floor_on_shift, p.floor_up_shift))
        facc = facc + (env << (G - s)) - (facc >> s)
        trig = new
        out[i] = new & present
        for k, v in (("h", h), ("y", y)):
            np.minimum(lo[k], v, out=lo[k])
        for k, v in (("h", h), ("y", y), ("eacc", eacc), ("facc", facc)):
            np.maximum(hi[k], v, out=hi[k])
        if return_state:
            for k, v in zip(names, (env, floor, h, y, eacc, facc)):
                st[k][i] = v
    peak = {k: (int(lo[k].min(initial=0)) if k in lo else 0, int(hi[k].max(initial=0)))
            for k in hi}
    for k in ("h", "y"):                # signed registers; eacc and facc never go negative
        if not getattr(w, k + "_lo") <= peak[k][0] <= peak[k][1] <= getattr(w, k + "_hi"):
            raise AssertionError(f"register {k} leaves its proven range: {peak[k]}")
        bits = getattr(w, k + "_reg")
        if peak[k][0] < -(1 << (bits - 1)) or peak[k][1] >= 1 << (bits - 1):
            raise AssertionError(f"high-pass register {k} overflows signed {bits} bit")
    for k in ("eacc", "facc"):
        if peak[k][1] > getattr(w, k + "_max"):
            raise AssertionError(f"register {k} exceeds its proven bound: {peak[k][1]}")
        bits = getattr(w, k + "_reg")
        if peak[k][1] >= 1 << bits:
            raise AssertionError(f"register {k} overflows unsigned {bits} bit")
    if return_state:
        return out, st
    return out


def trigger_float(x, params=TriggerParams(), present=None, return_state=False):
    """Float reference of the trigger algorithm (same decisions, real arithmetic).

    High-pass and envelope are :func:`scipy.signal.lfilter` IIR filters; the floor
    tracker and the hysteresis state machine run on float values. Inputs are in
    ADC counts; ``env`` and ``floor`` come back in ADC counts (the bit-exact
    model's values divided by ``2**frac_bits``).
    """
    x = np.asarray(x, float)
    if x.ndim == 1:
        x = x[:, None]
    if not np.all(np.isfinite(x)):
        raise ValueError("samples contain NaN or infinity")
    p = params
    n, nch = x.shape
    present = np.ones(nch, bool) if present is None else np.asarray(present, bool)
    a = 1.0 - 2.0 ** -p.hp_shift
    y = signal.lfilter([1.0, -1.0], [1.0, -a], x, axis=0)
    y = signal.lfilter([1.0, -1.0], [1.0, -a], y, axis=0)
    ae = 2.0 ** -p.env_shift
    env = signal.lfilter([ae], [1.0, -(1.0 - ae)], np.abs(y), axis=0)
    k_on, k_off = p.on_gain / 16, p.off_gain / 16
    min_level = p.min_level / 2 ** p.frac_bits
    floor = np.zeros(nch)
    trig = np.zeros(nch, bool)
    cmax = max(p.min_on, p.min_off)
    cnt = np.full(nch, cmax)
    out = np.zeros((n, nch), np.uint8)
    st_floor = np.zeros((n, nch))
    a_w, a_d, a_u, a_o = (2.0 ** -p.warmup_shift, 2.0 ** -p.floor_down_shift,
                          2.0 ** -p.floor_up_shift, 2.0 ** -p.floor_on_shift)
    for i in range(n):
        e = env[i]
        warm = i < p.warmup_samples
        st_floor[i] = floor
        c = np.minimum(cnt + 1, cmax)
        if warm:
            new = np.zeros(nch, bool)
            cnt = np.full(nch, cmax)
            alpha = np.full(nch, a_w)
        else:
            go_on = ~trig & (e > np.maximum(k_on * floor, min_level)) & (c >= p.min_off)
            go_off = trig & (e < np.maximum(k_off * floor, min_level)) & (c >= p.min_on)
            new = (trig | go_on) & ~go_off
            cnt = np.where(go_on | go_off, 0, c)
            alpha = np.where(e < floor, a_d, np.where(new, a_o, a_u))
        floor = floor + alpha * (e - floor)
        trig = new
        out[i] = new & present
    if return_state:
        return out, dict(env=env, floor=st_floor)
    return out
