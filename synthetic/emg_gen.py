"""Seeded synthetic gait sEMG generator with exact ground truth.

Generates what the 8 wireless sEMG nodes of the wearing-off tracker deliver
(paper §3.1: lateral gastrocnemius LG, tibialis anterior TA, biceps femoris BF,
rectus femoris RF on both legs; 500 Hz; 16-bit) during a 10-m walk, as int16
ADC counts in the channel order of :data:`spec.channels.EMG_CHANNELS`
(``L_LG, L_TA, L_BF, L_RF, R_LG, R_TA, R_BF, R_RF``), together with the exact
activation intervals, heel strikes and per-stride muscular indexes (paper
§3.2) it was built from.  It exists to measure onset detectors and the stride
index extractor against a known truth.

Everything is reproducible: :func:`generate_walk` draws every random number
from ``np.random.default_rng(seed)``; :func:`make_subject` from
``np.random.default_rng([seed, 1])`` so that a subject and a walk made from
the same integer are not the same random stream.

Definitions (the truth)
-----------------------
* **Burst / activation interval** ``[onset, offset)`` in samples.  The
  activation envelope is exactly zero outside it and non-zero on every sample
  inside it: the **true onset is the first sample of the raised-cosine
  rise ramp** (the start of the envelope ramp), the offset is one past the
  last sample of the fall ramp.  Ramps last 5-10 samples (10-20 ms).
* **Stride** (paper §3.2, per leg): from one LG onset (initial single
  support; the trigger the paper uses for stride segmentation) to the next
  LG onset of the same leg.  Per complete stride: ``stride_time_ms``;
  ``{m}_contraction_ms`` = samples of the stride in which muscle ``m`` is
  active x 2 ms; ``{m}_relaxation_ms`` = stride - contraction;
  ``{m}_duty_pct`` = 100 x contraction / stride; ``cocon_LG_TA_ms`` /
  ``cocon_BF_RF_ms`` = samples in which both muscles of the pair are active
  x 2 ms.  These are computed from the integer activation masks actually
  rendered, so they are exact (2 ms resolution, as in the paper).
* **Heel strike**: 6 % of the stride before the LG onset (Perry: gastrocnemius
  is active from 6 % of the gait cycle that starts at initial contact).

Timing model (per leg, stride frame starting at the LG onset, stride T)
-----------------------------------------------------------------------
Normative phases are Perry's (Perry & Burnfield, *Gait Analysis: Normal and
Pathological Function*, 2nd ed., 2010; % of the heel-strike cycle): TA
0-9 % and 54-100 %, gastrocnemius 6-48 %, RF 55-66 %, BF 0-5 % and 79-100 %.
Shifted to the LG-onset frame (-6 %) that gives LG from 0, TA across the
stride boundary (late swing -> early stance), BF in late swing ending just
before the LG onset, RF in mid-swing.  Durations and overlaps, however, are
calibrated to the paper's Parkinsonian values, which are much longer than
Perry's (RF 56 % instead of 11 %; large co-contractions):

* LG:  ``[0, dLG*T)``.
* TA:  one burst per stride that straddles the boundary: it switches on at
  ``a_k = T_k - dTA_k*T_k + cLT_k`` and stays on until ``cLT_{k+1}`` after the
  next LG onset.  Inside stride k TA is therefore active on ``[0, cLT_k)`` and
  ``[a_k, T_k)``: total exactly ``dTA_k*T_k``, overlap with LG exactly
  ``cLT_k`` (the LG-TA co-contraction).  Mean a ~ 47 % (Perry: 48 %).
* BF:  ends ``eBF`` (~1 % of T, Perry: BF stops 5 % after heel strike, i.e.
  1 % before the LG onset) before the next LG onset and lasts ``dBF*T``
  (so it starts at ~75.7 % of the stride).
* RF:  ends ``cBR`` after the BF onset and lasts ``dRF*T`` (so RF spans
  ~40.7-97 %); its overlap with BF is exactly ``cBR`` (the BF-RF
  co-contraction) as long as ``cBR <= dBF*T``.

Every draw is clipped to a feasible range (bursts >= 50 ms, TA never
overlaps LG except by ``cLT``, BF starts after LG ends, RF starts inside
its stride, co-contraction <= the shorter burst), so intervals never invert
and bursts of the same muscle never touch.  Each muscle has exactly one burst
per stride.  Rendered per leg: the TA burst of the step before the first
stride (walk initiation), ``n_strides`` complete strides, and the LG burst that
closes the last stride.  The right leg's LG onsets sit at the midpoint of the
corresponding left stride plus a subject offset and stride-level jitter
(half a stride out of phase, own variability, no drift between legs).

Targets (class :class:`Condition`, paper numbers; Pre L-dopa = OFF,
Post L-dopa = ON):

==================  ==================  ==================  ===============
quantity            Pre                 Post                source
==================  ==================  ==================  ===============
stride time         1092 +/- 72.01 ms   1044 +/- 34.49 ms   §4.2.1
co-con LG-TA        113.5 +/- 32.12 ms  96.2 +/- 29.19 ms   §4.2.1
co-con BF-RF        232.5 +/- 50.04 ms  202.14 +/- 17 ms    §4.2.1
duty LG             24.78 +/- 3.7 %     24.34 %             Table 1 / §4.2.1
duty TA             63.48 +/- 5.44 %    63.49 %             Table 1 / §4.2.1
duty BF             23.31 +/- 2.42 %    23.54 %             Table 1 / §4.2.1
duty RF             56.29 +/- 5.49 %    57.49 %             Table 1 / §4.2.1
==================  ==================  ==================  ===============

Notes on the sources: §4.2.1 (testing set, Pre) reports "TA 56.33 +/- 5.44 %,
RF 63.48 +/- 5.49 %": the TA and RF duty-cycle values are swapped relative to
Table 1 (TA 63.48 %, RF 56.29 %).  We follow Table 1 for the means and keep
each spread with its muscle as printed in §4.2.1 (TA 5.44, RF 5.49).  Table 1
(training set) gives slightly different stride times / co-contractions
(1081.09 / 1044.64 ms, LG-TA 113.74 / 106.16 ms, BF-RF 232.51 / 228.02 ms); we
use §4.2.1 because it also gives spreads.  The paper reports no Post spreads
for the duty cycles; we reuse the Pre ones except BF (1.5 %, assumption:
with 2.42 % the BF burst alone would vary more than the 17 ms SD the paper
reports for the Post BF-RF co-contraction, which it bounds).

Variance split (assumption; the paper only gives pooled spreads).  Severity
(paper §4.1: Hoehn & Yahr 3 = "mild", 4 = "severe") shifts the means of the
two co-contractions and of the BF duty cycle by -0.3 SD (mild) / +0.6 SD
(severe): longer co-contraction, carried by prolonged hamstring (BF) bursts so
that it still fits inside BF.  The shifts cancel in the 2 mild : 1 severe mix
of the paper's training set (Table 3), for which the population means equal
the targets, and take 2 x 0.3^2 = 18 % of those variances.  Of the remaining
variance ``subject_var_frac`` (35 %) is between subjects (a per-subject,
per-leg standard-normal deviate ``z``; the same :class:`Subject` keeps its
``z`` Pre and Post) and the rest stride-to-stride (i.i.d. normal), whose SD is
multiplied by 0.9 (mild) / 1.2 (severe): more stride variability when severe.

Because the Pre BF-RF co-contraction (232.5 ms) is only ~22 ms shorter than
the BF burst (23.31 % of 1092 ms = 254.5 ms), yet has a larger spread, the
clip ``cBR <= BF burst`` removes part of its upper tail.  The nominal mean of
``cBR`` is therefore raised by a deterministic calibration
(:func:`_calibration`: 2 mild : 1 severe population of antithetic subject
pairs, fixed internal seed; +16.6 ms Pre, 0 Post) so that the *realised*
population mean matches the target.  The realised pooled SD of the Pre BF-RF
co-contraction is lower than the paper's (about 36 vs 50 ms): that spread is
not reachable while co-contraction <= BF burst.  Realised population values
(many subjects, 2:1 mix) match every other mean to < 0.1 ms / 0.02 %, and
the SDs to within ~10 %.

Signal model (per channel, in microvolts, then ADC)
---------------------------------------------------
* Carrier: white Gaussian noise band-passed 20-150 Hz (4th-order
  Butterworth), unit RMS -- the dominant sEMG band (De Luca 1997, "The use of
  surface electromyography in biomechanics", J Appl Biomech 13:135).
* Envelope: per burst a plateau with raised-cosine ramps of 5-10 samples
  (10-20 ms) starting at the true onset; burst amplitude = channel amplitude
  x lognormal(0, 0.25) burst-to-burst; a slow (< 3 Hz) within-burst
  modulation ``exp(0.25 * n(t))``.
* Channel amplitude (burst RMS): log-uniform 50-500 uV per channel and
  subject (electrode placement / adipose tissue: up to 10x between channels).
* Crosstalk: each channel adds ``k`` x its neighbour's muscle signal on the
  same leg (LG<->TA on the shank, BF<->RF on the thigh), ``k`` uniform
  1-5 % per direction (volume conduction; cf. De Luca et al. 2012, J Biomech
  45:555).  The truth is the channel's own muscle only: crosstalk is a
  confounder, not an activation.
* Sensor noise floor: white Gaussian, 3-10 uV RMS per channel.
* Baseline wander: 3 sinusoids at 0.1-1 Hz, total RMS 20-200 uV per
  channel (peaks up to ~0.5 mV), plus a DC offset of +/-100 uV.
* Mains: 50 Hz (+/-0.05 Hz, one frequency per walk), peak amplitude
  0-30 uV per channel, random phase.
* With ``artefacts=True``: motion artefacts at heel strike of each leg with a
  per-subject probability of 5-25 % per stride: ``A exp(-t/tau)
  sin(2 pi f t)``, f 5-15 Hz, tau 20-60 ms, A 0.3-1.5 mV on the shank
  channels (LG, TA) and 30-60 % of that on the thigh (BF, RF) -- below the
  20 Hz corner recommended by De Luca et al. 2010 (J Biomech 43:1573) for
  movement artefact.  With probability 1/2 one channel (chosen among those
  whose bursts stand well above their baseline) gets a front-end gain 2-64x
  too high, so that some bursts drive it into the int16 rails
  (``Walk.clipped``).
* ADC: nominal 0.5 uV/LSB (16 bits -> +/-16.4 mV full scale), round to
  nearest, saturate to int16.  ``Walk.uv_per_lsb`` gives the factor per
  channel (``0.5 / gain`` on the high-gain channel).
* Each recording has 1.0 s before the first burst and 0.5 s after the last
  one (standing still: noise, wander and mains only).
"""

