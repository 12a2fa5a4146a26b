"""C99 code for the ARM Cortex-A9 from the trained wearing-off classifiers.

Every model becomes ``<name>.c`` + ``<name>.h`` with one entry point::

    int <name>_predict(const float *features, float *score);

``features`` holds ``<NAME>_N_FEATURES`` float32 values in the order of
``<NAME>_FEATURE_NAMES`` (the Table 1 selection, the same names as the CSV
columns of ``python -m sw.extract emg``); the return value is the label,
``1`` = Pre L-dopa / OFF (wearing-off), ``0`` = Post L-dopa / ON; ``*score``
(if ``score`` is not NULL) receives the model's ROC score: DNN probability,
QDA posterior of OFF, tree leaf fraction of OFF, KNN vote fraction of OFF,
linear SVM decision value.

Rules of the generated code: C99, no dynamic memory, no global mutable state,
parameters as ``static const`` arrays, no libm (``exp`` is a local
range-reduced polynomial, so the host and the ARM build print identical
results), compile with ``-ffp-contract=off`` (no fused multiply-add, so the
float arithmetic is the one the Python models do). Input normalisation is
inside: the DNN BatchNorm as an explicit per-feature ``x * scale + shift``,
the SVM/KNN standardisation, nothing for tree and QDA.

========================  ==================================================
file                      arithmetic
========================  ==================================================
``wo_dnnK_f32``           float32 (Keras DNN K)
``wo_dnnK_i8``            int8 weights, int16 activations, int32
                          accumulators (scheme and why: :mod:`sw.dnn_int8`)
``wo_tree``               float32 compares against float32 thresholds (the
                          largest float32 <= scikit-learn's float64
                          threshold, which is how scikit-learn compares a
                          float32 feature)
``wo_qda``                double
``wo_svm``                double
``wo_knn``                standardised training rows as float32, city-block
                          distances in double, 21 nearest kept in order
                          (the earlier row wins a distance tie)
========================  ==================================================
"""

import numpy as np

__all__ = ["emit_dnn_f32", "emit_dnn_i8", "emit_tree", "emit_qda", "emit_svm", "emit_knn",
           "emit_model", "CFLAGS", "macc_count"]

#: flags the generated code is written for (host and ARM)
CFLAGS = ["-std=c99", "-O2", "-ffp-contract=off", "-Wall", "-Wextra", "-Werror"]

_EXP = r"""
/* exp(x) for |x| <= 700 without libm: x = k ln2 + r, |r| <= ln2/2, degree-12 Taylor
 * polynomial (relative error < 1e-15), times 2^k built in the exponent bits. */
static double wo_exp(double x)
{
    const double ln2_hi = 6.93147180369123816490e-01, ln2_lo = 1.90821492927058770002e-10;
    double kd, r, p;
    long k;
    union { double d; unsigned long long u; } s;
    if (x > 700.0) x = 700.0;
    if (x < -700.0) x = -700.0;
    kd = x * 1.44269504088896338700e+00;
    k = (long)(kd + (kd >= 0.0 ? 0.5 : -0.5));
    r = (x - (double)k * ln2_hi) - (double)k * ln2_lo;
    p = 1.0 / 479001600.0;
    p = p * r + 1.0 / 39916800.0;
    p = p * r + 1.0 / 3628800.0;
    p = p * r + 1.0 / 362880.0;
    p = p * r + 1.0 / 40320.0;
    p = p * r + 1.0 / 5040.0;
    p = p * r + 1.0 / 720.0;
    p = p * r + 1.0 / 120.0;
    p = p * r + 1.0 / 24.0;
    p = p * r + 1.0 / 6.0;
    p = p * r + 0.5;
    p = p * r + 1.0;
    p = p * r + 1.0;
    s.u = (unsigned long long)(k + 1023) << 52;
    return p * s.d;
}
"""

_SIGMOID = r"""
static float wo_sigmoid(float x)
{
    return (float)(1.0 / (1.0 + wo_exp(-(double)x)));
}
"""

