"""Figures of the freezing-of-gait detector (matplotlib, Agg backend, PNG, written atomically).

* :func:`roc` -- one ROC curve per held-out subject and the pooled one, with the operating
  point of the chosen threshold and the freeze-index baseline's points;
* :func:`timeline` -- one recording: the annotated freezes (truth), the detector's p(FoG)
  per window (at the window's end, when a streaming detector would emit it), the threshold
  and the windows flagged FoG.

Each function writes one PNG and returns its file name.
"""

import os

import numpy as np

from spec.outputs import atomic_path

__all__ = ["roc_points", "roc", "timeline"]


def _plt():
    import matplotlib
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    return plt


def _save(fig, path):
    with atomic_path(path, ".png") as tmp:
        fig.savefig(tmp, dpi=100, bbox_inches="tight", format="png")
    _plt().close(fig)
    return os.path.basename(path)


def roc_points(y, p):
    """(false positive rate, true positive rate) at every distinct score, from (0, 0) to
    (1, 1); ties move together."""
    y = np.asarray(y, bool)
    p = np.asarray(p, np.float64)
    order = np.argsort(-p, kind="stable")
    ys, ps = y[order], p[order]
    last = np.r_[np.nonzero(np.diff(ps))[0], len(ps) - 1]
    tp = np.cumsum(ys)[last]
    fp = np.cumsum(~ys)[last]
    n1, n0 = max(int(y.sum()), 1), max(int((~y).sum()), 1)
    return np.r_[0.0, fp / n0], np.r_[0.0, tp / n1]


def roc(path, curves, title, points=()):
    """``curves``: list of (label, y, p, threshold); ``points``: list of (label,
    sensitivity, specificity) drawn as markers (e.g. the freeze-index baseline)."""
    plt = _plt()
    fig, ax = plt.subplots(figsize=(5.5, 5.0))
    for label, y, p, th in curves:
        fpr, tpr = roc_points(y, p)
        line, = ax.plot(fpr, tpr, lw=1.4, label=label)
        y, pred = np.asarray(y, bool), np.asarray(p) >= th
        if y.any() and (~y).any():
            ax.plot((pred & ~y).sum() / (~y).sum(), (pred & y).sum() / y.sum(), "o",
                    color=line.get_color(), ms=5)
    for label, sens, spec in points:
        if sens == sens and spec == spec:
            ax.plot(1 - spec, sens, "kx", ms=7, label=label)
    ax.plot([0, 1], [0, 1], ":", color="0.6", lw=1)
    ax.set_xlabel("1 - specificity")
    ax.set_ylabel("sensitivity")
    ax.set_xlim(0, 1)
    ax.set_ylim(0, 1.01)
    ax.set_title(title, fontsize=10)
    ax.legend(fontsize=8, loc="lower right")
    return _save(fig, path)


def timeline(path, title, end_s, y, p, threshold, episodes=()):
    """``end_s``: end time of each window (s); ``y``: window truth; ``p``: p(FoG);
    ``episodes``: annotated freezes as (start_s, end_s)."""
    plt = _plt()
    end_s, p = np.asarray(end_s, np.float64), np.asarray(p, np.float64)
    fig, ax = plt.subplots(figsize=(11, 2.8))
    for k, (a, b) in enumerate(episodes):
        ax.axvspan(a, b, color="tab:red", alpha=0.18, lw=0,
                   label="annotated freeze" if k == 0 else None)
    ax.plot(end_s, p, ".-", ms=2.5, lw=0.8, color="tab:blue", label="p(FoG)")
    hit = p >= threshold
    ax.plot(end_s[hit], np.full(hit.sum(), 1.04), "|", color="tab:blue", ms=6,
            label="flagged FoG")
    miss = np.asarray(y, bool)
    ax.plot(end_s[miss], np.full(miss.sum(), 1.09), "|", color="tab:red", ms=6,
            label="FoG window (truth)")
    ax.axhline(threshold, color="k", ls="--", lw=0.8, label=f"threshold {threshold:.3f}")
    ax.set_ylim(-0.02, 1.13)
    ax.set_xlabel("time, s (window end)")
    ax.set_ylabel("p(FoG)")
    ax.set_title(title, fontsize=10)
    ax.legend(fontsize=7, loc="upper left", ncol=5, framealpha=0.8)
    return _save(fig, path)
