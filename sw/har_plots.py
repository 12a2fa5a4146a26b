"""Figure of the activity classifier: the confusion matrix (matplotlib, Agg, PNG, atomic)."""

import os

import numpy as np

from spec.outputs import atomic_path

__all__ = ["confusion"]


def confusion(path, matrix, names, title):
    """Confusion matrix ``matrix`` (rows truth, columns prediction) with counts and row
    percentages in the cells; writes ``path`` and returns its file name."""
    import matplotlib
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    C = np.asarray(matrix, np.int64)
    rows = np.maximum(C.sum(axis=1, keepdims=True), 1)
    frac = C / rows
    k = len(names)
    fig, ax = plt.subplots(figsize=(1.0 + 0.9 * k, 0.8 + 0.8 * k))
    ax.imshow(frac, cmap="Blues", vmin=0, vmax=1)
    for i in range(k):
        for j in range(k):
            if C[i, j]:
                ax.text(j, i, f"{C[i, j]}\n{100 * frac[i, j]:.0f}%", ha="center", va="center",
                        fontsize=7, color="white" if frac[i, j] > 0.6 else "black")
    short = [n.replace("WALKING_", "WALK_").replace("_TO_", "→") for n in names]
    ax.set_xticks(range(k), short, rotation=45, ha="right", fontsize=8)
    ax.set_yticks(range(k), short, fontsize=8)
    ax.set_xlabel("predicted")
    ax.set_ylabel("true")
    ax.set_title(title, fontsize=9)
    with atomic_path(path, ".png") as tmp:
        fig.savefig(tmp, dpi=100, bbox_inches="tight", format="png")
    plt.close(fig)
    return os.path.basename(path)
