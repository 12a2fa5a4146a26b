"""The sequence-model C backend (:func:`sw.c_emit.emit_keras_sequence`) against Keras
(issue 15, item 7 and the per-layer part of item 8).

* Every layer type alone, in a tiny Keras model with random shapes, options and weights
  (three seeds, about three configurations per layer type and seed): the C output within
  1e-5 of ``model(x)`` (float32), built with the host ``cc`` and with
  ``arm-linux-gnueabihf-gcc`` (static, run under ``qemu-arm``): the ARM output is the host
  output, byte for byte. All models of a seed are one executable (one compile per target).
* int8 weights (per output row, float scale, float activations): the C is the Keras model
  with the dequantised weights (within 1e-5); its distance to the float model is measured
  and printed.
* The FoG detector of Yi & Hwang (Conv1D(64, 3, relu) -> temporal attention -> GRU(64, relu)
  -> ECA -> Flatten -> Dense(64) -> Dense(1, sigmoid)) over 2 s windows at 64 Hz (T = 128)
  with C = 3 and 9 channels, random weights: max |dp| <= 1e-5 on host and ARM; the
  streaming API (``NAME_push``) gives the window API's outputs bit for bit every hop.
"""

import re
import subprocess

import numpy as np
import pytest

from sw import c_build, c_emit, c_layers, stress_model
from sw.classifiers import quiet_tensorflow
from sw.fog_model import build_yi_hwang, eca, temporal_attention
from tests.seeding import seeds

#: keras and keras.layers, imported by the ``tf`` fixture (not at collection: every pytest-xdist
#: worker collects this file, and TensorFlow takes seconds to import)
keras = L = None

TOL = 1e-5
#: measured |dp| of the int8-weight FoG detector against the float32 Keras model is printed;
#: this bound only catches a broken quantisation
INT8_VS_FLOAT_BOUND = 0.02


@pytest.fixture(scope="module", autouse=True)
def tf():
    global keras, L
    keras = quiet_tensorflow()
    L = keras.layers
    return keras


def _need_arm():
    if not c_build.have_arm():
        pytest.skip("needs arm-linux-gnueabihf-gcc and qemu-arm: apt-get install "
                    "gcc-arm-linux-gnueabihf qemu-user (make setup)")


def _randomize(model, rng, gain=0.7):
    """Random weights everywhere (biases and BatchNorm statistics too)."""
    for layer in model.layers:
        new = []
        for v in layer.weights:
            shape = tuple(v.shape)
            if "variance" in v.path:
                w = rng.uniform(0.5, 2.0, shape)
            elif len(shape) >= 2:
                w = rng.normal(0, gain / np.sqrt(np.prod(shape[:-1])), shape)
            else:
                w = rng.normal(0, 0.5, shape)
            new.append(w.astype(np.float32))
        if new:
            layer.set_weights(new)


def _keras_out(model, X):
    return np.asarray(keras.ops.convert_to_numpy(model(X, training=False)), np.float64)


# --- tiny models, one layer type each ---------------------------------------------------------

def _conv1d(rng, padding, strided):
    s = int(rng.integers(2, 4)) if strided else 1        # (TF refuses stride > 1 with dilation)
    d = 1 if strided else int(rng.integers(2, 4))
    k = int(rng.integers(1 if strided else 2, 6))
    T = int(rng.integers(d * (k - 1) + 1, 24)) if padding == "valid" else int(rng.integers(3, 20))
    ci = int(rng.integers(1, 6))
    act = rng.choice(["linear", "relu", "tanh", "sigmoid", "softmax"])
    inp = keras.Input((T, ci))
    # (a softmax over one unit is refused by Keras with a warning)
    out = L.Conv1D(int(rng.integers(2 if act == "softmax" else 1, 9)), k, strides=s,
                   dilation_rate=d, padding=padding,
                   activation=str(act), use_bias=bool(rng.random() < 0.8))(inp)
    return keras.Model(inp, out)


def _dense(rng, rank):
    shape = tuple(int(v) for v in rng.integers(1, 7, rank))
    act = rng.choice(["linear", "relu", "tanh", "sigmoid", "softmax", "selu"])
    inp = keras.Input(shape)
    out = L.Dense(int(rng.integers(2 if act == "softmax" else 1, 9)), activation=str(act),
                  use_bias=bool(rng.random() < 0.8))(inp)
    return keras.Model(inp, out)


#: (reset_after, return_sequences, go_backwards) of the GRU models
GRU_CONFIGS = ((True, True, False), (False, False, False), (False, True, True), (True, False, True))


def _gru(rng, i):
    T, ci, u = int(rng.integers(2, 16)), int(rng.integers(1, 6)), int(rng.integers(1, 9))
    reset_after, seqs, back = GRU_CONFIGS[i]
    inp = keras.Input((T, ci))
    out = L.GRU(u, activation=str(rng.choice(["tanh", "relu", "sigmoid"])),
                recurrent_activation=str(rng.choice(["sigmoid", "hard_sigmoid", "tanh"])),
                reset_after=reset_after, return_sequences=seqs, go_backwards=back,
                use_bias=bool(rng.random() < 0.8))(inp)
    return keras.Model(inp, out)


