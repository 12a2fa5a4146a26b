"""Window and event metrics of a freezing-of-gait (FoG) detector on one recording.

FoG is the positive class. Every figure is a fraction (0-1), or NaN when undefined (e.g. the
sensitivity of a recording without FoG).

Window metrics (:func:`window_metrics`): ``sensitivity`` = TP / (TP + FN), ``specificity`` =
TN / (TN + FP), ``f1`` = 2 TP / (2 TP + FP + FN), ``auc`` = area under the ROC curve of the
score (:func:`sklearn.metrics.roc_auc_score`; NaN without both classes or without a score).

Event metrics (:func:`event_metrics`), from the windows' times (``start_s``, ``end_s``):

* episodes -- the truth's FoG episodes: given (``episodes``, e.g. the contiguous label-2
  sample runs of :func:`sw.fog_data.fog_episodes`), or else the maximal runs of FoG-labelled
  windows, each spanning its first window's start to its last window's end;
* ``episodes_detected`` -- episodes overlapped by at least one positive window;
* ``latency_median_s`` -- median over detected episodes of the time from the episode's start
  to the end of the first positive window overlapping it (a window is decided when its last
  sample has arrived; NaN when none is detected);
* ``false_alarms_per_hour`` -- runs of positive windows that overlap no episode, per hour of
  non-FoG time (the time covered by the windows, outside every episode).

Windows are joined into a run when the next one starts no later than ``join_s`` after the
previous one ends, so overlapping or touching windows join and a gap splits a run.
:func:`pool_events` adds up the event counts of several recordings.
"""

import numpy as np

__all__ = ["window_metrics", "event_metrics", "recording_metrics", "pool_events",
           "METRIC_KEYS", "JOIN_S"]

#: the keys :func:`recording_metrics` always returns (plus counts)
METRIC_KEYS = ("sensitivity", "specificity", "f1", "auc", "episodes_total",
               "episodes_detected", "false_alarms_per_hour", "latency_median_s")
#: windows closer than this (s) belong to one run
JOIN_S = 0.05


def _binary(name, v):
    v = np.asarray(v)
    if v.ndim != 1:
        raise ValueError(f"{name} must be one-dimensional, got shape {v.shape}")
    if v.size and not np.isin(v, (0, 1)).all():
        raise ValueError(f"{name} must hold 0/1 (or booleans)")
    return v.astype(bool)


def _ratio(a, b):
    return a / b if b else float("nan")


def window_metrics(y, pred, score=None):
    """Sensitivity, specificity, F1 and AUC of per-window decisions.

    Parameters
    ----------
    y : array_like of 0/1
        Truth (1 = FoG window).
    pred : array_like of 0/1
        Decisions.
    score : array_like of float, optional
        Any score growing with FoG (a probability, a freeze index) for the AUC.

    Returns
    -------
    dict
        ``sensitivity``, ``specificity``, ``f1``, ``auc``, and ``tp``, ``fp``, ``tn``,
        ``fn``, ``n``.
    """
    from sklearn.metrics import confusion_matrix, roc_auc_score
    y, pred = _binary("y", y), _binary("pred", pred)
    if len(y) != len(pred):
        raise ValueError(f"y has {len(y)} windows, pred {len(pred)}")
    tn, fp, fn, tp = (int(v) for v in confusion_matrix(y, pred, labels=[False, True]).ravel())
    auc = float("nan")
    if score is not None:
        score = np.asarray(score, dtype=float)
        if score.shape != y.shape:
            raise ValueError(f"score has shape {score.shape}, y {y.shape}")
        if 0 < y.sum() < len(y):
            auc = float(roc_auc_score(y, score))
    return {"sensitivity": _ratio(tp, tp + fn), "specificity": _ratio(tn, tn + fp),
            "f1": _ratio(2 * tp, 2 * tp + fp + fn), "auc": auc,
            "tp": tp, "fp": fp, "tn": tn, "fn": fn, "n": int(len(y))}


def _runs(start, end, mask, join_s):
    """Maximal runs ``(start, end)`` of the masked windows (sorted by start)."""
    out = []
    for s, e in zip(start[mask], end[mask]):
        if out and s <= out[-1][1] + join_s:
            out[-1][1] = max(out[-1][1], e)
        else:
            out.append([s, e])
    return [tuple(r) for r in out]


def _union(intervals):
    out = []
    for s, e in sorted(intervals):
        if out and s <= out[-1][1]:
            out[-1][1] = max(out[-1][1], e)
        else:
            out.append([s, e])
    return out


