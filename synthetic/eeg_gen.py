"""Seeded synthetic scalp EEG generator for the EEG branch, with ground truth.

Generates what the EEG headset of the wearing-off tracker delivers to the
FPGA's EEG branch (paper §3.1: g.Nautilus, 10-20 sites T3, C3, Cz, C4, T4, P3,
P4; 500 Hz) during a walk, as int16 ADC counts in the channel order of
:data:`EEG_CHANNELS` (``T3, T4, C3, C4, Cz, P3, P4``), together with the
movement onsets (the ground truth) around which the movement-related
potentials were built.  It exists to exercise the EEG branch: a 256-sample
FIFO which, when a lateral-gastrocnemius trigger rises, takes a Hann-windowed
256-point DFT of the last 256 samples and reports per band the maximum
spectral magnitude in dBµ (paper §3.2; :func:`band_dbu` is the float
reference of that computation).

Everything is reproducible: :func:`generate_eeg` draws every random number of
the walk from ``np.random.default_rng([seed, 2])`` and the subject's traits
from ``np.random.default_rng([subject_seed, 3])`` (so that EEG streams never
reuse the raw streams of :mod:`synthetic.emg_gen`, which seeds with ``seed`` and
``[seed, 1]``).  The walk's noise depends on ``(seed, n_samples)`` only: the
same seed with other onsets, another condition or ``artefacts=True`` gives the
same background realisation.

Definitions (the truth)
-----------------------
* **Movement onset**: a sample index ``o``; for walking, the onset of either
  lateral gastrocnemius (initial single support), which is what triggers the
  EEG branch.  Every movement-related component below is time-locked to it.
* **Trigger window** of an onset ``o``: samples ``[o - 256, o)`` (the FIFO
  content when the trigger rises; onsets ``o < 256`` have no full window).
* **Band feature** (paper §3.2 and Table 1 footnote 2, "20 log(max(MRP)/1
  µV)"): with ``x`` in µV, the periodic Hann window ``w[n] = 0.5 - 0.5 cos(2
  pi n / 256)`` (peak 1) and the *unnormalised* DFT ``X[k] = sum_n w[n] x[n]
  exp(-j 2 pi k n / 256)``, the feature is ``max_k 20 log10(|X[k]| / 1 µV)``
  over the bins whose centre ``k * 500 / 256`` Hz lies inside the band:
  BP 2-5 Hz -> k = 2 (3.9 Hz); µ 9-11 Hz -> k = 5 (9.8 Hz); β 12-30 Hz ->
  k = 7..15 (13.7-29.3 Hz) (:data:`BAND_BINS`).  A sinusoid of amplitude
  ``A`` µV at a bin centre gives ``|X| = 64 A`` (e.g. 62 dBµ ~ 20 µV).

Calibration targets (class :class:`EEGCondition`; paper Table 1, mean over
the training-set subjects, dBµ; Pre L-dopa = OFF, Post L-dopa = ON):

=======  ======================  ======================
channel  Pre   BP / µ / β        Post  BP / µ / β
=======  ======================  ======================
T3       60.49 / 48.02 / 40.00   60.47 / 48.04 / 39.99
T4       61.97 / 47.97 / 40.50   62.00 / 48.03 / 40.49
C3       61.51 / 48.96 / 42.51   61.50 / 49.02 / 42.51
C4       59.50 / 46.99 / 40.97   59.47 / 47.01 / 41.00
Cz       62.50 / 49.52 / 37.49   62.51 / 49.53 / 37.49
P3       63.02 / 48.47 / 43.98   63.00 / 48.48 / 43.97
P4       63.02 / 48.51 / 44.03   63.01 / 48.47 / 44.02
=======  ======================  ======================

The paper found **no significant Pre/Post difference of any cortical feature**
(paired t-test, p = 0.07-0.49) and therefore switched the EEG branch off.
The generator reproduces that: PRE and POST share every parameter except
the Table 1 targets themselves, which differ by <= 0.06 dB, and the step
time (the gait, not the cortex, changes with L-dopa).  Cortical features
computed from this generator are therefore *not* expected to separate Pre
from Post.  (Literature does report L-dopa effects on the early
Bereitschaftspotential in PD -- Dick et al. 1989, Brain 112:233 -- which we
deliberately do not model, following the paper's data.)

The targets are met on *walking* trigger windows (the default onset
sequence), as population means over subjects (one subject's means deviate
by 1-2 dB SD, see "Subject" below): the calibration constants (:data:`_CAL`)
were fitted by :func:`_refit` (240 subjects x 60 s, fixed internal seeds,
in-sample residual < 0.02 dB; ``python -m synthetic.eeg_gen`` re-runs it in ~90 s).
On other seeds (24 subjects x 60 s, ~2600 triggers) every channel and band
lands within 0.8 dB of its target (mean |error| 0.25 dB); see
``tests/test_eeg_gen.py``.  A
custom :class:`EEGCondition` with other targets moves the dominant component
of each band by the target difference; that is accurate while the targets
stay within a few dB of Table 1 (beyond, the fixed background's share is no
longer what the calibration assumed).

Note on what the BP feature measures: with the Hann window, a slow ramp of a
few µV (the Bereitschaftspotential itself) contributes only ~25-35 dBµ to
bin 2, more than 25 dB below Table 1's 59-63 dBµ.  Table 1's BP values must
therefore reflect broadband delta-theta power during walking (cortical theta
plus gait-related movement artefact: Gwin et al. 2010, J Neurophysiol
103:3526; Kline et al. 2015, J Neural Eng 12:046022), which is how they are
modelled here; the readiness potential is modelled as well, for realism and
for time-domain (averaged) detectors.

Signal model (per channel, µV; then ADC)
----------------------------------------
Every stationary component is Gaussian noise shaped in the frequency domain
(one-sided PSD given below) and mixed as ``sqrt(rho) * common + sqrt(1 - rho)
* own`` -- a common source (volume conduction, the shared AFz reference) plus
a channel-specific part, so channels correlate with coefficient ``rho``.

* **Background**: ``S(f) = L^2 (10 Hz / max(f, 1 Hz))^alpha``, ``alpha = 2``
  (scale-free EEG, exponent 1-2 over 1-40 Hz: He 2014, Trends Cogn Sci
  18:480; the steep end, as in walking recordings), ``rho = 0.4``
  (assumption).  ``L`` per channel (:data:`_CAL` ``bg``) is set so that the
  background alone sits ~5 dB below each channel's β target: the β feature of
  Cz (37.5 dBµ) is 12 dB below its µ feature, which only a weak background
  allows.  The implied levels (0.1-0.5 µV^2/Hz at 10 Hz) are at the low end
  of scalp EEG: we follow Table 1, not generic EEG.
* **Delta-theta activity** (sets BP): Gaussian spectral bump at 4 Hz, SD
  1 Hz, ``rho = 0.6`` (the movement-artefact part is largely common),
  15-23 µV RMS (calibrated).  Stationary (walking and standing alike).
* **µ rhythm** (sets µ): Gaussian bump at the subject's µ frequency (9-11 Hz,
  paper §3.2 band), SD 0.5 Hz (waxing and waning over ~0.3-0.5 s),
  ``rho = 0.3``; RMS 6-8 µV before ERD, largest relative to the background
  at C3/C4/Cz (the sensorimotor µ; Pfurtscheller & Lopes da Silva 1999, Clin
  Neurophysiol 110:1842).
* **β rhythm** (sets β): Gaussian bump at the subject's β peak (18-25 Hz),
  SD 2 Hz, multiplied by a burst gate ``exp(0.5 n(t) - 0.25)`` (``n``:
  unit-variance noise low-passed by a Gaussian of SD 1.5 Hz; unit mean
  square), giving 0.1-0.3 s β bursts (Little et al. 2019, PLoS Biol
  17:e3000479); ``rho = 0.3``; RMS 1.5-4 µV before ERD (calibrated).
* **ERD**: µ and β are multiplied by ``1 - d * E(t)``; ``E`` is the maximum
  over onsets of a bump that rises (raised cosine) from 1.0 s to 0.5 s before
  the onset, is 1 from 0.5 s before to 0.5 s after it, and falls back to 0
  by 1.0 s after it (Pfurtscheller & Lopes da Silva 1999: pre-movement µ/β
  desynchronisation, recovery after the movement).  Depth ``d`` = condition
  mean (0.4) +/- 0.1 per subject: a 30-50 % amplitude drop.  While walking
  (steps ~0.55 s apart) ``E`` stays at 1: µ/β are suppressed throughout the
  walk relative to standing (Wagner et al. 2012, NeuroImage 63:1203; Seeber
  et al. 2014, Front Hum Neurosci 8:485).  No post-movement β rebound.
* **Readiness potential** (Bereitschaftspotential; Shibasaki & Hallett 2006,
  Clin Neurophysiol 117:2341): per onset ``-A ((t + 1 s) / 1 s)^2`` from 1 s
  before the onset to the onset (slow early part, steeper late part, peak
  ``-A`` at the onset), then back to 0 by a raised cosine within 0.3 s.
  ``A`` = 6 µV at Cz, 4.5 at C3/C4, 3 at P3/P4, 1.5 at T3/T4 (maximal at the
  vertex for lower-limb movements; assumption within the literature's
  "several µV").  Energy mostly below 5 Hz.  Overlapping potentials (steps
  0.55 s apart) add.  (The paper describes the BP as "a positive component";
  the classical scalp BP is negative, as here; the dBµ features do not see
  the sign.)
* **Mains**: 50 Hz +/- 0.05 Hz (one frequency per walk), 0.3-2 µV peak per
  channel, random phase (battery-powered wireless headset: low pickup;
  assumption).  Outside every band.
* **Drift**: two sinusoids of 0.05-0.3 Hz, 2-10 µV each, plus an offset of
  +/- 20 µV per channel (what a 0.1 Hz front-end high-pass leaves;
  assumption).
* **Amplifier noise**: white, 0.5 µV RMS (assumption; < 1 µV is typical of
  EEG amplifiers).
* **Eye blinks** (``artefacts=True`` only; off for the calibration): blinks
  at Poisson times, 0.2 /s (12 /min, the reduced blink rate of PD: Karson
  1983, Brain 106:643), a positive half-cosine of 0.3 s, 10-40 µV at T3 and
  70-100 % of that at T4 (frontal blinks reach temporal sites attenuated to
  ~10-20 %: Croft & Barry 2000, Neurophysiol Clin 30:5).  Drawn after
  everything else: other channels and the rest of T3/T4 are unchanged.
* **ADC**: :data:`UV_PER_LSB` = 0.1 µV per count, round to nearest, saturate
  to int16 (full scale +/- 3.28 mV).  EEG of tens of µV (peaks ~100-200 µV
  with drift and blinks) uses < 10 % of the range, and 0.1 µV steps add
  quantisation noise of ~-11 dBµ per bin, > 45 dB below every feature.  The
  headset's 24-bit samples are assumed rescaled to this 16-bit format by the
  front end.

Subject (from ``subject_seed``; assumptions, the paper gives no spreads):
µ frequency U(9, 11) Hz; β peak U(18, 25) Hz; ERD depths; a global gain
lognormal(0, 0.1) and per channel and component (background, delta-theta, µ,
β) gains lognormal(0, 0.1).  Between-subject SD of a subject's mean
feature: ~1.2 dB for BP, 1.5-2 dB for µ and β (frequency and ERD depth
add to the gains).

Walking onsets (when ``movement_onsets`` is None): the first 1.5 s +/- 0.1 s
after the start (standing), then one onset per step, i.e. alternating left
and right LG onsets, step intervals normal(stride / 2, stride SD / 2)
clipped to 0.35-0.8 s, with the paper's stride times (§4.2.1: Pre 1092 +/-
72 ms, Post 1044 +/- 34 ms, as :mod:`synthetic.emg_gen`), up to 0.5 s before the
end.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from spec.channels import FS

__all__ = ["EEG_CHANNELS", "UV_PER_LSB", "N_FFT", "BANDS", "BAND_BINS",
           "EEGCondition", "PRE", "POST", "CONDITIONS", "EEGWalk",
           "generate_eeg", "band_dbu", "trigger_windows", "trigger_band_dbu"]

#: EEG channels in gateware order (10-20 names).
from spec.channels import EEG_CHANNELS  # noqa: E402  (one name per channel everywhere)

#: ADC resolution, microvolts per count (int16 -> +/- 3.277 mV full scale).
UV_PER_LSB = 0.1
# FIFO length, bands and band bins are those of the EEG branch's golden model.
from golden.eeg_mrp_model import BAND_BINS as _BINS  # noqa: E402
from golden.eeg_mrp_model import BANDS  # noqa: E402
from golden.eeg_mrp_model import N as N_FFT  # noqa: E402

#: DFT bins of each band (as index arrays)
BAND_BINS = {b: np.array(k) for b, k in _BINS.items()}

_N_CH = len(EEG_CHANNELS)
_INT16_MAX = 32767
_INT16_MIN = -32768
_HANN = 0.5 - 0.5 * np.cos(2 * np.pi * np.arange(N_FFT) / N_FFT)   # periodic

# Inter-channel correlation of each stationary component (module docstring).
_RHO = {"bg": 0.4, "theta": 0.6, "mu": 0.3, "beta": 0.3}
_BG_ALPHA = 2.0          # background 1/f exponent
_BG_KNEE_HZ = 1.0        # background PSD flat below this
_THETA_HZ, _THETA_SD = 4.0, 1.0
_MU_SD = 0.5             # Hz, spectral SD of the µ rhythm
_BETA_SD = 2.0           # Hz, spectral SD of the β rhythm
_BETA_GATE = 0.5         # log-SD of the β burst gate
_GATE_SD = 1.5           # Hz, bandwidth of the gate's noise
_AMP_NOISE_UV = 0.5
_LEAD_IN_S = 1.5
_LEAD_OUT_S = 0.5
_DEFAULT_S = 30.0

# Calibration (fitted by _refit, see module docstring).  Background: PSD
# amplitude at 10 Hz in µV/sqrt(Hz) per channel.  Rhythms: the RMS (µV) of
# component c is 10 ** ((target_dbu - K[c]) / 20) with the band's target.
_CAL = {
    "bg": np.array([0.435, 0.469, 0.588, 0.489, 0.324, 0.691, 0.697]),
    "BP": np.array([36.098, 36.025, 36.106, 36.208, 36.008, 36.141, 35.970]),
    "mu": np.array([31.572, 31.656, 31.672, 31.654, 31.342, 31.732, 31.884]),
    "beta": np.array([32.445, 32.477, 32.128, 32.221, 33.734, 32.038, 31.986]),
}


@dataclass(frozen=True)
class EEGCondition:
    """Cortical targets and timing of one medication state.

    Per-channel tuples are in :data:`EEG_CHANNELS` order.
    """
    #: Label stored in :attr:`EEGWalk.condition`.
    name: str
    #: Mean BP (2-5 Hz) feature per channel on walking triggers, dBµ (Table 1).
    bp_dbu: tuple
    #: Mean µ (9-11 Hz) feature per channel, dBµ (Table 1).
    mu_dbu: tuple
    #: Mean β (12-30 Hz) feature per channel, dBµ (Table 1).
    beta_dbu: tuple
    #: Mean stride time, ms (§4.2.1); walking onsets are half a stride apart.
    stride_ms: float
    #: Stride time SD, ms (§4.2.1); step SD = half of it.
    stride_sd_ms: float
    #: Mean µ ERD depth (fractional amplitude drop; +/- 0.1 per subject).
    mu_erd: float = 0.4
    #: Mean β ERD depth.
    beta_erd: float = 0.4
    #: Readiness-potential peak per channel, µV (negative at the onset).
    rp_uv: tuple = (1.5, 1.5, 4.5, 4.5, 6.0, 3.0, 3.0)

    def validate(self):
        """Raise ValueError if a parameter is out of its range."""
        if not isinstance(self.name, str):
            raise ValueError("EEGCondition.name must be a string")
        for f in ("bp_dbu", "mu_dbu", "beta_dbu", "rp_uv"):
            v = np.asarray(getattr(self, f), dtype=float)
            if v.shape != (_N_CH,) or not np.all(np.isfinite(v)):
                raise ValueError(f"EEGCondition.{f} must hold {_N_CH} finite values")
        for f in ("bp_dbu", "mu_dbu", "beta_dbu"):
            v = np.asarray(getattr(self, f), dtype=float)
            if np.any(v < 0) or np.any(v > 100):
                raise ValueError(f"EEGCondition.{f} outside 0..100 dBµ")
        if np.any(np.asarray(self.rp_uv, float) < 0):
            raise ValueError("EEGCondition.rp_uv must be >= 0 (peak magnitude)")
        for f in ("mu_erd", "beta_erd"):
            v = getattr(self, f)
            if not 0.1 <= v <= 0.9:
                raise ValueError(f"EEGCondition.{f}={v} outside 0.1..0.9")
        if not 700 <= self.stride_ms <= 1600:
            raise ValueError(f"EEGCondition.stride_ms={self.stride_ms} outside 700..1600 ms")
        if not 0 <= self.stride_sd_ms <= 200:
            raise ValueError(f"EEGCondition.stride_sd_ms={self.stride_sd_ms} outside 0..200 ms")


#: Pre L-dopa (OFF).  Table 1 "µPre"; stride §4.2.1.
PRE = EEGCondition(
    name="pre",
    bp_dbu=(60.49, 61.97, 61.51, 59.50, 62.50, 63.02, 63.02),
    mu_dbu=(48.02, 47.97, 48.96, 46.99, 49.52, 48.47, 48.51),
    beta_dbu=(40.00, 40.50, 42.51, 40.97, 37.49, 43.98, 44.03),
    stride_ms=1092.0, stride_sd_ms=72.01)
#: Post L-dopa (ON).  Table 1 "µPost"; stride §4.2.1.  Cortex as PRE.
POST = EEGCondition(
    name="post",
    bp_dbu=(60.47, 62.00, 61.50, 59.47, 62.51, 63.00, 63.01),
    mu_dbu=(48.04, 48.03, 49.02, 47.01, 49.53, 48.48, 48.47),
    beta_dbu=(39.99, 40.49, 42.51, 41.00, 37.49, 43.97, 44.02),
    stride_ms=1044.0, stride_sd_ms=34.49)
CONDITIONS = {"pre": PRE, "post": POST}


@dataclass
class EEGWalk:
    """One synthetic EEG recording and its ground truth."""
    #: int16 ADC counts, shape (n_samples, 7), order :data:`EEG_CHANNELS`.
    eeg: np.ndarray
    #: Sample rate, Hz (500).
    fs: int
    #: Microvolts per ADC count (all channels).
    uv_per_lsb: float
    #: Sorted int64 sample indices of the movement onsets (ground truth).
    movement_onsets: np.ndarray
    condition: str
    seed: int
    #: Seed of the subject's traits.
    subject_seed: int = 0

    def to_uv(self) -> np.ndarray:
        """EEG in microvolts (float64)."""
        return self.eeg.astype(np.float64) * self.uv_per_lsb


# ----------------------------------------------------------------------------
# the EEG branch's features (float reference)
# ----------------------------------------------------------------------------

def band_dbu(window_uv: np.ndarray) -> dict:
    """Band features of one or more 256-sample windows, dBµ.

    ``window_uv``: shape (256,), (256, n_ch) or (..., 256, n_ch), in µV (the
    time axis is axis 0 for 1-D input, else axis -2).  Periodic Hann (peak 1),
    unnormalised 256-point DFT, per band the max over :data:`BAND_BINS` of
    ``20 log10(|X[k]| / 1 µV)``.  Returns ``{"BP", "mu", "beta"}`` -> float
    arrays of the input shape without the time axis (-inf for an all-zero
    band).
    """
    x = np.asarray(window_uv, dtype=np.float64)
    axis = 0 if x.ndim == 1 else -2
    if x.ndim == 0 or x.shape[axis] != N_FFT:
        raise ValueError(f"window must have {N_FFT} samples along the time axis, "
                         f"got shape {x.shape}")
    w = _HANN if x.ndim == 1 else _HANN[:, None]
    mag = np.abs(np.fft.rfft(x * w, axis=axis))
    out = {}
    with np.errstate(divide="ignore"):
        for b, k in BAND_BINS.items():
            m = np.take(mag, k, axis=axis).max(axis=axis)
            out[b] = 20.0 * np.log10(m)
    return out


def trigger_windows(x_uv: np.ndarray, onsets) -> tuple[np.ndarray, np.ndarray]:
    """Trigger windows ``x_uv[o - 256:o]`` of every onset ``o >= 256``.

    Returns ``(windows, used_onsets)``: shape (m, 256, n_ch) and (m,).
    """
    x = np.asarray(x_uv, dtype=np.float64)
    o = np.asarray(onsets, dtype=np.int64)
    o = o[(o >= N_FFT) & (o <= x.shape[0])]
    idx = o[:, None] + np.arange(-N_FFT, 0)[None, :]
    return x[idx], o


def trigger_band_dbu(walk: EEGWalk, onsets=None) -> dict:
    """Band features (dBµ, shape (m, 7)) at the walk's (or given) onsets."""
    w, _ = trigger_windows(walk.to_uv(), walk.movement_onsets if onsets is None else onsets)
    return band_dbu(w)


