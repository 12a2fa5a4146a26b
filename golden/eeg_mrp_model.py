"""Golden models of the EEG branch: movement-related-potential bands in dBµ.

* :func:`mrp_float` -- float reference with :func:`scipy.signal.stft` on the window;
* :func:`mrp_bitexact` -- integer model of exactly what :mod:`hdl.eeg_mrp` computes.

The two agree within :data:`FLOAT_BOUND_DB` (checked by ``tests/test_eeg_mrp_model.py``).

What is computed (paper §3.2)
-----------------------------
Each channel keeps the last ``N = 256`` samples (512 ms at 500 Hz). On a trigger
(an onset of either lateral gastrocnemius, or an external trigger) the branch takes
that window ``x[0..255]`` (oldest first, the trigger sample last), applies a
periodic Hann window ``w[n] = 0.5 - 0.5 cos(2 pi n / N)`` and evaluates the
256-point DFT ``X[k] = sum_n w[n] x[n] exp(-2j pi k n / N)`` -- one frame of an
STFT with frame = FFT size = 256, hop = one trigger. Only the bins inside the
bands are needed, so the gateware evaluates those bins directly (11 bins x 256
MACs per channel) instead of a full FFT.

Band edges to bins (bin ``k`` is centred at ``k * 500 / 256 = 1.953 k`` Hz; a bin
belongs to a band when its centre lies inside the band):

=========  ==========  ==========  ===================
band       edges (Hz)  bins        bin centres (Hz)
=========  ==========  ==========  ===================
``BP``     2 -- 5      2           3.9
``mu``     9 -- 11     5           9.8
``beta``   12 -- 30    7 .. 15     13.7 .. 29.3
=========  ==========  ==========  ===================

Per band the output is ``20 log10(max_k |X[k]| / 1 uV)`` in dBµ, with ``x`` in µV
and ``X`` *not* normalised by ``N`` (the paper's dBµ values -- BP ~ 60, µ ~ 48,
β ~ 40 -- fit an unnormalised transform of tens-of-µV EEG: a sinusoid of
amplitude ``A`` at a bin centre gives ``|X| = A N / 4 = 64 A``).

Integer arithmetic (the gateware)
---------------------------------
========  ===============================================  =====================
name      computation                                      format
========  ===============================================  =====================
x         sample, ADC counts                               signed 16
w_q       ``round(w * 2**15)``                             unsigned 16 (Q1.15)
xw        ``(x * w_q) >> 11`` (4 fraction bits kept)       signed 20 (Q.4)
c_q, s_q  ``round(cos/sin(2 pi m / N) * 32767)``           signed 16 (Q0.15)
re, im    ``sum_n xw * c_q[k n mod N]`` (resp. ``s_q``)    signed 43, exact
P         ``(re >> S)**2 + (im >> S)**2``, ``S = 16``      unsigned 53
max       largest ``P`` over the band's bins               unsigned 53
log2      ``e * 2**10 + LOG2_LUT[f]``: ``e`` = leading-one  unsigned Q6.10
          position of P, ``f`` = the 8 bits after it
dB        ``((log2 * K) >> 18) + C`` with ``K = round(10 log10(2) * 2**16)``  signed Q8.8
========  ===============================================  =====================

``C = round(256 * 20 log10(2**(S - 19) * uv_per_lsb))`` folds the shift, the
Q15 scalings, the 4 kept fraction bits and the µV per LSB into one constant.
Keeping 4 fraction bits after windowing matters: rounding ``xw`` to whole
counts adds a noise floor near -10 dBµ (0.3 dB error at 20 dBµ); with them
it sits near -34 dBµ. ``LOG2_LUT[f] =
round(2**10 log2(1 + (f + 0.5) / 256))`` (mid-interval: error <= 0.0028 in log2,
0.0085 dB). ``P = 0`` (all-zero window) gives :data:`DB_FLOOR` (-128 dBµ), shown
as ``-inf``; other values saturate to +-127.996 dBµ.

A record is flagged ``partial`` when fewer than 256 samples arrived since reset;
the missing (older) samples count as zero.
"""

from dataclasses import dataclass

import numpy as np
from scipy import signal

from spec.constants import FS

__all__ = ["N", "BANDS", "BAND_BINS", "BINS", "BIN_BAND", "db_from_q", "power_to_db_q", "EEGParams",
           "mrp_bitexact", "mrp_float", "window_q", "cos_q", "log2_lut", "db_const",
           "FLOAT_BOUND_DB", "DB_FLOOR"]

