"""The HAR networks (:mod:`sw.har_model`) as C (issue 16, item 5): the whole DIN of the
default sizes and the CNN baseline, briefly trained (two epochs on two experiments), on real
UCI HAPT windows of every class -- float32 C within 1e-5 of Keras, int8-weight C within 1e-5
of Keras with the dequantised weights, host ``cc`` and Cortex-A9 under ``qemu-arm``
byte-identical; the streaming API equal to the window API; sizes within the ARM budget of the
issue; the custom WeightedFusion layer saved and loaded; bad sizes refused.
"""

import numpy as np
import pytest

from sw import c_build, c_emit, har_data, har_model
from sw.classifiers import quiet_tensorflow
from tests.har_fixture import HAPT
from tests.seeding import seeds

TOL = 1e-5
#: int8 Flash and RAM budget of the issue (bytes)
BUDGET = 64 * 1024


@pytest.fixture(scope="module")
def keras():
    return quiet_tensorflow()


@pytest.fixture(scope="module")
def windows():
    W = har_data.load_windows(HAPT, experiments=[1, 2])
    assert set(W.y.tolist()) == set(range(6))
    idx = np.concatenate([np.flatnonzero(W.y == c)[:2] for c in range(6)])
    return W, W.X[idx]


def _train(model, W):
    """Two epochs on the windows: outputs that are neither uniform nor one saturated class."""
    model.compile(optimizer="adam", loss="sparse_categorical_crossentropy")
    model.fit(W.X, W.y.astype(np.int64), epochs=2, batch_size=64, verbose=0)


def _dequantised(keras, model, info):
    q = keras.models.clone_model(model)
    q.set_weights(model.get_weights())
    for name, ws in info["keras_weights"].items():
        q.get_layer(name).set_weights(ws)
    return q


@pytest.fixture(scope="module", params=seeds(5))
def built(request, keras, windows, tmp_path_factory):
    seed = request.param
    W, X = windows
    keras.utils.set_random_seed(seed)
    mean, var = har_model.channel_stats(W.X)
    tmp = tmp_path_factory.mktemp("har_c")
    entries = []
    for name in har_model.MODELS:
        model = har_model.build(name, 6, 128, 6, mean, var)
        _train(model, W)
        ref = np.asarray(model.predict(X, verbose=0), np.float64)
        for wf in ("float32", "int8"):
            cname = f"har_{name}_{wf}"
            h, c, info = c_emit.emit_keras_sequence(cname, model, doc=cname, hop=har_data.HOP,
                                                    weights=wf)
            (tmp / f"{cname}.h").write_text(h)
            (tmp / f"{cname}.c").write_text(c)
            r = ref if wf == "float32" else np.asarray(
                _dequantised(keras, model, info).predict(X, verbose=0), np.float64)
            entries.append(dict(name=name, wf=wf, cname=cname, ref=r, float_ref=ref,
                                info=info))
    names = [e["cname"] for e in entries]
    exe = c_build.build_sequence(str(tmp), names, str(tmp / "har"))
    exe_arm = c_build.build_sequence(str(tmp), names, str(tmp / "har_arm"), arm=True)
    for e in entries:
        e["y"], e["text"] = c_build.run_sequence(exe, e["cname"], X)
        e["text_arm"] = c_build.run_sequence(exe_arm, e["cname"], X, arm=True)[1]
    return seed, tmp, exe, entries, X


@pytest.mark.parametrize("cname", ["har_din_float32", "har_din_int8", "har_cnn_float32",
                                   "har_cnn_int8"])
def test_whole_model_c_matches_keras_host_and_arm(cname, built):
    seed, _, _, entries, X = built
    e = next(e for e in entries if e["cname"] == cname)
    assert e["text_arm"] == e["text"], "qemu-arm output differs from the host build"
    assert e["y"].shape == (len(X), 6)
    d = float(np.max(np.abs(e["y"] - e["ref"])))
    dq = float(np.max(np.abs(e["y"] - e["float_ref"])))
    print(f"[seed={seed}] {cname}: max |C - Keras| = {d:.3g} ({len(X)} real windows, host; ARM "
          f"identical); vs float Keras {dq:.3g}; classes {e['y'].argmax(1)}")
    assert d <= TOL
    assert np.allclose(e["y"].sum(1), 1.0, atol=1e-5)
    assert len(set(e["y"].argmax(1).tolist())) > 1          # not one saturated class


def test_din_has_the_described_layers_and_fits_the_arm_budget(built):
    _, tmp, _, entries, _ = built
    din = next(e for e in entries if e["cname"] == "har_din_float32")["info"]
    types = [ly["type"] for ly in din["layers"]]
    for t in ("LayerNormalization", "MultiHeadAttention", "Concatenate", "WeightedFusion",
              "GlobalAveragePooling1D", "Add", "Conv1D", "Dense"):
        assert t in types, t
    assert types.count("MultiHeadAttention") == 4            # 2 self + 2 co-attention
    i8 = next(e for e in entries if e["cname"] == "har_din_int8")
    fp = c_build.arm_footprint(str(tmp), "har_din_int8", str(tmp))
    print(f"DIN int8 on the Cortex-A9: {fp}; params {din['params']}, MACs {din['macc']}")
    assert fp["flash"] <= BUDGET and fp["ram"] <= BUDGET
    assert i8["info"]["param_bytes"] < din["param_bytes"] / 3


def test_stream_equals_window_api(built, windows):
    seed, _, exe, entries, _ = built
    W, _ = windows
    stream = W.X[0][:64].tolist() + W.X[1].tolist() + W.X[2][:70].tolist()
    stream = np.asarray(stream, np.float32)
    at, ys, _ = c_build.run_sequence(exe, "har_din_float32", stream, stream=True)
    assert np.array_equal(at, np.arange(128, len(stream) + 1, har_data.HOP))
    wins = np.stack([stream[t - 128:t] for t in at])
    yw, _ = c_build.run_sequence(exe, "har_din_float32", wins)
    assert np.array_equal(ys, yw)


def test_weighted_fusion_saves_and_loads(keras, tmp_path):
    L = keras.layers
    inp = keras.Input((4,))
    fusion = har_model.weighted_fusion_class()
    out = fusion(name="f")([inp, L.Dense(4)(inp)])
    m = keras.Model(inp, out)
    m.get_layer("f").set_weights([np.array([0.3, -1.2], np.float32)])
    m.save(tmp_path / "m.keras")
    m2 = keras.models.load_model(tmp_path / "m.keras", custom_objects=har_model.custom_objects(),
                                 compile=False)
    x = np.random.default_rng(0).normal(size=(3, 4)).astype(np.float32)
    assert np.array_equal(m.predict(x, verbose=0), m2.predict(x, verbose=0))
    w = m2.get_layer("f").fusion_weights()
    assert np.isclose(w.sum(), 1.0) and w[0] > w[1]


@pytest.mark.parametrize("kw, msg", [({"d": 30, "heads": 4}, "multiple of heads"),
                                     ({"patch": 24}, "divide the window"),
                                     ({"depth": 2}, "unknown DIN sizes")])
def test_bad_din_sizes_are_refused(keras, kw, msg):
    with pytest.raises(ValueError, match=msg):
        har_model.build_din(**kw)
