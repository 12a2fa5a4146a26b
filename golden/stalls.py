"""Stall patterns of a stream consumer: ``ready`` per clock edge, as stall intervals.

Shared by the cocotb testbenches, which drive an output's ``ready`` from a
:class:`ReadyPattern` (:class:`sim.cocotb_streams.StreamTB`), and by the backpressure
models of :mod:`golden.backpressure`, which predict from the same pattern what the
cores deliver, drop and count. Kept apart from those models so that a testbench
loads nothing but NumPy for it.

Clock edges are numbered from time 0 (edge ``c`` is the rising edge at ``c`` clock
periods).
"""

import numpy as np

__all__ = ["ReadyPattern", "random_stalls"]


class ReadyPattern:
    """``ready`` of one stream output on every clock edge: low during the stall intervals.

    Parameters
    ----------
    stalls : iterable of (start, length)
        ``ready`` is low on edges ``start .. start + length - 1``; overlapping or
        touching intervals are merged. Empty (the default): always ready.
    """

    def __init__(self, stalls=()):
        iv = sorted((int(s), int(s) + int(n)) for s, n in stalls)
        merged = []
        for s, e in iv:
            if s < 0 or e <= s:
                raise ValueError(f"stall ({s}, {e - s}) must start at an edge >= 0 and last "
                                 f">= 1 edge")
            if merged and s <= merged[-1][1]:
                merged[-1][1] = max(merged[-1][1], e)
            else:
                merged.append([s, e])
        self._starts = np.array([s for s, _ in merged], np.int64)
        self._ends = np.array([e for _, e in merged], np.int64)

    @classmethod
    def from_array(cls, arr):
        """From the ``(k, 2)`` array of :meth:`as_array`."""
        return cls(map(tuple, np.asarray(arr, np.int64).reshape(-1, 2)))

    def as_array(self):
        """``(k, 2)`` int64 array of ``(start, length)`` (merged), for the testbench inputs."""
        return np.stack([self._starts, self._ends - self._starts], axis=1).reshape(-1, 2)

    @property
    def intervals(self):
        """Merged ``[(start, end)]`` with ``end`` exclusive."""
        return [(int(s), int(e)) for s, e in zip(self._starts, self._ends)]

    @property
    def end(self):
        """First edge after the last stall (0 if there is none)."""
        return int(self._ends[-1]) if len(self._ends) else 0

    @property
    def stalled_edges(self):
        return int((self._ends - self._starts).sum())

    def _index(self, edge):
        k = int(np.searchsorted(self._starts, edge, side="right")) - 1
        return k if k >= 0 and edge < self._ends[k] else None

    def ready(self, edge):
        """Is ``ready`` high on ``edge``?"""
        return self._index(edge) is None

    def next_ready(self, edge):
        """First edge ``>= edge`` on which ``ready`` is high."""
        k = self._index(edge)
        return int(edge) if k is None else int(self._ends[k])

    def __bool__(self):
        return len(self._starts) > 0

    def __repr__(self):
        return f"ReadyPattern({self.intervals})"


def random_stalls(seed, start, span, mean_gap=40, max_len=60, long=None):
    """A seeded random stall pattern over edges ``start .. start + span``.

    Stalls of 1..``max_len`` edges separated by 0..``2 * mean_gap`` ready edges
    (uniform); ``long=(at, length)`` adds one more stall (e.g. longer than a
    stride).
    """
    rng = np.random.default_rng(seed)
    stalls, pos = [], int(start)
    while True:
        pos += int(rng.integers(0, 2 * mean_gap + 1))
        if pos >= start + span:
            break
        n = int(rng.integers(1, max_len + 1))
        stalls.append((pos, n))
        pos += n + 1
    if long is not None:
        stalls.append(tuple(long))
    return ReadyPattern(stalls)
