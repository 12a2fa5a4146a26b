"""Freeze-index baseline of freezing-of-gait detection (Moore et al. 2008, Bächlin et al. 2010).

Per window of the ankle (shank) sensor, by default its vertical axis ``ankle_y`` as Moore and
Bächlin used (``ankle_x``/``ankle_z`` or the magnitude ``ankle_mag`` on request):

1. remove the window's mean, FFT (rectangular window; 128 samples at 64 Hz = 0.5 Hz bins);
2. band powers as one-sided mean squares (mg², Parseval: the bins of all bands add up to
   the window's variance): *locomotor* band 0.5 <= f < 3 Hz, *freeze* band 3 <= f <= 8 Hz;
3. freeze index ``FI = P_freeze / P_loco`` (the score, also for the AUC), total power
   ``P = P_freeze + P_loco``;
4. FoG when ``FI > fi_threshold`` and ``P > power_threshold`` -- the power threshold keeps
   standing still (tiny power, noisy ratio) from looking like a freeze.

The two thresholds are chosen on the training subjects only (:func:`tune`): a grid of
quantiles of the training windows' FI (1st-99th percentile) and total power (0, then
1st-60th percentile), keeping the pair that maximises the mean of sensitivity and specificity
(balanced accuracy) over all training windows pooled; ties go to the lowest power threshold,
then the lowest FI threshold. :func:`loso` holds out each subject with FoG in turn and scores
it with the thresholds tuned on the others.

Anchor: Bächlin et al. 2010 (online, subject-independent thresholds, 4 s windows):
sensitivity 73.1 %, specificity 81.6 %.

Command line (figures printed; ``-o`` also writes them as JSON)::

    python -m sw.fog_baseline ../shared/data/fog-daphnet [-o fog_baseline.json]
"""

import sys
from dataclasses import dataclass

import numpy as np

from spec.cli import HANDLED, InputError, error_status, parser
from spec.constants import SHARED_DATA
from spec.outputs import check_output_file, write_json_atomic
from sw import fog_data
from sw.fog_metrics import event_metrics, pool_events, window_metrics

__all__ = ["LOCO_BAND", "FREEZE_BAND", "AXIS", "AXES", "Thresholds", "band_powers",
           "window_signal", "freeze_features", "tune", "loso", "main"]

PROG = "sw.fog_baseline"
#: locomotor band, Hz: lower edge included, upper excluded
LOCO_BAND = (0.5, 3.0)
#: freeze band, Hz: both edges included
FREEZE_BAND = (3.0, 8.0)
#: default signal: ankle vertical acceleration
AXIS = "ankle_y"
#: signals the freeze index can be computed on
AXES = ("ankle_x", "ankle_y", "ankle_z", "ankle_mag")
_EPS = 1e-12
_FI_QUANTILES = np.linspace(0.01, 0.99, 99)
_POWER_QUANTILES = np.linspace(0.01, 0.60, 60)


@dataclass(frozen=True)
class Thresholds:
    """A freeze-index detector: FoG when ``fi > fi`` and ``power > power``.

    Parameters
    ----------
    fi : float
        Freeze-index threshold (>= 0).
    power : float
        Total-power threshold, mg² (>= 0).
    """
    fi: float
    power: float

    def __post_init__(self):
        for name in ("fi", "power"):
            v = getattr(self, name)
            if not (np.isfinite(v) and v >= 0):
                raise ValueError(f"{name} threshold must be finite and >= 0, got {v}")

    def predict(self, fi, power):
        """Decisions (bool array) for freeze indexes ``fi`` and total powers ``power``."""
        return (np.asarray(fi) > self.fi) & (np.asarray(power) > self.power)