def _overlap(a, b):
    """Total length of the intersection of two interval unions."""
    return sum(max(0.0, min(e1, e2) - max(s1, s2)) for s1, e1 in a for s2, e2 in b)


def event_metrics(y, pred, start_s, end_s, episodes=None, join_s=JOIN_S):
    """FoG episodes detected, detection latency and false alarms of one recording.

    Parameters
    ----------
    y : array_like of 0/1
        Window truth (used for the episodes when ``episodes`` is None).
    pred : array_like of 0/1
        Window decisions.
    start_s, end_s : array_like of float
        Time span of each window, s.
    episodes : list of (float, float), optional
        The truth's episodes ``(start_s, end_s)``; default: runs of FoG windows.
    join_s : float
        Windows at most this far apart (s) belong to one run.

    Returns
    -------
    dict
        ``episodes_total``, ``episodes_detected``, ``latency_median_s``, ``latencies_s``
        (per detected episode), ``false_alarms``, ``non_fog_hours``,
        ``false_alarms_per_hour``.
    """
    y, pred = _binary("y", y), _binary("pred", pred)
    start = np.asarray(start_s, dtype=float)
    end = np.asarray(end_s, dtype=float)
    if not len(y) == len(pred) == len(start) == len(end):
        raise ValueError("y, pred, start_s and end_s must have the same length")
    if np.any(end < start) or not np.isfinite(start).all() or not np.isfinite(end).all():
        raise ValueError("window times must be finite with end_s >= start_s")
    if not join_s >= 0:
        raise ValueError(f"join_s must be >= 0, got {join_s}")
    order = np.argsort(start, kind="stable")
    y, pred, start, end = y[order], pred[order], start[order], end[order]
    if episodes is None:
        episodes = _runs(start, end, y, join_s)
    else:
        episodes = [(float(s), float(e)) for s, e in episodes]
        if any(not e >= s for s, e in episodes):
            raise ValueError("every episode needs end >= start")
    ps, pe = start[pred], end[pred]
    latencies = []
    for s, e in episodes:
        hit = (ps < e) & (pe > s)
        if hit.any():
            latencies.append(float(pe[hit].min() - s))
    alarms = [r for r in _runs(start, end, pred, join_s)
              if not any(r[0] < e and r[1] > s for s, e in episodes)]
    covered = _union(zip(start, end))
    non_fog_h = (sum(e - s for s, e in covered) - _overlap(covered, _union(episodes))) / 3600
    return {"episodes_total": len(episodes), "episodes_detected": len(latencies),
            "latency_median_s": float(np.median(latencies)) if latencies else float("nan"),
            "latencies_s": latencies, "false_alarms": len(alarms),
            "non_fog_hours": float(non_fog_h),
            "false_alarms_per_hour": _ratio(len(alarms), non_fog_h)}


def recording_metrics(y, score, start_s, end_s, threshold=0.5, pred=None, episodes=None,
                      join_s=JOIN_S):
    """Window and event metrics of one recording (every key of :data:`METRIC_KEYS`).

    Parameters
    ----------
    y : array_like of 0/1
        Window truth.
    score : array_like of float
        Per-window probability (or any score growing with FoG), for the AUC.
    start_s, end_s : array_like of float
        Window time spans, s.
    threshold : float
        Decision ``score >= threshold`` when ``pred`` is not given.
    pred : array_like of 0/1, optional
        The decisions, when they are not a threshold on ``score``.
    episodes, join_s
        As :func:`event_metrics`.

    Returns
    -------
    dict
    """
    score = np.asarray(score, dtype=float)
    if pred is None:
        pred = score >= threshold
    out = window_metrics(y, pred, score)
    out.update(event_metrics(y, pred, start_s, end_s, episodes, join_s))
    return out


def pool_events(parts):
    """Event metrics of several recordings together.

    Parameters
    ----------
    parts : list of dict
        Outputs of :func:`event_metrics` (or :func:`recording_metrics`).

    Returns
    -------
    dict
        Summed episodes, detections, false alarms and non-FoG hours; the median latency over
        every detected episode; false alarms per hour of the summed non-FoG time.
    """
    lat = [v for p in parts for v in p["latencies_s"]]
    hours = sum(p["non_fog_hours"] for p in parts)
    alarms = sum(p["false_alarms"] for p in parts)
    return {"episodes_total": sum(p["episodes_total"] for p in parts),
            "episodes_detected": sum(p["episodes_detected"] for p in parts),
            "latency_median_s": float(np.median(lat)) if lat else float("nan"),
            "latencies_s": lat, "false_alarms": alarms, "non_fog_hours": hours,
            "false_alarms_per_hour": _ratio(alarms, hours)}