# ----------------------------------------------------------------------------
# helpers
# ----------------------------------------------------------------------------

def _check_seed(seed, what="seed"):
    if isinstance(seed, (bool, np.bool_)) or not isinstance(seed, (int, np.integer)):
        raise ValueError(f"{what} must be a non-negative int, got {seed!r}")
    if seed < 0:
        raise ValueError(f"{what} must be a non-negative int, got {seed}")
    return int(seed)


def _resolve_condition(condition):
    if isinstance(condition, EEGCondition):
        condition.validate()
        return condition
    if isinstance(condition, str) and condition.lower() in CONDITIONS:
        return CONDITIONS[condition.lower()]
    raise ValueError(f"unknown condition {condition!r}; expected one of "
                     f"{', '.join(repr(k) for k in CONDITIONS)} or an EEGCondition")


def _check_onsets(movement_onsets, n_samples):
    """Validated sorted unique int64 onsets and the recording length."""
    try:
        a = np.asarray(movement_onsets)
    except Exception:                                       # pragma: no cover
        raise ValueError("movement_onsets must be a 1-D array of sample indices") from None
    if a.ndim != 1:
        raise ValueError(f"movement_onsets must be 1-D, got shape {a.shape}")
    if a.size and a.dtype.kind not in "iuf":
        raise ValueError(f"movement_onsets must be integer sample indices, got dtype {a.dtype}")
    if a.size and (not np.all(np.isfinite(a)) or np.any(a != np.round(a))):
        raise ValueError("movement_onsets must be integer sample indices")
    o = np.unique(a.astype(np.int64)) if a.size else np.zeros(0, np.int64)
    if o.size and o[0] < 0:
        raise ValueError(f"movement_onsets must be >= 0, got {int(o[0])}")
    if n_samples is None:
        n_samples = max(int(_DEFAULT_S * FS), int(o[-1]) + FS if o.size else 0)
    elif o.size and o[-1] >= n_samples:
        raise ValueError(f"n_samples={n_samples} too short for movement onset {int(o[-1])} "
                         f"(need n_samples > last onset)")
    return o, n_samples