def band_powers(x, fs=fog_data.FS):
    """Locomotor and freeze band powers of each window.

    Parameters
    ----------
    x : array_like, shape (n, size)
        One signal per window.
    fs : float
        Sample rate, Hz.

    Returns
    -------
    loco, freeze : ndarray, shape (n,)
        One-sided mean-square power in :data:`LOCO_BAND` and :data:`FREEZE_BAND` (units of
        ``x`` squared).
    """
    x = np.asarray(x, dtype=np.float64)
    if x.ndim != 2 or x.shape[1] < 2:
        raise ValueError(f"x must have shape (n, size >= 2), got {x.shape}")
    size = x.shape[1]
    spec = np.abs(np.fft.rfft(x - x.mean(axis=1, keepdims=True), axis=1)) ** 2 / size ** 2
    spec[:, 1:(size + 1) // 2] *= 2                    # one-sided: fold the negative bins
    f = np.fft.rfftfreq(size, 1 / fs)
    loco = (f >= LOCO_BAND[0]) & (f < LOCO_BAND[1])
    freeze = (f >= FREEZE_BAND[0]) & (f <= FREEZE_BAND[1])
    if not (loco.any() and freeze.any()):
        raise ValueError(f"{size}-sample windows at {fs} Hz leave a band without a bin")
    return spec[:, loco].sum(axis=1), spec[:, freeze].sum(axis=1)


def window_signal(windows, axis=AXIS):
    """The signal the freeze index is computed on, shape (n, size).

    Parameters
    ----------
    windows : sw.fog_data.Windows
    axis : str
        One of :data:`AXES`; ``ankle_mag`` is the Euclidean norm of the three ankle axes.
    """
    if axis not in AXES:
        raise InputError(f"--axis {axis}: expected one of {', '.join(AXES)}")
    X = windows.X.astype(np.float64)
    if axis == "ankle_mag":
        return np.linalg.norm(X[:, :, list(fog_data.SENSORS["ankle"])], axis=2)
    return X[:, :, fog_data.CHANNELS.index(axis)]


def freeze_features(windows, axis=AXIS):
    """Freeze index and total power of each window.

    Parameters
    ----------
    windows : sw.fog_data.Windows
    axis : str
        One of :data:`AXES`.

    Returns
    -------
    fi, power : ndarray, shape (n,)
        ``P_freeze / P_loco`` and ``P_freeze + P_loco`` (mg²).
    """
    loco, freeze = band_powers(window_signal(windows, axis))
    return freeze / np.maximum(loco, _EPS), freeze + loco


def tune(fi, power, y, fi_grid=None, power_grid=None):
    """Thresholds maximising the mean of sensitivity and specificity on training windows.

    Parameters
    ----------
    fi, power : array_like, shape (n,)
        Freeze index and total power of the training windows.
    y : array_like of 0/1, shape (n,)
        Their labels; both classes needed.
    fi_grid, power_grid : array_like, optional
        Candidate thresholds; default: quantiles of the training values (module docstring).

    Returns
    -------
    thresholds : Thresholds
    score : float
        Its balanced accuracy on the training windows.
    """
    fi, power = np.asarray(fi, float), np.asarray(power, float)
    y = np.asarray(y).astype(bool)
    if not len(fi) == len(power) == len(y):
        raise ValueError("fi, power and y must have the same length")
    if y.all() or not y.any():
        raise ValueError("training windows must hold both FoG and non-FoG windows")
    fi_grid = np.unique(np.quantile(fi, _FI_QUANTILES) if fi_grid is None else fi_grid)
    power_grid = np.unique(np.concatenate(([0.0], np.quantile(power, _POWER_QUANTILES)))
                           if power_grid is None else power_grid)
    above_fi = fi[None, :] > fi_grid[:, None]                       # (fi thresholds, n)
    best = (-1.0, 0, 0)
    for j, pw in enumerate(power_grid):
        pos = above_fi & (power > pw)[None, :]
        bal = (pos[:, y].mean(axis=1) + (~pos[:, ~y]).mean(axis=1)) / 2
        i = int(np.argmax(bal))
        if bal[i] > best[0]:
            best = (float(bal[i]), i, j)
    return Thresholds(float(fi_grid[best[1]]), float(power_grid[best[2]])), best[0]


def loso(windows, axis=AXIS, subjects=None, episodes=None, fi_grid=None, power_grid=None):
    """Leave-one-subject-out evaluation of the freeze-index detector.

    Parameters
    ----------
    windows : sw.fog_data.Windows
    axis : str
        One of :data:`AXES`.
    subjects : list, optional
        Held-out subjects (default: every subject with FoG windows,
        :func:`sw.fog_data.loso_folds`).
    episodes : dict, optional
        Recording name -> its FoG episodes ``[(start_s, end_s), ...]`` (e.g.
        :func:`sw.fog_data.fog_episodes`) for the event metrics; default: runs of FoG windows.
    fi_grid, power_grid : array_like, optional
        As :func:`tune`.

    Returns
    -------
    dict
        ``folds``: per held-out subject ``subject``, ``fi_threshold``, ``power_threshold``,
        ``train_balanced_accuracy``, ``n_windows``, ``n_fog``, the window metrics
        (``sensitivity``, ``specificity``, ``f1``, ``auc`` of the FI) and the event metrics
        (``episodes_total``, ``episodes_detected``, ``latency_median_s``,
        ``false_alarms_per_hour``, ...); ``pooled``: the same over every held-out window
        (each scored with its own fold's thresholds; AUC of the pooled FI); ``axis``,
        ``window``, ``bands``.
    """
    fi, power = freeze_features(windows, axis)
    episodes = episodes or {}
    folds, pooled_idx, pooled_pred, events = [], [], [], []
    for fold in fog_data.loso_folds(windows, subjects):
        y_train = windows.y[fold.train]
        if y_train.all() or not y_train.any():
            raise InputError(f"holding out subject {fold.subject}: the other subjects' windows "
                             "need both FoG and non-FoG windows to tune the thresholds")
        th, train_score = tune(fi[fold.train], power[fold.train], windows.y[fold.train],
                               fi_grid, power_grid)
        pred = th.predict(fi[fold.test], power[fold.test])
        w = window_metrics(windows.y[fold.test], pred, fi[fold.test])
        rec_events = []
        for name in dict.fromkeys(windows.file[fold.test].tolist()):
            k = windows.file[fold.test] == name
            rec_events.append(event_metrics(windows.y[fold.test][k], pred[k],
                                            windows.start_s[fold.test][k],
                                            windows.end_s[fold.test][k], episodes.get(name)))
        ev = pool_events(rec_events)
        events.extend(rec_events)
        pooled_idx.append(fold.test)
        pooled_pred.append(pred)
        folds.append({"subject": fold.subject, "fi_threshold": th.fi,
                      "power_threshold": th.power, "train_balanced_accuracy": train_score,
                      "n_windows": int(len(fold.test)), "n_fog": int(windows.y[fold.test].sum()),
                      **w, **ev})
    if not folds:
        raise InputError("no subject with FoG windows to hold out")
    idx, pred = np.concatenate(pooled_idx), np.concatenate(pooled_pred)
    pooled = {"n_windows": int(len(idx)), "n_fog": int(windows.y[idx].sum()),
              **window_metrics(windows.y[idx], pred, fi[idx]), **pool_events(events)}
    return {"axis": axis, "window": int(windows.X.shape[1]), "bands": {
        "loco_hz": list(LOCO_BAND), "freeze_hz": list(FREEZE_BAND)},
        "folds": folds, "pooled": pooled}


def _table(result):
    head = (f"{'held out':>8}  {'FI th':>6} {'P th':>8}  {'sens':>5} {'spec':>5} {'F1':>5} "
            f"{'AUC':>5}  {'episodes':>8} {'lat s':>5} {'FA/h':>6}")
    lines = [f"freeze index on {result['axis']}, {result['window']}-sample windows, "
             "thresholds tuned on the other subjects", head]
    for r in [*result["folds"], {**result["pooled"], "subject": "pooled"}]:
        th = (f"{r['fi_threshold']:6.2f} {r['power_threshold']:8.0f}" if "fi_threshold" in r
              else f"{'':6} {'':8}")
        lines.append(f"{r['subject']!s:>8}  {th}  {r['sensitivity']:5.2f} "
                     f"{r['specificity']:5.2f} {r['f1']:5.2f} {r['auc']:5.2f}  "
                     f"{r['episodes_detected']:>3}/{r['episodes_total']:<4} "
                     f"{r['latency_median_s']:5.1f} {r['false_alarms_per_hour']:6.1f}")
    return "\n".join(lines)


def main(argv=None):
    """``python -m sw.fog_baseline [PATH ...] [options]``; returns the exit status."""
    ap = parser(PROG, "Leave-one-subject-out freeze-index baseline on Daphnet FoG recordings.")
    ap.add_argument("paths", nargs="*", help="recordings (.txt/.txt.gz) or folders "
                    f"(default {SHARED_DATA / 'fog-daphnet'})")
    ap.add_argument("--axis", default=AXIS, choices=AXES, help=f"signal (default {AXIS})")
    ap.add_argument("--window", type=int, default=fog_data.WINDOW,
                    help=f"samples per window (default {fog_data.WINDOW})")
    ap.add_argument("--hop", type=int, default=fog_data.HOP,
                    help=f"samples between windows (default {fog_data.HOP})")
    ap.add_argument("--fog-threshold", type=float, default=fog_data.FOG_THRESHOLD,
                    help="a window is FoG above this fraction of freeze samples "
                    f"(default {fog_data.FOG_THRESHOLD})")
    ap.add_argument("-o", "--output", help="also write the figures to this JSON file")
    a = ap.parse_args(argv)
    if a.window < 32 or a.hop < 1:
        ap.error("--window needs at least 32 samples (0.5 s: both bands need a frequency "
                 "bin) and --hop at least 1")
    if not 0 <= a.fog_threshold < 1:
        ap.error(f"--fog-threshold {a.fog_threshold}: expected 0 <= value < 1")
    try:
        paths = a.paths or [SHARED_DATA / "fog-daphnet"]
        if a.output is not None:
            check_output_file(a.output, fog_data.find_recordings(paths), "-o")
        recs = fog_data.load_recordings(paths)
        windows = fog_data.Windows.concat(
            [fog_data.make_windows(r, a.window, a.hop, a.fog_threshold) for r in recs],
            a.window)
        result = loso(windows, a.axis, episodes={r.name: fog_data.fog_episodes(r)
                                                 for r in recs})
        result["recordings"] = [r.name for r in recs]
        print(_table(result))
        if a.output is not None:
            write_json_atomic(a.output, result)
            print(f"wrote {a.output}")
    except HANDLED as e:
        return error_status(PROG, e)
    return 0


if __name__ == "__main__":
    sys.exit(main())
