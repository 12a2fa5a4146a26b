"""Table 4 metrics, confusion matrix and ROC plot of a wearing-off classifier.

Pre L-dopa (OFF) is the positive class (label 1), as in the paper's eqs. (1)-(4):
accuracy, recall, precision and F1 in percent, AUC from the classifier's score
(:func:`sklearn.metrics.roc_auc_score`). The ROC plot marks the operating
point of the classifier's own labels (red dot, as the paper's Figs. 4-5).
"""

import numpy as np

__all__ = ["metrics", "roc_points", "plot_confusion_roc", "metrics_table_md", "METRIC_NAMES"]

METRIC_NAMES = ("accuracy", "recall", "precision", "f1", "auc")


def metrics(y, label, score):
    """Dict of the Table 4 metrics plus the confusion counts."""
    from sklearn.metrics import roc_auc_score
    y = np.asarray(y).astype(int)
    label = np.asarray(label).astype(int)
    tp = int(np.sum((y == 1) & (label == 1)))
    tn = int(np.sum((y == 0) & (label == 0)))
    fp = int(np.sum((y == 0) & (label == 1)))
    fn = int(np.sum((y == 1) & (label == 0)))

    def pct(a, b):
        return 100.0 * a / b if b else float("nan")
    return {"accuracy": pct(tp + tn, tp + tn + fp + fn), "recall": pct(tp, tp + fn),
            "precision": pct(tp, tp + fp), "f1": pct(2 * tp, 2 * tp + fn + fp),
            "auc": float(roc_auc_score(y, score)), "tp": tp, "tn": tn, "fp": fp, "fn": fn,
            "n": int(len(y))}


def roc_points(y, score, max_points=200):
    """ROC curve ``{"fpr": [...], "tpr": [...]}`` thinned to at most ``max_points`` points."""
    from sklearn.metrics import roc_curve
    fpr, tpr, _ = roc_curve(np.asarray(y).astype(int), score)
    if len(fpr) > max_points:
        keep = np.unique(np.linspace(0, len(fpr) - 1, max_points).round().astype(int))
        fpr, tpr = fpr[keep], tpr[keep]
    return {"fpr": [round(float(v), 5) for v in fpr], "tpr": [round(float(v), 5) for v in tpr]}


def plot_confusion_roc(path, y, label, score, title):
    """PNG with the confusion matrix (left) and the ROC curve (right)."""
    import matplotlib
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    from sklearn.metrics import roc_curve
    m = metrics(y, label, score)
    fig, (ax1, ax2) = plt.subplots(1, 2, figsize=(9, 4))
    cm = np.array([[m["tp"], m["fn"]], [m["fp"], m["tn"]]])
    ax1.imshow(cm, cmap="Blues")
    names = ["Pre (OFF)", "Post (ON)"]
    for i in range(2):
        for j in range(2):
            ax1.text(j, i, f"{cm[i, j]}\n{100 * cm[i, j] / max(1, cm[i].sum()):.1f} %",
                     ha="center", va="center",
                     color="black" if cm[i, j] < cm.max() / 2 else "white")
    ax1.set_xticks([0, 1], names)
    ax1.set_yticks([0, 1], names)
    ax1.set_xlabel("predicted")
    ax1.set_ylabel("true")
    ax1.set_title("confusion matrix")
    fpr, tpr, _ = roc_curve(y, score)
    ax2.plot(fpr, tpr, lw=1.5)
    ax2.plot([0, 1], [0, 1], ":", color="grey")
    ax2.plot(m["fp"] / max(1, m["fp"] + m["tn"]), m["tp"] / max(1, m["tp"] + m["fn"]), "o",
             color="red", label="operating point")
    ax2.set_xlabel("false positive rate")
    ax2.set_ylabel("true positive rate")
    ax2.set_title(f"ROC, AUC = {m['auc']:.3f}")
    ax2.legend(loc="lower right")
    fig.suptitle(title)
    fig.tight_layout()
    fig.savefig(path, dpi=100)
    plt.close(fig)


def metrics_table_md(rows, synthetic):
    """Markdown Table 4: ``rows`` = list of (model name, metrics dict)."""
    lines = ["| classifier | accuracy % | recall % | precision % | F1 % | AUC |",
             "|---|---:|---:|---:|---:|---:|"]
    for name, m in rows:
        lines.append(f"| {name} | {m['accuracy']:.2f} | {m['recall']:.2f} | {m['precision']:.2f} "
                     f"| {m['f1']:.2f} | {m['auc']:.3f} |")
    if synthetic:
        lines.append("")
        lines.append("SYNTHETIC cohort: these figures measure how separable the generator's "
                     "Pre/Post distributions are, not a clinical result.")
    return "\n".join(lines) + "\n"
