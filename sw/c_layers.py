"""C kernels of Keras layers for the sequence-model backend of :mod:`sw.c_emit`.

One generator per Keras layer type, in a registry (:data:`LAYERS`, filled by
:func:`register`)::

    @register("Conv1D")
    def conv1d(layer, in_shapes, ctx) -> Kernel

A generator gets the Keras layer (weights + ``get_config()``), the shapes of its
input tensors without the batch axis, and a :class:`Ctx` (the C name prefix of the
layer, the weight format, the set of C helpers used); it returns a :class:`Kernel`:
the output shape, ``static const`` parameter arrays and the body of one C function
over flat row-major float buffers::

    static void <prefix>(const float *in0[, const float *in1 ...], float *out
                         [, float *scratch]);

``scratch`` (``Kernel.scratch`` floats) and ``out`` come from the model's arena
(:func:`sw.c_emit.emit_keras_sequence` places them); an ``elementwise`` kernel may
be given ``out == in<k>`` (it reads element ``i`` before it writes element ``i``);
an ``alias`` kernel (Flatten, Reshape, Dropout, linear Activation) has no code, its
output is its input reinterpreted. Unknown layer types and unsupported options
raise ``ValueError`` naming the layer and its type.

A new layer type (pooling, Bidirectional, ...) is one more ``@register`` function
here; nothing else changes (LayerNormalization, MultiHeadAttention, Concatenate and the
WeightedFusion of :mod:`sw.har_model` came that way).
A chain of layers that is cheaper as one kernel is a ``@register_fusion`` function
(so far: Permute((2, 1)) -> Dense -> Permute((2, 1)), the Dense over time of the
temporal attention, without the two transposed copies).

Arithmetic follows Keras' own order where it matters for float32 rounding:
dot products are summed first, then the bias is added, then the activation;
GRU is the Keras 3 cell (gate order z, r, h; ``reset_after`` both ways; ``h = z *
h_prev + (1 - z) * hh``); exp-based functions go through the local ``wo_exp``
(double, no libm). Multiply-accumulates are float32, compiled with
``-ffp-contract=off``, so the host and the Cortex-A9 give the same bits.

Weights (:class:`Matrix`): ``"float32"`` stores every matrix as float32;
``"int8"`` stores matrices (Conv1D, Dense, GRU kernels) as int8 per output row
with one float32 scale per row, ``acc = sum x * (float)q``, ``y = acc * scale +
bias`` ("dynamic range": activations, biases, BatchNorm stay float32); a matrix of
fewer than ``Ctx.int8_min_weights`` weights stays float32 (as TensorFlow Lite's
dynamic-range quantization leaves tensors under 1024 elements in float: a few
hundred bytes of Flash, and a small layer such as the last Dense(16 -> 1) is where
one coarse int8 step moves the output most).
:meth:`Matrix.storage` is the one place that picks how a matrix is stored: pruned
matrices go to CSR rows (non-zero values + column indexes + row starts) when that is
smaller than dense, in either weight format; the sums are the same, term for term.

This module also holds the C primitives shared with the DNN emitters of
:mod:`sw.c_emit` (``wo_exp``, ``wo_sigmoid``, ``wo_tanh``, ``wo_selu``, the
float32 literal format).
"""

from dataclasses import dataclass, field

import numpy as np

__all__ = ["FLOAT_C_TOL", "LAYERS", "FUSIONS", "register", "register_fusion", "Kernel", "Ctx",
           "Matrix", "helper_source", "ACTIVATIONS", "WEIGHT_FORMATS"]

#: bound on a float32 emitted sequence model's max |dp| against Keras (the trainers' and the
#: benchmarks' C check)
FLOAT_C_TOL = 1e-5

WEIGHT_FORMATS = ("float32", "int8")

# ----------------------------------------------------------------------------------------------
# C primitives (also used by sw.c_emit's DNN emitters)

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

_ELU = r"""
static float wo_elu(float x)
{
    return x > 0.0f ? x : (float)(wo_exp((double)x) - 1.0);
}
"""

_HARD_SIGMOID = r"""
/* Keras 3: relu6(x + 3) / 6 in float32 */
static float wo_hard_sigmoid(float x)
{
    float t = x + 3.0f;
    t = t < 0.0f ? 0.0f : (t > 6.0f ? 6.0f : t);
    return t / 6.0f;
}
"""

_SOFTMAX = r"""
/* softmax of v[0..n-1] in place: exp(v - max) / sum, exp and sum in double */
static void wo_softmax(float *v, int n)
{
    double m = v[0], s = 0.0;
    int i;
    for (i = 1; i < n; i++)
        if (v[i] > m) m = v[i];
    for (i = 0; i < n; i++) {
        double e = wo_exp((double)v[i] - m);
        v[i] = (float)e;
        s += e;
    }
    for (i = 0; i < n; i++)
        v[i] = (float)((double)v[i] / s);
}
"""

_GELU = r"""
/* Keras gelu (approximate=False): 0.5 x (1 + erf(x / sqrt 2)); erf by Abramowitz & Stegun
 * 7.1.26 in double (|error| < 1.5e-7), no libm */
static float wo_gelu(float x)
{
    double z = (double)x * 0.70710678118654752440, a = z < 0.0 ? -z : z, t, e;
    t = 1.0 / (1.0 + 0.3275911 * a);
    e = 1.0 - (((((1.061405429 * t - 1.453152027) * t) + 1.421413741) * t - 0.284496736) * t
               + 0.254829592) * t * wo_exp(-a * a);
    return (float)(0.5 * (double)x * (1.0 + (z < 0.0 ? -e : e)));
}
"""

_RSQRT = r"""
/* 1 / sqrt(v) for v > 0 without libm: a start within a factor 2 from the exponent bits, then
 * Newton steps y = y (3 - v y^2) / 2 in double until they stop changing (<= 8 steps) */
static double wo_rsqrt(double v)
{
    union { double d; unsigned long long u; } s;
    double y;
    int i;
    s.d = v;
    s.u = 0x5fe6eb50c7b537a9ULL - (s.u >> 1);
    y = s.d;
    for (i = 0; i < 8; i++)
        y = y * (1.5 - 0.5 * v * y * y);
    return y;
}
"""

#: helper name -> (C text, helpers it needs); emitted in this order
_HELPERS = {
    "exp": (_EXP, ()),
    "sigmoid": (_SIGMOID, ("exp",)),
    "tanh": (_TANH, ("exp",)),
    "selu": (_SELU, ("exp",)),
    "elu": (_ELU, ("exp",)),
    "hard_sigmoid": (_HARD_SIGMOID, ()),
    "softmax": (_SOFTMAX, ("exp",)),
    "gelu": (_GELU, ("exp",)),
    "rsqrt": (_RSQRT, ()),
}


def helper_source(names):
    """C text of the helpers ``names`` and of what they need, each once, in a fixed order."""
    need = set()

    def add(n):
        if n not in need:
            need.add(n)
            for d in _HELPERS[n][1]:
                add(d)
    for n in names:
        add(n)
    return "".join(_HELPERS[n][0] for n in _HELPERS if n in need)


def _f32(v):
    s = np.format_float_scientific(np.float32(v), unique=True, exp_digits=2)
    return s.replace("e+00", "") + "f" if "e" in s else s + "f"


def _int(v):
    return str(int(v))


def _array(ctype, name, values, fmt, per_line=8):
    vals = [fmt(v) for v in np.asarray(values).ravel()]
    lines = [", ".join(vals[i:i + per_line]) for i in range(0, len(vals), per_line)]
    shape = "".join(f"[{d}]" for d in np.asarray(values).shape)
    body = ",\n    ".join(lines)
    return f"static const {ctype} {name}{shape} = {{\n    {body}\n}};\n"