def _bigru(rng, mode, seqs, reset_after):
    """Bidirectional(GRU) (the BiGRU of the stress model), random sizes and activations."""
    T, ci, u = int(rng.integers(2, 12)), int(rng.integers(1, 6)), int(rng.integers(1, 7))
    inp = keras.Input((T, ci))
    g = L.GRU(u, activation=str(rng.choice(["tanh", "relu"])), reset_after=reset_after,
              return_sequences=seqs, use_bias=bool(rng.random() < 0.8))
    return keras.Model(inp, L.Bidirectional(g, merge_mode=mode)(inp))


def _tc(rng, lo=2, hi=12, cmin=1):
    return int(rng.integers(lo, hi)), int(rng.integers(cmin, 7))


def _permute(rng, dims):
    shape = tuple(int(v) for v in rng.integers(1, 7, len(dims)))
    inp = keras.Input(shape)
    return keras.Model(inp, L.Permute(dims)(inp))


def _merge(rng, cls, n=2, broadcast=False):
    T, C = _tc(rng)
    inp = keras.Input((T, C))
    others = [L.Dense(C)(inp) for _ in range(n - 1)]
    if broadcast:                       # the ECA pattern: (T, C) * (1, C)
        others = [L.GlobalAveragePooling1D(keepdims=True)(inp)]
    return keras.Model(inp, cls()([inp, *others]))


def _concat(rng, n, rank):
    """Concatenate along the last axis of ``n`` tensors of random widths: sequences (T, C_i)
    from Dense and same-padded Conv1D branches (the multi-scale convolution pattern), or
    vectors (C_i) from pooling (the DIN fusion pattern)."""
    T, C = _tc(rng, 2, 10)
    inp = keras.Input((T, C))
    parts = [L.Dense(int(rng.integers(1, 6)))(inp)]
    parts += [L.Conv1D(int(rng.integers(1, 6)), int(rng.integers(1, 6)), padding="same")(inp)
              for _ in range(n - 1)]
    if rank == 1:
        parts = [L.GlobalAveragePooling1D()(p) for p in parts]
    return keras.Model(inp, L.Concatenate()(parts))


def _fusion(rng, n, rank):
    """:class:`sw.har_model.WeightedFusion` of ``n`` equal-shape inputs (random logits)."""
    from sw.har_model import weighted_fusion_class
    T, C = _tc(rng, 2, 10)
    inp = keras.Input((T, C))
    parts = [inp] + [L.Dense(C)(inp) for _ in range(n - 1)]
    if rank == 1:
        parts = [L.GlobalAveragePooling1D()(p) for p in parts]
    return keras.Model(inp, weighted_fusion_class()()(parts))


def _single(rng, layer, shape=None):
    inp = keras.Input(shape or _tc(rng, cmin=2))
    return keras.Model(inp, layer(inp))


def _batchnorm(rng, axis, rank):
    shape = tuple(int(v) for v in rng.integers(1, 7, rank))
    inp = keras.Input(shape)
    out = L.BatchNormalization(axis=axis, center=bool(rng.random() < 0.8),
                               scale=bool(rng.random() < 0.8),
                               epsilon=float(rng.uniform(1e-4, 1e-2)))(inp)
    return keras.Model(inp, out)


def fog_detector(T=128, C=9, units=64):
    """The FoG detector of Yi & Hwang (:func:`sw.fog_model.build_yi_hwang`, no normalisation
    layer; random weights here): input T samples x C channels."""
    return build_yi_hwang(C, T, units=units)


def _block(rng, fn):
    T, C = _tc(rng, 3, 14)
    inp = keras.Input((T, C))
    return keras.Model(inp, fn(inp))


def _layernorm(rng, rank, center, scale):
    shape = tuple(int(v) for v in rng.integers(1, 7, rank))
    inp = keras.Input(shape)
    out = L.LayerNormalization(center=center, scale=scale,
                               epsilon=float(rng.choice([1e-3, 1e-5, 1e-6])))(inp)
    return keras.Model(inp, out)


def _mha(rng, mode):
    """Self-attention (``self``), cross-attention between a Dense stream and a strided
    Conv1D stream of another length (``cross``, the DIN pattern), or with a separate key
    (``key``); random heads, key and value sizes, bias on or off."""
    T, C = _tc(rng, 4, 10, 2)
    inp = keras.Input((T, C))
    cfg = dict(num_heads=int(rng.integers(1, 4)), key_dim=int(rng.integers(1, 5)),
               value_dim=int(rng.integers(1, 5)), use_bias=bool(rng.random() < 0.7))
    a = L.Dense(int(rng.integers(2, 6)))(inp)
    if mode == "self":
        return keras.Model(inp, L.MultiHeadAttention(**cfg)(a, a))
    b = L.Conv1D(int(rng.integers(2, 6)), 2, strides=2)(inp)
    if mode == "cross":
        return keras.Model(inp, L.MultiHeadAttention(**cfg)(a, b))
    k = L.Conv1D(int(rng.integers(2, 6)), 2, strides=2)(inp)
    return keras.Model(inp, L.MultiHeadAttention(**cfg)(a, b, k))