from __future__ import annotations

from dataclasses import dataclass, fields, replace
from functools import lru_cache

import numpy as np
from scipy import signal

from spec.channels import EMG_CHANNELS, FS, LEGS, MUSCLES, SAMPLE_MS

__all__ = ["Condition", "PRE", "POST", "CONDITIONS", "Subject", "make_subject",
           "Walk", "generate_walk", "UV_PER_LSB", "SEVERITIES"]

#: Nominal ADC resolution, microvolts per LSB (16 bit -> +/-16.38 mV).
UV_PER_LSB = 0.5
#: Severity levels accepted by :func:`make_subject` (paper §4.1: H&Y 3 / 4).
SEVERITIES = ("mild", "severe")

_N_CH = len(EMG_CHANNELS)
_INT16_MAX = 32767
_INT16_MIN = -32768
_LEAD_IN = FS          # 1.0 s of quiet before the first burst
_LEAD_OUT = FS // 2    # 0.5 s after the last burst
_MIN_BURST = 25        # samples (50 ms): shortest burst the clipping allows
_HS_LEAD = 0.06        # heel strike precedes the LG onset by 6 % of the stride

# Severity effects (see module docstring).  Mix 2 mild : 1 severe -> 1.
# Mean shifts in units of the pooled SD: mild -a, severe +2a (2:1 mix -> 0,
# variance 2 a^2), applied to the co-contractions and the BF duty cycle.
_SEV_A = 0.3
_SEV_SHIFT = {"mild": -_SEV_A, "severe": 2 * _SEV_A}
# Stride-level SD factors (variance mix (2 x 0.81 + 1.44) / 3 = 1.02).
_SEV_SD = {"mild": 0.9, "severe": 1.2}