_TANH = r"""
static float wo_tanh(float x)
{
    double a = x < 0.0f ? -(double)x : (double)x, t;
    if (a > 20.0) t = 1.0;
    else t = 1.0 - 2.0 / (wo_exp(2.0 * a) + 1.0);
    return (float)(x < 0.0f ? -t : t);
}
"""

_SELU = r"""
static float wo_selu(float x)
{
    if (x > 0.0f) return (float)(1.0507009873554805 * (double)x);
    return (float)(1.0507009873554805 * 1.6732632423543772 * (wo_exp((double)x) - 1.0));
}
"""


def _f32(v):
    s = np.format_float_scientific(np.float32(v), unique=True, exp_digits=2)
    return s.replace("e+00", "") + "f" if "e" in s else s + "f"


def _f64(v):
    return repr(float(v))


def _array(ctype, name, values, fmt, per_line=8):
    vals = [fmt(v) for v in np.asarray(values).ravel()]
    lines = [", ".join(vals[i:i + per_line]) for i in range(0, len(vals), per_line)]
    shape = "".join(f"[{d}]" for d in np.asarray(values).shape)
    body = ",\n    ".join(lines)
    return f"static const {ctype} {name}{shape} = {{\n    {body}\n}};\n"


def _nested(ctype, name, matrix, fmt, per_line=8):
    """2-D array with one brace group per row."""
    m = np.asarray(matrix)
    rows = []
    for row in m:
        vals = [fmt(v) for v in row]
        chunks = [", ".join(vals[i:i + per_line]) for i in range(0, len(vals), per_line)]
        rows.append("{" + ",\n     ".join(chunks) + "}")
    return (f"static const {ctype} {name}[{m.shape[0]}][{m.shape[1]}] = {{\n    "
            + ",\n    ".join(rows) + "\n};\n")


def _int(v):
    return str(int(v))


def _header(name, features, doc):
    N = name.upper()
    names = ", ".join(f'"{f}"' for f in features)
    return (f"/* {name}.h -- generated by sw.c_emit; do not edit.\n * {doc}\n */\n"
            f"#ifndef {N}_H\n#define {N}_H\n\n"
            f"#define {N}_N_FEATURES {len(features)}\n"
            f"/* feature order of features[] (CSV column names of python -m sw.extract emg) */\n"
            f"#define {N}_FEATURE_NAMES {names}\n\n"
            f"/* label: 1 = Pre L-dopa / OFF (wearing-off), 0 = Post L-dopa / ON.\n"
            f" * *score (if score != NULL): see sw/c_emit.py. */\n"
            f"int {name}_predict(const float *features, float *score);\n\n#endif\n")


def _source_head(name, doc):
    return (f"/* {name}.c -- generated by sw.c_emit; do not edit.\n * {doc}\n"
            f" * C99, no dynamic memory, no libm; build with -ffp-contract=off. */\n"
            f'#include <stddef.h>\n#include <stdint.h>\n#include "{name}.h"\n')


