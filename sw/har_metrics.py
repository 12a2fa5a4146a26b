"""Scores of an activity classifier: accuracy, macro-F1, per-class F1, confusion matrix.

One function, :func:`classification_metrics`, used by :mod:`sw.train_har` (pooled over the
held-out folds, and per fold) and by ``python -m sw.evaluate`` (kind ``"har"``), so that both
report the same quantities under the same names.
"""

import numpy as np

__all__ = ["classification_metrics", "f1_per_class"]


def f1_per_class(confusion):
    """F1 of every class from a confusion matrix (rows truth, columns prediction); a class
    neither present nor predicted gets None (it is left out of the macro mean)."""
    C = np.asarray(confusion, np.int64)
    tp = np.diag(C).astype(np.float64)
    denom = C.sum(axis=0) + C.sum(axis=1)          # 2 tp + fp + fn
    return [None if d == 0 else float(2 * t / d) for t, d in zip(tp, denom)]


def classification_metrics(y, pred, names):
    """Metrics of predicted classes ``pred`` against truth ``y`` (0-based class indexes).

    Parameters
    ----------
    y, pred : array of int, shape (n,)
    names : sequence of str
        Class names, index = class.

    Returns
    -------
    dict
        ``n_windows``, ``accuracy``, ``macro_f1`` (mean F1 over the classes present in ``y``
        or predicted), ``per_class_f1`` (name -> F1 or None), ``support`` (name -> windows),
        ``confusion`` (list of rows: truth; columns: prediction), ``class_names``.
    """
    y = np.asarray(y, np.int64)
    pred = np.asarray(pred, np.int64)
    k = len(names)
    if y.shape != pred.shape:
        raise ValueError(f"y has shape {y.shape}, pred {pred.shape}")
    if len(y) and (y.min() < 0 or y.max() >= k or pred.min() < 0 or pred.max() >= k):
        raise ValueError(f"class indexes must be in 0..{k - 1}")
    C = np.zeros((k, k), np.int64)
    np.add.at(C, (y, pred), 1)
    f1 = f1_per_class(C)
    present = [v for v in f1 if v is not None]
    return {"n_windows": int(len(y)),
            "accuracy": float(np.mean(y == pred)) if len(y) else None,
            "macro_f1": float(np.mean(present)) if present else None,
            "per_class_f1": dict(zip(names, f1)),
            "support": dict(zip(names, C.sum(axis=1).tolist())),
            "confusion": C.tolist(), "class_names": list(names)}
