"""Human-activity recognition (HAR) networks over 2.56 s IMU windows, emit-able as C.

Two topologies, both made of layers :func:`sw.c_emit.emit_keras_sequence` turns into C:

* ``din`` (:func:`build_din`): the dual-branch interactive network of Tang et al. (IEEE
  JBHI), sized by us for the Cortex-A9 (the paper gives no sizes; ours are :data:`DIN`):

  - input (128, 6) -> a frozen normalising BatchNormalization (per-channel mean and variance
    of the training windows, :func:`channel_stats`);
  - **local stream**: convolutional embedding Conv1D(``d``, ``embed_kernel``,
    stride ``embed_stride``, same, GELU) -> (128 / ``embed_stride``, ``d``);
  - **global stream**: patch embedding Conv1D(``d``, ``patch``, stride ``patch``) -> one token
    per ``patch`` samples, (128 / ``patch``, ``d``);
  - each stream, ``blocks`` times (:func:`stream_block`): x + MHA(LN(x), LN(x)), then
    x + MSConv(LN(x)) where MSConv (:func:`multi_scale_conv`) = Concatenate of Conv1D(``branch``,
    k, same, GELU) for k in ``scales`` -> Dense(``d``);
  - **co-attention** both ways (:func:`co_attention`): local' = MHA(query = LN(local),
    key/value = LN(global)) (global-to-local), global' = MHA(query = LN(global),
    key/value = LN(local)) (local-to-global);
  - GlobalAveragePooling1D of local, local', global, global';
  - **weighted fusion** (:class:`WeightedFusion`: learned weights, softmax-normalised) of
    (local, local') and of (global, global'); Concatenate of the two; Dense(classes, softmax).

* ``cnn`` (:func:`build_cnn`, the baseline): three strided Conv1D(``filters``, 5, stride 2,
  ReLU) -> GAP -> Dense(``dense``, ReLU) -> Dense(classes, softmax); sized to about the same
  number of parameters as ``din`` (:func:`sw.train_har` reports both counts).

Input normalisation is part of each model (raw g and rad/s in, the C does the same).
Keras is imported when a builder is called (:func:`sw.classifiers.quiet_tensorflow`).
"""

import numpy as np

__all__ = ["MODELS", "DIN", "CNN", "build", "build_din", "build_cnn", "stream_block",
           "multi_scale_conv", "co_attention", "channel_stats", "weighted_fusion_class",
           "custom_objects", "NORM_EPS"]

#: model name -> one-line description
MODELS = {
    "din": "dual-branch interactive network: conv embedding (local) and patch embedding "
           "(global) streams, [LN -> MHA] + res, [LN -> multi-scale conv] + res, "
           "co-attention both ways, GAP, weighted fusion, Dense",
    "cnn": "1-D CNN baseline: 3 x Conv1D(5, stride 2, relu) -> GAP -> Dense -> Dense",
}
#: DIN sizes (chosen for the ARM budget: <= 64 KB int8 Flash and RAM, <= 10 ms per window)
DIN = {"d": 32, "heads": 2, "embed_kernel": 5, "embed_stride": 4, "patch": 16,
       "scales": (3, 5, 7), "branch": 16, "blocks": 1}
#: CNN baseline sizes
CNN = {"filters": (32, 64, 64), "kernel": 5, "dense": 64}
#: epsilon of the normalising BatchNormalization and of every LayerNormalization
NORM_EPS = 1e-3


def _keras():
    from sw.classifiers import quiet_tensorflow
    return quiet_tensorflow()


_FUSION = None


def weighted_fusion_class():
    """The :class:`WeightedFusion` Keras layer class (defined once, registered for loading).

    ``WeightedFusion()([a, b, ...])`` = sum_i softmax(w)_i * x_i with one trainable logit w_i
    per input (all zeros at first: the plain average). The C backend folds softmax(w) into
    constants (:mod:`sw.c_layers`).
    """
    global _FUSION
    if _FUSION is not None:
        return _FUSION
    keras = _keras()
    from keras import ops

    @keras.saving.register_keras_serializable(package="wotrack")
    class WeightedFusion(keras.layers.Layer):
        def build(self, input_shape):
            if not isinstance(input_shape, (list, tuple)) or len(input_shape) < 2:
                raise ValueError("WeightedFusion needs a list of at least two inputs")
            self.logits = self.add_weight(shape=(len(input_shape),), initializer="zeros",
                                          name="logits")

        def call(self, inputs):
            w = ops.softmax(self.logits)
            out = inputs[0] * w[0]
            for i in range(1, len(inputs)):
                out = out + inputs[i] * w[i]
            return out

        def compute_output_shape(self, input_shape):
            return input_shape[0]

        def fusion_weights(self):
            """softmax(logits) as float32 (what the C uses)."""
            return np.asarray(ops.convert_to_numpy(ops.softmax(self.logits)), np.float32)

    _FUSION = WeightedFusion
    return _FUSION


def custom_objects():
    """``custom_objects`` for ``keras.models.load_model`` of a HAR model."""
    return {"WeightedFusion": weighted_fusion_class()}


def channel_stats(X):
    """Per-channel mean and variance of windows ``X`` (n, T, C), all samples pooled (float64);
    a variance below 1e-6 (a dead axis) becomes 1."""
    X = np.asarray(X, np.float64).reshape(-1, np.shape(X)[-1])
    var = X.var(axis=0)
    return X.mean(axis=0), np.where(var < 1e-6, 1.0, var)