def emit_dnn_f32(name, layers, features, doc="float32 DNN"):
    """Float32 C of :func:`sw.classifiers.dnn_layers` output -> (header, source)."""
    scale, shift = layers["norm"]
    n = len(features)
    acts = {a for _, _, a in layers["dense"][:-1]}
    unknown = acts - {"relu", "tanh", "selu", "linear"}
    if unknown:
        raise ValueError(f"no float C for activation {sorted(unknown)[0]!r}")
    width = max([n] + [W.shape[1] for W, _, _ in layers["dense"]])
    src = [_source_head(name, doc), _EXP, _SIGMOID]
    if "tanh" in acts:
        src.append(_TANH)
    if "selu" in acts:
        src.append(_SELU)
    src.append(_array("float", "NORM_SCALE", scale, _f32))
    src.append(_array("float", "NORM_SHIFT", shift, _f32))
    for i, (W, b, act) in enumerate(layers["dense"]):
        src.append(_nested("float", f"W{i + 1}", W.T, _f32))
        src.append(_array("float", f"B{i + 1}", b, _f32))
    body = [f"int {name}_predict(const float *features, float *score)\n{{",
            f"    float a[{width}], b[{width}], p;", "    int i, j;",
            f"    for (i = 0; i < {n}; i++)",
            "        a[i] = features[i] * NORM_SCALE[i] + NORM_SHIFT[i];"]
    n_in = n
    cur, nxt = "a", "b"
    for li, (W, b, act) in enumerate(layers["dense"]):
        k = li + 1
        n_out = W.shape[1]
        last = li == len(layers["dense"]) - 1
        fn = {"relu": "{v} > 0.0f ? {v} : 0.0f", "tanh": "wo_tanh({v})", "selu": "wo_selu({v})",
              "linear": "{v}", "sigmoid": "{v}"}[act]
        body += [f"    for (j = 0; j < {n_out}; j++) {{",
                 f"        float acc = B{k}[j];",
                 f"        for (i = 0; i < {n_in}; i++)",
                 f"            acc += {cur}[i] * W{k}[j][i];",
                 f"        {nxt}[j] = {fn.format(v='acc')};", "    }"]
        cur, nxt = nxt, cur
        n_in = n_out
        if last and (act != "sigmoid" or n_out != 1):
            raise ValueError("the output layer must be Dense(1, sigmoid)")
    body += [f"    p = wo_sigmoid({cur}[0]);", "    if (score) *score = p;",
             "    return p >= 0.5f;", "}"]
    src.append("\n".join(body) + "\n")
    return _header(name, features, doc), "\n".join(src)


def emit_dnn_i8(name, q, features, doc="int8 weights (scheme: sw/dnn_int8.py)"):
    """C of a :func:`sw.dnn_int8.quantize` model -> (header, source)."""
    scale, shift = q["norm"]
    n = len(features)
    Q, L = q["qmax"], q["lut_max"]
    atype = "int16_t" if q["act_bits"] == 16 else "int8_t"
    width = max([n] + [ly["n_out"] for ly in q["layers"]])
    src = [_source_head(name, doc + f"; int8 weights, int{q['act_bits']} activations, "
                                    "int32 accumulators"),
           _EXP, _SIGMOID]
    src.append(_array("float", "NORM_SCALE", scale, _f32))
    src.append(_array("float", "NORM_SHIFT", shift, _f32))
    src.append(_array("float", "IN_INV_SCALE", q["in_inv_scale"], _f32))
    for i, ly in enumerate(q["layers"]):
        k = i + 1
        src.append(_nested("int8_t", f"W{k}", ly["Wq"].T, _int, per_line=16))
        src.append(_array("int32_t", f"B{k}", ly["bq"], _int))
        if "mult" in ly:
            src.append(_array("int32_t", f"M{k}", ly["mult"], _int))
            src.append(_array("uint8_t", f"S{k}", ly["shift"], _int, per_line=16))
        if "lut" in ly:
            src.append(_array(atype, f"LUT{k}", ly["lut"], _int, per_line=16))
    last = q["layers"][-1]
    src.append(f"static const float OUT_SCALE = {_f32(last['out_scale'])};\n")
    has_lut = any("lut" in ly for ly in q["layers"])
    lut_block = "" if not has_lut else f"""#define LUT_SHIFT {q["lut_shift"]}

/* table activation, linearly interpolated between entries 2^LUT_SHIFT apart */
static {atype} wo_lut(const {atype} *lut, int32_t r)
{{
    int32_t u = r + LMAX + 1, k = u >> LUT_SHIFT, f = u & ((1 << LUT_SHIFT) - 1);
    int32_t lo = lut[k], hi = f ? lut[k + 1] : lo;
    return ({atype})(LUT_SHIFT ? lo + (((hi - lo) * f + ((1 << LUT_SHIFT) >> 1)) >> LUT_SHIFT)
                               : lo);
}}
"""
    src.append(f"""
#define QMAX {Q}
#define LMAX {L}
{lut_block}static {atype} wo_quantize(float z, float inv_scale)
{{
    float r = z * inv_scale;
    double d;
    if (r > (float)QMAX) r = (float)QMAX;
    if (r < -(float)QMAX) r = -(float)QMAX;
    d = (double)r;
    return ({atype})(d >= 0.0 ? (int32_t)(d + 0.5) : -(int32_t)(-d + 0.5));
}}

/* (acc * mult) / 2^shift rounded half up; >> on a negative int64_t is an
 * arithmetic shift on gcc/clang (implementation-defined in C99, documented there). */
static int32_t wo_requant(int32_t acc, int32_t mult, int shift)
{{
    return (int32_t)(((int64_t)acc * mult + ((int64_t)1 << (shift - 1))) >> shift);
}}
""")
    body = [f"int {name}_predict(const float *features, float *score)\n{{",
            f"    {atype} a[{width}], b[{width}];", "    int32_t acc;", "    float p;",
            "    int i, j;",
            f"    for (i = 0; i < {n}; i++)",
            "        a[i] = wo_quantize(features[i] * NORM_SCALE[i] + NORM_SHIFT[i], "
            "IN_INV_SCALE[i]);"]
    cur, nxt = "a", "b"
    for i, ly in enumerate(q["layers"][:-1]):
        k = i + 1
        if ly["act"] == "relu":
            act = ["        if (r < 0) r = 0;", "        if (r > QMAX) r = QMAX;",
                   f"        {nxt}[j] = ({atype})r;"]
        else:
            act = ["        if (r < -LMAX) r = -LMAX;", "        if (r > LMAX) r = LMAX;",
                   f"        {nxt}[j] = wo_lut(LUT{k}, r);"]
        body += [f"    for (j = 0; j < {ly['n_out']}; j++) {{", "        int32_t r;",
                 f"        acc = B{k}[j];", f"        for (i = 0; i < {ly['n_in']}; i++)",
                 f"            acc += (int32_t){cur}[i] * W{k}[j][i];",
                 f"        r = wo_requant(acc, M{k}[j], S{k}[j]);"] + act + ["    }"]
        cur, nxt = nxt, cur
    k = len(q["layers"])
    body += [f"    acc = B{k}[0];", f"    for (i = 0; i < {last['n_in']}; i++)",
             f"        acc += (int32_t){cur}[i] * W{k}[0][i];",
             "    p = wo_sigmoid((float)acc * OUT_SCALE);", "    if (score) *score = p;",
             "    return acc >= 0;", "}"]
    src.append("\n".join(body) + "\n")
    return _header(name, features, doc), "\n".join(src)