@dataclass(frozen=True)
class _Subject:
    f_mu: float
    f_beta: float
    d_mu: float                # ERD depth offset from the condition mean
    d_beta: float
    gain: np.ndarray           # (4, 7): bg, theta, mu, beta amplitude factors


def _make_subject(subject_seed):
    rng = np.random.default_rng([subject_seed, 3])
    f_mu = rng.uniform(9.0, 11.0)
    f_beta = rng.uniform(18.0, 25.0)
    d = rng.uniform(-0.1, 0.1, 2)
    gain = np.exp(0.1 * rng.standard_normal() + 0.1 * rng.standard_normal((4, _N_CH)))
    return _Subject(float(f_mu), float(f_beta), float(d[0]), float(d[1]), gain)


def _shape_noise(z, h):
    """Filter white noise ``z`` (n, m) by the real amplitude response ``h``."""
    return np.fft.irfft(np.fft.rfft(z, axis=0) * h[:, None], n=z.shape[0], axis=0)


def _unit_var(h, n):
    """Scale ``h`` so that unit white noise filtered by it has unit variance."""
    p = h * h
    tot = p[0] + 2 * p[1:].sum() - (p[-1] if n % 2 == 0 else 0.0)
    return h / np.sqrt(tot / n)


def _mixed(rng, n, h, rho):
    """(n, 7) noise filtered by ``h``: sqrt(rho) common + sqrt(1-rho) own."""
    y = _shape_noise(rng.standard_normal((n, _N_CH + 1)), h)
    return np.sqrt(rho) * y[:, :1] + np.sqrt(1.0 - rho) * y[:, 1:]


