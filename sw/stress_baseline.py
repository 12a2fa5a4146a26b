"""Feature baseline of stress detection from E4 wrist physiology (issue 17).

Per window of :class:`sw.stress_data.Windows` (:func:`window_features`, names
:data:`FEATURES`):

============== ==================================================================================
``eda_mean``   mean skin conductance, µS
``eda_slope``  least-squares slope of EDA over the window, µS/min
``scr_count``  skin-conductance responses: peaks of the EDA smoothed by a 1 s moving average
               (4 samples) with a prominence of at least :data:`SCR_PROMINENCE` = 0.02 µS and
               at least 1 s apart (a simple amplitude rule in the usual 0.01-0.05 µS range)
``hr_mean``    heart rate from BVP peaks, bpm: BVP band-passed 0.7-3.5 Hz (2nd-order
``hr_std``     Butterworth, zero phase), peaks at least 1/3 s apart (<= 180 bpm) with a
               prominence of at least half the filtered window's standard deviation; beat
               intervals outside 0.33-1.5 s (40-180 bpm) dropped; mean and standard deviation
               of 60 / interval. NaN with fewer than 3 intervals. From BVP rather than the
               E4's ``HR.csv`` so that the same features come out of any BVP (WESAD,
               K-EmoCon, our own device), and without the HR stream's 10 s start-up.
``temp_slope`` least-squares slope of skin temperature, °C/min
``acc_std``    activity: standard deviation of the acceleration magnitude, g
``bvp_std``    BVP amplitude: standard deviation of the raw BVP window, device units
============== ==================================================================================

Models (:func:`make_model`): ``"lr"`` = median imputation, standardisation, logistic
regression; ``"rf"`` = median imputation, random forest (200 trees, at least 5 windows per
leaf). Both weight the classes inversely to their frequency (``class_weight="balanced"``;
stress is about a third of the windows), all fitted on the training subjects only.

Normalisation: the features are z-scored per subject *before* the model
(:func:`sw.stress_data.normalise_features`): ``"baseline"`` (default, causal: the subject's
first 5 min), ``"running"`` (causal), ``"session"`` (transductive: the whole session of the
subject, labelled as such in every result) or ``"none"``. Per-subject statistics use only that
subject's own windows, so they carry nothing across folds.

:func:`loso_scores` scores one model over subject-wise folds: per fold and pooled over every
held-out window, accuracy, balanced accuracy, F1 and ROC AUC of the stress class, and the
majority-class rate of the test windows (the accuracy of always answering the more frequent
class).

Command line (figures printed; ``-o`` also writes them as JSON)::

    python -m sw.stress_baseline ../shared/data/stress-wrist-e4 [--k 5] [--seed 0] [-o x.json]
"""

import sys

import numpy as np
from scipy import signal as sps
from sklearn.ensemble import RandomForestClassifier
from sklearn.impute import SimpleImputer
from sklearn.linear_model import LogisticRegression
from sklearn.metrics import accuracy_score, balanced_accuracy_score, f1_score, roc_auc_score
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler

from spec.cli import HANDLED, InputError, error_status, parser
from spec.constants import SHARED_DATA
from spec.outputs import check_output_file, write_json_atomic
from sw import stress_data as sd

__all__ = ["FEATURES", "MODELS", "SCR_PROMINENCE", "window_features", "make_model",
           "scores", "loso_scores", "main"]

PROG = "sw.stress_baseline"
#: feature names, in column order
FEATURES = ("eda_mean", "eda_slope", "scr_count", "hr_mean", "hr_std", "temp_slope", "acc_std",
            "bvp_std")
#: model names
MODELS = ("lr", "rf")
#: smallest SCR peak prominence, µS
SCR_PROMINENCE = 0.02
_BVP_BAND = (0.7, 3.5)
_IBI_RANGE = (0.33, 1.5)


def _slope_per_min(x, fs):
    """Least-squares slope of each row of ``x`` (n, m), units per minute."""
    t = np.arange(x.shape[1]) / fs
    tc = t - t.mean()
    return (x - x.mean(axis=1, keepdims=True)) @ tc / (tc @ tc) * 60.0


def _scr_count(eda):
    fs = sd.RATES["eda"]
    k = np.ones(fs) / fs
    out = np.zeros(len(eda))
    for i, x in enumerate(eda.astype(np.float64)):
        s = np.convolve(x, k, mode="valid")
        out[i] = len(sps.find_peaks(s, prominence=SCR_PROMINENCE, distance=fs)[0])
    return out