def _f32_floor(thr):
    """Largest float32 <= thr (so ``float x <= t32`` == ``(double)x <= thr``)."""
    t = np.float32(thr)
    if float(t) > thr:
        t = np.nextafter(t, np.float32(-np.inf))
    return t


def emit_tree(name, tree, features, doc="decision tree (Gini, <= 129 splits)"):
    """Tree of a fitted ``DecisionTreeClassifier`` -> (header, source)."""
    t = tree.tree_
    classes = list(tree.classes_)
    if classes != [0, 1]:
        raise ValueError(f"tree classes must be [0, 1], got {classes}")
    leaf = t.children_left < 0
    value = t.value[:, 0, :]
    frac = value[:, 1] / value.sum(axis=1)
    label = np.argmax(value, axis=1)                      # scikit-learn: first max wins
    thr = np.array([_f32_floor(v) if not lf else np.float32(0) for v, lf in zip(t.threshold, leaf)])
    feat = np.where(leaf, 0, t.feature)
    nodes = t.node_count
    itype = "int16_t" if nodes < 32767 else "int32_t"
    src = [_source_head(name, doc),
           f"/* {nodes} nodes, {int((~leaf).sum())} splits, depth {t.max_depth}; "
           "LEFT < 0 marks a leaf */\n",
           _array("uint8_t", "FEATURE", feat, _int, per_line=16),
           _array("float", "THRESHOLD", thr, _f32),
           _array(itype, "LEFT", np.where(leaf, -1, t.children_left), _int, per_line=16),
           _array(itype, "RIGHT", np.where(leaf, -1, t.children_right), _int, per_line=16),
           _array("float", "LEAF_SCORE", np.where(leaf, frac, 0).astype(np.float32), _f32),
           _array("uint8_t", "LEAF_LABEL", np.where(leaf, label, 0), _int, per_line=16),
           f"""
int {name}_predict(const float *features, float *score)
{{
    int n = 0;
    while (LEFT[n] >= 0)
        n = features[FEATURE[n]] <= THRESHOLD[n] ? LEFT[n] : RIGHT[n];
    if (score) *score = LEAF_SCORE[n];
    return LEAF_LABEL[n];
}}
"""]
    return _header(name, features, doc), "\n".join(src)


