"""Wearing-off state of a stride record, host side (the ARM program does the same in C).

:func:`save_dnn` writes a trained DNN as plain arrays (``<model>_weights.npz``, no
TensorFlow needed to read it); :class:`DNNState` loads it and gives, for one
stride record of the gateware (:data:`golden.stride_indexes_model.RECORD_FIELDS`),
the OFF probability with float32 arithmetic in the order of the emitted
``wo_<model>_f32.c`` (so it matches that C within float32 rounding).

State line (one per stride; the ARM program ``boards/arm/wo_monitor.c`` prints the
same format; ``seq`` is 0..255)::

    STRIDE seq=<seq> leg=<L|R> start_s=<s.sss> stride_time_ms=<ms> p_off=<0.0000> state=<OFF|ON|NA>

``state`` is ``OFF`` (Pre L-dopa-like, wearing-off) when ``p_off >= 0.5``,
``ON`` otherwise, ``NA`` (with ``p_off=nan``) when a feature the model needs is
absent from the record (muscle not present) or the stride overflowed.
"""

import numpy as np

from golden.stride_indexes_model import CSV_COLUMNS, record_to_row
from spec.constants import FS

__all__ = ["save_dnn", "DNNState", "state_line"]


def save_dnn(path, layers, features):
    """Write :func:`sw.classifiers.dnn_layers` output + feature names to ``path`` (.npz)."""
    arrays = {
        "features": np.array(features),
        "norm_scale": layers["norm"][0],
        "norm_shift": layers["norm"][1],
    }
    for k, (W, b, act) in enumerate(layers["dense"]):
        arrays[f"W{k}"], arrays[f"b{k}"], arrays[f"act{k}"] = W, b, np.array(act)
    np.savez(path, **arrays)


_ACTS = ("relu", "tanh", "selu", "linear")


class DNNState:
    """OFF probability of stride records from a ``*_weights.npz``.

    A file that is not a complete, consistent network (corrupt zip, missing arrays, shapes that
    do not chain, an unknown activation or feature) raises :class:`ValueError` (or the
    :func:`numpy.load` error) here, never later on a stride.
    """

    def __init__(self, path):
        with np.load(path) as f:
            self.features = [str(s) for s in f["features"]]
            self.scale, self.shift = (
                f["norm_scale"].astype(np.float32),
                f["norm_shift"].astype(np.float32),
            )
            self.dense = []
            k = 0
            while f"W{k}" in f.files:
                self.dense.append(
                    (
                        f[f"W{k}"].astype(np.float32),
                        f[f"b{k}"].astype(np.float32),
                        str(f[f"act{k}"]),
                    )
                )
                k += 1
        if not self.dense:
            raise ValueError(f"{path}: no dense layers")
        self._check(path)

    def _check(self, path):
        n = len(self.features)
        if self.scale.shape != (n,) or self.shift.shape != (n,):
            raise ValueError(f"{path}: {n} features but normalisation of shape "
                             f"{self.scale.shape}/{self.shift.shape}")
        unknown = [f for f in self.features if f not in CSV_COLUMNS]
        if unknown:
            raise ValueError(f"{path}: unknown feature {unknown[0]!r}")
        width = n
        for k, (W, b, act) in enumerate(self.dense):
            if W.ndim != 2 or W.shape[0] != width or b.shape != (W.shape[1],):
                raise ValueError(f"{path}: layer {k} shapes W{W.shape} b{b.shape} do not "
                                 f"follow a width of {width}")
            if k < len(self.dense) - 1 and act not in _ACTS:
                raise ValueError(f"{path}: layer {k} activation {act!r} unknown")
            width = W.shape[1]
        if width != 1:
            raise ValueError(f"{path}: the last layer has {width} outputs, not 1")

    def probability(self, x):
        a = np.asarray(x, np.float32) * self.scale + self.shift
        for W, b, act in self.dense[:-1]:
            z = np.array(
                [
                    np.float32(b[j]) + np.sum(a * W[:, j], dtype=np.float32)
                    for j in range(W.shape[1])
                ],
                np.float32,
            )
            a = {
                "relu": lambda v: np.maximum(v, 0),
                "tanh": np.tanh,
                "linear": lambda v: v,
                "selu": lambda v: (
                    np.float32(1.0507009873554805)
                    * np.where(
                        v > 0, v, np.float32(1.6732632423543772) * np.expm1(np.minimum(v, 0))
                    )
                ),
            }[act](z).astype(np.float32)
        W, b, _ = self.dense[-1]
        logit = float(np.float32(b[0]) + np.sum(a * W[:, 0], dtype=np.float32))
        return 1.0 / (1.0 + np.exp(-logit))

    def features_of(self, rec):
        """Record -> feature vector, or None when a needed feature is absent."""
        if rec["overflow"]:
            return None
        row = record_to_row(rec)
        vals = []
        for f in self.features:
            v = row.get(f, "")
            if v == "":
                return None
            vals.append(float(v))
        return vals

    def state(self, rec):
        x = self.features_of(rec)
        if x is None:
            return float("nan"), "NA"
        p = self.probability(x)
        return p, "OFF" if p >= 0.5 else "ON"


def state_line(seq, rec, p, state):
    return (f"STRIDE seq={seq} leg={'LR'[rec['leg']]} start_s={rec['start'] / FS:.3f} "
            f"stride_time_ms={rec['stride_time'] * 2} p_off={p:.4f} state={state}")