#: layer type -> builders of its tiny models (each gets the seed's rng)
KINDS = {
    "LayerNormalization": [lambda r, k=k, c=c, s=s: _layernorm(r, k, c, s)
                           for k, c, s in ((1, True, True), (2, True, False), (3, False, True))],
    "MultiHeadAttention": [lambda r, m=m: _mha(r, m) for m in ("self", "cross", "key")],
    "Conv1D": [lambda r, p=p, s=s: _conv1d(r, p, s) for p in ("valid", "same", "causal")
               for s in (True, False)],
    "Dense": [lambda r, k=k: _dense(r, k) for k in (1, 2, 3)],
    "GRU": [lambda r, i=i: _gru(r, i) for i in range(len(GRU_CONFIGS))],
    "Bidirectional": [lambda r, m=m, q=q, a=a: _bigru(r, m, q, a) for m, q, a in (
        ("concat", True, True), ("concat", False, False), ("sum", True, False),
        ("ave", False, True), ("mul", True, True))],
    "Concatenate": [lambda r, n=n, k=k: _concat(r, n, k) for n, k in ((2, 2), (3, 2), (2, 1))],
    "WeightedFusion": [lambda r, n=n, k=k: _fusion(r, n, k) for n, k in ((2, 1), (3, 2))],
    "Permute": [lambda r: _permute(r, (2, 1)), lambda r: _permute(r, (3, 1, 2))],
    "Multiply": [lambda r: _merge(r, L.Multiply), lambda r: _merge(r, L.Multiply, 3),
                 lambda r: _merge(r, L.Multiply, broadcast=True)],
    "Add": [lambda r: _merge(r, L.Add), lambda r: _merge(r, L.Add, 3),
            lambda r: _merge(r, L.Add, broadcast=True)],
    "Subtract/Average/Maximum/Minimum": [lambda r, c=c: _merge(r, getattr(L, c)) for c in
                                         ("Subtract", "Average", "Maximum", "Minimum")],
    "GlobalAveragePooling1D": [lambda r: _single(r, L.GlobalAveragePooling1D()),
                               lambda r: _single(r, L.GlobalAveragePooling1D(keepdims=True))],
    "GlobalMaxPooling1D": [lambda r: _single(r, L.GlobalMaxPooling1D()),
                           lambda r: _single(r, L.GlobalMaxPooling1D(keepdims=True))],
    "Flatten/Reshape/Dropout": [lambda r: _single(r, L.Flatten()),
                                lambda r: _single(r, L.Reshape((-1, 2)), (4, 3)),
                                lambda r: _single(r, L.Dropout(0.5))],
    "BatchNormalization": [lambda r: _batchnorm(r, -1, 2), lambda r: _batchnorm(r, -1, 1),
                           lambda r: _batchnorm(r, 1, 2)],
    "Activation": [lambda r, a=a: _single(r, L.Activation(a)) for a in c_layers.ACTIVATIONS],
    "ReLU/LeakyReLU/Softmax": [
        lambda r: _single(r, L.ReLU()), lambda r: _single(r, L.ReLU(max_value=6.0)),
        lambda r: _single(r, L.ReLU(negative_slope=0.1, threshold=0.5)),
        lambda r: _single(r, L.ReLU(max_value=1.5, negative_slope=0.2)),
        lambda r: _single(r, L.LeakyReLU(negative_slope=0.3)), lambda r: _single(r, L.Softmax())],
    "ECA block": [lambda r: _block(r, eca)],
    "temporal attention block": [lambda r: _block(r, temporal_attention)],
    # the EmoHeal blocks (sw.stress_model): a causal dilated TCN with residuals, squeeze-
    # excitation channel attention ((T, F) x (1, F)), spatial attention ((T, F) x (T, 1))
    "TCN residual block": [lambda r: _block(r, lambda x: stress_model.tcn(
        x, x.shape[-1], 2, (1, 2, 4), 0.2, "t"))],
    "channel attention block": [lambda r: _block(r, lambda x: stress_model.channel_attention(
        x, "c", ratio=2))],
    "spatial attention block": [lambda r: _block(r, lambda x: stress_model.spatial_attention(
        x, "s", kernel=3))],
}
#: layer types whose weights have an int8 variant
INT8_KINDS = ("Conv1D", "Dense", "GRU", "MultiHeadAttention", "Bidirectional")


def _cname(seed, kind, i, suffix=""):
    return re.sub(r"\W", "_", f"s{seed}_{kind}_{i}{suffix}".lower()).replace("-", "m")


def _dequantised(model, info):
    """Keras clone of ``model`` with the int8 C's dequantised weights."""
    q = keras.models.clone_model(model)
    q.set_weights(model.get_weights())
    for name, ws in info["keras_weights"].items():
        q.get_layer(name).set_weights(ws)
    return q