def _normaliser(x, mean, var):
    L = _keras().layers
    bn = L.BatchNormalization(epsilon=NORM_EPS, center=False, scale=False, name="normalise")
    y = bn(x)
    bn.set_weights([np.asarray(mean, np.float32), np.asarray(var, np.float32)])
    bn.trainable = False
    return y


def _ln(x, name=None):
    return _keras().layers.LayerNormalization(epsilon=NORM_EPS, name=name)(x)


def _mha(q, kv, d, heads, name):
    L = _keras().layers
    return L.MultiHeadAttention(heads, d // heads, name=name)(q, kv)


def multi_scale_conv(x, d, scales, branch, name):
    """Concatenate of Conv1D(``branch``, k, same, GELU) for k in ``scales`` -> Dense(``d``)."""
    L = _keras().layers
    parts = [L.Conv1D(branch, k, padding="same", activation="gelu", name=f"{name}_k{k}")(x)
             for k in scales]
    y = L.Concatenate(name=f"{name}_cat")(parts) if len(parts) > 1 else parts[0]
    return L.Dense(d, name=f"{name}_mix")(y)


def stream_block(x, d, heads, scales, branch, name):
    """[LN -> multi-head self-attention] + residual, then [LN -> multi-scale conv] + residual."""
    L = _keras().layers
    h = _ln(x, f"{name}_ln1")
    x = L.Add(name=f"{name}_res1")([x, _mha(h, h, d, heads, f"{name}_mha")])
    h = _ln(x, f"{name}_ln2")
    return L.Add(name=f"{name}_res2")([x, multi_scale_conv(h, d, scales, branch,
                                                           f"{name}_msc")])


def co_attention(local, glob, d, heads):
    """Both ways: (MHA(LN(local) -> LN(global)), MHA(LN(global) -> LN(local)))."""
    lq, gq = _ln(local, "co_ln_local"), _ln(glob, "co_ln_global")
    return (_mha(lq, gq, d, heads, "co_global_to_local"),
            _mha(gq, lq, d, heads, "co_local_to_global"))


def build_din(n_channels=6, T=128, classes=6, mean=None, var=None, **sizes):
    """DIN (module docstring); ``sizes`` override :data:`DIN`."""
    cfg = dict(DIN, **sizes)
    unknown = set(sizes) - set(DIN)
    if unknown:
        raise ValueError(f"unknown DIN sizes {sorted(unknown)} (known: {', '.join(DIN)})")
    d, heads = int(cfg["d"]), int(cfg["heads"])
    if d % heads:
        raise ValueError(f"d={d} must be a multiple of heads={heads}")
    for key in ("embed_stride", "patch"):
        if T % int(cfg[key]):
            raise ValueError(f"{key}={cfg[key]} must divide the window length {T}")
    keras = _keras()
    L = keras.layers
    inp = keras.Input((T, n_channels), name="window")
    x = inp if mean is None else _normaliser(inp, mean, var)
    local = L.Conv1D(d, int(cfg["embed_kernel"]), strides=int(cfg["embed_stride"]),
                     padding="same", activation="gelu", name="conv_embedding")(x)
    glob = L.Conv1D(d, int(cfg["patch"]), strides=int(cfg["patch"]),
                    name="patch_embedding")(x)
    for b in range(int(cfg["blocks"])):
        local = stream_block(local, d, heads, cfg["scales"], int(cfg["branch"]), f"local{b}")
        glob = stream_block(glob, d, heads, cfg["scales"], int(cfg["branch"]), f"global{b}")
    g2l, l2g = co_attention(local, glob, d, heads)
    gap = [L.GlobalAveragePooling1D(name=f"gap_{n}")(t)
           for n, t in (("local", local), ("g2l", g2l), ("global", glob), ("l2g", l2g))]
    fusion = weighted_fusion_class()
    zl = fusion(name="fusion_local")(gap[:2])
    zg = fusion(name="fusion_global")(gap[2:])
    z = L.Concatenate(name="fused")([zl, zg])
    out = L.Dense(classes, activation="softmax", name="activity")(z)
    return keras.Model(inp, out, name="din")


def build_cnn(n_channels=6, T=128, classes=6, mean=None, var=None, **sizes):
    """The 1-D CNN baseline (module docstring); ``sizes`` override :data:`CNN`."""
    cfg = dict(CNN, **sizes)
    unknown = set(sizes) - set(CNN)
    if unknown:
        raise ValueError(f"unknown CNN sizes {sorted(unknown)} (known: {', '.join(CNN)})")
    keras = _keras()
    L = keras.layers
    inp = keras.Input((T, n_channels), name="window")
    x = inp if mean is None else _normaliser(inp, mean, var)
    for i, f in enumerate(cfg["filters"]):
        x = L.Conv1D(int(f), int(cfg["kernel"]), strides=2, padding="same", activation="relu",
                     name=f"conv{i}")(x)
    x = L.GlobalAveragePooling1D(name="gap")(x)
    x = L.Dense(int(cfg["dense"]), activation="relu", name="hidden")(x)
    out = L.Dense(classes, activation="softmax", name="activity")(x)
    return keras.Model(inp, out, name="cnn")


_BUILDERS = {"din": build_din, "cnn": build_cnn}


def build(name, n_channels=6, T=128, classes=6, mean=None, var=None):
    """The model ``name`` of :data:`MODELS` with its default sizes."""
    if name not in MODELS:
        raise ValueError(f"unknown model {name!r} (one of {', '.join(MODELS)})")
    return _BUILDERS[name](n_channels, T, classes, mean, var)