@dataclass(frozen=True)
class Condition:
    """Gait timing targets of one medication state (means and pooled SDs).

    All SDs are pooled over subjects and strides, as the paper reports them;
    ``subject_var_frac`` splits them.  Percentages are of the stride time.
    """
    #: Label stored in :attr:`Walk.condition`.
    name: str
    #: Mean stride time, ms (§4.2.1).
    stride_ms: float
    #: Stride time SD, ms (§4.2.1).
    stride_sd_ms: float
    #: LG duty cycle mean, % (Table 1).
    duty_lg_pct: float
    #: LG duty cycle SD, % (§4.2.1, Pre).
    duty_lg_sd_pct: float
    #: TA duty cycle mean, % (Table 1; §4.2.1 swaps TA/RF).
    duty_ta_pct: float
    #: TA duty cycle SD, % (§4.2.1, Pre).
    duty_ta_sd_pct: float
    #: BF duty cycle mean, % (Table 1).
    duty_bf_pct: float
    #: BF duty cycle SD, % (§4.2.1 Pre; Post: assumption, see module doc).
    duty_bf_sd_pct: float
    #: RF duty cycle mean, % (Table 1; §4.2.1 swaps TA/RF).
    duty_rf_pct: float
    #: RF duty cycle SD, % (§4.2.1, Pre).
    duty_rf_sd_pct: float
    #: LG-TA co-contraction mean, ms (§4.2.1).
    cocon_lgta_ms: float
    #: LG-TA co-contraction SD, ms (§4.2.1).
    cocon_lgta_sd_ms: float
    #: BF-RF co-contraction mean, ms (§4.2.1).
    cocon_bfrf_ms: float
    #: BF-RF co-contraction SD, ms (§4.2.1).
    cocon_bfrf_sd_ms: float
    #: Share of every variance that is between subjects (assumption).
    subject_var_frac: float = 0.35
    #: Gap between BF offset and the next LG onset, % (Perry: BF ends 5 % after
    #: heel strike = 1 % before the gastrocnemius onset at 6 %).
    bf_end_gap_pct: float = 1.0
    #: SD of that gap, % (assumption).
    bf_end_gap_sd_pct: float = 0.5
    #: Stride-level SD of the right LG onset around the midpoint of the left
    #: stride, ms (assumption: ~1.5 % of the stride; PD phase coordination).
    lr_phase_sd_ms: float = 15.0
    #: Between-subject SD of the mean left/right phase offset, ms (assumption).
    lr_phase_subject_sd_ms: float = 15.0

    def validate(self):
        """Raise ValueError if a parameter is out of its physical range."""
        for f in fields(self):
            v = getattr(self, f.name)
            if f.name == "name":
                if not isinstance(v, str):
                    raise ValueError("Condition.name must be a string")
                continue
            if not np.isfinite(v) or v < 0:
                raise ValueError(f"Condition.{f.name} must be finite and >= 0, got {v!r}")
        if not 300 <= self.stride_ms <= 3000:
            raise ValueError(f"Condition.stride_ms={self.stride_ms} outside 300..3000 ms")
        for m in ("lg", "ta", "bf", "rf"):
            d = getattr(self, f"duty_{m}_pct")
            if not 5 <= d <= 90:
                raise ValueError(f"Condition.duty_{m}_pct={d} outside 5..90 %")
        if self.subject_var_frac > 1:
            raise ValueError("Condition.subject_var_frac must be in [0, 1]")