def _build_and_run(tmp, entries, arm):
    """Emit, compile once (host, and ARM), run: {cname: (host outputs, arm text or None)}."""
    names = [e["cname"] for e in entries]
    exe = c_build.build_sequence(str(tmp), names, str(tmp / "seq"))
    exe_arm = (c_build.build_sequence(str(tmp), names, str(tmp / "seq_arm"), arm=True)
               if arm else None)
    res = {}
    for e in entries:
        y, text = c_build.run_sequence(exe, e["cname"], e["X"])
        text_arm = c_build.run_sequence(exe_arm, e["cname"], e["X"], arm=True)[1] if arm else None
        res[e["cname"]] = (y, text, text_arm)
    return res


def _emit(tmp, cname, model, **kw):
    kw.setdefault("doc", cname)
    h, c, info = c_emit.emit_keras_sequence(cname, model, **kw)
    (tmp / f"{cname}.h").write_text(h)
    (tmp / f"{cname}.c").write_text(c)
    return info


@pytest.fixture(scope="module", params=seeds(1, 2, 3))
def seed(request):
    return request.param


@pytest.fixture(scope="module")
def layer_bundle(tf, seed, tmp_path_factory):
    _need_arm()
    rng = np.random.default_rng(seed)
    keras.utils.set_random_seed(seed)
    tmp = tmp_path_factory.mktemp(f"seq_layers_{seed}")
    entries = []
    for kind, builders in KINDS.items():
        for i, build in enumerate(builders):
            model = build(rng)
            _randomize(model, rng)
            X = rng.normal(size=(4,) + tuple(model.inputs[0].shape[1:])).astype(np.float32)
            ref = _keras_out(model, X).reshape(len(X), -1)
            cname = _cname(seed, kind, i)
            info = _emit(tmp, cname, model, hop=int(rng.integers(1, 5)))
            entries.append(dict(kind=kind, cname=cname, X=X, ref=ref, info=info, model=model))
            if kind == "temporal attention block":         # also as the three layers
                uname = _cname(seed, kind, i, "_unfused")
                uinfo = _emit(tmp, uname, model, fuse=False)
                assert len(uinfo["layers"]) == len(info["layers"]) + 2
                entries.append(dict(kind=kind + " unfused", cname=uname, X=X, ref=ref,
                                    info=uinfo, model=model))
            if kind in INT8_KINDS:
                qname = _cname(seed, kind, i, "_i8")
                qinfo = _emit(tmp, qname, model, weights="int8", int8_min_weights=0)
                qref = _keras_out(_dequantised(model, qinfo), X).reshape(len(X), -1)
                entries.append(dict(kind=kind + " int8", cname=qname, X=X, ref=qref, info=qinfo,
                                    float_ref=ref, model=model))
    for kind, builders in PRUNED_KINDS.items():
        for i, build in enumerate(builders):
            model = build(rng)
            _randomize(model, rng)
            pruned = _pruned(model, PRUNE)
            X = rng.normal(size=(4,) + tuple(model.inputs[0].shape[1:])).astype(np.float32)
            pX = _keras_out(pruned, X).reshape(len(X), -1)
            for w in ("float32", "int8"):
                for sparse in (True, False):
                    pname = _cname(seed, kind, i, f"_p{w}{'' if sparse else '_dense'}")
                    pinfo = _emit(tmp, pname, pruned, weights=w, sparse=sparse,
                                  int8_min_weights=0)
                    pref = (_keras_out(_dequantised(pruned, pinfo), X).reshape(len(X), -1)
                            if w == "int8" else pX)
                    entries.append(dict(kind=f"{kind} pruned {w}" + ("" if sparse else " dense"),
                                        cname=pname, X=X, ref=pref, info=pinfo, model=pruned))
    return entries, _build_and_run(tmp, entries, arm=True), tmp


#: fraction of each weight matrix set to zero for the CSR tests
PRUNE = 0.8


def _conv_pruned(rng, padding, dilation):
    inp = keras.Input((int(rng.integers(10, 16)), int(rng.integers(4, 8))))
    out = L.Conv1D(int(rng.integers(6, 10)), 3, padding=padding, dilation_rate=dilation,
                   activation="relu", use_bias=bool(rng.random() < 0.8))(inp)
    return keras.Model(inp, out)


def _dense_pruned(rng):
    inp = keras.Input((int(rng.integers(2, 5)), int(rng.integers(12, 20))))
    return keras.Model(inp, L.Dense(int(rng.integers(6, 10)), activation="tanh")(inp))


def _gru_pruned(rng, reset_after):
    inp = keras.Input((int(rng.integers(4, 8)), int(rng.integers(6, 10))))
    return keras.Model(inp, L.GRU(int(rng.integers(6, 10)), activation="relu",
                                  reset_after=reset_after, return_sequences=True)(inp))


#: models big enough that 80 % zeros make CSR smaller than dense (every storage branch:
#: convolution without padding -> input offsets, with padding -> tap checks; int8 and float)
PRUNED_KINDS = {
    "Conv1D": [lambda r, p=p, d=d: _conv_pruned(r, p, d)
               for p, d in (("valid", 1), ("valid", 2), ("same", 1), ("causal", 2))],
    "Dense": [_dense_pruned],
    "GRU": [lambda r, a=a: _gru_pruned(r, a) for a in (True, False)],
}