def _array2d(ctype, name, m, fmt, per_line=8):
    """2-D array with one brace group per row."""
    rows = []
    for row in np.asarray(m):
        vals = [fmt(v) for v in row]
        chunks = [", ".join(vals[i:i + per_line]) for i in range(0, len(vals), per_line)]
        rows.append("{" + ",\n     ".join(chunks) + "}")
    return (f"static const {ctype} {name}[{m.shape[0]}][{m.shape[1]}] = {{\n    "
            + ",\n    ".join(rows) + "\n};\n")


# ----------------------------------------------------------------------------------------------
# activations

#: activation name -> (C expression of float v, helpers); "softmax" is a row operation
_ACT = {
    "linear": ("{v}", ()),
    "relu": ("({v} > 0.0f ? {v} : 0.0f)", ()),
    "relu6": ("({v} > 0.0f ? ({v} < 6.0f ? {v} : 6.0f) : 0.0f)", ()),
    "sigmoid": ("wo_sigmoid({v})", ("sigmoid",)),
    "tanh": ("wo_tanh({v})", ("tanh",)),
    "hard_sigmoid": ("wo_hard_sigmoid({v})", ("hard_sigmoid",)),
    "selu": ("wo_selu({v})", ("selu",)),
    "elu": ("wo_elu({v})", ("elu",)),
    "silu": ("({v} * wo_sigmoid({v}))", ("sigmoid",)),
    "swish": ("({v} * wo_sigmoid({v}))", ("sigmoid",)),
    "softsign": ("({v} / (({v} < 0.0f ? -{v} : {v}) + 1.0f))", ()),
    "leaky_relu": ("({v} > 0.0f ? {v} : {v} * 0.2f)", ()),
    "gelu": ("wo_gelu({v})", ("gelu",)),
    "softmax": None,
}
#: activation names the generated C implements (``softmax`` over the last axis)
ACTIVATIONS = tuple(_ACT)


def _act_name(layer, key="activation"):
    a = layer.get_config().get(key)
    if a is None:
        return "linear"
    if isinstance(a, dict):               # serialised function: {"class_name": ..., "config": ...}
        a = a.get("config", a.get("class_name"))
    if not isinstance(a, str) or a not in _ACT:
        raise ValueError(f"layer {layer.name!r} ({type(layer).__name__}): no C for "
                         f"{key}={a!r} (supported: {', '.join(ACTIVATIONS)})")
    return a


def _act(name, v, ctx):
    """C expression of activation ``name`` applied to expression ``v`` (not softmax)."""
    expr, helpers = _ACT[name]
    ctx.helpers.update(helpers)
    return expr.format(v=v)


# ----------------------------------------------------------------------------------------------
# kernels


@dataclass
class Kernel:
    """C of one layer (see the module docstring)."""
    out_shape: tuple
    decls: str = ""
    body: str = ""
    scratch: int = 0                 # floats of arena scratch the body uses
    alias: bool = False              # output = input 0 reinterpreted, no code
    elementwise: tuple = ()          # inputs the output may overwrite (same shape as the output)
    params: int = 0                  # number of parameters
    param_bytes: int = 0             # bytes of the static const parameter arrays
    macc: int = 0                    # multiply-accumulates per window
    keras_weights: list = None       # int8 variant: the dequantised weights, get_weights() order
    weights_layer: str = None        # ... of this layer (default: the layer emitted)
    note: str = ""


@dataclass
class Ctx:
    prefix: str                      # C identifier prefix of this layer (unique in the file)
    weights: str = "float32"         # "float32" | "int8"
    helpers: set = field(default_factory=set)
    sparse: bool = True              # CSR storage for matrices where it is smaller
    int8_min_weights: int = 0        # int8: smaller matrices stay float32


class Matrix:
    """A weight matrix by output row, ``M[j][i]`` (row j = output unit, i = input index).

    Dense storage -- float32: ``<P>[rows][cols]`` float; int8: ``<P>[rows][cols]`` int8_t
    plus ``<P>_S[rows]`` float scales (symmetric, per row, max |w| -> 127).

    CSR storage (pruned weights, ``"csr_float32"`` / ``"csr_int8"``, chosen by
    :meth:`storage` when it is smaller than dense and ``ctx.sparse``): the non-zero values of
    every row in column order ``<P>_V[nnz]`` (float or int8_t; int8 keeps ``<P>_S``), their
    column indexes ``<P>_I[nnz]`` (uint8_t when every stored index is below 256, else
    uint16_t below 65536, else int32_t) and row starts ``<P>_R[rows + 1]`` (uint16_t, or
    int32_t past 65535 non-zeros). ``index`` (optional, one int per column) replaces the
    column number stored in ``<P>_I`` (e.g. an input offset that folds a convolution tap and
    its dilation). A CSR dot
    product visits the non-zero terms of a row in the order the dense loop visits them, and
    adding a zero term leaves a float32 sum unchanged, so dense and CSR C give the same bits.
    """

    def __init__(self, ctx, tag, M, index=None):
        M = np.asarray(M, np.float32)
        self.name = f"{ctx.prefix}_{tag}"
        self.rows, self.cols = M.shape
        self.index = (np.arange(self.cols, dtype=np.int64) if index is None
                      else np.asarray(index, np.int64))
        if ctx.weights not in WEIGHT_FORMATS:
            raise ValueError(f"weights must be one of {WEIGHT_FORMATS}, got {ctx.weights!r}")
        fmt = ("float32" if ctx.weights == "int8" and M.size < ctx.int8_min_weights
               else ctx.weights)
        if fmt == "int8":
            amax = np.max(np.abs(M), axis=1)
            self.scale = np.where(amax > 0, amax / np.float32(127), 1).astype(np.float32)
            self.q = np.clip(np.rint(M / self.scale[:, None]), -127, 127).astype(np.int8)
            self.value = self.q.astype(np.float32) * self.scale[:, None]
            stored = self.q
        else:
            self.value = M
            stored = M
        self.nnz = int(np.count_nonzero(stored))
        self.format = self.storage(stored, fmt, ctx.sparse, self.index)
        if self.sparse:
            nz = stored != 0
            self.csr_rows = np.concatenate([[0], np.cumsum(nz.sum(axis=1))]).astype(np.int64)
            self.csr_cols = np.concatenate([np.nonzero(r)[0] for r in nz]
                                           or [np.zeros(0, np.int64)]).astype(np.int64)
            self.csr_vals = stored[nz]

    @staticmethod
    def _csr_bytes(rows, nnz, vbytes, max_index):
        ibytes = 1 if max_index < 256 else 2 if max_index < 65536 else 4
        rbytes = 2 if nnz <= 65535 else 4
        return nnz * (vbytes + ibytes) + (rows + 1) * rbytes

    @classmethod
    def storage(cls, M, weights, sparse=True, index=None):
        """How a matrix is stored: ``"float32"`` / ``"int8"`` (dense) or ``"csr_float32"`` /
        ``"csr_int8"`` when ``sparse`` and CSR takes fewer bytes than dense (the int8 row
        scales are the same both ways). ``M``: the stored values (the int8 codes for int8)."""
        if weights not in WEIGHT_FORMATS:
            raise ValueError(f"weights must be one of {WEIGHT_FORMATS}, got {weights!r}")
        if not sparse:
            return weights
        rows, cols = np.shape(M)
        vbytes = 1 if weights == "int8" else 4
        max_index = int(np.max(index)) if index is not None and len(index) else cols - 1
        csr = cls._csr_bytes(rows, int(np.count_nonzero(M)), vbytes, max_index)
        return "csr_" + weights if csr < rows * cols * vbytes else weights

    @property
    def sparse(self):
        return self.format.startswith("csr_")

    @property
    def int8(self):
        return self.format.endswith("int8")

    @property
    def nbytes(self):
        scales = 4 * self.rows if self.int8 else 0
        if self.sparse:
            return scales + self._csr_bytes(self.rows, self.nnz, 1 if self.int8 else 4,
                                            int(np.max(self.index)) if self.cols else 0)
        return scales + self.rows * self.cols * (1 if self.int8 else 4)

    def _itype(self):
        top = int(np.max(self.index)) if self.cols else 0
        return "uint8_t" if top < 256 else "uint16_t" if top < 65536 else "int32_t"

    def decl(self):
        scales = _array("float", self.name + "_S", self.scale, _f32) if self.int8 else ""
        if self.sparse:
            # a matrix of zeros still needs arrays of length >= 1 (C has no empty arrays)
            vals = self.csr_vals if self.nnz else np.zeros(1, self.csr_vals.dtype)
            idx = self.index[self.csr_cols] if self.nnz else np.zeros(1, np.int64)
            rtype = "uint16_t" if self.nnz <= 65535 else "int32_t"
            return ((_array("int8_t", self.name + "_V", vals, _int, per_line=16) if self.int8
                     else _array("float", self.name + "_V", vals, _f32))
                    + _array(self._itype(), self.name + "_I", idx, _int, per_line=16)
                    + _array(rtype, self.name + "_R", self.csr_rows, _int, per_line=16)
                    + scales)
        if self.int8:
            return _array2d("int8_t", self.name, self.q, _int, per_line=16) + scales
        return _array2d("float", self.name, self.value, _f32)

    def elem(self, j, i):
        """C expression of element (j, i) as float (before the row scale); dense only."""
        if self.sparse:
            raise AssertionError(f"{self.name}: element access on a CSR matrix")
        if self.int8:
            return f"(float){self.name}[{j}][{i}]"
        return f"{self.name}[{j}][{i}]"

    def finish(self, acc, j):
        """C expression of a row's dot product ``acc`` scaled back to the weights' units."""
        return f"{acc} * {self.name}_S[{j}]" if self.int8 else acc

    def dot_map(self, acc, j, n, term, i="i"):
        """C statement: ``acc`` += sum over the columns ``c`` of row ``j`` of ``term(c) *
        M[j][c]``; ``term`` maps a C expression of the stored column index to the C
        expression of the input element it multiplies (``n`` columns)."""
        if self.sparse:
            v = f"(float){self.name}_V[{i}]" if self.int8 else f"{self.name}_V[{i}]"
            return (f"for ({i} = {self.name}_R[{j}]; {i} < {self.name}_R[{j} + 1]; {i}++) "
                    f"{acc} += {term(f'{self.name}_I[{i}]')} * {v};")
        return f"for ({i} = 0; {i} < {n}; {i}++) {acc} += {term(i)} * {self.elem(j, i)};"

    def dot(self, acc, j, x, n, i="i"):
        """C statement: ``acc`` += row ``j`` . ``x[0..n-1]``."""
        return self.dot_map(acc, j, n, lambda c: f"{x}[{c}]", i)

    @property
    def label(self):
        """Short description for the layer notes: ``"CSR 12% non-zero"`` or ``""``."""
        if not self.sparse:
            return ""
        return f"CSR {100 * self.nnz / max(self.rows * self.cols, 1):.0f}% non-zero"