#: Pre L-dopa (OFF state).
PRE = Condition(name="pre", stride_ms=1092.0, stride_sd_ms=72.01,
                duty_lg_pct=24.78, duty_lg_sd_pct=3.7,
                duty_ta_pct=63.48, duty_ta_sd_pct=5.44,
                duty_bf_pct=23.31, duty_bf_sd_pct=2.42,
                duty_rf_pct=56.29, duty_rf_sd_pct=5.49,
                cocon_lgta_ms=113.5, cocon_lgta_sd_ms=32.12,
                cocon_bfrf_ms=232.5, cocon_bfrf_sd_ms=50.04)
#: Post L-dopa (ON state).
POST = Condition(name="post", stride_ms=1044.0, stride_sd_ms=34.49,
                 duty_lg_pct=24.34, duty_lg_sd_pct=3.7,
                 duty_ta_pct=63.49, duty_ta_sd_pct=5.44,
                 duty_bf_pct=23.54, duty_bf_sd_pct=1.5,
                 duty_rf_pct=57.49, duty_rf_sd_pct=5.49,
                 cocon_lgta_ms=96.2, cocon_lgta_sd_ms=29.19,
                 cocon_bfrf_ms=202.14, cocon_bfrf_sd_ms=17.0)
CONDITIONS = {"pre": PRE, "post": POST}

# Timing parameters drawn per stride, in this order (index into Subject.z).
_PARAMS = ("stride", "dLG", "dTA", "dBF", "dRF", "cLT", "cBR")
_P = {p: i for i, p in enumerate(_PARAMS)}


@dataclass
class Subject:
    """Per-subject variation (drawn by :func:`make_subject`)."""
    #: Seed it was drawn from.
    seed: int
    #: "mild" (H&Y 3) or "severe" (H&Y 4).
    severity: str
    #: Standard-normal subject deviates, shape (2 legs, 7) in the order
    #: stride, dLG, dTA, dBF, dRF, cLT, cBR; the subject mean of a parameter is
    #: ``mean + (severity shift + z * r * sqrt(subject_var_frac)) * sd`` (``r``:
    #: share left after the severity shift, see ``_subject_means``).  Legs
    #: correlate 0.6; stride time uses leg 0 only (the legs share the cadence);
    #: cBR is correlated 0.8 with dBF; all clipped to +/-2.5.
    z: np.ndarray
    #: Standard-normal deviate of the mean right-vs-left phase offset.
    z_lr_phase: float
    #: Burst RMS of each channel's own muscle, uV, shape (8,), log-uniform 50-500.
    amp_uv: np.ndarray
    #: Crosstalk fraction of the same-leg neighbour added to each channel, (8,).
    crosstalk: np.ndarray
    #: Sensor noise floor RMS, uV, (8,), 3-10.
    noise_uv: np.ndarray
    #: Baseline wander RMS, uV, (8,), 20-200.
    wander_uv: np.ndarray
    #: DC offset, uV, (8,), +/-100.
    dc_uv: np.ndarray
    #: 50 Hz mains peak amplitude, uV, (8,), 0-30.
    mains_uv: np.ndarray
    #: Probability of a motion artefact at each heel strike (5-25 %).
    artefact_prob: float


def make_subject(seed: int, severity: str = "mild") -> Subject:
    """Draw a subject (gains, timing offsets, noise levels) from ``seed``."""
    if severity not in SEVERITIES:
        raise ValueError(f"unknown severity {severity!r}; expected one of {SEVERITIES}")
    seed = _check_seed(seed)
    rng = np.random.default_rng([seed, 1])
    shared = rng.standard_normal(len(_PARAMS))
    own = rng.standard_normal((2, len(_PARAMS)))
    z = np.sqrt(0.6) * shared + np.sqrt(0.4) * own       # legs correlate 0.6
    z[:, _P["cBR"]] = 0.8 * z[:, _P["dBF"]] + 0.6 * z[:, _P["cBR"]]
    z[1, _P["stride"]] = z[0, _P["stride"]]
    z = np.clip(z, -2.5, 2.5)
    amp = np.exp(rng.uniform(np.log(50.0), np.log(500.0), _N_CH))
    return Subject(
        seed=seed, severity=severity, z=z,
        z_lr_phase=float(np.clip(rng.standard_normal(), -2.5, 2.5)),
        amp_uv=amp,
        crosstalk=rng.uniform(0.01, 0.05, _N_CH),
        noise_uv=rng.uniform(3.0, 10.0, _N_CH),
        wander_uv=rng.uniform(20.0, 200.0, _N_CH),
        dc_uv=rng.uniform(-100.0, 100.0, _N_CH),
        mains_uv=rng.uniform(0.0, 30.0, _N_CH),
        artefact_prob=float(rng.uniform(0.05, 0.25)),
    )