def _pruned(model, frac):
    """Clone of ``model`` with the smallest ``frac`` of every kernel (|w|) set to zero."""
    q = keras.models.clone_model(model)
    q.set_weights(model.get_weights())
    for layer in q.layers:
        ws = layer.get_weights()
        for n, v in enumerate(layer.weights):
            if "kernel" in v.path and ws[n].size > 1:
                k = ws[n]
                cut = np.quantile(np.abs(k), frac)
                ws[n] = np.where(np.abs(k) <= cut, 0, k).astype(k.dtype)
        layer.set_weights(ws)
    return q


@pytest.mark.parametrize("kind", [f"{k} pruned {w}" for k in PRUNED_KINDS
                                  for w in ("float32", "int8")])
def test_pruned_layer_stored_sparse_same_bits_as_dense(kind, layer_bundle, seed):
    """80 % pruned Conv1D/Dense/GRU: the weight matrices go to CSR (fewer parameter bytes than
    the dense C of the same model), the output is the dense C's, digit for digit, within 1e-5
    of Keras (the dequantised model for int8), and the ARM build prints the host's."""
    entries, res, _ = layer_bundle
    mine = [e for e in entries if e["kind"] == kind]
    dense = {e["cname"].removesuffix("_dense"): e for e in entries
             if e["kind"] == kind + " dense"}
    assert mine and len(dense) == len(mine)
    for e in mine:
        y, text, text_arm = res[e["cname"]]
        d_e = dense[e["cname"]]
        notes = [ly["note"] for ly in e["info"]["layers"]]
        assert any("CSR" in n for n in notes), f"{e['cname']}: no CSR matrix in {notes}"
        assert not any("CSR" in ly["note"] for ly in d_e["info"]["layers"])
        assert e["info"]["param_bytes"] < d_e["info"]["param_bytes"], (
            e["cname"], e["info"]["param_bytes"], d_e["info"]["param_bytes"])
        assert text == res[d_e["cname"]][1], f"{e['cname']}: CSR and dense C differ"
        assert text_arm == text, f"{e['cname']}: qemu-arm output differs from the host build"
        d = float(np.max(np.abs(y - e["ref"])))
        assert d <= TOL, f"{e['cname']} {notes}: max |d| = {d:.3g}"
        print(f"[seed={seed}] {e['cname']}: {notes}; parameter bytes "
              f"{e['info']['param_bytes']} (dense {d_e['info']['param_bytes']}); |d| = {d:.3g}")


@pytest.mark.parametrize("kind", list(KINDS) + [k + " int8" for k in INT8_KINDS]
                         + ["temporal attention block unfused"])
def test_layer_alone_matches_keras_host_and_arm(kind, layer_bundle, seed):
    entries, res, _ = layer_bundle
    mine = [e for e in entries if e["kind"] == kind]
    assert mine
    worst = 0.0
    for e in mine:
        y, text, text_arm = res[e["cname"]]
        assert text_arm == text, f"{e['cname']}: qemu-arm output differs from the host build"
        assert y.shape == e["ref"].shape
        d = float(np.max(np.abs(y - e["ref"])))
        worst = max(worst, d)
        cfg = [(ly["type"], ly["note"], ly["in_shapes"], ly["out_shape"])
               for ly in e["info"]["layers"]]
        assert d <= TOL, f"{e['cname']} {cfg}: max |d| = {d:.3g}"
        print(f"  {e['cname']}: |d| = {d:.3g}; {cfg}")
        if "float_ref" in e:
            dq = float(np.max(np.abs(y - e["float_ref"])))
            print(f"{e['cname']}: int8 C vs float32 Keras max |d| = {dq:.3g}")
    print(f"[seed={seed}] {kind}: {len(mine)} models, max |C - Keras| = {worst:.3g} "
          "(host; ARM identical)")


# --- the FoG detector ------------------------------------------------------------------------

FOG_T, FOG_HOP = 128, 64


def _scale_logit(model, X, rng):
    """Rescale the output layer so that the logits spread around 0 (p not saturated)."""
    last = model.get_layer("fog_probability")
    feat = keras.Model(model.inputs[0], last.input)
    h = np.asarray(keras.ops.convert_to_numpy(feat(X)), np.float64)
    w, b = last.get_weights()
    z = h @ w[:, 0]
    s = 1.5 / max(np.std(z), 1e-6)
    last.set_weights([(w * s).astype(np.float32),
                      np.array([-np.mean(z) * s], np.float32)])


