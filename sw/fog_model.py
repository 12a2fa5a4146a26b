"""Freezing-of-gait (FoG) detectors over 2 s accelerometer windows, emit-able as C.

Three topologies, all made of layers :func:`sw.c_emit.emit_keras_sequence` turns into C:

* ``yi_hwang`` (:func:`build_yi_hwang`, the detector of Yi & Hwang): Conv1D(64, 3, relu) ->
  temporal attention (:func:`temporal_attention`: Permute -> Dense(T', softmax) -> Permute ->
  Multiply) -> GRU(64, relu, return_sequences) -> ECA channel attention (:func:`eca`: GAP ->
  Reshape -> Conv1D(1, 3, same, no bias) -> sigmoid -> Reshape -> Multiply) -> Flatten ->
  Dense(64, relu) -> Dense(1, sigmoid).
* ``small`` (:func:`build_small`, ours): the same blocks with 16 units and
  GlobalAveragePooling1D instead of Flatten (about 30x fewer parameters: the Flatten ->
  Dense(64) matrix of Yi & Hwang is 126 x 64 x 64 weights).
* ``logspec`` (:func:`build_logspec`, ours; a learnable freeze index, 4,456 parameters of
  which 289 are trained): the three ankle axes (a frozen 0/1 Dense picks them) -> Permute ->
  Reshape to one 384-sample channel -> a frozen Conv1D(32, 128, stride 128) holding the DFT
  (cosine and sine of bins 1-16, 0.5-8 Hz, :func:`dft_weights`) -> square (Multiply) ->
  Reshape((6, 16)) -> GlobalAveragePooling1D (power per 0.5 Hz bin, summed over the axes:
  independent of the sensor's orientation, and of the window mean, which bins >= 1 ignore)
  -> a log-like compression shared by every bin (:func:`log_bank`: Dense(13, tanh) with
  frozen weights 1 / 10^-5.3 ... 1 / 10^0.7, then a frozen Dense(1) adding them up: about
  log10 of the power in steps of 0.5 decades, powers below 10^-5.3 -- standing still -- all
  alike) -> Dense(16, relu) -> Dense(1, sigmoid). On log powers a gain is a shift, so a
  ratio of band powers -- the freeze index -- is a difference the first Dense can form.
  Why this and not ``yi_hwang``: measured leave-one-subject-out by ``python -m sw.train_fog``
  (README, REPORT.md of a run), not typed here.

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

__all__ = ["MODELS", "build", "build_yi_hwang", "build_small", "build_logspec", "eca",
           "temporal_attention", "channel_stats", "dft_weights", "log_bank", "NORM_EPS",
           "ANKLE", "DFT_BINS", "LOG_DECADES"]

#: model name -> one-line description
MODELS = {
    "yi_hwang": "Yi & Hwang: Conv1D(64,3) -> temporal attention -> GRU(64, relu) -> ECA -> "
                "Flatten -> Dense(64) -> Dense(1, sigmoid)",
    "small": "ours: Conv1D(16,3) -> temporal attention -> GRU(16, relu) -> ECA -> GAP -> "
             "Dense(16) -> Dense(1, sigmoid)",
    "logspec": "ours: ankle axes -> frozen DFT (0.5-8 Hz) -> power per bin -> log-like "
               "compression -> Dense(16, relu) -> Dense(1, sigmoid)",
}
#: epsilon of the normalising BatchNormalization
NORM_EPS = 1e-3
#: input channels ``logspec`` uses (ankle x, y, z of :data:`sw.fog_data.CHANNELS`)
ANKLE = (0, 1, 2)
#: DFT bins of ``logspec``: 1..16 of a 128-sample window at 64 Hz = 0.5-8 Hz
DFT_BINS = 16
#: log10 of the smallest and largest power scale of the log bank, and its number of units
#: (powers in units of the normalised input; below 10^-5.3 -- standing still -- all alike)
LOG_DECADES = (-5.3, 0.7, 13)


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


def dft_weights(T, bins):
    """Conv1D kernel (T, 1, 2 bins): cosines then sines of bins 1..``bins`` of a ``T``-sample
    window, scaled by sqrt(2) / T so that a coefficient squared is the one-sided power of its
    bin (a sinusoid of amplitude A on a bin: cos^2 + sin^2 = A^2 / 2)."""
    n = np.arange(T)[:, None]
    k = np.arange(1, bins + 1)[None, :]
    w = np.concatenate([np.cos(2 * np.pi * k * n / T), np.sin(2 * np.pi * k * n / T)], axis=1)
    return (w * np.sqrt(2) / T)[:, None, :].astype(np.float32)


def log_bank(x, decades=LOG_DECADES):
    """``x`` (n, F) of powers >= 0 -> (n, F), each ``sum_i tanh(x / s_i)`` over scales ``s_i``
    log-spaced from 10^lo to 10^hi: about (log10 x - lo) / step for x inside the range, 0 at
    x = 0, saturating above. Frozen Dense layers (no log kernel in C needed)."""
    L = _keras().layers
    F = x.shape[-1]
    lo, hi, m = decades
    z = L.Reshape((F, 1))(x)
    bank = L.Dense(m, activation="tanh", use_bias=False, trainable=False, name="log_bank")
    z = bank(z)
    bank.set_weights([(1.0 / np.logspace(lo, hi, m))[None, :].astype(np.float32)])
    total = L.Dense(1, use_bias=False, trainable=False, name="log_sum")
    z = total(z)
    total.set_weights([np.ones((m, 1), np.float32)])
    return L.Reshape((F,))(z)


def build_logspec(n_channels, T=128, mean=None, var=None, units=16, bins=DFT_BINS,
                  decades=LOG_DECADES):
    """Our learnable freeze index (module docstring): ankle axes -> DFT power per bin summed
    over the axes -> log bank -> Dense(``units``, relu) -> Dense(1, sigmoid).

    ``n_channels`` must be 9 (:data:`sw.fog_data.CHANNELS`; the ankle is channels 0-2) or 3
    (the ankle alone).
    """
    keras = _keras()
    L = keras.layers
    if n_channels not in (3, 9):
        raise ValueError(f"logspec needs 9 channels (or the 3 ankle ones), got {n_channels}")
    inp = keras.Input((T, n_channels), name="window")
    x = inp if mean is None else _normaliser(inp, mean, var)
    if n_channels != 3:
        pick = L.Dense(3, use_bias=False, trainable=False, name="ankle")
        x = pick(x)
        w = np.zeros((n_channels, 3), np.float32)
        w[list(ANKLE), [0, 1, 2]] = 1.0
        pick.set_weights([w])
    x = L.Permute((2, 1))(x)                            # (3, T): one axis after the other
    x = L.Reshape((3 * T, 1))(x)
    dft = L.Conv1D(2 * bins, T, strides=T, use_bias=False, trainable=False, name="dft")
    x = dft(x)                                          # (3, 2 bins): per axis cos, sin
    dft.set_weights([dft_weights(T, bins)])
    x = L.Multiply()([x, x])
    x = L.Reshape((6, bins))(x)                         # rows: axis x {cos, sin}
    x = L.GlobalAveragePooling1D()(x)                   # power per bin (/ 6), all axes
    x = log_bank(x, decades)
    x = L.Dense(units, activation="relu")(x)
    out = L.Dense(1, activation="sigmoid", name="fog_probability")(x)
    return keras.Model(inp, out, name="logspec")


_BUILDERS = {"yi_hwang": build_yi_hwang, "small": build_small, "logspec": build_logspec}


def build(name, n_channels, T=128, mean=None, var=None):
    """The model ``name`` of :data:`MODELS`."""
    if name not in MODELS:
        raise ValueError(f"unknown model {name!r} (one of {', '.join(MODELS)})")
    return _BUILDERS[name](n_channels, T, mean, var)