@dataclass
class Walk:
    """One synthetic recording and its ground truth (see module docstring)."""
    #: int16 ADC counts, shape (n_samples, 8), order ``spec.channels.EMG_CHANNELS``.
    emg: np.ndarray
    #: Sample rate, Hz (500).
    fs: int
    #: Microvolts per ADC count per channel, shape (8,).
    uv_per_lsb: np.ndarray
    #: Per channel: true burst onsets (first non-zero envelope sample), sorted.
    onsets: list
    #: Per channel: true burst offsets (exclusive end), same length as onsets.
    offsets: list
    #: Per leg (0 = L, 1 = R): heel-strike sample indices.
    heel_strikes: list
    #: Per complete stride, sorted by start: true muscular indexes (module doc).
    strides: list
    #: Per channel: some sample hit the int16 rails.
    clipped: np.ndarray
    condition: str
    seed: int

    def activation(self) -> np.ndarray:
        """Boolean truth mask (n_samples, 8): muscle active."""
        return _masks(self.onsets, self.offsets, self.emg.shape[0])

    def to_uv(self) -> np.ndarray:
        """EMG in microvolts (float64)."""
        return self.emg.astype(np.float64) * self.uv_per_lsb


# ----------------------------------------------------------------------------
# helpers
# ----------------------------------------------------------------------------

def _check_seed(seed):
    if isinstance(seed, (bool, np.bool_)) or not isinstance(seed, (int, np.integer)):
        raise ValueError(f"seed must be a non-negative int, got {seed!r}")
    if seed < 0:
        raise ValueError(f"seed must be a non-negative int, got {seed}")
    return int(seed)


def _resolve_condition(condition):
    if isinstance(condition, Condition):
        condition.validate()
        return condition
    if isinstance(condition, str) and condition.lower() in CONDITIONS:
        return CONDITIONS[condition.lower()]
    raise ValueError(f"unknown condition {condition!r}; expected one of "
                     f"{', '.join(repr(k) for k in CONDITIONS)} or a Condition")


def _masks(onsets, offsets, n):
    """Boolean activation masks from interval lists (vectorised)."""
    d = np.zeros((n + 1, len(onsets)), np.int32)
    for c, (on, off) in enumerate(zip(onsets, offsets)):
        np.add.at(d[:, c], on, 1)
        np.add.at(d[:, c], off, -1)
    return np.cumsum(d[:-1], axis=0) > 0


def _subject_means(cond, subj_z, severity, cbr_shift=0.0):
    """Per-leg subject means and stride-level SDs of the timing parameters.

    Returns (mean, sd_stride), each shape (2, 7); durations in ms, duties as
    fractions.  Variance budget of a parameter with pooled SD ``sd``: the
    severity shift takes ``2 a^2 sd^2`` (a = :data:`_SEV_SHIFT`, mix 2:1),
    the rest is split ``subject_var_frac`` : ``1 - subject_var_frac`` between
    subjects and strides.  ``cbr_shift`` (ms) is the calibration offset.
    """
    f = cond.subject_var_frac
    mean0 = np.array([cond.stride_ms,
                      cond.duty_lg_pct / 100, cond.duty_ta_pct / 100,
                      cond.duty_bf_pct / 100, cond.duty_rf_pct / 100,
                      cond.cocon_lgta_ms, cond.cocon_bfrf_ms + cbr_shift])
    sd = np.array([cond.stride_sd_ms,
                   cond.duty_lg_sd_pct / 100, cond.duty_ta_sd_pct / 100,
                   cond.duty_bf_sd_pct / 100, cond.duty_rf_sd_pct / 100,
                   cond.cocon_lgta_sd_ms, cond.cocon_bfrf_sd_ms])
    sev = np.zeros(len(_PARAMS))
    sev[[_P["dBF"], _P["cLT"], _P["cBR"]]] = _SEV_SHIFT[severity]
    rest = np.sqrt(1.0 - 2.0 * _SEV_A ** 2 * (sev != 0))
    mean = mean0[None, :] + (sev + subj_z * rest * np.sqrt(f)) * sd[None, :]
    sd_stride = sd * rest * np.sqrt(1 - f) * _SEV_SD[severity]
    return mean, np.broadcast_to(sd_stride, mean.shape)


def _draw_leg(rng, mean, sd, n):
    """Stride-level draws of one leg: dict of arrays of length n."""
    x = mean[:, None] + sd[:, None] * rng.standard_normal((len(mean), n))
    return {p: x[i] for i, p in enumerate(_PARAMS)}