def _heart_rate(bvp):
    fs = sd.RATES["bvp"]
    sos = sps.butter(2, _BVP_BAND, btype="bandpass", fs=fs, output="sos")
    f = sps.sosfiltfilt(sos, bvp.astype(np.float64), axis=1)
    mean, std = np.full(len(bvp), np.nan), np.full(len(bvp), np.nan)
    for i, x in enumerate(f):
        sd_x = x.std()
        if not sd_x > 0:
            continue
        p = sps.find_peaks(x, distance=int(np.ceil(fs / 3)), prominence=0.5 * sd_x)[0]
        ibi = np.diff(p) / fs
        ibi = ibi[(ibi >= _IBI_RANGE[0]) & (ibi <= _IBI_RANGE[1])]
        if len(ibi) >= 3:
            hr = 60.0 / ibi
            mean[i], std[i] = hr.mean(), hr.std()
    return mean, std


def window_features(windows):
    """The :data:`FEATURES` of each window.

    Parameters
    ----------
    windows : sw.stress_data.Windows

    Returns
    -------
    ndarray of float64, shape (n, 8)
        Columns :data:`FEATURES`; ``hr_mean``/``hr_std`` NaN where fewer than 3 beat intervals
        were found.
    """
    eda = windows.eda.astype(np.float64)
    hr_mean, hr_std = _heart_rate(windows.bvp) if len(windows) else (np.zeros(0),) * 2
    mag = np.linalg.norm(windows.acc.astype(np.float64), axis=2)
    cols = [eda.mean(axis=1), _slope_per_min(eda, sd.RATES["eda"]), _scr_count(windows.eda),
            hr_mean, hr_std, _slope_per_min(windows.temp.astype(np.float64), sd.RATES["temp"]),
            mag.std(axis=1), windows.bvp.astype(np.float64).std(axis=1)]
    return np.stack(cols, axis=1) if len(windows) else np.zeros((0, len(FEATURES)))


def make_model(name="lr", seed=0):
    """An unfitted sklearn pipeline: ``"lr"`` or ``"rf"`` (module docstring)."""
    if name == "lr":
        return make_pipeline(SimpleImputer(strategy="median"), StandardScaler(),
                             LogisticRegression(class_weight="balanced", max_iter=2000))
    if name == "rf":
        return make_pipeline(SimpleImputer(strategy="median"),
                             RandomForestClassifier(n_estimators=200, min_samples_leaf=5,
                                                    class_weight="balanced", n_jobs=1,
                                                    random_state=seed))
    raise ValueError(f"model must be one of {', '.join(MODELS)}, got {name!r}")


def scores(y, pred, prob):
    """Accuracy, balanced accuracy, F1 and AUC of the stress class, majority-class rate.

    AUC is NaN when ``y`` holds one class only.
    """
    y, pred = np.asarray(y).astype(int), np.asarray(pred).astype(int)
    both = 0 < y.sum() < len(y)
    return {"n_windows": int(len(y)), "n_stress": int(y.sum()),
            "accuracy": float(accuracy_score(y, pred)),
            "balanced_accuracy": float(balanced_accuracy_score(y, pred)) if both else
            float(accuracy_score(y, pred)),
            "f1": float(f1_score(y, pred, zero_division=0)),
            "auc": float(roc_auc_score(y, prob)) if both else float("nan"),
            "majority": float(max(y.mean(), 1 - y.mean())) if len(y) else float("nan")}


def loso_scores(windows, folds, model="lr", normalisation="baseline", features=None, seed=0,
                baseline_s=sd.BASELINE_S):
    """Score a model over leave-subjects-out folds.

    Parameters
    ----------
    windows : sw.stress_data.Windows
    folds : list of sw.har_data.Fold
        E.g. :func:`sw.stress_data.subject_folds`; a fold whose training and test subjects
        overlap is refused.
    model : {"lr", "rf"}
    normalisation : str
        One of :data:`sw.stress_data.NORMALISATIONS` (``"session"`` is transductive).
    features : ndarray, shape (n, 8), optional
        :func:`window_features` of ``windows`` (computed when not given).
    seed : int
        Random forest seed.
    baseline_s : float
        Calibration period of ``"baseline"``, s.

    Returns
    -------
    dict
        ``model``, ``normalisation``, ``transductive`` (bool), ``folds`` (per fold: test
        ``subjects`` and :func:`scores`), ``pooled`` (:func:`scores` over every held-out window,
        each predicted by its own fold's model; AUC of the pooled probabilities).
    """
    make_model(model)
    F = window_features(windows) if features is None else np.asarray(features, np.float64)
    Z = sd.normalise_features(windows, F, normalisation, baseline_s)
    out, idx_all, pred_all, prob_all = [], [], [], []
    for fold in folds:
        train_s = set(windows.subject[fold.train].tolist())
        if train_s & set(windows.subject[fold.test].tolist()):
            raise ValueError(f"fold {fold.subjects}: a subject is in training and test")
        y_tr = windows.y[fold.train]
        if y_tr.all() or not y_tr.any():
            raise InputError(f"fold {fold.subjects}: training windows need both classes")
        m = make_model(model, seed).fit(Z[fold.train], y_tr)
        prob = m.predict_proba(Z[fold.test])[:, 1]
        pred = (prob >= 0.5).astype(int)
        out.append({"subjects": list(fold.subjects),
                    **scores(windows.y[fold.test], pred, prob)})
        idx_all.append(fold.test)
        pred_all.append(pred)
        prob_all.append(prob)
    idx = np.concatenate(idx_all)
    return {"model": model, "normalisation": normalisation,
            "transductive": normalisation == "session", "folds": out,
            "pooled": scores(windows.y[idx], np.concatenate(pred_all),
                             np.concatenate(prob_all))}