LAYERS = {}
#: fused chains: (Keras class names, generator(layers, in_shapes, ctx) -> Kernel or None)
FUSIONS = []


def register(*class_names):
    """Decorator: the generator of Keras layer classes ``class_names``."""
    def deco(fn):
        for c in class_names:
            LAYERS[c] = fn
        return fn
    return deco


def register_fusion(*chain):
    """Decorator: one kernel for a chain of layers of classes ``chain``, each the only consumer
    of the one before (the emitter finds the chain; the generator returns ``None`` when the
    layers' options do not fit, and the layers are then emitted one by one)."""
    def deco(fn):
        FUSIONS.append((tuple(chain), fn))
        return fn
    return deco


def _unsupported(layer, what):
    return ValueError(f"layer {layer.name!r} ({type(layer).__name__}): {what} is not "
                      "supported by the C backend")


def _prod(shape):
    return int(np.prod(shape, dtype=np.int64)) if len(shape) else 1


def _one_input(layer, in_shapes):
    if len(in_shapes) != 1:
        raise _unsupported(layer, f"{len(in_shapes)} inputs")
    return tuple(in_shapes[0])


def _cl(layer):
    df = layer.get_config().get("data_format", "channels_last")
    if df not in (None, "channels_last"):
        raise _unsupported(layer, f"data_format={df!r}")


def _softmax_rows(ctx, ptr, rows, n):
    ctx.helpers.add("softmax")
    if rows == 1:
        return [f"    wo_softmax({ptr}, {n});"]
    return [f"    for (r = 0; r < {rows}; r++)", f"        wo_softmax({ptr} + r * {n}, {n});"]


def _bias_decl(ctx, layer, b):
    if b is None:
        return "", None, 0
    name = f"{ctx.prefix}_B"
    return _array("float", name, np.asarray(b, np.float32), _f32), name, len(np.ravel(b))


# --- pass-through -----------------------------------------------------------------------------

@register("InputLayer")
def _input(layer, in_shapes, ctx):
    return Kernel(out_shape=tuple(in_shapes[0]), alias=True)


@register("Dropout", "SpatialDropout1D", "GaussianDropout", "GaussianNoise", "AlphaDropout",
          "ActivityRegularization")
def identity(layer, in_shapes, ctx):
    """Identity at inference."""
    return Kernel(out_shape=_one_input(layer, in_shapes), alias=True, note="identity")


@register("Flatten")
def flatten(layer, in_shapes, ctx):
    _cl(layer)
    return Kernel(out_shape=(_prod(_one_input(layer, in_shapes)),), alias=True)


@register("Reshape")
def reshape(layer, in_shapes, ctx):
    shape = _one_input(layer, in_shapes)
    target = list(layer.get_config()["target_shape"])
    n = _prod(shape)
    if -1 in target:
        k = target.index(-1)
        target[k] = n // _prod([d for d in target if d != -1])
    if _prod(target) != n:
        raise _unsupported(layer, f"target_shape {tuple(target)} for input {shape}")
    return Kernel(out_shape=tuple(int(d) for d in target), alias=True)


# --- activations ------------------------------------------------------------------------------

def _elementwise(shape, expr_of_v):
    n = _prod(shape)
    body = ["    int i;", f"    for (i = 0; i < {n}; i++) {{", "        float v = in0[i];",
            f"        out[i] = {expr_of_v};", "    }"]
    return "\n".join(body)


def _softmax_layer(ctx, shape):
    n = _prod(shape)
    rows = n // shape[-1] if shape else 1
    body = ["    int i" + (", r;" if rows > 1 else ";"),
            f"    for (i = 0; i < {n}; i++)", "        out[i] = in0[i];"]
    body += _softmax_rows(ctx, "out", rows, shape[-1] if shape else 1)
    return "\n".join(body)


@register("Activation")
def activation(layer, in_shapes, ctx):
    shape = _one_input(layer, in_shapes)
    a = _act_name(layer)
    if a == "linear":
        return Kernel(out_shape=shape, alias=True)
    if a == "softmax":
        return Kernel(out_shape=shape, body=_softmax_layer(ctx, shape), elementwise=(0,))
    return Kernel(out_shape=shape, body=_elementwise(shape, _act(a, "v", ctx)),
                  elementwise=(0,), note=a)


@register("Softmax")
def softmax(layer, in_shapes, ctx):
    shape = _one_input(layer, in_shapes)
    axis = layer.get_config().get("axis", -1)
    axis = axis[0] if isinstance(axis, (list, tuple)) and len(axis) == 1 else axis
    if axis not in (-1, len(shape)):
        raise _unsupported(layer, f"softmax over axis {axis}")
    return Kernel(out_shape=shape, body=_softmax_layer(ctx, shape), elementwise=(0,))