def _build_leg(o, p):
    """Integer activation intervals of one leg.

    ``o``: int LG-onset grid, length K+1 (o[0] is the virtual stride before
    the walk).  ``p``: per-stride draws (length >= K+1).  Returns dict muscle ->
    (on, off) arrays for the rendered bursts, and the stride durations.
    Rendered: TA bursts 0..K-1 (0 = walk initiation), LG bursts 1..K,
    BF/RF bursts 1..K-1.  Complete strides: 1..K-1.
    """
    K = len(o) - 1
    T = np.diff(o)                                # strides 0..K-1
    T = np.append(T, T[-1])                       # stride K only sizes LG_K
    Tf = T.astype(np.float64)
    j = np.arange(K + 1)
    lg = np.clip(np.rint(p["dLG"][j] * Tf), _MIN_BURST, np.rint(0.45 * Tf)).astype(np.int64)
    clt = np.clip(np.rint(p["cLT"][j] / SAMPLE_MS), 1, lg - 5).astype(np.int64)
    ta_in = np.clip(np.rint(p["dTA"][j] * Tf), clt + _MIN_BURST,
                    T - lg - 10 + clt).astype(np.int64)
    a = T - ta_in + clt                           # TA on, relative to o_j
    e = np.clip(np.rint(p["eBF"][j] * Tf), 1, np.rint(0.04 * Tf)).astype(np.int64)
    bf = np.clip(np.rint(p["dBF"][j] * Tf), _MIN_BURST, T - e - lg - 10).astype(np.int64)
    bf_on = T - e - bf
    cbr = np.clip(np.rint(p["cBR"][j] / SAMPLE_MS), 1, bf).astype(np.int64)
    rf_end = bf_on + cbr
    rf = np.clip(np.rint(p["dRF"][j] * Tf), _MIN_BURST, rf_end - 5).astype(np.int64)
    og = o[:K + 1]
    ks = np.arange(1, K)                          # complete strides
    out = {
        "LG": (og[1:K + 1].copy(), og[1:K + 1] + lg[1:K + 1]),
        "TA": (og[:K] + a[:K], o[1:K + 1] + clt[1:K + 1]),
        "BF": (og[ks] + bf_on[ks], og[ks] + bf_on[ks] + bf[ks]),
        "RF": (og[ks] + rf_end[ks] - rf[ks], og[ks] + rf_end[ks]),
    }
    return out, T


def _timing(rng, cond, subject, n, cbr_shift):
    """Draw both legs' LG-onset grids and activation intervals (relative)."""
    mean, sd = _subject_means(cond, subject.z, subject.severity, cbr_shift)
    K = n + 1                                     # strides per leg incl. virtual
    pl = _draw_leg(rng, mean[0], sd[0], K + 1)
    pr = _draw_leg(rng, mean[1], sd[1], K + 1)
    gap_m = cond.bf_end_gap_pct / 100
    gap_s = cond.bf_end_gap_sd_pct / 100 * _SEV_SD[subject.severity]
    pl["eBF"] = gap_m + gap_s * rng.standard_normal(K + 1)
    pr["eBF"] = gap_m + gap_s * rng.standard_normal(K + 1)
    jit = rng.standard_normal(K + 1) * cond.lr_phase_sd_ms * _SEV_SD[subject.severity]
    # Left stride times (K + 1: the extra one only places the last R onset).
    st = np.clip(pl["stride"], 0.6 * cond.stride_ms, 1.6 * cond.stride_ms) / SAMPLE_MS
    ol = np.concatenate([[0.0], np.cumsum(st)])   # length K + 2
    phase = subject.z_lr_phase * cond.lr_phase_subject_sd_ms / SAMPLE_MS
    orr = 0.5 * (ol[:-1] + ol[1:]) + phase + jit / SAMPLE_MS   # length K + 1
    ol_i = np.rint(ol[:K + 1]).astype(np.int64)
    or_i = np.rint(orr).astype(np.int64)
    legs = []
    for o, p in ((ol_i, pl), (or_i, pr)):
        ints, T = _build_leg(o, p)
        legs.append((o, ints, T))
    return legs


def _realised_cbr(cond, subs, n, shift):
    rng = np.random.default_rng(20240611)
    tot = []
    for s in subs:
        for o, ints, T in _timing(rng, cond, s, n, shift):
            bf_on, bf_off = ints["BF"]
            rf_on, rf_off = ints["RF"]
            ov = np.minimum(bf_off, rf_off) - np.maximum(bf_on, rf_on)
            tot.append(np.maximum(ov, 0))
    return np.concatenate(tot).mean() * SAMPLE_MS