@pytest.fixture(scope="module")
def fog(tf, tmp_path_factory):
    _need_arm()
    seed = seeds(7)[0].values[0]
    rng = np.random.default_rng(seed)
    keras.utils.set_random_seed(seed)
    tmp = tmp_path_factory.mktemp("seq_fog")
    entries, models = [], {}
    for C in (3, 9):
        model = fog_detector(FOG_T, C)
        X = rng.normal(size=(6, FOG_T, C)).astype(np.float32)
        _scale_logit(model, X, rng)
        ref = _keras_out(model, X)
        models[C] = model
        info = _emit(tmp, f"fog_c{C}", model, doc=f"FoG detector, {C} channels",
                     hop=FOG_HOP)
        entries.append(dict(C=C, cname=f"fog_c{C}", X=X, ref=ref, info=info, model=model))
    model = models[9]
    X = entries[1]["X"]
    qinfo = _emit(tmp, "fog_c9_i8", model, doc="FoG detector, 9 channels, int8 weights",
                  hop=FOG_HOP, weights="int8")
    entries.append(dict(C=9, cname="fog_c9_i8", X=X, ref=_keras_out(_dequantised(model, qinfo), X),
                        float_ref=entries[1]["ref"], info=qinfo, model=model))
    # a long stream for the streaming API (C = 3): 6 hops after the first window
    stream = rng.normal(size=(FOG_T + 6 * FOG_HOP + 17, 3)).astype(np.float32)
    return seed, tmp, entries, stream


@pytest.fixture(scope="module")
def fog_run(fog):
    seed, tmp, entries, stream = fog
    return _build_and_run(tmp, entries, arm=True)


@pytest.mark.parametrize("cname", ["fog_c3", "fog_c9", "fog_c9_i8"])
def test_fog_detector_matches_keras_host_and_arm(cname, fog, fog_run):
    seed, tmp, entries, _ = fog
    e = next(e for e in entries if e["cname"] == cname)
    y, text, text_arm = fog_run[cname]
    assert text_arm == text, "qemu-arm output differs from the host build"
    d = float(np.max(np.abs(y - e["ref"])))
    info = e["info"]
    print(f"{cname}: max |dp| = {d:.3g} (host; ARM identical), p = {np.round(y[:, 0], 4)}; "
          f"arena {info['arena_bytes']} B (no reuse: {info['no_reuse_bytes']} B), stream "
          f"struct {info['stream_bytes']} B, params {info['params']} ({info['param_bytes']} B), "
          f"MACC {info['macc']}")
    assert d <= TOL
    assert 0.02 < np.median(y) < 0.98             # the check is not on saturated outputs
    if "float_ref" in e:
        dq = float(np.max(np.abs(y - e["float_ref"])))
        print(f"{cname}: int8 weights vs float32 Keras max |dp| = {dq:.3g}")
        assert dq <= INT8_VS_FLOAT_BOUND
        assert info["param_bytes"] < next(f["info"]["param_bytes"] for f in entries
                                          if f["cname"] == "fog_c9") / 3


def test_fog_arena_is_reused_and_reported(fog):
    _, tmp, entries, _ = fog
    T, units = FOG_T - 2, 64                        # after Conv1D(64, 3, valid)
    seq = T * units
    for e in entries:
        info = e["info"]
        # peak: the GRU step (its input, its output, h + 6 gate rows of scratch); the
        # attention step (conv output, attention output, one column) is smaller
        assert info["arena_floats"] == 2 * seq + 7 * units
        assert info["no_reuse_bytes"] > 1.5 * info["arena_bytes"]
        h = (tmp / f"{e['cname']}.h").read_text()
        N = e["cname"].upper()
        assert re.search(rf"#define {N}_ARENA_BYTES {info['arena_bytes']} ", h)
        assert re.search(rf"#define {N}_HOP {FOG_HOP} ", h)
        modes = {ly["type"]: ly["mode"] for ly in info["layers"]}
        assert modes["Flatten"] == "view" and modes["Reshape"] == "view"
        assert modes["Multiply"] == "in place"
        assert "Permute+Dense+Permute" in modes
    # without the fusion the attention step holds three sequences
    _, _, unfused = c_emit.emit_keras_sequence("u", entries[0]["model"], fuse=False)
    assert unfused["arena_floats"] == 3 * seq
    print(f"FoG arena: {entries[0]['info']['arena_bytes']} B fused, "
          f"{unfused['arena_bytes']} B unfused, {entries[0]['info']['no_reuse_bytes']} B "
          "without reuse")


def test_fog_stream_equals_window_api(fog, fog_run):
    """NAME_push over a long stream == NAME_predict_window over the windows it ends, bit for bit
    (host and ARM), and == Keras within 1e-5."""
    _, tmp, entries, stream = fog
    e = next(e for e in entries if e["cname"] == "fog_c3")
    exe = str(tmp / "seq")
    at, ys, text = c_build.run_sequence(exe, "fog_c3", stream, stream=True)
    _, _, text_arm = c_build.run_sequence(str(tmp / "seq_arm"), "fog_c3", stream, arm=True,
                                          stream=True)
    assert text_arm == text
    expect = np.arange(FOG_T, len(stream) + 1, FOG_HOP)
    assert np.array_equal(at, expect)
    windows = np.stack([stream[n - FOG_T:n] for n in at])
    yw, text_w = c_build.run_sequence(exe, "fog_c3", windows)
    assert [ln.split(",", 1)[1] for ln in text.splitlines()] == text_w.splitlines()
    ref = _keras_out(e["model"], windows)
    assert np.max(np.abs(ys - ref)) <= TOL