def _onset_envelope(n, onsets, template, offset, combine):
    """Place ``template`` (samples from ``offset`` relative to each onset)
    at every onset; combine by "max" or "sum".  Returns (n,)."""
    if len(onsets) == 0:
        return np.zeros(n)
    idx = onsets[:, None] + (offset + np.arange(len(template)))[None, :]
    val = np.broadcast_to(template, idx.shape)
    ok = (idx >= 0) & (idx < n)
    if combine == "sum":
        return np.bincount(idx[ok], weights=val[ok], minlength=n)
    out = np.zeros(n)
    np.maximum.at(out, idx[ok], val[ok])
    return out


def _erd_template():
    t = np.arange(-FS, FS + 1) / FS
    e = np.ones_like(t)
    rise = (t >= -1.0) & (t < -0.5)
    e[rise] = 0.5 - 0.5 * np.cos(np.pi * (t[rise] + 1.0) / 0.5)
    fall = t > 0.5
    e[fall] = 0.5 + 0.5 * np.cos(np.pi * (t[fall] - 0.5) / 0.5)
    return e, -FS


def _rp_template():
    t = np.arange(-FS, int(0.3 * FS) + 1) / FS
    r = np.where(t <= 0, -((t + 1.0) ** 2), -(0.5 + 0.5 * np.cos(np.pi * t / 0.3)))
    return r, -FS