def _table(results, k, n_subjects, n_windows, window_s, hop_s):
    lines = [f"stress baseline: {n_subjects} subjects, {n_windows} windows of {window_s} s "
             f"(hop {hop_s} s), {k} subject-wise folds; pooled over held-out windows",
             f"{'model':<5} {'normalisation':<24} {'acc':>5} {'bal':>5} {'F1':>5} {'AUC':>5} "
             f"{'major':>5}"]
    for r in results:
        p = r["pooled"]
        norm = r["normalisation"] + (" (transductive)" if r["transductive"] else
                                     " (causal)" if r["normalisation"] != "none" else "")
        lines.append(f"{r['model']:<5} {norm:<24} {p['accuracy']:5.3f} "
                     f"{p['balanced_accuracy']:5.3f} {p['f1']:5.3f} {p['auc']:5.3f} "
                     f"{p['majority']:5.3f}")
    return "\n".join(lines)


def main(argv=None):
    """``python -m sw.stress_baseline [FOLDER] [options]``; returns the exit status."""
    ap = parser(PROG, "Leave-subjects-out feature baseline of stress detection on E4 wrist "
                "recordings (Stress-Predict layout).")
    ap.add_argument("folder", nargs="?", default=str(SHARED_DATA / "stress-wrist-e4"),
                    help="folder with Sxx folders and labels_hr_rsp_binary.csv")
    ap.add_argument("--k", type=int, default=5, help="number of folds (default 5)")
    ap.add_argument("--seed", type=int, default=0, help="fold and forest seed (default 0)")
    ap.add_argument("--window", type=int, default=sd.WINDOW_S,
                    help=f"window length, s (default {sd.WINDOW_S})")
    ap.add_argument("--hop", type=int, default=sd.HOP_S,
                    help=f"hop between windows, s (default {sd.HOP_S})")
    ap.add_argument("--models", default="lr,rf", help="comma-separated (default lr,rf)")
    ap.add_argument("--normalisations", default="baseline,session",
                    help="comma-separated, of " + ", ".join(sd.NORMALISATIONS) +
                    " (default baseline,session)")
    ap.add_argument("-o", "--output", help="also write the figures to this JSON file")
    a = ap.parse_args(argv)
    models = [m for m in a.models.split(",") if m]
    norms = [m for m in a.normalisations.split(",") if m]
    if a.window < 10 or a.hop < 1:
        ap.error("--window needs at least 10 s and --hop at least 1 s")
    if not models or any(m not in MODELS for m in models):
        ap.error(f"--models {a.models}: expected a comma-separated list of {', '.join(MODELS)}")
    if not norms or any(m not in sd.NORMALISATIONS for m in norms):
        ap.error(f"--normalisations {a.normalisations}: expected a comma-separated list of "
                 f"{', '.join(sd.NORMALISATIONS)}")
    try:
        if a.output is not None:
            check_output_file(a.output, [], "-o")
        w = sd.load_windows(a.folder, window_s=a.window, hop_s=a.hop)
        if not 2 <= a.k <= len(w.subjects):
            raise InputError(f"--k {a.k}: expected 2 to the number of subjects "
                             f"({len(w.subjects)})")
        folds = sd.subject_folds(w, a.k, a.seed)
        F = window_features(w)
        results = [loso_scores(w, folds, m, n, F, a.seed) for m in models for n in norms]
        print(_table(results, a.k, len(w.subjects), len(w), a.window, a.hop))
        if a.output is not None:
            write_json_atomic(a.output, {"subjects": w.subjects, "window_s": a.window,
                                         "hop_s": a.hop, "k": a.k, "seed": a.seed,
                                         "features": list(FEATURES), "results": results})
            print(f"wrote {a.output}")
    except HANDLED as e:
        return error_status(PROG, e)
    return 0


if __name__ == "__main__":
    sys.exit(main())