def emit_qda(name, qda, features, doc="quadratic discriminant"):
    """Fitted ``QuadraticDiscriminantAnalysis`` -> (header, source)."""
    if list(qda.classes_) != [0, 1]:
        raise ValueError("QDA classes must be [0, 1]")
    n = len(features)
    RS = np.array([R * (S ** (-0.5)) for R, S in zip(qda.rotations_, qda.scalings_)])
    const = np.array([-0.5 * np.sum(np.log(S)) for S in qda.scalings_]) + np.log(qda.priors_)
    src = [_source_head(name, doc), _EXP,
           "/* log posterior of class c (up to a shared constant):\n"
           " *   CONST[c] - 0.5 * sum_j (sum_i (x_i - MEAN[c][i]) * RS[c][i][j])^2 */\n",
           _nested("double", "MEAN", qda.means_, _f64, per_line=4),
           f"static const double RS[2][{n}][{n}] = {{\n"
           + ",\n".join("    {" + ",\n     ".join("{" + ", ".join(_f64(v) for v in row) + "}"
                                                 for row in m) + "}"
                        for m in RS) + "\n};\n",
           _array("double", "CONST", const, _f64),
           f"""
int {name}_predict(const float *features, float *score)
{{
    double d[2], xm[{n}];
    int c, i, j;
    for (c = 0; c < 2; c++) {{
        double norm2 = 0.0;
        for (i = 0; i < {n}; i++)
            xm[i] = (double)features[i] - MEAN[c][i];
        for (j = 0; j < {n}; j++) {{
            double v = 0.0;
            for (i = 0; i < {n}; i++)
                v += xm[i] * RS[c][i][j];
            norm2 += v * v;
        }}
        d[c] = -0.5 * norm2 + CONST[c];
    }}
    if (score) *score = (float)(1.0 / (1.0 + wo_exp(d[0] - d[1])));
    return d[1] > d[0];
}}
"""]
    return _header(name, features, doc), "\n".join(src)


def emit_svm(name, pipe, features, doc="linear SVM (standardised inputs)"):
    """``StandardScaler`` + ``LinearSVC`` pipeline -> (header, source)."""
    scaler, svm = pipe[0], pipe[-1]
    if list(svm.classes_) != [0, 1]:
        raise ValueError("SVM classes must be [0, 1]")
    n = len(features)
    src = [_source_head(name, doc),
           _array("double", "MEAN", scaler.mean_, _f64, per_line=4),
           _array("double", "SCALE", scaler.scale_, _f64, per_line=4),
           _array("double", "COEF", svm.coef_[0], _f64, per_line=4),
           f"static const double INTERCEPT = {_f64(svm.intercept_[0])};\n",
           f"""
int {name}_predict(const float *features, float *score)
{{
    double d = 0.0;
    int i;
    for (i = 0; i < {n}; i++)
        d += ((double)features[i] - MEAN[i]) / SCALE[i] * COEF[i];
    d += INTERCEPT;
    if (score) *score = (float)d;
    return d > 0.0;
}}
"""]
    return _header(name, features, doc), "\n".join(src)