def test_stream_hop_of_small_models(layer_bundle, seed):
    """Streaming == window API for the tiny Conv1D models too (hops 1..4 drawn at emit time)."""
    entries, _, tmp = layer_bundle
    rng = np.random.default_rng(seed + 100)
    exe = str(tmp / "seq")
    for e in (e for e in entries if e["kind"] == "Conv1D"):
        T, C = e["info"]["input_shape"]
        hop = e["info"]["hop"]
        stream = rng.normal(size=(T + 5 * hop + 2, C)).astype(np.float32)
        at, ys, text = c_build.run_sequence(exe, e["cname"], stream, stream=True)
        assert np.array_equal(at, np.arange(T, len(stream) + 1, hop))
        windows = np.stack([stream[n - T:n] for n in at])
        _, text_w = c_build.run_sequence(exe, e["cname"], windows)
        assert [ln.split(",", 1)[1] for ln in text.splitlines()] == text_w.splitlines()


# --- rules of the generated code, errors ------------------------------------------------------

def test_generated_c_rules_and_arm_footprint(fog):
    _, tmp, entries, _ = fog
    for e in entries:
        text = (tmp / f"{e['cname']}.c").read_text()
        for bad in ("malloc", "free(", "#include <math.h>"):
            assert bad not in text, f"{e['cname']}: {bad}"
        assert not re.search(r"^static (?!const)[\w ]+?\b\w+\s*(\[[^\]]*\]\s*)*(=|;)", text, re.M)
    fp = c_build.arm_footprint(str(tmp), "fog_c9", str(tmp))
    fp8 = c_build.arm_footprint(str(tmp), "fog_c9_i8", str(tmp))
    print(f"fog_c9 ARM: {fp}\nfog_c9_i8 ARM: {fp8}")
    assert fp["bss"] == 0 and fp["data"] == 0 and fp8["bss"] == 0 and fp8["data"] == 0
    info = entries[1]["info"]
    assert fp["rodata"] >= 0.99 * info["param_bytes"]     # (gcc may fold a tiny array into code)
    assert fp8["rodata"] < fp["rodata"] / 3


def _tiny_input():
    return keras.Input((8, 3))


def test_int8_leaves_small_matrices_and_named_layers_float(fog):
    """Default int8: matrices under INT8_MIN_WEIGHTS weights (ECA's 3, the Dense(64 -> 1)) stay
    float32, the big ones are int8; ``float_layers`` keeps a named layer float; an unknown name
    is refused."""
    model = next(e["model"] for e in fog[2] if e["cname"] == "fog_c9")
    _, _, info = c_emit.emit_keras_sequence("q", model, weights="int8")
    sizes = {ly.name: max(int(np.prod(w.shape)) for w in ly.weights if "kernel" in w.path)
             for ly in model.layers if any("kernel" in w.path for w in ly.weights)}
    small = [n for n, k in sizes.items() if k < c_emit.INT8_MIN_WEIGHTS]
    big = [n for n, k in sizes.items() if k >= c_emit.INT8_MIN_WEIGHTS]
    assert small and big
    for n in small + big:
        assert (n in info["keras_weights"]) == (n in big), (n, sizes[n],
                                                            sorted(info["keras_weights"]))
    _, _, info2 = c_emit.emit_keras_sequence("q", model, weights="int8", float_layers=big[:1])
    assert big[0] not in info2["keras_weights"] and set(big[1:]) <= set(info2["keras_weights"])
    assert info2["param_bytes"] > info["param_bytes"]
    with pytest.raises(ValueError, match="no layer named 'nope'"):
        c_emit.emit_keras_sequence("q", model, weights="int8", float_layers=["nope"])


def test_unsupported_layers_raise_naming_the_layer():
    inp = _tiny_input()
    with pytest.raises(ValueError, match=r"'my_lstm' \(LSTM\)"):
        c_emit.emit_keras_sequence("m", keras.Model(inp, L.LSTM(4, name="my_lstm")(inp)))
    with pytest.raises(ValueError, match=r"'grouped' \(Conv1D\): groups=3"):
        c_emit.emit_keras_sequence("m", keras.Model(inp, L.Conv1D(3, 2, groups=3,
                                                                  name="grouped")(inp)))
    with pytest.raises(ValueError, match=r"'g' \(GRU\): return_state=True"):
        c_emit.emit_keras_sequence("m", keras.Model(inp, L.GRU(2, return_state=True,
                                                               name="g")(inp)[0]))
    with pytest.raises(ValueError, match=r"'d' \(Dense\): no C for activation='mish'"):
        c_emit.emit_keras_sequence("m", keras.Model(inp, L.Dense(2, activation="mish",
                                                                name="d")(inp)))
    with pytest.raises(ValueError, match=r"'a' \(MultiHeadAttention\): use_gate=True"):
        c_emit.emit_keras_sequence("m", keras.Model(inp, L.MultiHeadAttention(
            1, 2, use_gate=True, name="a")(inp, inp)))
    with pytest.raises(ValueError, match=r"'n' \(LayerNormalization\): axis="):
        c_emit.emit_keras_sequence("m", keras.Model(inp, L.LayerNormalization(
            axis=1, name="n")(inp)))
    with pytest.raises(ValueError, match="keras.ops call"):
        c_emit.emit_keras_sequence("m", keras.Model(inp, keras.ops.exp(inp)))
    with pytest.raises(ValueError, match="weights must be one of"):
        c_emit.emit_keras_sequence("m", keras.Model(inp, L.Flatten()(inp)), weights="int4")


