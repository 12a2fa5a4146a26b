"""Figures of the benchmark and validation reports (matplotlib, Agg backend, PNG).

Each function writes one PNG atomically and returns its file name.
"""

import os

import numpy as np

from spec.constants import FS
from spec.outputs import atomic_path

__all__ = ["trigger_overlay", "stride_agreement", "roc_curves"]


def _plt():
    import matplotlib
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    return plt


def _save(fig, path):
    with atomic_path(path, ".png") as tmp:
        fig.savefig(tmp, dpi=110, bbox_inches="tight", format="png")
    return os.path.basename(path)


def trigger_overlay(path, name, samples, trig, records, knee, peaks, names, seconds=(4.0, 12.0)):
    """Raw EMG with trigger shading, stride onsets and the knee angle for one real walk."""
    from spec.channels import EMG_CHANNELS
    plt = _plt()
    a, b = (int(s * FS) for s in seconds)
    if b > len(samples):           # a short walk: the same span, ending at its last sample
        a, b = max(0, len(samples) - (b - a)), len(samples)
    t = np.arange(a, b) / FS
    fig, axes = plt.subplots(3, 1, figsize=(11, 6.5), sharex=True)
    for ax, slot, label in ((axes[0], "R_BF", names[1]), (axes[1], "R_RF", names[0])):
        c = EMG_CHANNELS.index(slot)
        x = samples[a:b, c].astype(float)
        ax.plot(t, x, lw=0.5, color="0.3")
        on = trig[a:b, c].astype(bool)
        top = np.abs(x).max() or 1
        ax.fill_between(t, -top, top, where=on, color="tab:orange", alpha=0.3, step="mid",
                        label="trigger on")
        ax.set_ylabel(f"{slot}\n({label}), counts")
        ax.legend(loc="upper right", fontsize=8)
    starts = [r["start"] for r in records if r["leg"] == 1]
    starts += [records[-1]["start"] + records[-1]["stride_time"]] if records else []
    for ax in axes:
        for s in starts:
            if a <= s < b:
                ax.axvline(s / FS, color="tab:blue", lw=1, ls="--")
    axes[2].plot(t, knee[a:b], color="tab:green", lw=1)
    pk = [p for p in peaks if a <= p < b]
    axes[2].plot(
        np.array(pk) / FS, knee[pk], "v", color="k", label="knee-flexion peak (gait cycle)"
    )
    axes[2].set_ylabel("knee angle, deg")
    axes[2].set_xlabel("time, s   (dashed: stride onsets of the EMG pipeline, BF marker)")
    axes[2].legend(loc="upper right", fontsize=8)
    axes[0].set_title(f"UCI {name} (REAL recording): dynamic-threshold triggers on raw EMG "
                      f"({FS} Hz, 16-bit counts)")
    fig.tight_layout()
    name_out = _save(fig, path)
    plt.close(fig)
    return name_out


def stride_agreement(path, scores):
    """EMG stride time against the goniometer's, matched strides of every UCI walk."""
    plt = _plt()
    ok = (scores["kind"] == "matched") & np.isfinite(scores["ref_ms"])
    fig, ax = plt.subplots(figsize=(5.5, 5.2))
    group = scores.get("group")
    if group is None:              # no groups given: from the UCI names <n>N / <n>A
        group = np.array(["healthy" if "N" in f else "knee abnormality" for f in scores["file"]])
    group = np.asarray(group)
    for g, lab, col, mk in (("knee abnormality", "knee abnormality (A)", "tab:red", "o"),
                            ("healthy", "healthy (N)", "tab:blue", "s"),
                            ("unknown", "group not given", "0.4", "^")):
        sel = ok & (group == g)
        if sel.any():
            ax.plot(scores["ref_ms"][sel], scores["emg_ms"][sel], mk, ms=4, alpha=0.6, color=col,
                    label=lab)
    if ok.any():
        both = np.concatenate([scores["ref_ms"][ok], scores["emg_ms"][ok]])
        lo = np.min(both) - 100
        hi = min(np.max(both), 3000.0) + 100      # pauses/turns (up to 10 s) are off the plot
        ax.plot([lo, hi], [lo, hi], "k-", lw=0.8, label="identity")
        ax.set_xlim(lo, hi)
        ax.set_ylim(lo, hi)
        off = int(np.sum((scores["ref_ms"][ok] > hi) | (scores["emg_ms"][ok] > hi)))
        if off:
            ax.text(0.98, 0.02, f"{off} stride(s) > {hi / 1000:.1f} s (pauses) not shown",
                    transform=ax.transAxes, ha="right", fontsize=8)
    e = scores["err_ms"][ok]
    ax.set_title(
        f"Stride time, EMG (BF) vs knee goniometer\nREAL UCI walks, {ok.sum()} matched strides, "
        f"|err| median {np.median(np.abs(e)) if e.size else float('nan'):.0f} ms",
        fontsize=10,
    )
    ax.set_xlabel("goniometer stride time, ms")
    ax.set_ylabel("EMG pipeline stride time, ms")
    if ok.any():
        ax.legend(fontsize=8, loc="upper left")
    name_out = _save(fig, path)
    plt.close(fig)
    return name_out


def roc_curves(path, models, title):
    """ROC curves of several classifiers: ``models`` = list of (name, fpr, tpr, auc)."""
    plt = _plt()
    fig, ax = plt.subplots(figsize=(5.5, 5.2))
    for name, fpr, tpr, auc in models:
        ax.plot(fpr, tpr, lw=1.2, label=f"{name.upper()} (AUC {auc:.3f})")
    ax.plot([0, 1], [0, 1], color="0.6", lw=0.8, ls="--")
    ax.set_xlabel("false positive rate")
    ax.set_ylabel("true positive rate (Pre L-dopa detected)")
    ax.set_title(title, fontsize=10)
    ax.legend(fontsize=8, loc="lower right")
    name_out = _save(fig, path)
    plt.close(fig)
    return name_out