N = 256
#: band name -> (low Hz, high Hz)
BANDS = {"BP": (2.0, 5.0), "mu": (9.0, 11.0), "beta": (12.0, 30.0)}
#: band name -> DFT bins whose centre lies inside the band
BAND_BINS = {b: tuple(k for k in range(N // 2) if lo <= k * FS / N <= hi)
             for b, (lo, hi) in BANDS.items()}
#: all evaluated bins, in evaluation order, and the band index of each
BINS = tuple(k for b in BANDS for k in BAND_BINS[b])
BIN_BAND = tuple(i for i, b in enumerate(BANDS) for _ in BAND_BINS[b])
XW_FRAC = 4           # fraction bits kept after windowing
SHIFT = 16            # S: accumulator bits dropped before squaring (27-bit operands)
LOG_FRAC = 10         # fractional bits of log2
MANT_BITS = 8         # mantissa bits looked up
K_DB = round(10 * np.log10(2) * 2 ** 16)
DB_FRAC = 8           # dB output in Q8.8
DB_FLOOR = -(1 << 15)  # raw value for "no signal" (P = 0)
#: documented bound |bit-exact - float| in dB for windows above the noise floor
#: (band maximum >= 20 dBµ; smaller values lose relative precision to the shift S)
FLOAT_BOUND_DB = 0.25


@dataclass(frozen=True)
class EEGParams:
    """Parameters shared by the gateware and both models."""
    #: microvolts per ADC count of the EEG front end
    uv_per_lsb: float = 0.1

    def __post_init__(self):
        if not (isinstance(self.uv_per_lsb, (int, float)) and not isinstance(self.uv_per_lsb, bool)
                and 1e-6 < self.uv_per_lsb < 1e3):
            raise ValueError("uv_per_lsb must be a positive number of microvolts, "
                             f"not {self.uv_per_lsb!r}")


def window_q():
    """Periodic Hann window in Q1.15 (unsigned, 0..32768)."""
    w = signal.get_window("hann", N, fftbins=True)
    return np.round(w * 2 ** 15).astype(np.int64)


def cos_q():
    """Cosine table in Q0.15 (signed 16), ``cos(2 pi m / N)`` for m in 0..N-1."""
    return np.round(np.cos(2 * np.pi * np.arange(N) / N) * 32767).astype(np.int64)


def log2_lut():
    f = np.arange(1 << MANT_BITS)
    return np.round(2 ** LOG_FRAC * np.log2(1 + (f + 0.5) / (1 << MANT_BITS))).astype(np.int64)


def db_const(params):
    return int(round(2 ** DB_FRAC * 20
                     * np.log10(2.0 ** (SHIFT - 15 - XW_FRAC) * params.uv_per_lsb)))


def log2_q(p):
    """Bit-exact Q6.10 log2 of a positive integer (the gateware's leading-one + LUT)."""
    p = int(p)
    e = p.bit_length() - 1
    f = (p >> (e - MANT_BITS)) if e >= MANT_BITS else (p << (MANT_BITS - e))
    f &= (1 << MANT_BITS) - 1
    return (e << LOG_FRAC) + int(log2_lut()[f])


def power_to_db_q(p, params):
    """Bit-exact dB (Q8.8 raw) of a band-maximum power ``P``."""
    if p == 0:
        return DB_FLOOR
    db = ((log2_q(p) * K_DB) >> (LOG_FRAC + 16 - DB_FRAC)) + db_const(params)
    return min(max(db, DB_FLOOR + 1), -DB_FLOOR - 1)   # saturate to the Q8.8 range


def _check_window(x):
    x = np.asarray(x)
    if x.ndim != 2 or x.shape[0] > N:
        raise ValueError(f"window must have shape (<= {N}, n_channels), not {x.shape}")
    return x


def mrp_bitexact(window, params=EEGParams()):
    """Bit-exact band values of one trigger.

    Parameters
    ----------
    window : array_like of int, shape (m, n_channels), m <= 256
        The last ``m`` samples, oldest first; if ``m < 256`` the older samples
        are zero (a trigger before the FIFO filled).

    Returns
    -------
    dict band -> ndarray of int (n_channels,), dB in Q8.8 (raw).
    """
    x = _check_window(window).astype(np.int64)
    if not np.issubdtype(x.dtype, np.integer):
        raise ValueError("window must hold integer ADC counts")
    full = np.zeros((N, x.shape[1]), np.int64)
    full[N - len(x):] = x
    xw = (full * window_q()[:, None]) >> (15 - XW_FRAC)
    c = cos_q()
    n = np.arange(N)
    powers = np.zeros((len(BANDS), x.shape[1]), dtype=object)
    for k, band in zip(BINS, BIN_BAND):
        m = (k * n) % N
        re = (xw * c[m][:, None]).sum(axis=0)
        im = (xw * c[(m - N // 4) % N][:, None]).sum(axis=0)   # sin(t) = cos(t - pi/2)
        p = [int(a >> SHIFT) ** 2 + int(b >> SHIFT) ** 2 for a, b in zip(re, im)]
        powers[band] = [max(int(q), int(r)) for q, r in zip(powers[band], p)]
    return {b: np.array([power_to_db_q(p, params) for p in powers[i]], np.int64)
            for i, b in enumerate(BANDS)}


def mrp_float(window, params=EEGParams()):
    """Float reference: :func:`scipy.signal.stft` frame of the window, band max, dBµ.

    Returns dict band -> ndarray of float dBµ (``-inf`` for an all-zero window).
    """
    x = _check_window(window).astype(float)
    full = np.zeros((N, x.shape[1]))
    full[N - len(x):] = x
    uv = full * params.uv_per_lsb
    f, t, Z = signal.stft(uv, fs=FS, window="hann", nperseg=N, noverlap=0, boundary=None,
                          padded=False, detrend=False, axis=0)
    w = signal.get_window("hann", N)
    mag = np.abs(Z[:, :, 0]) * w.sum()   # undo stft's 1/sum(w) scaling
    out = {}
    with np.errstate(divide="ignore"):
        for b in BANDS:
            out[b] = 20 * np.log10(mag[list(BAND_BINS[b])].max(axis=0))
    return out


def db_from_q(raw):
    """Q8.8 raw dB -> float dB (``-inf`` for :data:`DB_FLOOR`)."""
    raw = np.asarray(raw)
    return np.where(raw == DB_FLOOR, -np.inf, raw / 2 ** DB_FRAC)