_ERD_T, _ERD_OFF = _erd_template()
_RP_T, _RP_OFF = _rp_template()


def _walking_onsets(u_first, z_steps, cond, n):
    """Walking onset grid from pre-drawn standard normals (see module doc)."""
    step = cond.stride_ms / 2 / 1000 + cond.stride_sd_ms / 2 / 1000 * z_steps
    step = np.clip(step, 0.35, 0.8)
    t = _LEAD_IN_S + 0.1 * u_first + np.concatenate([[0.0], np.cumsum(step)])
    o = np.rint(t * FS).astype(np.int64)
    return o[o <= n - int(_LEAD_OUT_S * FS)]


def _render(seed, n, onsets, cond, subject, artefacts, cal):
    """Float µV signal (n, 7) and the onsets used (walking grid if None)."""
    rng = np.random.default_rng([seed, 2])
    # --- walking grid (always drawn: noise depends on (seed, n) only) --------
    u_first = rng.uniform(-1.0, 1.0)
    z_steps = rng.standard_normal(int(n / (0.35 * FS)) + 2)
    if onsets is None:
        onsets = _walking_onsets(u_first, z_steps, cond, n)

    f = np.fft.rfftfreq(n, 1.0 / FS)
    g = subject.gain
    # --- background 1/f ------------------------------------------------------
    s = (10.0 / np.maximum(f, _BG_KNEE_HZ)) ** _BG_ALPHA
    h = np.sqrt(s * FS / 2.0)
    h[0] = 0.0
    x = _mixed(rng, n, h, _RHO["bg"]) * (cal["bg"] * g[0])
    # --- delta-theta ---------------------------------------------------------
    h = _unit_var(np.exp(-0.5 * ((f - _THETA_HZ) / _THETA_SD) ** 2), n)
    amp = 10.0 ** ((np.asarray(cond.bp_dbu) - cal["BP"]) / 20.0)
    x += _mixed(rng, n, h, _RHO["theta"]) * (amp * g[1])
    # --- µ and β with ERD ----------------------------------------------------
    erd = _onset_envelope(n, onsets, _ERD_T, _ERD_OFF, "max")
    h = _unit_var(np.exp(-0.5 * ((f - subject.f_mu) / _MU_SD) ** 2), n)
    amp = 10.0 ** ((np.asarray(cond.mu_dbu) - cal["mu"]) / 20.0)
    mod = 1.0 - (cond.mu_erd + subject.d_mu) * erd
    x += _mixed(rng, n, h, _RHO["mu"]) * (amp * g[2]) * mod[:, None]
    h = _unit_var(np.exp(-0.5 * ((f - subject.f_beta) / _BETA_SD) ** 2), n)
    beta = _mixed(rng, n, h, _RHO["beta"])
    h = _unit_var(np.exp(-0.5 * (f / _GATE_SD) ** 2), n)
    gate = _shape_noise(rng.standard_normal((n, 1)), h)[:, 0]
    gate = np.exp(_BETA_GATE * gate - _BETA_GATE ** 2)
    amp = 10.0 ** ((np.asarray(cond.beta_dbu) - cal["beta"]) / 20.0)
    mod = (1.0 - (cond.beta_erd + subject.d_beta) * erd) * gate
    x += beta * (amp * g[3]) * mod[:, None]
    # --- readiness potential -------------------------------------------------
    rp = _onset_envelope(n, onsets, _RP_T, _RP_OFF, "sum")
    x += np.outer(rp, np.asarray(cond.rp_uv, float))
    # --- mains, drift, amplifier noise ---------------------------------------
    t = np.arange(n) / FS
    f_mains = 50.0 + rng.uniform(-0.05, 0.05)
    a_m = rng.uniform(0.3, 2.0, _N_CH)
    ph = rng.uniform(0, 2 * np.pi, _N_CH)
    wt = 2 * np.pi * f_mains * t
    x += np.outer(np.sin(wt), a_m * np.cos(ph)) + np.outer(np.cos(wt), a_m * np.sin(ph))
    fd = rng.uniform(0.05, 0.3, (2, _N_CH))
    ad = rng.uniform(2.0, 10.0, (2, _N_CH))
    pd = rng.uniform(0, 2 * np.pi, (2, _N_CH))
    for i in range(2):
        x += ad[i] * np.sin(2 * np.pi * fd[i] * t[:, None] + pd[i])
    x += rng.uniform(-20.0, 20.0, _N_CH)
    x += _AMP_NOISE_UV * rng.standard_normal((n, _N_CH))
    # --- eye blinks at T3/T4 (drawn last) ------------------------------------
    if artefacts:
        k = rng.poisson(0.2 * n / FS)
        tb = np.sort(rng.integers(0, n, k))
        a3 = rng.uniform(10.0, 40.0, k)
        a4 = a3 * rng.uniform(0.7, 1.0, k)
        L = int(0.3 * FS)
        wave = np.sin(np.pi * np.arange(L) / L)
        for col, a in ((0, a3), (1, a4)):
            idx = tb[:, None] + np.arange(L)[None, :]
            val = a[:, None] * wave[None, :]
            ok = idx < n
            x[:, col] += np.bincount(idx[ok], weights=val[ok], minlength=n)
    return x, np.asarray(onsets, np.int64)


