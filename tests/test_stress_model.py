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


DRIVER = r"""
#include <stdio.h>
#include <string.h>
#include "emo.h"
/* stdin: one sample per line, "k v..." (k = input); a window done by input 0 prints
   "n0,p" with n0 = input-0 samples so far and p as %a. "W" + one flat window: the window API. */
int main(void)
{
    static emo_stream s;
    static float x[EMO_N_IN];
    float v[3], p[EMO_N_OUT];
    char tag[8];
    long n0 = 0;
    int k, i;
    emo_reset(&s);
    while (scanf("%7s", tag) == 1) {
        if (tag[0] == 'W') {
            for (i = 0; i < EMO_N_IN; i++) if (scanf("%f", &x[i]) != 1) return 2;
            emo_predict_window(x, p);
            printf("W,%a\n", p[0]);
            continue;
        }
        k = tag[0] - '0';
        for (i = 0; i < (k == 1 ? 3 : 1); i++) if (scanf("%f", &v[i]) != 1) return 2;
        if (k == 0) {
            n0++;
            if (emo_push_in0(&s, v, p)) printf("%ld,%a\n", n0, p[0]);
        } else if (k == 1) emo_push_in1(&s, v);
        else if (k == 2) emo_push_in2(&s, v);
        else emo_push_in3(&s, v);
    }
    return 0;
}
"""


def test_stream_one_ring_per_sensor_equals_window_api(built, tmp_path):
    """Samples pushed at each sensor's own rate (interleaved by time) give, every hop of input
    0, the window API's output on the last 60 s of every sensor; the stream's memory is
    reported."""
    import subprocess
    seed, _, _, _ = built
    keras = quiet_tensorflow()
    keras.utils.set_random_seed(seed)
    model = stress_model.build_emoheal(60)
    hop_s = 10
    h, c, info = c_emit.emit_keras_sequence("emo", model, hop=64 * hop_s)
    (tmp_path / "emo.h").write_text(h)
    (tmp_path / "emo.c").write_text(c)
    (tmp_path / "drv.c").write_text(DRIVER)
    exe = tmp_path / "drv"
    subprocess.run(["cc", *c_emit.CFLAGS, f"-I{tmp_path}", str(tmp_path / "drv.c"),
                    str(tmp_path / "emo.c"), "-o", str(exe)], check=True)
    rng = np.random.default_rng(seed)
    secs = 85
    rates = [fs for fs, _ in stress_model.INPUTS.values()]
    chans = [ch for _, ch in stress_model.INPUTS.values()]
    sig = [rng.normal(size=(fs * secs, ch)).astype(np.float32) for fs, ch in zip(rates, chans)]
    events = sorted((i / fs, k, i) for k, fs in enumerate(rates) for i in range(fs * secs))
    # input 0 last at equal times: the others' samples of that instant are in before it decides
    events.sort(key=lambda e: (e[0], e[1] == 0))
    lines = [f"{k} " + " ".join(f"{v:.9g}" for v in sig[k][i]) for _, k, i in events]
    r = subprocess.run([str(exe)], input="\n".join(lines) + "\n", capture_output=True,
                       text=True, check=True)
    got = [ln.split(",") for ln in r.stdout.splitlines()]
    ends = [int(n) for n, _ in got]
    assert ends == list(range(64 * 60, 64 * secs + 1, 64 * hop_s))
    wins = []
    for n in ends:
        t1 = n // 64                                    # window end, s
        wins.append(np.concatenate([sig[k][(t1 - 60) * fs:t1 * fs].ravel()
                                    for k, fs in enumerate(rates)]))
    r2 = subprocess.run([str(exe)], input="".join(
        "W " + " ".join(f"{v:.9g}" for v in w) + "\n" for w in wins), capture_output=True,
        text=True, check=True)
    assert [ln.split(",")[1] for ln in r2.stdout.splitlines()] == [p for _, p in got]
    assert info["hop"] == 64 * hop_s
    rings = sum(2 * fs * 60 * ch for fs, ch in zip(rates, chans))
    assert info["stream_bytes"] == 4 * (rings + info["arena_floats"]) + 4 * 9
    print(f"[seed={seed}] {len(ends)} decisions, stream memory {info['stream_bytes']} B "
          f"(rings {4 * rings} B, arena {info['arena_bytes']} B)")
