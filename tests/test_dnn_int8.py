"""The integer DNN path (:mod:`sw.dnn_int8`, :func:`sw.c_emit.emit_dnn_i8`) on small random
networks -- no training, a few seconds.

* the C's int32 output accumulator equals :func:`sw.dnn_int8.predict_int8`'s on every row,
  bit for bit: SIMD build (SSE2 on x86-64), portable C (``-DWO_NO_SIMD``), NEON under
  ``qemu-arm``; rows far outside the calibration range, infinities and NaN included;
* shapes the SIMD code does not take (inputs not a multiple of 4, units not a multiple of 8,
  tanh tables, 8-bit activations) take the portable C, with the same results;
* the hot path is integer: no 64-bit type, no ``double``, no float after the input loop, one
  requantisation (a rounding shift) per unit output;
* ``<name>_decide`` == the label of ``<name>_predict``.
"""

import re
import subprocess

import numpy as np
import pytest

from sw import c_build, c_emit
from sw.dnn_int8 import gptq_round, predict_int8, quantize, round_half_away, shift_for
from tests.test_c_models import int8_accumulators


def _layers(rng, n, hidden, acts, spread=0.0):
    """Random float layers; ``spread`` > 0 scales unit j's weights of every layer by
    ``2^(-spread j)`` (units of very different weight ranges)."""
    sizes = [n] + list(hidden)
    dense = [((rng.normal(size=(a, b)) * 2.0 ** (-spread * np.arange(b))).astype(np.float32)
              / np.sqrt(a), (rng.normal(size=b) * 0.1).astype(np.float32), act)
             for a, b, act in zip(sizes[:-1], sizes[1:], acts)]
    dense.append(((rng.normal(size=(sizes[-1], 1)) * 0.3).astype(np.float32),
                  np.zeros(1, np.float32), "sigmoid"))
    norm = ((1 / rng.uniform(5, 50, n)).astype(np.float32),
            rng.normal(size=n).astype(np.float32))
    return {"norm": norm, "dense": dense}


def _rows(rng, n, m=400):
    X = rng.normal(size=(m, n)) * 30 + 10
    X[:20] *= 50                                    # far beyond the calibration rows
    X[20, 0], X[21, 1], X[22, 2] = np.inf, -np.inf, np.nan
    return X


CASES = {
    # name: (features, hidden units, activations, act_bits[, weight spread])
    "dnn4_like": (7, [32], ["relu"], 16),          # the SIMD paths
    "deep_relu": (8, [16, 32], ["relu", "relu"], 16),
    "odd_shapes": (5, [12, 8], ["relu", "relu"], 16),  # 12 units: portable layer
    "tanh": (7, [16, 16], ["relu", "tanh"], 16),
    "tanh_spread": (7, [8, 12], ["relu", "tanh"], 16, 0.5),  # per-unit shifts 0..5
    "selu": (6, [8], ["selu"], 16),
    "int8_acts": (7, [32], ["relu"], 8),
}


@pytest.fixture(scope="module", params=sorted(CASES))
def model(request, tmp_path_factory):
    n, hidden, acts, bits, *spread = CASES[request.param]
    rng = np.random.default_rng(sorted(CASES).index(request.param) + 5)
    layers = _layers(rng, n, hidden, acts, *spread)
    calib = rng.normal(size=(600, n)) * 30 + 10
    q = quantize(layers, calib, act_bits=bits)
    name = f"wo_{request.param}_i8"
    d = tmp_path_factory.mktemp(request.param)
    h, c = c_emit.emit_dnn_i8(name, q, [f"f{i}" for i in range(n)])
    (d / f"{name}.h").write_text(h)
    (d / f"{name}.c").write_text(c)
    return name, q, d, c, _rows(rng, n)


def test_c_accumulator_is_the_python_model_bit_for_bit(model):
    name, q, d, c, X = model
    label, acc, _ = predict_int8(q, X)
    assert np.array_equal(int8_accumulators(d, name, X), acc)
    assert np.array_equal(int8_accumulators(d, name, X, extra=("-DWO_NO_SIMD",)), acc)
    assert 0 < label.mean() < 1                      # both labels occur: a real check


@pytest.mark.skipif(not c_build.have_arm(), reason="needs arm-linux-gnueabihf-gcc and qemu-arm: "
                    "apt-get install gcc-arm-linux-gnueabihf qemu-user (make setup)")
def test_neon_build_is_the_python_model_bit_for_bit(model):
    name, q, d, c, X = model
    _, acc, _ = predict_int8(q, X[:150])
    assert np.array_equal(int8_accumulators(d, name, X[:150], arm=True), acc)


