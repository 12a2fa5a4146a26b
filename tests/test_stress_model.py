"""EmoHeal (:mod:`sw.stress_model`) as C (issue 17, item 5): the whole model of the default
sizes (four inputs at the E4's native rates, per-sensor TCN, channel and spatial attention,
BiGRU), briefly trained on two real subjects, on real windows of both classes: float32 C
within 1e-5 of Keras, int8-weight C within 1e-5 of Keras with the dequantised weights, host
``cc`` and Cortex-A9 under ``qemu-arm`` byte-identical; the int8 C within the issue's ARM
budget (64 KB Flash, 32 KB RAM); bad sizes refused.
"""

import numpy as np
import pytest

from sw import c_build, c_emit, stress_data, stress_model
from sw.classifiers import quiet_tensorflow
from tests.seeding import seeds
from tests.test_stress_data import DATA

TOL = 1e-5


@pytest.fixture(scope="module", params=seeds(3))
def built(request, tmp_path_factory):
    seed = request.param
    keras = quiet_tensorflow()
    keras.utils.set_random_seed(seed)
    W = stress_data.normalise_windows(stress_data.load_windows(DATA, subjects=[2, 3]))
    model = stress_model.build_emoheal(int(W.window_s))
    model.compile(optimizer="adam", loss="binary_crossentropy")
    model.fit(stress_model.split_inputs(W), W.y.astype(np.float32), epochs=2, batch_size=32,
              verbose=0)
    idx = np.concatenate([np.flatnonzero(W.y == c)[:4] for c in (0, 1)])
    X = stress_model.split_inputs(W.take(idx))
    flat = np.concatenate([x.reshape(len(x), -1) for x in X], axis=1)
    ref = np.asarray(model.predict(X, verbose=0), np.float64)
    tmp = tmp_path_factory.mktemp("stress_c")
    out = {}
    for wf in ("float32", "int8"):
        cname = f"emoheal_{wf}"
        h, c, info = c_emit.emit_keras_sequence(cname, model, doc=cname, weights=wf)
        (tmp / f"{cname}.h").write_text(h)
        (tmp / f"{cname}.c").write_text(c)
        r = ref
        if wf == "int8":
            q = keras.models.clone_model(model)
            q.set_weights(model.get_weights())
            for name, ws in info["keras_weights"].items():
                q.get_layer(name).set_weights(ws)
            r = np.asarray(q.predict(X, verbose=0), np.float64)
        out[cname] = dict(info=info, ref=r)
    exe = c_build.build_sequence(str(tmp), list(out), str(tmp / "st"))
    exe_arm = c_build.build_sequence(str(tmp), list(out), str(tmp / "st_arm"), arm=True)
    for cname, e in out.items():
        e["y"], e["text"] = c_build.run_sequence(exe, cname, flat)
        e["text_arm"] = c_build.run_sequence(exe_arm, cname, flat, arm=True)[1]
    return seed, tmp, out, ref


@pytest.mark.parametrize("cname", ["emoheal_float32", "emoheal_int8"])
def test_whole_model_matches_keras_host_and_arm(cname, built):
    seed, _, out, ref = built
    e = out[cname]
    assert e["text_arm"] == e["text"], "qemu-arm output differs from the host build"
    d = float(np.max(np.abs(e["y"] - e["ref"])))
    print(f"[seed={seed}] {cname}: max |C - Keras| = {d:.3g}; vs float Keras "
          f"{float(np.max(np.abs(e['y'] - ref))):.3g}; p = {np.round(e['y'][:, 0], 3)}")
    assert d <= TOL
    assert np.ptp(e["y"][:, 0]) > 1e-3                     # not a constant output


def test_layers_and_arm_budget(built):
    _, tmp, out, _ = built
    info = out["emoheal_float32"]["info"]
    types = [ly["type"] for ly in info["layers"]]
    assert info["input_shapes"] == [(3840, 1), (1920, 3), (240, 1), (240, 1)]
    for t in ("Conv1D", "Add", "GlobalAveragePooling1D", "GlobalMaxPooling1D", "Concatenate",
              "Multiply", "Bidirectional", "Dense"):
        assert t in types, t
    notes = [ly["note"] for ly in info["layers"] if ly["type"] == "Conv1D"]
    for d in stress_model.EMOHEAL["dilations"]:           # one causal TCN layer per sensor
        assert sum(f"causal, stride 1, dilation {d}," in n for n in notes) == 4, d
    fp = c_build.arm_footprint(str(tmp), "emoheal_int8", str(tmp))
    print(f"EmoHeal int8 on the Cortex-A9: {fp}; params {info['params']}, MACs {info['macc']}")
    assert fp["flash"] <= 64 * 1024 and fp["ram"] <= 32 * 1024


def test_bad_sizes():
    with pytest.raises(ValueError, match="unknown EmoHeal sizes"):
        stress_model.build_emoheal(60, depth=3)
    with pytest.raises(ValueError, match="whole number of seconds"):
        stress_model.build_emoheal(7.5)