@register("ReLU")
def relu(layer, in_shapes, ctx):
    """Keras 3 ``ReLU.static_call``, step by step in float32."""
    shape = _one_input(layer, in_shapes)
    cfg = layer.get_config()
    ns, mx, th = cfg.get("negative_slope", 0.0), cfg.get("max_value"), cfg.get("threshold", 0.0)
    ns = float(ns or 0.0)
    th = float(th or 0.0)
    if ns != 0.0 and mx is None and th == 0.0:
        return Kernel(out_shape=shape,
                      body=_elementwise(shape, f"(v > 0.0f ? v : v * {_f32(ns)})"),
                      elementwise=(0,))
    lines = ["    int i;", f"    for (i = 0; i < {_prod(shape)}; i++) {{",
             "        float v = in0[i], y;"]
    if ns != 0.0:
        neg = f"-v + {_f32(th)}" if th != 0.0 else "-v"
        lines.append(f"        float g = {neg};")
        lines.append("        g = g > 0.0f ? g : 0.0f;")
    if th != 0.0:
        lines.append(f"        y = v > {_f32(th)} ? v : 0.0f;")
    else:
        lines.append("        y = v > 0.0f ? v : 0.0f;")
    if mx is not None:
        lines.append(f"        y = y < 0.0f ? 0.0f : (y > {_f32(mx)} ? {_f32(mx)} : y);")
    if ns != 0.0:
        lines.append(f"        y -= {_f32(ns)} * g;")
    lines += ["        out[i] = y;", "    }"]
    return Kernel(out_shape=shape, body="\n".join(lines), elementwise=(0,))


@register("LeakyReLU")
def leaky_relu(layer, in_shapes, ctx):
    shape = _one_input(layer, in_shapes)
    cfg = layer.get_config()
    a = float(cfg.get("negative_slope", cfg.get("alpha", 0.3)))
    return Kernel(out_shape=shape, body=_elementwise(shape, f"(v > 0.0f ? v : v * {_f32(a)})"),
                  elementwise=(0,))


# --- BatchNormalization (inference, folded to x * scale + shift) ------------------------------

@register("BatchNormalization")
def batchnorm(layer, in_shapes, ctx):
    shape = _one_input(layer, in_shapes)
    cfg = layer.get_config()
    if cfg.get("renorm"):
        raise _unsupported(layer, "renorm")
    axis = cfg.get("axis", -1)
    axis = axis[0] if isinstance(axis, (list, tuple)) and len(axis) == 1 else axis
    if isinstance(axis, (list, tuple)):
        raise _unsupported(layer, f"axis={axis}")
    rank = len(shape)
    ax = axis + rank + 1 if axis < 0 else axis        # Keras axis counts the batch axis
    if not 1 <= ax <= rank:
        raise _unsupported(layer, f"axis={axis} for input {shape}")
    dim = shape[ax - 1]
    inner = _prod(shape[ax:])
    outer = _prod(shape[:ax - 1])
    mean = np.asarray(layer.moving_mean, np.float64)
    var = np.asarray(layer.moving_variance, np.float64)
    inv = 1.0 / np.sqrt(var + float(cfg["epsilon"]))
    if layer.gamma is not None:
        inv = inv * np.asarray(layer.gamma, np.float64)
    shift = -mean * inv
    if layer.beta is not None:
        shift = shift + np.asarray(layer.beta, np.float64)
    S, B = f"{ctx.prefix}_SCALE", f"{ctx.prefix}_SHIFT"
    decls = (_array("float", S, inv.astype(np.float32), _f32)
             + _array("float", B, shift.astype(np.float32), _f32))
    if inner == 1 and outer == 1:
        body = _elementwise(shape, f"v * {S}[i] + {B}[i]")
    else:
        body = "\n".join([
            "    int o, c, k, n = 0;",
            f"    for (o = 0; o < {outer}; o++)",
            f"        for (c = 0; c < {dim}; c++)",
            f"            for (k = 0; k < {inner}; k++, n++)",
            f"                out[n] = in0[n] * {S}[c] + {B}[c];"])
    return Kernel(out_shape=shape, decls=decls, body=body, elementwise=(0,), params=2 * dim,
                  param_bytes=8 * dim, macc=_prod(shape), note="folded: x * scale + shift")


# --- Dense (any rank: applied to the last axis) -----------------------------------------------

@register("Dense")
def dense(layer, in_shapes, ctx):
    shape = _one_input(layer, in_shapes)
    if getattr(layer, "quantization_mode", None):
        raise _unsupported(layer, f"Keras quantization_mode={layer.quantization_mode!r}")
    if getattr(layer, "lora_enabled", False):
        raise _unsupported(layer, "LoRA")
    act = _act_name(layer)
    K = np.asarray(layer.kernel, np.float32)            # (in, out)
    fi, fo = K.shape
    if shape[-1] != fi:
        raise _unsupported(layer, f"input {shape}")
    rows = _prod(shape[:-1])
    W = Matrix(ctx, "W", K.T)
    bdecl, B, nb = _bias_decl(ctx, layer, layer.bias if layer.use_bias else None)
    val = W.finish("acc", "j") + (f" + {B}[j]" if B else "")
    body = [f"    int {'r, ' if rows > 1 else ''}i, j;"]
    ind = "    "
    if rows > 1:
        body += [f"    for (r = 0; r < {rows}; r++) {{",
                 f"        const float *x = in0 + r * {fi};", f"        float *o = out + r * {fo};"]
        ind = "        "
    else:
        body += ["    {", "        const float *x = in0;", "        float *o = out;"]
        ind = "        "
    body += [f"{ind}for (j = 0; j < {fo}; j++) {{", f"{ind}    float acc = 0.0f;",
             f"{ind}    {W.dot('acc', 'j', 'x', fi)}"]
    if act == "softmax":
        body += [f"{ind}    o[j] = {val};", f"{ind}}}"]
        ctx.helpers.add("softmax")
        body += [f"{ind}wo_softmax(o, {fo});"]
    else:
        body += [f"{ind}    {{", f"{ind}        float v = {val};",
                 f"{ind}        o[j] = {_act(act, 'v', ctx)};", f"{ind}    }}", f"{ind}}}"]
    body += ["    }"]
    kw = None
    if W.int8:
        kw = [W.value.T.copy()] + ([np.asarray(layer.bias, np.float32)] if B else [])
    return Kernel(out_shape=tuple(shape[:-1]) + (fo,), decls=W.decl() + bdecl,
                  body="\n".join(body), params=fi * fo + nb, param_bytes=W.nbytes + 4 * nb,
                  macc=rows * fi * fo, keras_weights=kw,
                  note=act + (f", {W.label}" if W.sparse else ""))


@register_fusion("Permute", "Dense", "Permute")
def dense_over_time(layers, in_shapes, ctx):
    """Permute((2, 1)) -> Dense(U) -> Permute((2, 1)) on (T, C): a Dense along the time axis,
    (T, C) -> (U, C), one column at a time through ``scratch`` (U floats); the same sums in
    the same order as the three layers."""
    p1, d, p2 = layers
    if len(in_shapes) != 1 or len(in_shapes[0]) != 2:
        return None
    if any(tuple(p.get_config()["dims"]) != (2, 1) for p in (p1, p2)):
        return None
    if getattr(d, "quantization_mode", None) or getattr(d, "lora_enabled", False):
        return None
    T, C = in_shapes[0]
    act = _act_name(d)
    K = np.asarray(d.kernel, np.float32)                 # (T, U)
    if K.shape[0] != T:
        return None
    U = K.shape[1]
    W = Matrix(ctx, "W", K.T)
    bdecl, B, nb = _bias_decl(ctx, d, d.bias if d.use_bias else None)
    val = W.finish("acc", "j") + (f" + {B}[j]" if B else "")
    body = ["    int c, i, j;", f"    for (c = 0; c < {C}; c++) {{",
            f"        for (j = 0; j < {U}; j++) {{", "            float acc = 0.0f;",
            f"            {W.dot_map('acc', 'j', T, lambda i: f'in0[{i} * {C} + c]')}"]
    if act == "softmax":
        ctx.helpers.add("softmax")
        body += [f"            scratch[j] = {val};", "        }",
                 f"        wo_softmax(scratch, {U});"]
    else:
        body += ["            {", f"                float v = {val};",
                 f"                scratch[j] = {_act(act, 'v', ctx)};", "            }",
                 "        }"]
    body += [f"        for (j = 0; j < {U}; j++)", f"            out[j * {C} + c] = scratch[j];",
             "    }"]
    kw = None
    if W.int8:
        kw = [W.value.T.copy()] + ([np.asarray(d.bias, np.float32)] if B else [])
    return Kernel(out_shape=(U, C), decls=W.decl() + bdecl, body="\n".join(body), scratch=U,
                  params=T * U + nb, param_bytes=W.nbytes + 4 * nb, macc=C * T * U,
                  keras_weights=kw, weights_layer=d.name,
                  note=f"Dense over time, {act}" + (f", {W.label}" if W.sparse else ""))