@lru_cache(maxsize=32)
def _calibration(cond: Condition) -> float:
    """Offset (ms) of the nominal BF-RF co-contraction mean that makes the
    realised population mean (2 mild : 1 severe, antithetic subject pairs,
    fixed internal seeds) equal the target despite the ``cBR <= BF burst``
    clip.  Secant iteration, a few tens of ms, cached per Condition."""
    subs = [make_subject(1_000_000 + i, "severe" if i % 3 == 2 else "mild")
            for i in range(24)]
    subs += [replace(s, z=-s.z, z_lr_phase=-s.z_lr_phase) for s in subs]
    n = 60
    x0, y0 = 0.0, _realised_cbr(cond, subs, n, 0.0) - cond.cocon_bfrf_ms
    if abs(y0) < 0.25:
        return 0.0
    x1 = -y0 / 0.7
    for _ in range(8):
        y1 = _realised_cbr(cond, subs, n, x1) - cond.cocon_bfrf_ms
        if abs(y1) < 0.25 or y1 == y0:
            break
        x0, y0, x1 = x1, y1, x1 - y1 * (x1 - x0) / (y1 - y0)
    return float(x1)


def _stride_truth(legs, masks):
    """Per-stride truth dicts from the rendered integer masks."""
    cs = np.zeros((masks.shape[0] + 1, masks.shape[1]), np.int64)
    np.cumsum(masks, axis=0, out=cs[1:])
    strides = []
    for leg, (o, ints, T) in enumerate(legs):
        base = 4 * leg
        m = masks[:, base:base + 4]
        co = np.stack([m[:, 0] & m[:, 1], m[:, 2] & m[:, 3]], axis=1)
        cco = np.zeros((co.shape[0] + 1, 2), np.int64)
        np.cumsum(co, axis=0, out=cco[1:])
        starts = o[1:-1]
        ends = o[2:]
        act = cs[ends, base:base + 4] - cs[starts, base:base + 4]
        coc = cco[ends] - cco[starts]
        st = ends - starts
        for k in range(len(starts)):
            d = {"leg": LEGS[leg], "start": int(starts[k]), "end": int(ends[k]),
                 "stride_time_ms": int(st[k]) * SAMPLE_MS}
            for i, mus in enumerate(MUSCLES):
                c = int(act[k, i])
                d[f"{mus}_contraction_ms"] = c * SAMPLE_MS
                d[f"{mus}_relaxation_ms"] = int(st[k] - c) * SAMPLE_MS
                d[f"{mus}_duty_pct"] = 100.0 * c / int(st[k])
            d["cocon_LG_TA_ms"] = int(coc[k, 0]) * SAMPLE_MS
            d["cocon_BF_RF_ms"] = int(coc[k, 1]) * SAMPLE_MS
            strides.append(d)
    strides.sort(key=lambda d: (d["start"], d["leg"]))
    return strides


_BP_SOS = signal.butter(4, [20.0, 150.0], btype="bandpass", fs=FS, output="sos")
_LP_SOS = signal.butter(2, 3.0, btype="lowpass", fs=FS, output="sos")


def _unit_rms_bandnoise(rng, n, sos, discard=FS):
    x = rng.standard_normal((n + discard, _N_CH))
    y = signal.sosfilt(sos, x, axis=0)[discard:]
    return y / np.sqrt(np.mean(y * y, axis=0, keepdims=True))


# ----------------------------------------------------------------------------
# public entry point
# ----------------------------------------------------------------------------