def emit_knn(name, model, features, doc="KNN, 21 neighbours, city-block, equal weights"):
    """:class:`sw.classifiers._Float32KNN` -> (header, source)."""
    scaler, knn = model.scaler, model.knn
    Z = np.asarray(knn._fit_X, np.float32)
    y = np.asarray(knn.classes_)[knn._y]
    k = knn.n_neighbors
    n = len(features)
    src = [_source_head(name, doc),
           f"#define N_TRAIN {len(Z)}\n#define K {k}\n",
           _array("double", "MEAN", scaler.mean_, _f64, per_line=4),
           _array("double", "SCALE", scaler.scale_, _f64, per_line=4),
           _nested("float", "TRAIN", Z, _f32),
           _array("uint8_t", "TRAIN_LABEL", y, _int, per_line=32),
           f"""
int {name}_predict(const float *features, float *score)
{{
    float z[{n}];
    double best[K];
    int label[K], m = 0, votes = 0, i, t, j;
    for (i = 0; i < {n}; i++)
        z[i] = (float)(((double)features[i] - MEAN[i]) / SCALE[i]);
    for (t = 0; t < N_TRAIN; t++) {{
        double d = 0.0;
        for (i = 0; i < {n}; i++) {{
            double v = (double)z[i] - (double)TRAIN[t][i];
            d += v < 0.0 ? -v : v;
        }}
        if (m == K && d >= best[K - 1])
            continue;
        j = m < K ? m++ : K - 1;          /* insert after every entry <= d */
        while (j > 0 && best[j - 1] > d) {{
            best[j] = best[j - 1];
            label[j] = label[j - 1];
            j--;
        }}
        best[j] = d;
        label[j] = TRAIN_LABEL[t];
    }}
    for (i = 0; i < m; i++)
        votes += label[i];
    if (score) *score = (float)votes / (float)m;
    return 2 * votes > m;
}}
"""]
    return _header(name, features, doc), "\n".join(src)


def emit_model(trained, features, X_calib=None):
    """All C files of one :class:`sw.classifiers.Trained` -> ``{filename: text}``.

    DNNs give a float32 and an int8 variant (``X_calib`` = training rows for the
    int8 scales); returns also ``"_int8"`` -> the quantised model dict.
    """
    from sw.classifiers import dnn_layers
    from sw.dnn_int8 import quantize
    out = {}
    if trained.is_dnn:
        layers = dnn_layers(trained.model)
        for suffix, (h, c) in (("f32", emit_dnn_f32(f"wo_{trained.name}_f32", layers, features,
                                                     f"{trained.name.upper()} float32")),):
            out[f"wo_{trained.name}_{suffix}.h"], out[f"wo_{trained.name}_{suffix}.c"] = h, c
        q = quantize(layers, X_calib)
        h, c = emit_dnn_i8(f"wo_{trained.name}_i8", q, features, f"{trained.name.upper()} int8")
        out[f"wo_{trained.name}_i8.h"], out[f"wo_{trained.name}_i8.c"] = h, c
        out["_int8"] = q
        out["_layers"] = layers
        return out
    emit = {"tree": emit_tree, "qda": emit_qda, "svm": emit_svm, "knn": emit_knn}[trained.name]
    h, c = emit(f"wo_{trained.name}", trained.model, features)
    out[f"wo_{trained.name}.h"], out[f"wo_{trained.name}.c"] = h, c
    return out


def macc_count(trained, n_features):
    """Multiply-accumulates per inference (and a note on what is counted)."""
    if trained.is_dnn:
        layers = dnn_layers_shapes(trained)
        return (n_features + sum(i * o for i, o in layers),
                "BatchNorm n + sum(in x out) of the dense layers")
    if trained.name == "tree":
        return 0, f"no MACC; at most {trained.model.tree_.max_depth} float compares"
    if trained.name == "qda":
        return 2 * (n_features * n_features + n_features), "2 classes x (n^2 rotation + n squares)"
    if trained.name == "svm":
        return 2 * n_features, "n standardise + n dot product"
    if trained.name == "knn":
        n_train = len(trained.model.knn._fit_X)
        return (n_train * n_features + n_features,
                f"{n_train} training rows x n |diff| accumulates + n standardise")
    raise ValueError(trained.name)


def dnn_layers_shapes(trained):
    from sw.classifiers import dnn_layers
    return [(W.shape[0], W.shape[1]) for W, _, _ in dnn_layers(trained.model)["dense"]]