def test_driver_rejects_malformed_rows(fog, fog_run):
    _, tmp, _, _ = fog
    r = subprocess.run([str(tmp / "seq"), "fog_c3"], input="1,2,3\n", capture_output=True,
                       text=True)
    assert r.returncode == 2 and "line 1: expected 384" in r.stderr
    r = subprocess.run([str(tmp / "seq"), "nope"], input="", capture_output=True, text=True)
    assert r.returncode == 2 and "usage" in r.stderr
    r = subprocess.run([str(tmp / "seq"), "--list"], capture_output=True, text=True)
    assert r.stdout.split() == ["fog_c3", "fog_c9", "fog_c9_i8"]


def test_csr_past_16_bit_row_starts_and_column_indexes(tmp_path):
    """A pruned Dense(70000 -> 2) (column indexes past 65535) and a pruned Dense(600 -> 600)
    (more than 65535 non-zeros: 32-bit row starts): CSR C within 1e-5 of Keras, host and ARM,
    compiled with -Werror."""
    _need_arm()
    rng = np.random.default_rng(0)
    entries = []
    for i, (fi, fo, frac) in enumerate(((70000, 2, 0.8), (600, 600, 0.75))):
        inp = keras.Input((fi,))
        model = keras.Model(inp, L.Dense(fo, activation="tanh")(inp))
        k, b = model.layers[1].get_weights()
        k = rng.normal(0, 1 / np.sqrt(fi), k.shape).astype(np.float32)
        k[np.abs(k) <= np.quantile(np.abs(k), frac)] = 0
        model.layers[1].set_weights([k, b])
        X = rng.normal(size=(3, fi)).astype(np.float32)
        info = _emit(tmp_path, f"big{i}", model)
        assert "CSR" in info["layers"][0]["note"]
        entries.append(dict(cname=f"big{i}", X=X, ref=_keras_out(model, X), info=info))
    src = (tmp_path / "big0.c").read_text() + (tmp_path / "big1.c").read_text()
    assert "static const int32_t L1_W_I[" in src and "static const int32_t L1_W_R[" in src
    res = _build_and_run(tmp_path, entries, arm=True)
    for e in entries:
        y, text, text_arm = res[e["cname"]]
        assert text_arm == text
        d = float(np.max(np.abs(y - e["ref"])))
        print(f"{e['cname']}: {e['info']['layers'][0]['note']}, max |d| = {d:.3g}")
        assert d <= TOL


def test_several_inputs_read_one_after_the_other(tf, tmp_path):
    """A model with one branch per sensor, each input of its own length and channels (the
    stress model's layout): x holds the inputs one after the other; host and qemu-arm."""
    _need_arm()
    seed = seeds(11)[0].values[0]
    rng = np.random.default_rng(seed)
    keras.utils.set_random_seed(seed)
    a, b, c = keras.Input((16, 1), name="bvp"), keras.Input((8, 3), name="acc"), \
        keras.Input((5,), name="extra")
    fa = L.GlobalAveragePooling1D()(L.Conv1D(4, 4, strides=4, activation="relu")(a))
    fb = L.GlobalMaxPooling1D()(L.Conv1D(4, 2, strides=2)(b))
    out = L.Dense(3, activation="softmax")(L.Concatenate()([fa, fb, L.Dense(4)(c)]))
    model = keras.Model([a, b, c], out)
    _randomize(model, rng)
    X = [rng.normal(size=(5,) + tuple(i.shape[1:])).astype(np.float32) for i in model.inputs]
    ref = _keras_out(model, X)
    info = _emit(tmp_path, "multi_in", model)
    assert info["input_shapes"] == [(16, 1), (8, 3), (5,)] and info["input_offsets"] == [0, 16, 40]
    h = (tmp_path / "multi_in.h").read_text()
    assert "#define MULTI_IN_IN1_OFFSET 16" in h and "#define MULTI_IN_N_IN 45" in h
    assert "multi_in_push" not in h
    flat = np.concatenate([x.reshape(len(x), -1) for x in X], axis=1)
    res = _build_and_run(tmp_path, [dict(cname="multi_in", X=flat)], arm=True)
    y, text, text_arm = res["multi_in"]
    d = float(np.max(np.abs(y - ref)))
    print(f"[seed={seed}] three inputs: max |C - Keras| = {d:.3g} (host; ARM identical)")
    assert text_arm == text and d <= TOL
