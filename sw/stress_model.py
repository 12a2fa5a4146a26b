"""Stress from wrist physiology: the EmoHeal fusion network, sized for the Cortex-A9, as C.

``emoheal`` (:func:`build_emoheal`, after Tariq, Oh & Han, IEEE SENSORS 2024): one branch per
E4 sensor at its **native rate** (four model inputs, :data:`INPUTS`: ``bvp`` (64 L, 1),
``acc`` (32 L, 3), ``eda`` (4 L, 1), ``temp`` (4 L, 1) for a window of L seconds, z-scored per
subject by :func:`sw.stress_data.normalise_windows`), each:

1. **to one token per second** (:func:`embed`): BVP through Conv1D(``bvp_filters``, 16,
   stride 8, ReLU) then Conv1D(``filters``, 8, stride 8) -- a pulse is 40-80 BVP samples, the
   first convolution sees its shape, the second pools a second of it; ACC, EDA and TEMP through
   one Conv1D(``filters``, rate, stride rate) (a learned average of each second);
2. a **TCN** (:func:`tcn`): for each dilation of ``dilations`` (1, 2, 4 as the authors' code)
   a causal Conv1D(``filters``, ``kernel`` = 2, dilation, ReLU) -> Dropout -> + residual;
3. **channel attention** (:func:`channel_attention`, squeeze-excitation: GAP -> Dense(F / 4,
   ReLU) -> Dense(F, sigmoid) -> scale every channel) and **spatial attention**
   (:func:`spatial_attention`, over time: the mean and the max over the channels of every
   second (Permute -> GlobalAverage/MaxPooling1D) -> Concatenate -> Conv1D(1, 7, same,
   sigmoid) -> scale every second);

then the four branches are **fused** (Concatenate along the channels, one row per second) and
read by a **bidirectional GRU** (``gru`` units each way, last state) -> Dropout ->
Dense(1, sigmoid) = p(stress). Gaussian-noise augmentation (GaussianNoise, training only) on
every input, as the paper.

Sizes (:data:`EMOHEAL`) are ours: the authors' ablation code shows [25, 25, 25] TCN channels,
kernel 2, dilations 1/2/4, dropout 0.2; we keep kernel, dilations and dropout, and use 16
channels so that the int8 C fits 64 KB Flash and its activations 32 KB RAM.
Keras is imported when a builder is called.
"""

import numpy as np

__all__ = ["MODELS", "EMOHEAL", "INPUTS", "build", "build_emoheal", "embed", "tcn",
           "channel_attention", "spatial_attention", "input_shapes", "split_inputs"]

#: model name -> one-line description
MODELS = {"emoheal": "per-sensor TCN with channel and spatial attention, fused, BiGRU, "
                     "Dense(1, sigmoid)"}
#: EmoHeal sizes (ours, see the module docstring)
EMOHEAL = {"filters": 16, "bvp_filters": 8, "kernel": 2, "dilations": (1, 2, 4),
           "dropout": 0.2, "gru": 16, "noise": 0.1}
#: model inputs: name -> (rate in Hz, channels)
INPUTS = {"bvp": (64, 1), "acc": (32, 3), "eda": (4, 1), "temp": (4, 1)}


def _keras():
    from sw.classifiers import quiet_tensorflow
    return quiet_tensorflow()


def input_shapes(window_s):
    """name -> (samples, channels) of every input for windows of ``window_s`` seconds."""
    return {k: (fs * int(window_s), c) for k, (fs, c) in INPUTS.items()}


def split_inputs(windows):
    """The model inputs (list, :data:`INPUTS` order) of :class:`sw.stress_data.Windows`."""
    out = []
    for k, (_, c) in INPUTS.items():
        x = np.asarray(getattr(windows, k), np.float32)
        out.append(x if x.ndim == 3 else x[:, :, None])
    return out


def embed(x, rate, filters, bvp_filters, name):
    """One token per second (module docstring, step 1)."""
    L = _keras().layers
    if rate == 64:
        x = L.Conv1D(bvp_filters, 16, strides=8, padding="same", activation="relu",
                     name=f"{name}_pulse")(x)
        return L.Conv1D(filters, 8, strides=8, name=f"{name}_second")(x)
    return L.Conv1D(filters, rate, strides=rate, name=f"{name}_second")(x)


