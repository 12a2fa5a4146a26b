"""A DNN4-shaped float32 network for tests of the classifier consumers (no training needed).

Its normalisation centres typical synthetic strides and its random weights put
the decision boundary through them, so a few dozen strides give both states.
"""

import numpy as np

from sw.c_emit import emit_dnn_f32
from sw.wo_state import save_dnn

FEATURES = ["stride_time_ms", "cocon_LG_TA_ms", "cocon_BF_RF_ms", "LG_duty_pct", "TA_duty_pct",
            "BF_duty_pct", "RF_duty_pct"]
MODEL = "wo_test_f32"


def write_test_dnn(d, seed=3):
    """Write ``wo_test_f32.{h,c}`` and ``w.npz`` into folder ``d``; return the npz path."""
    rng = np.random.default_rng(seed)
    W1 = rng.normal(size=(7, 32)).astype(np.float32)
    layers = {"norm": (np.array([1 / 60, 1 / 30, 1 / 40, 1 / 3, 1 / 5, 1 / 3, 1 / 5], np.float32),
                       np.array([-1070 / 60, -115 / 30, -215 / 40, -25 / 3, -60 / 5, -24 / 3,
                                 -58 / 5], np.float32)),
              "dense": [(W1, rng.normal(size=32).astype(np.float32) * 0.1, "relu"),
                        (rng.normal(size=(32, 1)).astype(np.float32) * 0.3,
                         np.zeros(1, np.float32), "sigmoid")]}
    h, c = emit_dnn_f32(MODEL, layers, FEATURES)
    (d / f"{MODEL}.h").write_text(h)
    (d / f"{MODEL}.c").write_text(c)
    save_dnn(d / "w.npz", layers, FEATURES)
    return d / "w.npz"