def generate_walk(seed: int, condition: str | Condition = "pre", n_strides: int = 20,
                  subject: Subject | None = None, artefacts: bool = True) -> Walk:
    """Generate one synthetic walk (see module docstring).

    Parameters
    ----------
    seed : int
        Seeds ``np.random.default_rng(seed)``; same arguments -> identical walk.
    condition : "pre" | "post" | Condition
        Medication state (Pre L-dopa = OFF, Post L-dopa = ON).
    n_strides : int
        Complete strides per leg in the ground truth (>= 1).
    subject : Subject, optional
        Defaults to ``make_subject(seed)`` (mild).
    artefacts : bool
        Add heel-strike motion artefacts and, with probability 1/2, one
        high-gain channel that clips.  Noise, wander, mains and crosstalk are
        always present.
    """
    seed = _check_seed(seed)
    cond = _resolve_condition(condition)
    if isinstance(n_strides, (bool, np.bool_)) or not isinstance(n_strides, (int, np.integer)):
        raise ValueError(f"n_strides must be an int >= 1, got {n_strides!r}")
    if n_strides < 1:
        raise ValueError(f"n_strides must be >= 1, got {n_strides}")
    n_strides = int(n_strides)
    if subject is None:
        subject = make_subject(seed)
    elif not isinstance(subject, Subject):
        raise ValueError(f"subject must be a Subject (see make_subject), "
                         f"got {type(subject).__name__}")
    rng = np.random.default_rng(seed)
    cal = _calibration(cond)

    # ---- timing -------------------------------------------------------------
    legs = _timing(rng, cond, subject, n_strides, cal)
    hs = []
    for o, ints, T in legs:
        idx = np.arange(1, len(o))
        hs.append(o[idx] - np.rint(_HS_LEAD * T[idx]).astype(np.int64))
    first = min(min(int(ints[m][0].min()) for m in MUSCLES) for _, ints, _ in legs)
    first = min(first, min(int(h.min()) for h in hs))
    shift = _LEAD_IN - first
    onsets, offsets = [], []
    for leg, (o, ints, T) in enumerate(legs):
        o += shift
        for m in MUSCLES:
            on, off = ints[m]
            onsets.append(np.asarray(on + shift, np.int64))
            offsets.append(np.asarray(off + shift, np.int64))
        hs[leg] = hs[leg] + shift
    n = int(max(off.max() for off in offsets)) + _LEAD_OUT
    t = np.arange(n) / FS

    # ---- muscle signals -----------------------------------------------------
    carrier = _unit_rms_bandnoise(rng, n, _BP_SOS)
    modul = np.exp(0.25 * _unit_rms_bandnoise(rng, n, _LP_SOS))
    env = np.zeros((n, _N_CH))
    for c in range(_N_CH):
        on, off = onsets[c], offsets[c]
        amps = subject.amp_uv[c] * rng.lognormal(0.0, 0.25, len(on))
        ramps = rng.integers(5, 11, len(on))
        for a0, a1, amp, r in zip(on, off, amps, ramps):
            L = a1 - a0
            r = min(r, L // 2)
            w = np.ones(L)
            up = 0.5 - 0.5 * np.cos(np.pi * np.arange(1, r + 1) / (r + 1))
            w[:r] = up
            w[L - r:] = up[::-1]
            env[a0:a1, c] = amp * w
    muscle = env * modul * carrier
    x = muscle.copy()
    for leg in range(2):
        b = 4 * leg
        for i, j in ((0, 1), (1, 0), (2, 3), (3, 2)):
            x[:, b + i] += subject.crosstalk[b + i] * muscle[:, b + j]

    # ---- background ---------------------------------------------------------
    x += subject.noise_uv * rng.standard_normal((n, _N_CH))
    wf = rng.uniform(0.1, 1.0, (3, _N_CH))
    wp = rng.uniform(0, 2 * np.pi, (3, _N_CH))
    ww = rng.dirichlet(np.ones(3), _N_CH).T                   # power split
    tc = np.arange(0, n + 25, 25) / FS                        # < 1 Hz: 20 Hz grid
    wc = np.zeros((len(tc), _N_CH))
    for i in range(3):
        wc += np.sqrt(2 * ww[i]) * np.sin(2 * np.pi * wf[i] * tc[:, None] + wp[i])
    for c in range(_N_CH):
        x[:, c] += subject.wander_uv[c] * np.interp(t, tc, wc[:, c]) + subject.dc_uv[c]
    f_mains = 50.0 + rng.uniform(-0.05, 0.05)
    ph = rng.uniform(0, 2 * np.pi, _N_CH)
    wt = 2 * np.pi * f_mains * t
    x += np.outer(np.sin(wt), subject.mains_uv * np.cos(ph))
    x += np.outer(np.cos(wt), subject.mains_uv * np.sin(ph))

    # ---- artefacts and gain -------------------------------------------------
    uv_per_lsb = np.full(_N_CH, UV_PER_LSB)
    if artefacts:
        for leg in range(2):
            for h in hs[leg]:
                if rng.random() >= subject.artefact_prob:
                    continue
                f = rng.uniform(5, 15)
                tau = rng.uniform(0.02, 0.06)
                L = min(int(5 * tau * FS), n - h)
                tt = np.arange(L) / FS
                wave = np.exp(-tt / tau) * np.sin(2 * np.pi * f * tt)
                a_shank = rng.uniform(300, 1500) * rng.choice([-1, 1])
                scale = np.array([1.0, rng.uniform(0.6, 1.0),
                                  rng.uniform(0.3, 0.6), rng.uniform(0.3, 0.6)])
                x[h:h + L, 4 * leg:4 * leg + 4] += a_shank * wave[:, None] * scale
        if rng.random() < 0.5:
            act = _masks(onsets, offsets, n)
            peak_in = np.array([np.abs(x[act[:, c], c]).max() for c in range(_N_CH)])
            peak_out = np.array([np.abs(x[~act[:, c], c]).max() for c in range(_N_CH)])
            cand = np.flatnonzero(peak_in > 1.6 * peak_out)
            if cand.size:
                c = int(rng.choice(cand))
                fs_uv = _INT16_MAX * UV_PER_LSB
                gains = [g for g in (2, 4, 8, 16, 32, 64)
                         if fs_uv / g >= 1.15 * peak_out[c] and fs_uv / g < 0.9 * peak_in[c]]
                if gains:
                    uv_per_lsb[c] = UV_PER_LSB / max(gains)

    counts = np.rint(x / uv_per_lsb)
    clipped = ((counts > _INT16_MAX) | (counts < _INT16_MIN)).any(axis=0)
    emg = np.clip(counts, _INT16_MIN, _INT16_MAX).astype(np.int16)

    masks = _masks(onsets, offsets, n)
    strides = _stride_truth(legs, masks)
    return Walk(emg=emg, fs=FS, uv_per_lsb=uv_per_lsb, onsets=onsets, offsets=offsets,
                heel_strikes=[np.asarray(h, np.int64) for h in hs], strides=strides,
                clipped=clipped, condition=cond.name, seed=seed)