# ----------------------------------------------------------------------------
# public entry point
# ----------------------------------------------------------------------------

def generate_eeg(seed: int, n_samples: int | None = None, movement_onsets=None,
                 condition: str | EEGCondition = "pre", subject_seed: int | None = None,
                 *, artefacts: bool = False) -> EEGWalk:
    """Generate one synthetic EEG recording (see module docstring).

    Parameters
    ----------
    seed : int
        Seeds the walk (``np.random.default_rng([seed, 2])``); same arguments
        -> identical recording.
    n_samples : int, optional
        Length in samples.  Default: 30 s when walking onsets are generated,
        else ``max(30 s, last onset + 1 s)``.  Must exceed every given onset;
        walking needs >= 2 s.
    movement_onsets : array of int, optional
        Sample indices of movement onsets (e.g. the LG onsets of both legs
        from :func:`synthetic.emg_gen.generate_walk`), >= 0; returned sorted and
        de-duplicated.  Default: a walking sequence, one onset per step.
    condition : "pre" | "post" | EEGCondition
        Medication state (cortical targets essentially equal, see docstring).
    subject_seed : int, optional
        Seeds the subject's traits; defaults to ``seed``.
    artefacts : bool
        Add eye blinks at T3/T4.
    """
    seed = _check_seed(seed)
    subject_seed = seed if subject_seed is None else _check_seed(subject_seed, "subject_seed")
    cond = _resolve_condition(condition)
    if n_samples is not None:
        if isinstance(n_samples, (bool, np.bool_)) or not isinstance(n_samples, (int, np.integer)):
            raise ValueError(f"n_samples must be an int, got {n_samples!r}")
        n_samples = int(n_samples)
        if n_samples < N_FFT:
            raise ValueError(f"n_samples must be >= {N_FFT} (one trigger window), got {n_samples}")
    if movement_onsets is None:
        n = int(_DEFAULT_S * FS) if n_samples is None else n_samples
        if n < 2 * FS:
            raise ValueError(f"n_samples={n} too short for a walk (need >= {2 * FS}, 2 s)")
        onsets = None
    else:
        onsets, n = _check_onsets(movement_onsets, n_samples)
    x, onsets = _render(seed, n, onsets, cond, _make_subject(subject_seed), bool(artefacts), _CAL)
    counts = np.clip(np.rint(x / UV_PER_LSB), _INT16_MIN, _INT16_MAX).astype(np.int16)
    return EEGWalk(eeg=counts, fs=FS, uv_per_lsb=UV_PER_LSB, movement_onsets=onsets,
                   condition=cond.name, seed=seed, subject_seed=subject_seed)


