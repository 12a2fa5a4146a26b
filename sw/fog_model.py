"""Freezing-of-gait (FoG) detectors over 2 s accelerometer windows, emit-able as C.

Two topologies, both made of layers :func:`sw.c_emit.emit_keras_sequence` turns into C:

* ``yi_hwang`` (:func:`build_yi_hwang`, the detector of Yi & Hwang): Conv1D(64, 3, relu) ->
  temporal attention (:func:`temporal_attention`: Permute -> Dense(T', softmax) -> Permute ->
  Multiply) -> GRU(64, relu, return_sequences) -> ECA channel attention (:func:`eca`: GAP ->
  Reshape -> Conv1D(1, 3, same, no bias) -> sigmoid -> Reshape -> Multiply) -> Flatten ->
  Dense(64, relu) -> Dense(1, sigmoid).
* ``small`` (:func:`build_small`, ours): the same blocks with 16 units and
  GlobalAveragePooling1D instead of Flatten (about 30x fewer parameters: the Flatten ->
  Dense(64) matrix of Yi & Hwang is 126 x 64 x 64 weights).

Input normalisation (the first layer, ``"normalise"``): a frozen BatchNormalization holding a
fixed per-channel affine ``(x - mean) / sqrt(var + eps)`` with the mean and variance of the
*training* windows (all samples pooled per channel; :func:`channel_stats`). It is part of the
model, so the emitted C does exactly the same arithmetic on raw mg samples and no extra kernel
is needed. Why not per-window standardisation: it would remove the subjects' amplitude
differences, but also the absolute level and power of a window, and power is what tells
standing still (tiny power, noisy spectrum) from a freeze -- the freeze-index baseline needs a
power threshold for exactly that reason. The amplitude differences between subjects are
instead attacked by augmentation during training (random per-channel gain,
:mod:`sw.train_fog`).

Keras is imported when a builder is called (:func:`sw.classifiers.quiet_tensorflow`).
"""

import numpy as np

__all__ = ["MODELS", "build", "build_yi_hwang", "build_small", "eca", "temporal_attention",
           "channel_stats", "NORM_EPS"]

#: model name -> one-line description
MODELS = {
    "yi_hwang": "Yi & Hwang: Conv1D(64,3) -> temporal attention -> GRU(64, relu) -> ECA -> "
                "Flatten -> Dense(64) -> Dense(1, sigmoid)",
    "small": "ours: Conv1D(16,3) -> temporal attention -> GRU(16, relu) -> ECA -> GAP -> "
             "Dense(16) -> Dense(1, sigmoid)",
}
#: epsilon of the normalising BatchNormalization
NORM_EPS = 1e-3


def _keras():
    from sw.classifiers import quiet_tensorflow
    return quiet_tensorflow()


def eca(x, k=3):
    """ECA channel attention in plain Keras layers: GAP -> Conv1D across channels -> sigmoid."""
    L = _keras().layers
    C = x.shape[-1]
    g = L.GlobalAveragePooling1D()(x)
    g = L.Reshape((C, 1))(g)
    g = L.Conv1D(1, k, padding="same", use_bias=False)(g)
    g = L.Activation("sigmoid")(g)
    g = L.Reshape((1, C))(g)
    return L.Multiply()([x, g])


def temporal_attention(x):
    """Yi & Hwang temporal attention: Permute -> Dense(T, softmax) -> Permute -> Multiply."""
    L = _keras().layers
    T = x.shape[1]
    a = L.Permute((2, 1))(x)
    a = L.Dense(T, activation="softmax")(a)
    a = L.Permute((2, 1))(a)
    return L.Multiply()([x, a])


def channel_stats(X):
    """Per-channel mean and variance of windows ``X`` (n, T, C), all samples pooled (float64).

    A channel with variance below 1 mg² (a dead sensor) gets variance 1.
    """
    X = np.asarray(X, np.float64).reshape(-1, np.shape(X)[-1])
    return X.mean(axis=0), np.maximum(X.var(axis=0), 1.0)


def _normaliser(x, mean, var):
    L = _keras().layers
    bn = L.BatchNormalization(epsilon=NORM_EPS, center=False, scale=False, name="normalise")
    y = bn(x)
    bn.set_weights([np.asarray(mean, np.float32), np.asarray(var, np.float32)])
    bn.trainable = False
    return y


def _net(n_channels, T, units, dense, pool, mean, var, name):
    keras = _keras()
    L = keras.layers
    inp = keras.Input((T, n_channels), name="window")
    x = inp if mean is None else _normaliser(inp, mean, var)
    x = L.Conv1D(units, 3, activation="relu")(x)
    x = temporal_attention(x)
    x = L.GRU(units, activation="relu", return_sequences=True)(x)
    x = eca(x)
    x = L.Flatten()(x) if pool == "flatten" else L.GlobalAveragePooling1D()(x)
    x = L.Dense(dense, activation="relu")(x)
    out = L.Dense(1, activation="sigmoid", name="fog_probability")(x)
    return keras.Model(inp, out, name=name)


def build_yi_hwang(n_channels, T=128, mean=None, var=None, units=64):
    """The Yi & Hwang detector: input ``T`` samples x ``n_channels``, output p(FoG).

    ``mean``/``var`` (per channel, e.g. :func:`channel_stats` of the training windows): a
    frozen normalising BatchNormalization first; None: no normalisation layer.
    """
    return _net(n_channels, T, units, 64, "flatten", mean, var, "yi_hwang")


def build_small(n_channels, T=128, mean=None, var=None, units=16):
    """Our smaller variant: 16 units, GlobalAveragePooling1D instead of Flatten, Dense(16)."""
    return _net(n_channels, T, units, units, "gap", mean, var, "small")


def build(name, n_channels, T=128, mean=None, var=None):
    """The model ``name`` of :data:`MODELS`."""
    if name not in MODELS:
        raise ValueError(f"unknown model {name!r} (one of {', '.join(MODELS)})")
    return (build_yi_hwang if name == "yi_hwang" else build_small)(n_channels, T, mean, var)