def test_predict_and_decide(model):
    name, q, d, c, X = model
    label, _, logit = predict_int8(q, X)
    exe = c_build.build(str(d), name, str(d / name))
    lab, score, _ = c_build.run(exe, X)
    assert np.array_equal(lab, label)
    assert np.max(np.abs(score - 1 / (1 + np.exp(-logit.astype(np.float64))))) < 1e-6
    dlab, _, _ = c_build.run(exe, X, args=["--decide"])
    assert np.array_equal(dlab, lab)


def _function(c, fname):
    """Source text of function ``fname`` (from its definition to the closing brace)."""
    start = re.search(rf"^[^\n]*\b{fname}\(const float \*x\)\n\{{", c, re.M).start()
    return c[start:c.index("\n}\n", start) + 3]


def test_hot_path_is_integer(model):
    name, q, d, c, X = model
    acc = _function(c, f"{name}_acc")
    for bad in ("int64", "long", "double", "uint64"):
        assert bad not in acc, f"{bad} in the integer hot path"
    assert "int64_t" not in c and "wo_requant" not in c
    # float only in the input loop (the features are float): nothing after it
    after = acc[acc.index("a0[i] = "):]
    assert "float" not in after and "OUT_SCALE" not in acc
    # one requantisation (rounding shift) per unit output, no multiplier: one shift per
    # ReLU layer; per unit (sh + k_j, weight scale = the layer's / 2^k_j) before a table
    hidden = q["layers"][:-1]
    assert all(isinstance(ly["shift"], int) and ly["shift"] >= 0 for ly in hidden)
    assert all("mult" not in ly for ly in hidden)
    for ly in hidden:
        if ly["act"] == "relu":
            assert "unit_shift" not in ly
        else:
            k = ly["unit_shift"] - ly["shift"]
            assert np.all(k >= 0)
            assert np.allclose(ly["acc_scale"] * 2.0 ** k, ly["acc_scale"].max())
    if name == "wo_tanh_spread_i8":                  # the per-unit shifts really differ
        assert len(set(q["layers"][1]["unit_shift"].tolist())) >= 4
    if name in ("wo_dnn4_like_i8", "wo_deep_relu_i8"):
        assert "_mm_madd_epi16" in c and "vmlal_lane_s16" in c
    if q["act_bits"] == 8:                           # SIMD code is for 16-bit activations
        assert "_mm_madd_epi16" not in c and "vmlal" not in c


def test_shift_for():
    assert shift_for(0.3) == 0 and shift_for(1.0) == 0
    assert shift_for(2.0) == 1 and shift_for(2.0001) == 2 and shift_for([3.0, 200.0]) == 8


def test_gptq_rounding_beats_plain_rounding_on_the_calibration_rows():
    """The error-feedback rounding gives a smaller output error ``|A Wq - A W|`` on the
    rows it was fitted on than rounding every weight to nearest, and stays in int8."""
    rng = np.random.default_rng(11)
    print("seed 11")
    A = rng.normal(size=(500, 24)) @ rng.normal(size=(24, 24))   # correlated inputs
    Wn = rng.uniform(-127, 127, size=(24, 16))
    Wg = gptq_round(Wn, A)
    Wr = np.clip(round_half_away(Wn), -127, 127)
    assert Wg.dtype == np.int8 and np.abs(Wg.astype(int)).max() <= 127
    err_g = np.linalg.norm(A @ Wg - A @ Wn)
    err_r = np.linalg.norm(A @ Wr - A @ Wn)
    assert err_g < 0.8 * err_r, (err_g, err_r)


def test_accumulator_overflow_is_refused():
    rng = np.random.default_rng(1)
    layers = _layers(rng, 7, [32], ["relu"])
    W, b, a = layers["dense"][0]
    layers["dense"][0] = (W, (b * 0 + 1e9).astype(np.float32), a)   # a bias of 2^31 counts
    with pytest.raises(ValueError, match="overflow"):
        quantize(layers, rng.normal(size=(100, 7)))


def test_generated_int8_source_compiles_without_simd_headers(model, tmp_path):
    """-DWO_NO_SIMD: no intrinsics header is included (the portable C alone)."""
    name, q, d, c, X = model
    r = subprocess.run(["cc", *c_emit.CFLAGS, "-DWO_NO_SIMD", "-E", f"-I{d}", str(d / f"{name}.c")],
                       capture_output=True, text=True, check=True)
    assert "_mm_madd_epi16" not in r.stdout and "vmlal" not in r.stdout