# --- Conv1D -----------------------------------------------------------------------------------

def conv1d_geometry(T, k, stride, dil, padding):
    """(output length, left padding) of Keras Conv1D over T steps."""
    span = dil * (k - 1) + 1
    if padding == "valid":
        return max((T - span) // stride + 1, 0), 0
    if padding == "causal":
        return (T - 1) // stride + 1, dil * (k - 1)
    if padding == "same":
        to = -(-T // stride)
        total = max((to - 1) * stride + span - T, 0)
        return to, total // 2
    raise ValueError(padding)


@register("Conv1D")
def conv1d(layer, in_shapes, ctx):
    T, ci = _one_input(layer, in_shapes)
    _cl(layer)
    cfg = layer.get_config()
    if cfg.get("groups", 1) != 1:
        raise _unsupported(layer, f"groups={cfg['groups']}")
    if getattr(layer, "lora_enabled", False):
        raise _unsupported(layer, "LoRA")
    act = _act_name(layer)
    K = np.asarray(layer.kernel, np.float32)             # (k, in, out)
    k, _, co = K.shape
    (s,), (d,) = tuple(cfg["strides"]), tuple(cfg["dilation_rate"])
    padding = cfg["padding"].lower()
    to, pl = conv1d_geometry(T, k, s, d, padding)
    span = d * (k - 1) + 1
    # every tap inside the input (valid padding): CSR indexes are input offsets k*d*ci + i
    inside = pl == 0 and (to - 1) * s + span <= T
    cols = np.arange(k * ci)
    W = Matrix(ctx, "W", K.reshape(k * ci, co).T,        # row j: [k][ci]
               index=(cols // ci) * d * ci + cols % ci if inside else None)
    bdecl, B, nb = _bias_decl(ctx, layer, layer.bias if layer.use_bias else None)
    val = W.finish("acc", "j") + (f" + {B}[j]" if B else "")
    body = ["    int t, j, k, i;", f"    for (t = 0; t < {to}; t++) {{",
            f"        float *o = out + t * {co};",
            f"        for (j = 0; j < {co}; j++) {{", "            float acc = 0.0f;"]
    if W.sparse and inside:
        body = ["    int t, j, i;", f"    for (t = 0; t < {to}; t++) {{",
                f"        float *o = out + t * {co};",
                f"        const float *x = in0 + t * {s * ci};",
                f"        for (j = 0; j < {co}; j++) {{", "            float acc = 0.0f;",
                f"            {W.dot('acc', 'j', 'x', k * ci)}"]
    elif W.sparse:
        # padded edges: the tap of a stored column c is c / ci (ci is a constant)
        body += [f"            for (i = {W.name}_R[j]; i < {W.name}_R[j + 1]; i++) {{",
                 f"                int c = {W.name}_I[i];",
                 f"                int ti = t * {s} - {pl} + (c / {ci}) * {d};",
                 f"                if (ti < 0 || ti >= {T}) continue;",
                 f"                acc += in0[ti * {ci} + c % {ci}] * "
                 f"{'(float)' if W.int8 else ''}{W.name}_V[i];",
                 "            }"]
        body[0] = "    int t, j, i;"
    else:
        body += [f"            for (k = 0; k < {k}; k++) {{",
                 f"                int ti = t * {s} - {pl} + k * {d};",
                 "                const float *x;",
                 f"                if (ti < 0 || ti >= {T}) continue;",
                 f"                x = in0 + ti * {ci};",
                 f"                for (i = 0; i < {ci}; i++)",
                 f"                    acc += x[i] * {W.elem('j', f'k * {ci} + i')};",
                 "            }"]
    if act == "softmax":
        ctx.helpers.add("softmax")
        body += [f"            o[j] = {val};", "        }", f"        wo_softmax(o, {co});",
                 "    }"]
    else:
        body += ["            {", f"                float v = {val};",
                 f"                o[j] = {_act(act, 'v', ctx)};", "            }", "        }",
                 "    }"]
    kw = None
    if W.int8:
        kw = [W.value.T.reshape(k, ci, co).copy()] + ([np.asarray(layer.bias, np.float32)]
                                                      if B else [])
    return Kernel(out_shape=(to, co), decls=W.decl() + bdecl, body="\n".join(body),
                  params=k * ci * co + nb, param_bytes=W.nbytes + 4 * nb, macc=to * co * k * ci,
                  keras_weights=kw, note=f"{padding}, stride {s}, dilation {d}, {act}"
                                                + (f", {W.label}" if W.sparse else ""))


# --- GRU --------------------------------------------------------------------------------------

@register("GRU")
def gru(layer, in_shapes, ctx):
    T, ci = _one_input(layer, in_shapes)
    cfg = layer.get_config()
    for opt in ("stateful", "return_state"):
        if cfg.get(opt):
            raise _unsupported(layer, f"{opt}=True")
    act = _act_name(layer, "activation")
    ract = _act_name(layer, "recurrent_activation")
    if "softmax" in (act, ract):
        raise _unsupported(layer, "softmax as a GRU activation")
    u = int(cfg["units"])
    reset_after = bool(cfg["reset_after"])
    seqs, back = bool(cfg["return_sequences"]), bool(cfg.get("go_backwards"))
    cell = getattr(layer, "cell", layer)
    Kx = np.asarray(cell.kernel, np.float32)               # (ci, 3u)
    Kh = np.asarray(cell.recurrent_kernel, np.float32)     # (u, 3u)
    WX, WH = Matrix(ctx, "WX", Kx.T), Matrix(ctx, "WH", Kh.T)
    decls = WX.decl() + WH.decl()
    nb = 0
    BX = BH = None
    if cell.use_bias:
        b = np.asarray(cell.bias, np.float32)
        nb = b.size
        if reset_after:
            BX, BH = f"{ctx.prefix}_BX", f"{ctx.prefix}_BH"
            decls += _array("float", BX, b[0], _f32) + _array("float", BH, b[1], _f32)
        else:
            BX = f"{ctx.prefix}_BX"
            decls += _array("float", BX, b, _f32)
    A = lambda v: _act(act, v, ctx)                       # noqa: E731
    RA = lambda v: _act(ract, v, ctx)                     # noqa: E731
    u3 = 3 * u
    body = ["    float *h = scratch, *xg = scratch + " + str(u) + ", *hg = xg + " + str(u3) + ";",
            "    int step, j, i;", f"    for (j = 0; j < {u}; j++) h[j] = 0.0f;",
            f"    for (step = 0; step < {T}; step++) {{",
            f"        const float *x = in0 + {f'({T - 1} - step)' if back else 'step'} * {ci};",
            f"        for (j = 0; j < {u3}; j++) {{", "            float acc = 0.0f;",
            f"            {WX.dot('acc', 'j', 'x', ci)}",
            f"            xg[j] = {WX.finish('acc', 'j')}{f' + {BX}[j]' if BX else ''};",
            "        }"]
    if reset_after:
        body += [f"        for (j = 0; j < {u3}; j++) {{", "            float acc = 0.0f;",
                 f"            {WH.dot('acc', 'j', 'h', u)}",
                 f"            hg[j] = {WH.finish('acc', 'j')}{f' + {BH}[j]' if BH else ''};",
                 "        }",
                 f"        for (j = 0; j < {u}; j++) {{",
                 f"            float z = {RA('xg[j] + hg[j]')};",
                 f"            float r = {RA(f'xg[{u} + j] + hg[{u} + j]')};",
                 f"            float a = xg[{2 * u} + j] + r * hg[{2 * u} + j];",
                 f"            float hh = {A('a')};",
                 "            h[j] = z * h[j] + (1.0f - z) * hh;", "        }"]
    else:
        # hg[0..u) <- z, hg[u..2u) <- r * h_prev, then h[j] <- z h[j] + (1 - z) hh
        body += [f"        for (j = 0; j < {2 * u}; j++) {{", "            float acc = 0.0f;",
                 f"            {WH.dot('acc', 'j', 'h', u)}",
                 f"            hg[j] = {WH.finish('acc', 'j')};", "        }",
                 f"        for (j = 0; j < {u}; j++) {{",
                 f"            float r = {RA(f'xg[{u} + j] + hg[{u} + j]')};",
                 f"            hg[j] = {RA('xg[j] + hg[j]')};",
                 f"            hg[{u} + j] = r * h[j];", "        }",
                 f"        for (j = 0; j < {u}; j++) {{", "            float acc = 0.0f, a, hh, z;",
                 f"            {WH.dot('acc', f'{2 * u} + j', f'(hg + {u})', u)}",
                 f"            a = xg[{2 * u} + j] + {WH.finish('acc', f'{2 * u} + j')};",
                 f"            hh = {A('a')};", "            z = hg[j];",
                 "            h[j] = z * h[j] + (1.0f - z) * hh;", "        }"]
    if seqs:
        body += [f"        for (j = 0; j < {u}; j++) out[step * {u} + j] = h[j];"]
    body += ["    }"]
    if not seqs:
        body += [f"    for (j = 0; j < {u}; j++) out[j] = h[j];"]
    kw = None
    if WX.int8 or WH.int8:
        kw = [WX.value.T.copy(), WH.value.T.copy()] + ([np.asarray(cell.bias, np.float32)]
                                                       if cell.use_bias else [])
    return Kernel(out_shape=(T, u) if seqs else (u,), decls=decls, body="\n".join(body),
                  scratch=u + 2 * u3, params=ci * u3 + u * u3 + nb,
                  param_bytes=WX.nbytes + WH.nbytes + 4 * nb, macc=T * (ci * u3 + u * u3),
                  keras_weights=kw,
                  note=f"reset_after={reset_after}, {act}/{ract}"
                       f"{', sequences' if seqs else ''}{', backwards' if back else ''}"
                       + "".join(f", {m.name[len(ctx.prefix) + 1:]} {m.label}"
                                 for m in (WX, WH) if m.sparse))


@register("Bidirectional")
def bidirectional(layer, in_shapes, ctx):
    """Bidirectional(GRU): the forward GRU and the backward one (``go_backwards``) as two local
    functions of the GRU kernel above, each into its own part of scratch; with
    ``return_sequences`` the backward outputs are put back in time order (Keras flips them);
    merged by ``merge_mode`` (concat, sum, ave, mul) as Keras does."""
    cfg = layer.get_config()
    mode = cfg.get("merge_mode")
    if mode not in ("concat", "sum", "ave", "mul"):
        raise _unsupported(layer, f"merge_mode={mode!r}")
    fw, bw = layer.forward_layer, layer.backward_layer
    if type(fw).__name__ != "GRU" or type(bw).__name__ != "GRU":
        raise _unsupported(layer, f"wrapping {type(fw).__name__} (GRU only)")
    subs = []
    for tag, sub in (("f", fw), ("b", bw)):
        sctx = Ctx(prefix=f"{ctx.prefix}_{tag}", weights=ctx.weights, helpers=ctx.helpers,
                   sparse=ctx.sparse, int8_min_weights=ctx.int8_min_weights)
        subs.append((tag, sub, gru(sub, in_shapes, sctx)))
    kf, kb = subs[0][2], subs[1][2]
    if kf.out_shape != kb.out_shape:
        raise _unsupported(layer, f"forward {kf.out_shape} and backward {kb.out_shape} outputs")
    shape = kf.out_shape
    seqs = len(shape) == 2
    T, u = (shape if seqs else (1, shape[0]))
    n = T * u
    inner = max(kf.scratch, kb.scratch)
    decls = ""
    for tag, _, k in subs:
        decls += (k.decls + f"static void {ctx.prefix}_{tag}(const float *in0, float *out, "
                  f"float *scratch)\n{{\n{k.body}\n}}\n")
    body = [f"    float *f = scratch + {inner}, *b = f + {n};", "    int t, j;",
            f"    {ctx.prefix}_f(in0, f, scratch);", f"    {ctx.prefix}_b(in0, b, scratch);",
            f"    for (t = 0; t < {T}; t++)", f"        for (j = 0; j < {u}; j++) {{",
            f"            float x = f[t * {u} + j];",
            f"            float y = b[{f'({T - 1} - t)' if seqs else 't'} * {u} + j];"]
    if mode == "concat":
        body += [f"            out[t * {2 * u} + j] = x;",
                 f"            out[t * {2 * u} + {u} + j] = y;"]
        out_shape = (T, 2 * u) if seqs else (2 * u,)
    else:
        expr = {"sum": "x + y", "mul": "x * y", "ave": "(x + y) / 2.0f"}[mode]
        body += [f"            out[t * {u} + j] = {expr};"]
        out_shape = shape
    body += ["        }"]
    kw = None
    if kf.keras_weights is not None or kb.keras_weights is not None:
        kw = []
        for _, sub, k in subs:
            kw += k.keras_weights if k.keras_weights is not None else sub.get_weights()
    return Kernel(out_shape=out_shape, decls=decls, body="\n".join(body),
                  scratch=inner + 2 * n, params=kf.params + kb.params,
                  param_bytes=kf.param_bytes + kb.param_bytes, macc=kf.macc + kb.macc,
                  keras_weights=kw, note=f"merge {mode}; forward: {kf.note}; backward: {kb.note}")


# --- Permute ----------------------------------------------------------------------------------

def _strides(shape):
    st, acc = [], 1
    for d in reversed(shape):
        st.append(acc)
        acc *= d
    return st[::-1]


def _nested_loops(out_shape, in_index_terms):
    """Loops over ``out_shape`` in row-major order; yields (header lines, indent, index exprs).

    ``in_index_terms[k]`` = per-axis strides of input k (0 = broadcast along that axis).
    """
    r = len(out_shape)
    vars_ = [f"a{i}" for i in range(r)]
    lines = [f"    int {', '.join(vars_ + ['n'])};", "    n = 0;"]
    ind = "    "
    for v, d in zip(vars_, out_shape):
        lines.append(f"{ind}for ({v} = 0; {v} < {d}; {v}++)")
        ind += "    "
    exprs = []
    for strides in in_index_terms:
        terms = [f"{v} * {s}" if s != 1 else v for v, s in zip(vars_, strides) if s]
        exprs.append(" + ".join(terms) if terms else "0")
    return lines, ind, exprs


@register("Permute")
def permute(layer, in_shapes, ctx):
    shape = _one_input(layer, in_shapes)
    dims = tuple(int(d) for d in layer.get_config()["dims"])
    out = tuple(shape[d - 1] for d in dims)
    ist = _strides(shape)
    lines, ind, (e,) = _nested_loops(out, [[ist[d - 1] for d in dims]])
    lines.append(f"{ind}out[n++] = in0[{e}];")
    return Kernel(out_shape=out, body="\n".join(lines), note=f"dims {dims}")


# --- merges (numpy broadcasting, Keras' left-to-right order) ----------------------------------

_MERGE = {"Add": "({a} + {b})", "Multiply": "({a} * {b})", "Subtract": "({a} - {b})",
          "Average": "({a} + {b})", "Maximum": "({a} > {b} ? {a} : {b})",
          "Minimum": "({a} < {b} ? {a} : {b})"}


@register(*_MERGE)
def merge(layer, in_shapes, ctx):
    kind = type(layer).__name__
    n = len(in_shapes)
    if n < 2 or (kind == "Subtract" and n != 2):
        raise _unsupported(layer, f"{n} inputs")
    r = max(len(s) for s in in_shapes)
    padded = [(1,) * (r - len(s)) + tuple(s) for s in in_shapes]
    out = []
    for ax in range(r):
        ds = {p[ax] for p in padded} - {1}
        if len(ds) > 1:
            raise _unsupported(layer, f"input shapes {in_shapes}")
        out.append(ds.pop() if ds else 1)
    out = tuple(out)
    strides = [[s if d != 1 or o == 1 else 0 for s, d, o in zip(_strides(p), p, out)]
               for p in padded]
    same = [k for k, p in enumerate(padded) if p == out]
    if len(same) == n:
        lines = ["    int i;", f"    for (i = 0; i < {_prod(out)}; i++)"]
        ind, exprs = "        ", ["i"] * n
        target = "out[i]"
    else:
        lines, ind, exprs = _nested_loops(out, strides)
        target = "out[n++]"
    # read every input before writing (out may be one of them)
    val = f"in0[{exprs[0]}]"
    if kind in ("Maximum", "Minimum"):
        lines[-1] += " {"
        lines.append(f"{ind}float v = {val};")
        for k in range(1, n):
            lines.append(f"{ind}float w{k} = in{k}[{exprs[k]}];")
        for k in range(1, n):
            lines.append(f"{ind}v = {_MERGE[kind].format(a='v', b=f'w{k}')};")
        lines.append(f"{ind}{target} = v;")
        lines.append(ind[:-4] + "}")
    else:
        for k in range(1, n):
            val = _MERGE[kind].format(a=val, b=f"in{k}[{exprs[k]}]")
        if kind == "Average":
            val = f"{val} / {_f32(n)}"
        lines.append(f"{ind}{target} = {val};")
    return Kernel(out_shape=out, body="\n".join(lines), elementwise=tuple(same),
                  macc=_prod(out) * (n - 1), note=f"{n} inputs")


@register("Concatenate")
def concatenate(layer, in_shapes, ctx):
    """Along the last axis (inputs of equal leading shape): per row, each input's row in turn."""
    axis = int(layer.get_config().get("axis", -1))
    r = len(in_shapes[0])
    if len(in_shapes) < 2 or axis not in (-1, r) or any(
            len(s) != r or tuple(s[:-1]) != tuple(in_shapes[0][:-1]) for s in in_shapes):
        raise _unsupported(layer, f"axis={axis} with input shapes {in_shapes} (the last axis "
                           "of inputs of equal leading shape only)")
    rows = _prod(in_shapes[0][:-1])
    widths = [int(s[-1]) for s in in_shapes]
    total = sum(widths)
    lines = ["    int r_, i;", f"    for (r_ = 0; r_ < {rows}; r_++) {{"]
    off = 0
    for k, w in enumerate(widths):
        lines.append(f"        for (i = 0; i < {w}; i++) out[r_ * {total} + {off} + i] = "
                     f"in{k}[r_ * {w} + i];")
        off += w
    lines.append("    }")
    return Kernel(out_shape=tuple(in_shapes[0][:-1]) + (total,), body="\n".join(lines),
                  note=f"{len(in_shapes)} inputs, widths {widths}")


@register("WeightedFusion")
def weighted_fusion(layer, in_shapes, ctx):
    """``sum_i w_i * x_i`` with ``w = softmax(logits)`` computed once (float32, as Keras)
    and stored as constants (:class:`sw.har_model.WeightedFusion`); Keras' order: ``x_0 *
    w_0``, then ``+ x_i * w_i`` left to right."""
    if len(in_shapes) < 2 or len({tuple(s) for s in in_shapes}) != 1:
        raise _unsupported(layer, f"input shapes {in_shapes} (two or more, all equal)")
    w = np.asarray(layer.fusion_weights(), np.float32)
    n = _prod(in_shapes[0])
    val = f"in0[i] * {_f32(w[0])}"
    for k in range(1, len(in_shapes)):
        val = f"{val} + in{k}[i] * {_f32(w[k])}"
    body = "\n".join(["    int i;", f"    for (i = 0; i < {n}; i++) out[i] = {val};"])
    return Kernel(out_shape=tuple(in_shapes[0]), body=body,
                  elementwise=tuple(range(len(in_shapes))),
                  params=len(w), macc=n * len(w),
                  note="weights " + ", ".join(f"{float(v):.4f}" for v in w))


# --- pooling ----------------------------------------------------------------------------------

@register("GlobalAveragePooling1D")
def global_average_pooling1d(layer, in_shapes, ctx):
    T, C = _one_input(layer, in_shapes)
    _cl(layer)
    keep = bool(layer.get_config().get("keepdims", False))
    body = "\n".join(["    int t, c;", f"    for (c = 0; c < {C}; c++) {{",
                      "        float acc = 0.0f;",
                      f"        for (t = 0; t < {T}; t++) acc += in0[t * {C} + c];",
                      f"        out[c] = acc / {_f32(T)};", "    }"])
    return Kernel(out_shape=(1, C) if keep else (C,), body=body, macc=T * C)


@register("GlobalMaxPooling1D")
def global_max_pooling1d(layer, in_shapes, ctx):
    T, C = _one_input(layer, in_shapes)
    _cl(layer)
    keep = bool(layer.get_config().get("keepdims", False))
    body = "\n".join(["    int t, c;", f"    for (c = 0; c < {C}; c++) {{",
                      "        float m = in0[c];",
                      f"        for (t = 1; t < {T}; t++) if (in0[t * {C} + c] > m) "
                      f"m = in0[t * {C} + c];", "        out[c] = m;", "    }"])
    return Kernel(out_shape=(1, C) if keep else (C,), body=body)


# --- LayerNormalization -----------------------------------------------------------------------

@register("LayerNormalization")
def layer_normalization(layer, in_shapes, ctx):
    """Over the last axis: ``(x - mean) / sqrt(var + eps) * gamma + beta`` arranged as Keras
    does it (module text below), the row's mean and (biased) variance summed in double,
    ``wo_rsqrt`` (no libm)."""
    shape = _one_input(layer, in_shapes)
    cfg = layer.get_config()
    axis = cfg["axis"]
    axis = list(axis) if isinstance(axis, (list, tuple)) else [axis]
    if [a % (len(shape) + 1) for a in axis] != [len(shape)]:
        raise _unsupported(layer, f"axis={cfg['axis']} (the last axis only)")
    if cfg.get("rms_scaling"):
        raise _unsupported(layer, "rms_scaling=True")
    n = shape[-1]
    rows = _prod(shape[:-1])
    decls, nb = "", 0
    G = B = None
    if layer.gamma is not None:
        G = f"{ctx.prefix}_G"
        decls += _array("float", G, np.asarray(layer.gamma, np.float32), _f32)
        nb += n
    if layer.beta is not None:
        B = f"{ctx.prefix}_B"
        decls += _array("float", B, np.asarray(layer.beta, np.float32), _f32)
        nb += n
    ctx.helpers.add("rsqrt")
    eps = _f32(cfg["epsilon"])
    # Keras' own arrangement (keras.ops.layer_normalization), in float32: inv = rsqrt(var +
    # eps) [* gamma], out = x * inv + (-mean * inv [+ beta]) -- with a tiny variance its
    # rounding is what Keras returns; mean and variance summed in double
    inv = f"inv * {G}[i]" if G else "inv"
    res = f"-mf * g + {B}[i]" if B else "-mf * g"
    body = "\n".join([
        "    int r_, i;", f"    for (r_ = 0; r_ < {rows}; r_++) {{",
        f"        const float *x = in0 + r_ * {n};", f"        float *o = out + r_ * {n};",
        "        double m = 0.0, v = 0.0;", "        float mf, inv;",
        f"        for (i = 0; i < {n}; i++) m += x[i];", f"        m /= {n}.0;",
        f"        for (i = 0; i < {n}; i++) v += ((double)x[i] - m) * ((double)x[i] - m);",
        f"        v /= {n}.0;", "        mf = (float)m;",
        f"        inv = (float)wo_rsqrt((double)((float)v + {eps}));",
        f"        for (i = 0; i < {n}; i++) {{", f"            float g = {inv};",
        f"            float b = {res};", "            o[i] = x[i] * g + b;", "        }", "    }"])
    return Kernel(out_shape=shape, decls=decls, body=body, elementwise=(0,), params=nb,
                  param_bytes=4 * nb, macc=3 * _prod(shape), note=f"eps {cfg['epsilon']:g}")


# --- MultiHeadAttention -----------------------------------------------------------------------

@register("MultiHeadAttention")
def multi_head_attention(layer, in_shapes, ctx):
    """``mha(query, value[, key])`` over sequences (T, C), no mask: per head h, Q = x_q Wq_h +
    bq_h scaled by 1 / sqrt(key_dim) (the float32 constant Keras uses), K = x_k Wk_h + bk_h,
    V = x_v Wv_h + bv_h; softmax over the keys of Q K^T (exp in double); context = P V;
    output = sum over heads of context Wo_h, + bo. Self-attention is ``mha(x, x)``,
    cross-attention ``mha(a, b)``. Q, K, V, one row of scores and the context live in the
    arena's scratch."""
    if len(in_shapes) not in (2, 3) or any(len(s) != 2 for s in in_shapes):
        raise _unsupported(layer, f"inputs {in_shapes} (query and value of shape (T, C), "
                           "optionally key)")
    cfg = layer.get_config()
    if cfg.get("use_gate"):
        raise _unsupported(layer, "use_gate=True")
    for opt in ("sliding_window", "output_shape"):
        if cfg.get(opt) is not None:
            raise _unsupported(layer, f"{opt}={cfg.get(opt)!r}")
    axes = cfg.get("attention_axes")
    if axes is not None and tuple(axes) != (1,):
        raise _unsupported(layer, f"attention_axes={axes}")
    (Tq, Cq), (Tv, Cv) = in_shapes[0], in_shapes[1]
    Tk, Ck = in_shapes[2] if len(in_shapes) == 3 else in_shapes[1]
    if Tk != Tv:
        raise _unsupported(layer, f"key length {Tk} != value length {Tv}")
    H, dk = int(cfg["num_heads"]), int(cfg["key_dim"])
    dv = int(cfg["value_dim"] or dk)
    qd, kd, vd, od = (layer._query_dense, layer._key_dense, layer._value_dense,
                      layer._output_dense)
    Kq = np.asarray(qd.kernel, np.float32).reshape(Cq, H * dk)
    Kk = np.asarray(kd.kernel, np.float32).reshape(Ck, H * dk)
    Kv = np.asarray(vd.kernel, np.float32).reshape(Cv, H * dv)
    Ko = np.asarray(od.kernel, np.float32).reshape(H * dv, -1)
    Co = Ko.shape[1]
    WQ, WK = Matrix(ctx, "WQ", Kq.T), Matrix(ctx, "WK", Kk.T)
    WV, WO = Matrix(ctx, "WV", Kv.T), Matrix(ctx, "WO", Ko.T)
    decls = WQ.decl() + WK.decl() + WV.decl() + WO.decl()
    nb = 0
    biases = {}
    for tag, d in (("BQ", qd), ("BK", kd), ("BV", vd), ("BO", od)):
        if d.bias is not None:
            b = np.asarray(d.bias, np.float32).ravel()
            biases[tag] = f"{ctx.prefix}_{tag}"
            decls += _array("float", biases[tag], b, _f32)
            nb += b.size
    scale = _f32(np.float32(1.0 / np.sqrt(float(dk))))
    ctx.helpers.add("softmax")
    kin = "in2" if len(in_shapes) == 3 else "in1"

    def proj(W, x, rows, cols, dst, width, bias, post=""):
        b = f" + {biases[bias]}[j]" if bias in biases else ""
        return [f"    for (t = 0; t < {rows}; t++) {{",
                f"        const float *x = {x} + t * {cols};",
                f"        for (j = 0; j < {width}; j++) {{", "            float acc = 0.0f;",
                f"            {W.dot('acc', 'j', 'x', cols)}",
                f"            {dst}[t * {width} + j] = ({W.finish('acc', 'j')}{b}){post};",
                "        }", "    }"]
    k_off = Tq * H * dk
    v_off = k_off + Tk * H * dk
    s_off = v_off + Tk * H * dv
    c_off = s_off + Tk
    body = ["    float *q = scratch, *k = scratch + " + str(k_off) + ", *v = scratch + "
            + str(v_off) + ", *s = scratch + " + str(s_off) + ", *c = scratch + "
            + str(c_off) + ";", "    int t, j, h, u, d, i;"]
    body += proj(WQ, "in0", Tq, Cq, "q", H * dk, "BQ", f" * {scale}")
    body += proj(WK, kin, Tk, Ck, "k", H * dk, "BK")
    body += proj(WV, "in1", Tv, Cv, "v", H * dv, "BV")
    body += [f"    for (h = 0; h < {H}; h++)",
             f"        for (t = 0; t < {Tq}; t++) {{",
             f"            for (u = 0; u < {Tk}; u++) {{", "                float acc = 0.0f;",
             f"                for (d = 0; d < {dk}; d++)",
             f"                    acc += q[(t * {H} + h) * {dk} + d] * "
             f"k[(u * {H} + h) * {dk} + d];",
             "                s[u] = acc;", "            }",
             f"            wo_softmax(s, {Tk});",
             f"            for (d = 0; d < {dv}; d++) {{", "                float acc = 0.0f;",
             f"                for (u = 0; u < {Tk}; u++) acc += s[u] * "
             f"v[(u * {H} + h) * {dv} + d];",
             f"                c[(t * {H} + h) * {dv} + d] = acc;", "            }", "        }"]
    bo = f" + {biases['BO']}[j]" if "BO" in biases else ""
    body += [f"    for (t = 0; t < {Tq}; t++)", f"        for (j = 0; j < {Co}; j++) {{",
             "            float acc = 0.0f;",
             f"            {WO.dot('acc', 'j', f'(c + t * {H * dv})', H * dv, 'i')}",
             f"            out[t * {Co} + j] = {WO.finish('acc', 'j')}{bo};", "        }"]
    kw = None
    if any(m.int8 for m in (WQ, WK, WV, WO)):
        kw = []
        for m, d, shape in ((WQ, qd, (Cq, H, dk)), (WK, kd, (Ck, H, dk)), (WV, vd, (Cv, H, dv)),
                            (WO, od, (H, dv, Co))):
            kw.append(m.value.T.reshape(shape).copy())
            if d.bias is not None:
                kw.append(np.asarray(d.bias, np.float32))
    params = WQ.rows * WQ.cols + WK.rows * WK.cols + WV.rows * WV.cols + WO.rows * WO.cols + nb
    macc = (Tq * Cq * H * dk + Tk * Ck * H * dk + Tv * Cv * H * dv + H * Tq * Tk * (dk + dv)
            + Tq * H * dv * Co)
    return Kernel(out_shape=(Tq, Co), decls=decls, body="\n".join(body),
                  scratch=c_off + Tq * H * dv, params=params,
                  param_bytes=WQ.nbytes + WK.nbytes + WV.nbytes + WO.nbytes + 4 * nb,
                  macc=macc, keras_weights=kw,
                  note=f"{H} heads, key_dim {dk}, value_dim {dv}"
                       + ("" if len(in_shapes) == 2 else ", separate key"))
