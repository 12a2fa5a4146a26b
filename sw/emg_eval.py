"""Scoring trigger output against ground truth (used by the benchmark and the tests).

A true burst onset is *detected* by the first trigger rising edge within
``[-window_before, +window_after]`` samples of it; its delay is edge - onset.
Unmatched true onsets are *missed*; rising edges matched to no true onset are
*false* bursts.
"""

import numpy as np

__all__ = ["match_onsets", "score_walk"]


def rising_edges(bits):
    b = np.asarray(bits, np.int8)
    return np.flatnonzero(np.diff(np.concatenate([[0], b])) == 1)


def match_onsets(true_onsets, edges, window_before=25, window_after=100):
    """Return ``(delays, n_missed, n_false)`` for one channel (delays in samples)."""
    edges = np.asarray(edges)
    used = np.zeros(len(edges), bool)
    delays, missed = [], 0
    for t in true_onsets:
        cand = np.flatnonzero((edges >= t - window_before) & (edges <= t + window_after) & ~used)
        if cand.size:
            used[cand[0]] = True
            delays.append(int(edges[cand[0]] - t))
        else:
            missed += 1
    return np.array(delays, int), missed, int((~used).sum())


def score_walk(walk, trig, skip_samples=0):
    """Score a :class:`synthetic.emg_gen.Walk` against trigger bits (n, 8).

    Onsets before ``skip_samples`` (warm-up) are not scored.
    """
    delays, missed, false, total = [], 0, 0, 0
    for c in range(trig.shape[1]):
        on = np.asarray(walk.onsets[c])
        on = on[on >= skip_samples]
        edges = rising_edges(trig[:, c])
        edges = edges[edges >= skip_samples]
        d, mi, fa = match_onsets(on, edges)
        delays.append(d)
        missed += mi
        false += fa
        total += len(on)
    return dict(delays=np.concatenate(delays), missed=missed, false=false, bursts=total)
