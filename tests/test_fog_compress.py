"""Magnitude pruning and the ARM byte counts of :mod:`sw.fog_compress`."""

import numpy as np
import pytest

from sw import c_build, fog_compress
from sw.classifiers import quiet_tensorflow
from sw.fog_model import build_small
from tests.seeding import seeds


def _need_arm():
    if not c_build.have_arm():
        pytest.skip("needs arm-linux-gnueabihf-gcc and qemu-arm: apt-get install "
                    "gcc-arm-linux-gnueabihf qemu-user (make setup)")


@pytest.fixture(scope="module")
def data():
    keras = quiet_tensorflow()
    keras.utils.set_random_seed(5)
    rng = np.random.default_rng(5)
    X = rng.normal(0, 300, (96, 128, 9)).astype(np.float32)
    y = (X[:, :, 1].std(axis=1) > 300).astype(np.float32)
    return keras, X, y


@pytest.mark.parametrize("seed", seeds(3))
def test_prune_reaches_each_step_and_keeps_zeros_while_fine_tuning(data, seed):
    keras, X, y = data
    keras.utils.set_random_seed(seed)
    model = build_small(9, 128, X.reshape(-1, 9).mean(0), X.reshape(-1, 9).var(0))
    model.compile(optimizer=keras.optimizers.Adam(1e-2), loss="binary_crossentropy")
    names = {n for n, _ in fog_compress.prunable(model)}
    # the convolution, the Dense over time, the GRU, the Dense(16); not ECA's 3 weights nor
    # the Dense(16 -> 1)
    assert len(fog_compress.prunable(model)) == 5, names
    seen = []

    def fine_tune(m, callbacks, label):
        before = {v.path: np.asarray(v.numpy()) == 0 for _, v in fog_compress.prunable(m)}
        m.fit(X, y, epochs=1, batch_size=32, verbose=0, callbacks=callbacks)
        for _, v in fog_compress.prunable(m):
            # a weight at zero when the step began (pruned) is still zero after training
            assert np.all(np.asarray(v.numpy())[before[v.path]] == 0), (label, v.path)
        seen.append(label)

    steps = fog_compress.prune(model, fine_tune)
    assert seen == ["prune 20%", "prune 40%", "prune 60%", "prune 80%"]
    for s in steps:
        # floor(fraction * n) per kernel: at least the fraction, never far above it
        assert s["fraction"] - 0.01 <= s["sparsity"] <= s["fraction"] + 0.02, steps
    for _, v in fog_compress.prunable(model):
        w = np.asarray(v.numpy())
        assert np.count_nonzero(w == 0) == int(np.floor(0.8 * w.size)), v.path


def test_masks_cut_the_smallest_magnitudes(data):
    keras, X, _ = data
    model = build_small(9, 128)
    rng = np.random.default_rng(0)
    _, v = fog_compress.prunable(model)[0]
    w = rng.normal(size=v.shape).astype(np.float32)
    v.assign(w)
    m = fog_compress.magnitude_masks(model, 0.5)[v.path]
    cut = np.abs(w[~m])
    kept = np.abs(w[m])
    assert cut.max() <= kept.min()
    assert (~m).sum() == int(np.floor(0.5 * w.size))
    with pytest.raises(ValueError):
        fog_compress.magnitude_masks(model, 1.0)


def test_pruned_model_is_smaller_on_the_arm_and_int8_smaller_again(data):
    _need_arm()
    keras, X, _ = data
    keras.utils.set_random_seed(1)
    model = build_small(9, 128)
    dense = fog_compress.arm_bytes("fog_dense", model)
    fog_compress.apply_masks(model, fog_compress.magnitude_masks(model, 0.8))
    pruned = fog_compress.arm_bytes("fog_pruned", model)
    pruned8 = fog_compress.arm_bytes("fog_pruned8", model, weights="int8")
    print(f"Flash dense {dense['flash']} B, pruned {pruned['flash']} B, pruned int8 "
          f"{pruned8['flash']} B; RAM {dense['ram']} / {pruned['ram']} / {pruned8['ram']} B")
    assert dense["sparse_layers"] == 0 and pruned["sparse_layers"] >= 4
    assert pruned["param_bytes"] < 0.5 * dense["param_bytes"]
    assert pruned["flash"] < dense["flash"]
    assert pruned8["flash"] < pruned["flash"]
    assert pruned["arena_bytes"] == dense["arena_bytes"]
    # the arena lives on the stack of the window API: RAM covers it
    assert dense["ram"] >= dense["arena_bytes"]
