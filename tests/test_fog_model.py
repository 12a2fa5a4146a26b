"""The FoG topologies of :mod:`sw.fog_model`: the logspec front end measures what it says
(band power per DFT bin, summed over the ankle axes, compressed like a log), its sizes, and
every topology's C equals Keras."""

import numpy as np
import pytest

from sw import c_build, c_emit, fog_model
from sw.classifiers import quiet_tensorflow
from tests.seeding import seeds

T, FS = 128, 64


@pytest.fixture(scope="module")
def keras():
    return quiet_tensorflow()


def _front(keras, model, layer_name):
    return keras.Model(model.inputs[0], model.get_layer(layer_name).output)


def _gap_layer(model):
    return next(ly.name for ly in model.layers if type(ly).__name__ == "GlobalAveragePooling1D")


@pytest.mark.parametrize("seed", seeds(21, 22))
def test_logspec_power_per_bin_is_parseval(keras, seed):
    """A sinusoid of amplitude A on bin k of one ankle axis (any phase, plus an offset and
    other channels' signals the model must ignore): power A^2 / 2 in bin k, / 6 rows; nothing
    in the other bins; the same on any ankle axis (orientation-free)."""
    rng = np.random.default_rng(seed)
    model = fog_model.build_logspec(9, T)
    power = _front(keras, model, _gap_layer(model))
    for axis in fog_model.ANKLE:
        k = int(rng.integers(1, fog_model.DFT_BINS + 1))
        A, ph = float(rng.uniform(0.2, 2.0)), float(rng.uniform(0, 2 * np.pi))
        x = np.zeros((1, T, 9), np.float32)
        x[0, :, axis] = A * np.cos(2 * np.pi * k * np.arange(T) / T + ph) + 3.0
        x[0, :, 3:] = rng.normal(size=(T, 6))                 # thigh and trunk: not used
        p = np.asarray(power(x))[0]
        want = np.zeros(fog_model.DFT_BINS)
        want[k - 1] = A * A / 2 / 6
        assert np.allclose(p, want, atol=1e-5 * max(1, A * A)), (axis, k, p)


def test_logspec_log_bank_is_monotonic_and_log_like(keras):
    inp = keras.Input((4,))
    m = keras.Model(inp, fog_model.log_bank(inp))
    lo, hi, n = fog_model.LOG_DECADES
    x = 10.0 ** np.linspace(lo + 1, hi - 1, 40)
    y = np.asarray(m(np.repeat(x[:, None], 4, axis=1).astype(np.float32)))[:, 0]
    assert np.all(np.diff(y) > 0)
    step = (hi - lo) / (n - 1)
    slope = np.polyfit(np.log10(x), y, 1)[0]
    assert abs(slope * step - 1) < 0.1, slope            # one unit per scale step of the bank
    assert float(np.asarray(m(np.zeros((1, 4), np.float32)))[0, 0]) == 0.0


def test_logspec_sizes_and_frozen_front(keras):
    model = fog_model.build_logspec(9, T, np.zeros(9), np.ones(9))
    trainable = sum(int(np.prod(w.shape)) for w in model.trainable_weights)
    total = model.count_params()
    # Dense(16 -> 16) + Dense(16 -> 1), with biases: the only trained weights
    assert trainable == 16 * 16 + 16 + 16 + 1 == 289
    assert total == 4456
    for name in ("normalise", "ankle", "dft", "log_bank", "log_sum"):
        assert not model.get_layer(name).trainable
    with pytest.raises(ValueError, match="9 channels"):
        fog_model.build_logspec(5, T)


@pytest.mark.parametrize("name", list(fog_model.MODELS))
def test_every_topology_c_equals_keras(keras, name, tmp_path):
    rng = np.random.default_rng(3)
    X = rng.normal(0, 400, (64, T, 9)).astype(np.float32)
    mean, var = fog_model.channel_stats(X)
    keras.utils.set_random_seed(3)
    model = fog_model.build(name, 9, T, mean, var)
    p = np.asarray(model(X))[:, 0].astype(np.float64)
    h, c, _ = c_emit.emit_keras_sequence("m", model)
    (tmp_path / "m.h").write_text(h)
    (tmp_path / "m.c").write_text(c)
    exe = c_build.build_sequence(str(tmp_path), ["m"], str(tmp_path / "x"))
    y, _ = c_build.run_sequence(exe, "m", X)
    d = float(np.max(np.abs(y[:, 0] - p)))
    print(f"{name}: C vs Keras max |dp| = {d:.3g} on {len(X)} random windows")
    assert d <= 1e-5
    with pytest.raises(ValueError, match="unknown model"):
        fog_model.build("nope", 9)