def tcn(x, filters, kernel, dilations, dropout, name):
    """Causal dilated Conv1D + ReLU -> Dropout -> + residual, once per dilation."""
    L = _keras().layers
    for d in dilations:
        h = L.Conv1D(filters, kernel, dilation_rate=d, padding="causal", activation="relu",
                     name=f"{name}_tcn{d}")(x)
        h = L.Dropout(dropout, name=f"{name}_drop{d}")(h)
        x = L.Add(name=f"{name}_res{d}")([x, h])
    return x


def channel_attention(x, name, ratio=4):
    """Squeeze-excitation over the channels of ``x`` (T, F)."""
    L = _keras().layers
    F = x.shape[-1]
    g = L.GlobalAveragePooling1D(name=f"{name}_ca_pool")(x)
    g = L.Dense(max(F // ratio, 1), activation="relu", name=f"{name}_ca_squeeze")(g)
    g = L.Dense(F, activation="sigmoid", name=f"{name}_ca_excite")(g)
    g = L.Reshape((1, F), name=f"{name}_ca_shape")(g)
    return L.Multiply(name=f"{name}_ca")([x, g])


def spatial_attention(x, name, kernel=7):
    """A weight per time step from the mean and the max over its channels."""
    L = _keras().layers
    T = x.shape[1]
    t = L.Permute((2, 1), name=f"{name}_sa_t")(x)
    mean = L.Reshape((T, 1), name=f"{name}_sa_mean")(L.GlobalAveragePooling1D(
        name=f"{name}_sa_avg")(t))
    peak = L.Reshape((T, 1), name=f"{name}_sa_peak")(L.GlobalMaxPooling1D(
        name=f"{name}_sa_max")(t))
    a = L.Concatenate(name=f"{name}_sa_cat")([mean, peak])
    a = L.Conv1D(1, kernel, padding="same", activation="sigmoid", name=f"{name}_sa_conv")(a)
    return L.Multiply(name=f"{name}_sa")([x, a])


def build_emoheal(window_s=60, **sizes):
    """EmoHeal (module docstring); ``sizes`` override :data:`EMOHEAL`."""
    unknown = set(sizes) - set(EMOHEAL)
    if unknown:
        raise ValueError(f"unknown EmoHeal sizes {sorted(unknown)} (known: {', '.join(EMOHEAL)})")
    cfg = dict(EMOHEAL, **sizes)
    if int(window_s) != window_s or window_s < 8:
        raise ValueError(f"window_s must be a whole number of seconds >= 8, got {window_s}")
    keras = _keras()
    L = keras.layers
    shapes = input_shapes(window_s)
    inputs, branches = [], []
    for name, (rate, _) in INPUTS.items():
        inp = keras.Input(shapes[name], name=name)
        inputs.append(inp)
        x = L.GaussianNoise(float(cfg["noise"]), name=f"{name}_noise")(inp)
        x = embed(x, rate, int(cfg["filters"]), int(cfg["bvp_filters"]), name)
        x = tcn(x, int(cfg["filters"]), int(cfg["kernel"]), tuple(cfg["dilations"]),
                float(cfg["dropout"]), name)
        x = channel_attention(x, name)
        branches.append(spatial_attention(x, name))
    x = L.Concatenate(name="fusion")(branches)
    x = L.Bidirectional(L.GRU(int(cfg["gru"])), name="bigru")(x)
    x = L.Dropout(float(cfg["dropout"]), name="head_drop")(x)
    out = L.Dense(1, activation="sigmoid", name="stress_probability")(x)
    return keras.Model(inputs, out, name="emoheal")


def build(name="emoheal", window_s=60):
    """The model ``name`` of :data:`MODELS`."""
    if name not in MODELS:
        raise ValueError(f"unknown model {name!r} (one of {', '.join(MODELS)})")
    return build_emoheal(window_s)