# ----------------------------------------------------------------------------
# calibration (offline; results pasted into _CAL)
# ----------------------------------------------------------------------------

def _population_dbu(cal, cond=PRE, n_subjects=240, seconds=60.0, seed0=900_000):
    """Mean walking trigger features (3, 7) over a fixed population."""
    acc = np.zeros((3, _N_CH))
    cnt = 0
    n = int(seconds * FS)
    for i in range(n_subjects):
        x, o = _render(seed0 + i, n, None, cond, _make_subject(seed0 + i), False, cal)
        d = band_dbu(trigger_windows(x, o)[0])
        acc += np.array([d[b].sum(axis=0) for b in ("BP", "mu", "beta")])
        cnt += len(o)
    return acc / cnt


def _refit(iters=4, bg_margin_db=5.0, **kw):
    """Fit ``_CAL`` to PRE (fixed-point iteration on the population means).

    The background level is first set so that the background alone gives a
    β feature ``bg_margin_db`` below the β target, then the three component
    offsets are iterated: ``K += measured - target``.
    """
    cal = {k: v.copy() for k, v in _CAL.items()}
    tgt = np.array([PRE.bp_dbu, PRE.mu_dbu, PRE.beta_dbu])
    off = {k: np.full(_N_CH, 300.0) for k in ("BP", "mu", "beta")}   # silence
    bg_only = _population_dbu({**off, "bg": cal["bg"]}, **kw)
    cal["bg"] = cal["bg"] * 10 ** ((tgt[2] - bg_margin_db - bg_only[2]) / 20)
    for _ in range(iters):
        m = _population_dbu(cal, **kw)
        for j, b in enumerate(("BP", "mu", "beta")):
            cal[b] = cal[b] + (m[j] - tgt[j])
    return cal, _population_dbu(cal, **kw) - tgt


if __name__ == "__main__":                                  # pragma: no cover
    cal, err = _refit()
    np.set_printoptions(precision=3, suppress=True)
    for k, v in cal.items():
        print(k, repr(np.round(v, 3)))
    print("residual dB (BP, mu, beta rows):\n", err)
