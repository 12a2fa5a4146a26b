"""One freezing-of-gait model as C three ways -- ours, keras2c, TFLite Micro -- on the Cortex-A9.

Usage::

    python -m bench.fog_bench out/fog [--work DIR] [-o result.json] [--windows 1] [--check 64]

Reads a model folder of ``python -m sw.train_fog`` (``model.keras``, ``config.json`` of kind
"fog"; input one window ``(T, C)`` float32 raw mg, output p(FoG)) and, in one run, for each
implementation that can be built here:

* **ours** -- :func:`sw.c_emit.emit_keras_sequence` with float32 and with int8 weights;
* **keras2c** (PyPI ``keras2c``, optional: not a dependency of the project, it requires the
  full ``tensorflow`` distribution): its own model checker is run on the model and its verdict
  recorded; whether its C runtime library (``k2c_include.h`` ...) is inside the installed
  package is looked up, since the generated C includes it;
* **TFLite Micro** (PyPI ``tflite-micro``: the TFLM interpreter built for the host, x86-64)
  of ``tf.lite.TFLiteConverter`` models, float32 and full-integer int8 (float in/out), the
  batch fixed to 1 and the recurrent layers unrolled (``unroll=True``); the converter's
  WHILE-loop form of the recurrent layer (no unrolling) is tried too, and what happened
  (ran, timed out, crashed) is recorded.

Measured, per implementation (``None`` where it cannot be measured here, with the reason):

* **Flash / RAM, Cortex-A9** -- C: the model object compiled alone for the Cortex-A9
  (:func:`sw.c_build.arm_footprint`): Flash = ``.text + .rodata* + .data``, RAM = ``.data +
  .bss`` + the stack of every function of the object (ours keeps its activation arena on the
  stack, so RAM includes it). TFLM: Flash = the flatbuffer (weights and graph; the TFLM
  interpreter's own code is *not* included: no ARM build of TFLM is available from PyPI or
  Debian), RAM = the tensor arena reported by TFLM's recording allocator (no stack).
* **ARM instructions per window** -- a static Cortex-A9 build of the model with a small
  driver (:data:`DRIVER`: windows read as binary float32, each output printed as the hex bits
  of its float) run under ``qemu-arm -singlestep``, instructions counted by a TCG plugin
  (:data:`PLUGIN`, built with the host ``cc``; under ``-singlestep`` its count is the number of
  ``Trace`` lines of ``-d nochain,exec``, checked on every run with both counts of one run of
  the null driver, :func:`qemu_count`). Per window = ``((count(2N) - count(N)) - (null(2N) -
  null(N))) / N`` where *null* is the same driver with a model that copies one number
  (reading and printing a window, about constant, cancels out).
* **host instructions per window** -- ``valgrind --tool=callgrind`` with collection on the
  model's entry only (ours: ``NAME_predict_window``; TFLM:
  ``tflite::micro::MicroInterpreter::Invoke()``), x86-64 ``cc -O2``; divided by N.
* **max |dp|** vs Keras over the check windows (ours: the ARM build under ``qemu-arm``;
  TFLM: the host interpreter).

Windows: real ones, :mod:`sw.fog_data` over the Daphnet recordings (``--data``), half of them
FoG windows, evenly spaced in recording order (or ``windows=`` given to :func:`run`).

The measuring parts (:func:`measure`, :func:`table_md`, :func:`notes_md`) serve
:mod:`bench.har_bench` and :mod:`bench.stress_bench` too: the window source, the model's
custom objects, the converter mode and the number of outputs are its parameters; a model of
several inputs (the stress model) gets its windows as one array per input, flattened for the
C (the inputs one after the other, as the emitted ``x``) and set input by input in TFLM (by
the flatbuffer's input names).

Install: ``apt-get install gcc-arm-linux-gnueabihf qemu-user valgrind`` (``make setup``);
``pip install tflite-micro`` (a project dependency); keras2c only by hand.
"""

import contextlib
import importlib.util
import json
import os
import re
import shutil
import subprocess
import sys
import tempfile
import threading
import time
import warnings

import numpy as np

from bench.model_cli import model_bench_parser, run_model_bench
from spec.cli import InputError
from spec.constants import SHARED_DATA
from spec.outputs import write_text_atomic
from sw import c_build, c_emit

__all__ = ["run", "measure", "markdown", "table_md", "notes_md", "main", "DRIVER", "PLUGIN",
           "qemu_count", "plugin_path", "load_model_dir", "real_windows", "tool_versions",
           "TFLM_NO_ARM", "input_shapes", "flat_windows"]

PROG = "bench.fog_bench"
INVOKE = "tflite::micro::MicroInterpreter::Invoke()"
#: environment of the programs run under qemu-arm: fixed, so the C library's start-up (which
#: walks the environment) costs the same instructions whoever runs the bench
GUEST_ENV = {"LC_ALL": "C"}
#: bytes of arena handed to the host TFLM interpreter (it reports what it used)
TFLM_ARENA = 64 << 20

DRIVER = r"""
/* fog_bench driver: WINDOWS.bin (N_IN float32 per window) -> one line of hex float bits per
 * window.  Built with the model (WO_HEADER, WO_PREDICT) or with -DWO_NULL (copy N_OUT numbers). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#ifndef WO_NULL
#include WO_HEADER
#else
__attribute__((noinline)) static int null_predict(const float *x, float *p)
{
    int j;
    for (j = 0; j < WO_N_OUT; j++)
        p[j] = x[j];
    return 0;
}
#define WO_PREDICT null_predict
#endif

static float x[WO_N_IN];
static float p[WO_N_OUT];

int main(int argc, char **argv)
{
    FILE *f;
    long i, n;
    int j;
    if (argc != 3 || !(f = fopen(argv[1], "rb"))) {
        fprintf(stderr, "usage: %s WINDOWS.bin N\n", argv[0]);
        return 2;
    }
    n = atol(argv[2]);
    for (i = 0; i < n; i++) {
        if (fread(x, sizeof x[0], WO_N_IN, f) != (size_t)WO_N_IN) {
            fprintf(stderr, "window %ld: short read\n", i);
            return 2;
        }
        WO_PREDICT(x, p);
        for (j = 0; j < WO_N_OUT; j++) {
            unsigned int u;
            memcpy(&u, &p[j], sizeof u);
            printf(j ? ",%08x" : "%08x", u);
        }
        printf("\n");
    }
    fclose(f);
    return 0;
}
"""

#: QEMU TCG plugin (API version 1, qemu 7.2): adds each executed translation block's
#: instruction count to one counter, written to ``out=FILE`` at exit. Under ``-singlestep``
#: a block is one instruction, so the count equals the ``-d exec`` Trace lines of the run.
PLUGIN = r"""
#include <stdint.h>
#include <stdio.h>
#include <string.h>
typedef uint64_t qemu_plugin_id_t;
typedef struct qemu_info_t qemu_info_t;
struct qemu_plugin_tb;
enum qemu_plugin_op { QEMU_PLUGIN_INLINE_ADD_U64 };
typedef void (*tb_trans_cb_t)(qemu_plugin_id_t id, struct qemu_plugin_tb *tb);
typedef void (*udata_cb_t)(qemu_plugin_id_t id, void *userdata);
void qemu_plugin_register_vcpu_tb_trans_cb(qemu_plugin_id_t id, tb_trans_cb_t cb);
void qemu_plugin_register_vcpu_tb_exec_inline(struct qemu_plugin_tb *tb, enum qemu_plugin_op op,
                                              void *ptr, uint64_t imm);
size_t qemu_plugin_tb_n_insns(const struct qemu_plugin_tb *tb);
void qemu_plugin_register_atexit_cb(qemu_plugin_id_t id, udata_cb_t cb, void *userdata);

__attribute__((visibility("default"))) int qemu_plugin_version = 1;
static uint64_t insns;
static char out[4096];

static void trans(qemu_plugin_id_t id, struct qemu_plugin_tb *tb)
{
    (void)id;
    qemu_plugin_register_vcpu_tb_exec_inline(tb, QEMU_PLUGIN_INLINE_ADD_U64, &insns,
                                             qemu_plugin_tb_n_insns(tb));
}

static void done(qemu_plugin_id_t id, void *p)
{
    FILE *f = fopen(out, "w");
    (void)id;
    (void)p;
    if (f) {
        fprintf(f, "%llu\n", (unsigned long long)insns);
        fclose(f);
    }
}

__attribute__((visibility("default")))
int qemu_plugin_install(qemu_plugin_id_t id, const qemu_info_t *info, int argc, char **argv)
{
    (void)info;
    if (argc < 1 || strncmp(argv[0], "out=", 4) != 0)
        return 1;
    strncpy(out, argv[0] + 4, sizeof out - 1);
    qemu_plugin_register_vcpu_tb_trans_cb(id, trans);
    qemu_plugin_register_atexit_cb(id, done, NULL);
    return 0;
}
"""

#: subprocess: Keras model -> .tflite files (batch 1; argv: model, calibration .npy, MODE,
#: CUSTOM, then OUT:UNROLL:INT8 per file); writes OUT + ".json" with bytes, op counts, seconds
#: for each. MODE "keras": ``from_keras_model`` of the model rebuilt with batch 1 (recurrent
#: layers unrolled or not); "concrete": ``from_concrete_functions`` of the model traced with a
#: batch-1 input signature, variables frozen into constants; "concrete:gelu=sigmoid": the same
#: with every GELU activation replaced by x * sigmoid(1.702 x) first (a proxy). CUSTOM: "" or
#: "module:function" returning load_model's custom_objects. A job ``--mode=MODE`` switches the
#: mode of the jobs after it.
CONVERTER = r"""
import collections, contextlib, importlib, io, json, os, re, sys, time
os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
import numpy as np
import tensorflow as tf
tf.config.threading.set_intra_op_parallelism_threads(1)
tf.config.threading.set_inter_op_parallelism_threads(1)
import keras
src, calib, mode, custom = sys.argv[1:5]
objs = None
if custom:
    mod, fn = custom.split(":")
    objs = getattr(importlib.import_module(mod), fn)()
m = keras.models.load_model(src, custom_objects=objs, compile=False)
X = np.load(calib).astype(np.float32)
shapes = [tuple(int(v) for v in i.shape[1:]) for i in m.inputs]
if len(shapes) > 1:     # several inputs: calibration windows flat, the inputs one after the other
    cut = np.cumsum([0] + [int(np.prod(s)) for s in shapes])
    def one(i):
        return [X[i:i + 1, a:b].reshape(1, *s) for a, b, s in zip(cut, cut[1:], shapes)]
else:
    def one(i):
        return [X[i:i + 1]]
def unrolled(cfg, unroll, batch1):
    for layer in cfg["layers"]:
        if layer["class_name"] in ("GRU", "LSTM", "SimpleRNN"):
            layer["config"]["unroll"] = unroll
        if layer["class_name"] == "Bidirectional":
            for k in ("layer", "backward_layer"):
                if layer["config"].get(k):
                    layer["config"][k]["config"]["unroll"] = unroll
        if batch1 and layer["class_name"] == "InputLayer":
            layer["config"]["batch_shape"] = [1] + list(layer["config"]["batch_shape"][1:])
    mm = keras.Model.from_config(cfg, custom_objects=objs)
    mm.set_weights(m.get_weights())
    return mm
for job in sys.argv[5:]:
    if job.startswith("--mode="):      # the jobs after it in another mode
        mode = job[len("--mode="):]
        continue
    out, unroll, int8 = job.rsplit(":", 2)
    t = time.time()
    if mode.endswith(":gelu=sigmoid"):
        for layer in m.layers:
            if getattr(getattr(layer, "activation", None), "__name__", "") == "gelu":
                layer.activation = lambda x: x * keras.ops.sigmoid(1.702 * x)
    if mode.startswith("concrete"):
        from tensorflow.python.framework.convert_to_constants import (
            convert_variables_to_constants_v2)
        mm = unrolled(m.get_config(), unroll == "1", False) if ":unroll" in mode else m
        if len(shapes) > 1:         # one named batch-1 argument per model input, in order
            fn = tf.function(lambda *xs: mm(list(xs), training=False))
            cf = fn.get_concrete_function(*[tf.TensorSpec([1, *s], tf.float32, name=i.name)
                                            for s, i in zip(shapes, mm.inputs)])
        else:
            fn = tf.function(lambda x: mm(x, training=False))
            cf = fn.get_concrete_function(tf.TensorSpec([1, *m.input_shape[1:]], tf.float32))
        # weights frozen into constants (else they stay VAR_HANDLE / READ_VARIABLE operators)
        c = tf.lite.TFLiteConverter.from_concrete_functions(
            [convert_variables_to_constants_v2(cf)])
    else:
        mm = unrolled(m.get_config(), unroll == "1", True)
        t = time.time()
        c = tf.lite.TFLiteConverter.from_keras_model(mm)
    if int8 == "1":
        c.optimizations = [tf.lite.Optimize.DEFAULT]
        c.representative_dataset = lambda: (one(i) for i in range(len(X)))
        c.target_spec.supported_ops = [tf.lite.OpsSet.TFLITE_BUILTINS_INT8]
    blob = c.convert()
    sec = time.time() - t
    open(out, "wb").write(blob)
    f = io.StringIO()
    with contextlib.redirect_stdout(f):
        tf.lite.experimental.Analyzer.analyze(model_content=blob)
    ops = collections.Counter(re.findall(r"Op#\d+ (\w+)", f.getvalue()))
    meta = {"bytes": len(blob), "ops": dict(sorted(ops.items())), "seconds": sec}
    if len(shapes) > 1:     # the flatbuffer's input tensors, in its order
        meta["inputs"] = [d["name"] for d in
                          tf.lite.Interpreter(model_content=blob).get_input_details()]
    json.dump(meta, open(out + ".json", "w"))
"""

#: subprocess: run a .tflite over windows with the host TFLM interpreter (argv: model, .npy
#: windows, out .npy, arena bytes[, JSON of the model inputs]); prints TFLM's allocation
#: record. With the JSON ([[TFLM input index, offset, shape], ...]) the windows are flat, the
#: inputs one after the other, each set to its TFLM input.
TFLM_RUNNER = r"""
import json, sys
import numpy as np
from tflite_micro.python.tflite_micro import runtime
blob = open(sys.argv[1], "rb").read()
X = np.load(sys.argv[2]).astype(np.float32)
it = runtime.Interpreter.from_bytes(blob, arena_size=int(sys.argv[4]))
spec = json.loads(sys.argv[5]) if len(sys.argv) > 5 else None
out = []
for i, w in enumerate(X):
    if spec:
        for j, a, shape in spec:
            n = int(np.prod(shape))
            it.set_input(w[a:a + n].reshape(1, *shape), j)
    else:
        it.set_input(w[None], 0)
    it.invoke()
    out.append(np.asarray(it.get_output(0), np.float64).ravel())
    if i == 0:
        it.print_allocations()
        sys.stdout.flush()
np.save(sys.argv[3], np.array(out))
"""


_T0 = [time.time()]
#: the tool named in the progress lines (bench.har_bench sets its own)
_WHO = [PROG]


def _say(msg):
    print(f"{_WHO[0]}: [{time.time() - _T0[0]:4.0f} s] {msg}", file=sys.stderr, flush=True)


def _env1():
    """Environment for a TensorFlow subprocess: one thread, quiet."""
    env = dict(os.environ, OMP_NUM_THREADS="1", TF_NUM_INTRAOP_THREADS="1",
               TF_NUM_INTEROP_THREADS="1", TF_CPP_MIN_LOG_LEVEL="3")
    root = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
    env["PYTHONPATH"] = os.pathsep.join([root, *filter(None, [env.get("PYTHONPATH")])])
    return env


def _keras():
    for k in ("OMP_NUM_THREADS", "TF_NUM_INTRAOP_THREADS", "TF_NUM_INTEROP_THREADS"):
        os.environ.setdefault(k, "1")
    from sw.classifiers import quiet_tensorflow
    keras = quiet_tensorflow()
    import tensorflow as tf
    with contextlib.suppress(RuntimeError):          # already initialised: keep its setting
        tf.config.threading.set_intra_op_parallelism_threads(1)
        tf.config.threading.set_inter_op_parallelism_threads(1)
    return keras


def load_model_dir(model_dir, kind="fog", producer="sw.train_fog", custom_objects=None):
    """(config dict, Keras model) of a ``producer`` model folder whose config.json is of kind
    ``kind``; InputError when it is not one. ``custom_objects``: for ``load_model``.

    Kind "fog": one (T, C) window in, p(FoG) of shape (1,) out; any other kind: one (T, C)
    window in (or, for a model of several inputs, a (T, C) window in each), a vector out."""
    cpath = os.path.join(model_dir, "config.json")
    kpath = os.path.join(model_dir, "model.keras")
    for p in (cpath, kpath):
        if not os.path.isfile(p):
            raise InputError(f"{p} not found (a model folder of python -m {producer})")
    try:
        with open(cpath) as f:
            cfg = json.load(f)
    except ValueError as e:
        raise InputError(f"{cpath}: not JSON ({e})") from None
    if not isinstance(cfg, dict) or cfg.get("kind") != kind:
        raise InputError(f"{cpath}: kind is {cfg.get('kind') if isinstance(cfg, dict) else None!r}"
                         f", not \"{kind}\"")
    keras = _keras()
    try:
        model = keras.models.load_model(kpath, custom_objects=custom_objects, compile=False)
    except (ValueError, TypeError, OSError) as e:
        raise InputError(f"{kpath}: not a loadable Keras model "
                         f"({str(e).strip().splitlines()[0][:200] if str(e).strip() else e!r})"
                         ) from None
    out = tuple(model.output_shape[1:])
    if kind != "fog" and isinstance(model.input_shape, list):      # several inputs
        shapes = [tuple(s[1:]) for s in model.input_shape]
        if any(len(s) != 2 or None in s for s in shapes) or len(out) != 1 or None in out:
            raise InputError(f"{kpath}: inputs {shapes}, output {out}; expected a (T, C) "
                             "window in each input and one vector out")
        return cfg, model
    shape = tuple(model.input_shape[1:])
    if kind == "fog":
        if len(shape) != 2 or None in shape or out != (1,):
            raise InputError(f"{kpath}: input {shape}, output {out}; "
                             "expected one (T, C) window in and p(FoG) of shape (1,) out")
    elif len(shape) != 2 or None in shape or len(out) != 1 or None in out:
        raise InputError(f"{kpath}: input {shape}, output {out}; expected one (T, C) window in "
                         "and one vector out")
    return cfg, model


def real_windows(data, n, size, hop=64, n_calib=128):
    """``n`` Daphnet windows (n, size, 9) float32 raw mg, half FoG, evenly spaced in recording
    order and shuffled; where they came from ({files, starts, fog} lists); and up to
    ``n_calib`` other windows, evenly spaced, for int8 calibration."""
    from sw import fog_data
    recs = fog_data.load_recordings([data])
    w = fog_data.Windows.concat([fog_data.make_windows(r, size, hop) for r in recs], size)
    if len(w) < n:
        raise InputError(f"--data {data}: {len(w)} windows of {size} samples, {n} needed")
    fog, rest = np.flatnonzero(w.y == 1), np.flatnonzero(w.y != 1)
    k = min(len(fog), n // 2)
    pick = np.concatenate([fog[np.linspace(0, len(fog) - 1, k).astype(int)] if k else [],
                           rest[np.linspace(0, len(rest) - 1, n - k).astype(int)]]).astype(int)
    pick = pick[np.argsort(np.random.default_rng(0).random(len(pick)))]   # mix FoG and not
    other = np.setdiff1d(np.arange(len(w)), pick)
    cal = other[np.unique(np.linspace(0, len(other) - 1, min(n_calib, len(other))).astype(int))]
    return (w.X[pick].astype(np.float32),
            {"files": [str(v) for v in w.file[pick]], "starts": [int(v) for v in w.start[pick]],
             "fog": [int(v) for v in w.y[pick]], "calibration_windows": int(len(cal))},
            w.X[cal].astype(np.float32))


# ---------------------------------------------------------------------------------- counting

def plugin_path(work_dir):
    """Build (once) the instruction-counting TCG plugin :data:`PLUGIN` with the host ``cc``
    into ``work_dir``; its path."""
    so = os.path.join(os.path.abspath(work_dir), "libfog_bench_insn.so")
    if not os.path.isfile(so):
        src = so[:-3] + ".c"
        write_text_atomic(src, PLUGIN)
        cc = os.environ.get("CC", "cc")
        r = subprocess.run([cc, "-O2", "-shared", "-fPIC", "-Wall", "-Wextra", "-Werror", src,
                            "-o", so], capture_output=True, text=True)
        if r.returncode:
            raise RuntimeError(f"{cc} {src} failed:\n{r.stderr[-1000:]}")
    return so


def qemu_count(exe, args, plugin=None, trace=False, timeout=None):
    """(guest instructions executed, stdout) of a static ARM executable under ``qemu-arm
    -singlestep`` (one translation block per instruction).

    ``plugin`` (from :func:`plugin_path`): counted by the plugin, one per block executed.
    ``trace``: counted as ``Trace`` lines of ``-d nochain,exec`` streamed through a named
    pipe (nothing written to disk; about 0.5 M instructions/s). Both: the two counts of the
    same run must be equal (else RuntimeError)."""
    if not plugin and not trace:
        raise ValueError("count with the plugin, the trace or both")
    with tempfile.TemporaryDirectory() as d:
        fifo, cfile = os.path.join(d, "trace"), os.path.join(d, "count")
        cmd = ["qemu-arm", "-singlestep"]
        if plugin:
            cmd += ["-plugin", f"{plugin},out={cfile}"]
        res = {"n": 0}
        t = None
        if trace:
            os.mkfifo(fifo)
            cmd += ["-d", "nochain,exec", "-D", fifo]

            def reader():
                n, tail = 0, b""
                with open(fifo, "rb", buffering=0) as f:
                    while True:
                        b = f.read(1 << 20)
                        if not b:
                            break
                        n += (tail + b).count(b"Trace ")
                        tail = b[-5:]
                res["n"] = n
            t = threading.Thread(target=reader, daemon=True)
            t.start()
        try:
            r = subprocess.run([*cmd, exe, *args], capture_output=True, text=True,
                               timeout=timeout, env=GUEST_ENV)
        finally:
            if t is not None:
                if t.is_alive() and not os.path.exists(cfile):
                    with contextlib.suppress(OSError):   # qemu never opened the log
                        os.close(os.open(fifo, os.O_WRONLY | os.O_NONBLOCK))
                t.join()
        if r.returncode:
            raise RuntimeError(f"qemu-arm {exe} exited {r.returncode}: "
                               f"{r.stderr.strip()[-500:]}")
        counts = []
        if plugin:
            with open(cfile) as f:
                counts.append(int(f.read()))
        if trace:
            counts.append(res["n"])
    if len(set(counts)) != 1:
        raise RuntimeError(f"qemu-arm {exe}: plugin counted {counts[0]} instructions, the "
                           f"trace {counts[1]}")
    return counts[0], r.stdout


def _callgrind(cmd, toggle, timeout=None):
    """(instructions inside ``toggle``, completed process) under callgrind."""
    with tempfile.TemporaryDirectory() as d:
        out = os.path.join(d, "cg.out")
        r = subprocess.run(["valgrind", "--tool=callgrind", f"--callgrind-out-file={out}",
                            f"--toggle-collect={toggle}", *cmd],
                           capture_output=True, text=True, timeout=timeout)
        if r.returncode:
            raise RuntimeError(f"callgrind {' '.join(cmd)} failed: {r.stderr[-1000:]}")
        with open(out) as f:
            m = re.search(r"^(?:summary|totals):\s*(\d+)", f.read(), re.M)
    return int(m.group(1)), r


def _hex_out(text):
    rows = [ln.split(",") for ln in text.splitlines() if ln]
    return np.array([[np.frombuffer(bytes.fromhex(v), ">f4")[0] for v in row] for row in rows],
                    np.float64)


def _compile(srcdir, name, out, n_in, n_out, arm, null=False):
    cc = c_build.ARM_CC if arm else os.environ.get("CC", "cc")
    drv = os.path.join(srcdir, "fog_bench_driver.c")
    write_text_atomic(drv, DRIVER)
    model = [] if null else [f'-DWO_HEADER="{name}.h"', f"-DWO_PREDICT={name}_predict_window",
                             os.path.join(srcdir, f"{name}.c")]
    cmd = [cc, *c_emit.CFLAGS, *(c_build.ARM_FLAGS + ["-static"] if arm else []), f"-I{srcdir}",
           f"-DWO_N_IN={n_in}", f"-DWO_N_OUT={n_out}", *(["-DWO_NULL"] if null else []),
           drv, *model, "-o", out]
    r = subprocess.run(cmd, capture_output=True, text=True)
    if r.returncode:
        raise RuntimeError(f"{' '.join(cmd)} failed:\n{r.stderr[-2000:]}")
    return out


def _arm_counts(exe, wfile, n, null_counts, plugin):
    c1, _ = qemu_count(exe, [wfile, str(n)], plugin)
    c2, _ = qemu_count(exe, [wfile, str(2 * n)], plugin)
    z1, z2 = null_counts
    return {"count_n": c1, "count_2n": c2, "null_count_n": z1, "null_count_2n": z2,
            "per_window": ((c2 - c1) - (z2 - z1)) / n}


# ---------------------------------------------------------------------------------- parts

def _ours(model, weights, d, X, n, wfile, cfile, null_counts, p_ref, plugin, prefix="fog",
          hop=64, int8_min_weights=None):
    name = {"float32": f"{prefix}_f32", "int8": f"{prefix}_i8"}[weights]
    src = os.path.join(d, name)
    os.makedirs(src, exist_ok=True)
    extra = {} if int8_min_weights is None else {"int8_min_weights": int(int8_min_weights)}
    h, c, info = c_emit.emit_keras_sequence(name, model, doc=f"{prefix}_bench {weights}",
                                            hop=hop, weights=weights, **extra)
    write_text_atomic(os.path.join(src, f"{name}.h"), h)
    write_text_atomic(os.path.join(src, f"{name}.c"), c)
    n_in, n_out = sum(int(np.prod(s)) for s in input_shapes(model)), int(
        np.prod(model.output_shape[1:]))
    fp = c_build.arm_footprint(src, name, src)
    arm = _compile(src, name, os.path.join(src, name + "_arm"), n_in, n_out, arm=True)
    _say(f"ours {weights}: counting ARM instructions (qemu-arm -singlestep, {n} and {2 * n} "
         "windows)")
    counts = _arm_counts(arm, wfile, n, null_counts, plugin)
    r = subprocess.run(["qemu-arm", arm, cfile, str(len(X))], capture_output=True, text=True)
    if r.returncode:
        raise RuntimeError(f"qemu-arm {arm} exited {r.returncode}: {r.stderr.strip()}")
    p = _hex_out(r.stdout)
    row = {"impl": f"ours {weights}", "kind": "ours", "weights": weights, "status": "measured",
           "flash": fp["flash"], "ram": fp["ram"], "footprint": fp,
           "arena_bytes": int(info["arena_bytes"]), "params": int(info["params"]),
           "macc": int(info["macc"]),
           "arm_instructions_per_window": counts["per_window"], "arm_counts": counts,
           "host_instructions_per_window": None,
           "max_abs_dp": float(np.max(np.abs(p - p_ref))), "check_windows": int(len(X)),
           "notes": []}
    if shutil.which("valgrind"):
        host = _compile(src, name, os.path.join(src, name + "_host"), n_in, n_out, arm=False)
        ir, _ = _callgrind([host, wfile, str(n)], f"{name}_predict_window")
        row["host_instructions_per_window"] = ir / n
    else:
        row["notes"].append("valgrind not found: no host count")
    return row


def _keras2c(model):
    """keras2c's own verdict on the model, and whether its C library is installed."""
    row = {"impl": "keras2c", "kind": "keras2c", "weights": "float32", "flash": None,
           "ram": None, "arm_instructions_per_window": None,
           "host_instructions_per_window": None, "max_abs_dp": None, "notes": []}
    spec = importlib.util.find_spec("keras2c")
    if spec is None:
        row["status"] = "not installed"
        row["notes"].append("keras2c is not installed (pip install --no-deps keras2c: it "
                            "requires the full tensorflow distribution)")
        return row
    from importlib.metadata import version
    row["version"] = version("keras2c")
    pkg = os.path.dirname(spec.origin)
    headers = [os.path.relpath(os.path.join(dp, f), pkg) for dp, _, fs in os.walk(pkg)
               for f in fs if f.startswith("k2c_") and f.endswith((".h", ".c"))]
    row["c_library_files"] = sorted(headers)
    with warnings.catch_warnings():                  # keras2c's pydantic v1 idioms
        warnings.simplefilter("ignore")
        try:
            import keras2c.check_model as k2c_check
        except TypeError as e:
            # keras2c 2.0: Keras2CConfig.update_forward_refs(keras=...) raises on pydantic >= 2.12
            import pydantic
            row["notes"].append(f"import keras2c failed ({e}); imported again with "
                                "BaseModel.update_forward_refs(**ns) -> "
                                f"model_rebuild(_types_namespace=ns) (pydantic {pydantic.VERSION})")
            for mod in [m for m in sys.modules if m == "keras2c" or m.startswith("keras2c.")]:
                del sys.modules[mod]
            old = pydantic.BaseModel.update_forward_refs

            def _ufr(cls, **ns):
                cls.model_rebuild(_types_namespace=ns)
            pydantic.BaseModel.update_forward_refs = classmethod(_ufr)
            try:
                import keras2c.check_model as k2c_check
            finally:
                pydantic.BaseModel.update_forward_refs = old
        try:
            k2c_check.check_model(model, "k2c_fog")
            row["unsupported"] = []
        except AssertionError as e:
            row["unsupported"] = [ln.strip() for ln in str(e).splitlines()[1:] if ln.strip()]
    if row["unsupported"]:
        row["status"] = "unsupported"
    elif not headers:
        row["status"] = "not measurable"
    else:
        row["status"] = "not measured"
        row["notes"].append("the model passes keras2c's check and its C library is installed; "
                            "building it is not implemented in this bench")
    if not headers:
        row["notes"].append("the generated C includes ./include/k2c_include.h and "
                            "k2c_tensor_include.h; no k2c_* file is in the installed keras2c "
                            "package, so its C cannot be compiled from PyPI material")
    return row


def _convert(model_path, calib, jobs, timeout, mode="keras", custom="", extra=()):
    """Convert in one subprocess: ``jobs`` = [(out, unroll, int8), ...] -> [(meta, error)]
    (a crash loses the jobs not done yet: each gets the error). ``mode``, ``custom``: see
    :data:`CONVERTER`; ``extra``: [(mode, jobs), ...] converted after them in the same process
    (their results follow)."""
    t = time.time()
    args = [f"{out}:{int(bool(u))}:{int(bool(i8))}" for out, u, i8 in jobs]
    for m, more in extra:
        args += [f"--mode={m}", *(f"{out}:{int(bool(u))}:{int(bool(i8))}"
                                  for out, u, i8 in more)]
    jobs = [*jobs, *(j for _, more in extra for j in more)]
    try:
        r = subprocess.run([sys.executable, "-c", CONVERTER, model_path, calib, mode, custom,
                            *args],
                           capture_output=True, text=True, env=_env1(), timeout=timeout)
        err = None
        if r.returncode:
            lines = [ln for ln in r.stderr.splitlines() if ln.strip() and not ln.startswith(
                ("I0000", "W0000", "WARNING: All log"))]
            last = ([ln for ln in lines if "rror" in ln] or [""])[-1].strip()[:300]
            how = (f"converter crashed (signal {-r.returncode})" if r.returncode < 0
                   else f"converter failed (exit {r.returncode})")
            err = f"{how}: {last}" if last else how
    except subprocess.TimeoutExpired:
        err = f"converter did not finish in {timeout:.0f} s"
    res = []
    for out, _, _ in jobs:
        if os.path.isfile(out + ".json"):
            with open(out + ".json") as f:
                meta = json.load(f)
            meta["wall_seconds"] = time.time() - t
            res.append((meta, None))
        else:
            res.append((None, err or "converter wrote nothing"))
    return res


def _tflm_run(tfl, xfile, outfile, timeout=None, callgrind=False, inputs=None):
    cmd = [sys.executable, "-c", TFLM_RUNNER, tfl, xfile, outfile, str(TFLM_ARENA),
           *([json.dumps(inputs)] if inputs else [])]
    if callgrind:
        ir, r = _callgrind(cmd, INVOKE, timeout=timeout)
    else:
        r = subprocess.run(cmd, capture_output=True, text=True, timeout=timeout, env=_env1())
        ir = None
        if r.returncode:
            how = f"signal {-r.returncode}" if r.returncode < 0 else f"exit {r.returncode}"
            err = [ln.strip() for ln in (r.stdout + "\n" + r.stderr).splitlines() if ln.strip()]
            why = ([ln for ln in err if re.search(r"rror|not (found|supported)|[Ff]ailed", ln)]
                   or err or [""])
            raise RuntimeError(f"TFLM runner {how}: {' / '.join(why[-3:])[-400:]}")
    m = re.search(r"Arena allocation total (\d+) bytes", r.stdout + r.stderr)
    return ir, (int(m.group(1)) if m else None), np.load(outfile)


#: why TFLite Micro has no Cortex-A9 figures here
TFLM_NO_ARM = ("No ARM build: no TFLM source or Cortex-A9 library on PyPI or in Debian (the "
               "tflite-micro wheel holds an x86-64 _runtime.so only)")
#: TFLM converter settings by mode: (description, stderr line)
_CONVERTER_DESC = {
    "keras": ("TFLiteConverter.from_keras_model, batch 1, recurrent layers unrolled",
              "recurrent layers unrolled"),
    "concrete": ("TFLiteConverter.from_concrete_functions, batch 1, variables frozen into "
                 "constants", "batch 1"),
    "concrete:unroll": ("TFLiteConverter.from_concrete_functions, batch 1 (one argument per "
                        "model input), variables frozen into constants, recurrent layers "
                        "unrolled", "batch 1, recurrent layers unrolled"),
    "concrete:gelu=sigmoid": (
        "TFLiteConverter.from_concrete_functions, batch 1, variables frozen into constants, "
        "every GELU activation replaced by x * sigmoid(1.702 x) before tracing (a proxy of the "
        "model, not the model: TFLM has no GELU kernel)", "batch 1, GELU -> x*sigmoid(1.702x)"),
}


def tflm_missing_ops(ops):
    """The operators of ``ops`` (TFLite builtin names) with no ``tflite::micro::Register_OP``
    symbol in the installed tflite-micro wheel's ``_runtime.so`` (None if it cannot be read)."""
    spec = importlib.util.find_spec("tflite_micro")
    if spec is None or shutil.which("nm") is None:
        return None
    so = os.path.join(os.path.dirname(spec.origin), "python", "tflite_micro", "_runtime.so")
    if not os.path.isfile(so):
        return None
    r = subprocess.run(["nm", "-DC", so], capture_output=True, text=True)
    if r.returncode:
        return None
    have = set(re.findall(r"tflite::micro::Register_(\w+)\(", r.stdout))
    return sorted(op for op in ops if op not in have)


def _tflm_inputs(inputs, names):
    """The runner's input spec ([[TFLM index, offset, shape], ...]) of the model inputs
    ``inputs`` ([[Keras name, offset, shape], ...]) given the flatbuffer's input names in its
    order (``name``, ``name:0`` or ``..._name:0``); by position where a name does not match
    exactly one. Also {Keras name: TFLM index}."""
    spec, where = [], {}
    for k, (name, a, shape) in enumerate(inputs):
        hit = [j for j, t in enumerate(names or []) if t.split(":")[0] == name
               or t.split(":")[0].endswith("_" + name)]
        j = hit[0] if len(hit) == 1 else k
        spec.append([j, a, shape])
        where[name] = j
    return spec, where


def _tflm(model_path, d, X, Xcal, n, p_ref, while_timeout, mode="keras", custom="", label="",
          also=None, converted=None, inputs=None):
    """TFLite Micro rows ``TFLite Micro float32|int8`` + ``label``, and the WHILE-loop record.

    ``also``: (mode, folder, store) -- the float32 and int8 conversions in that mode into that
    folder done in the same converter process, their results put in ``store["converted"]``
    for a later call's ``converted`` (the conversions, not done again)."""
    rows = []
    if importlib.util.find_spec("tflite_micro") is None:
        for w in ("float32", "int8"):
            rows.append({"impl": f"TFLite Micro {w}{label}", "kind": "tflm", "weights": w,
                         "status": "not installed", "flash": None, "ram": None,
                         "arm_instructions_per_window": None,
                         "host_instructions_per_window": None, "max_abs_dp": None,
                         "notes": ["tflite-micro is not installed (pip install tflite-micro)"]})
        return rows, {}
    calib = os.path.join(d, "calibration.npy")
    np.save(calib, Xcal)
    xcheck = os.path.join(d, "check.npy")
    np.save(xcheck, X)
    xcount = os.path.join(d, "count.npy")
    np.save(xcount, X[:n])
    desc, how = _CONVERTER_DESC[mode]
    jobs = [(os.path.join(d, f"tflm_{w}.tflite"), True, w == "int8") for w in ("float32", "int8")]
    if converted is not None:
        conv = converted
    else:
        extra = []
        if also:
            extra = [(also[0], [(os.path.join(also[1], f"tflm_{w}.tflite"), True, w == "int8")
                                for w in ("float32", "int8")])]
        _say(f"TFLite Micro{label}: converting float32 and int8 ({how})"
             + (f", and ({_CONVERTER_DESC[also[0]][1]})" if also else ""))
        conv = _convert(model_path, calib, jobs, 3600, mode, custom, extra)
        if also:
            also[2]["converted"], conv = conv[len(jobs):], conv[:len(jobs)]
    for w, (meta, err) in zip(("float32", "int8"), conv):
        row = {"impl": f"TFLite Micro {w}{label}", "kind": "tflm", "weights": w,
               "converter": desc + (", full-integer int8 (float in/out), calibration "
                                    f"{len(Xcal)} windows" if w == "int8" else ""),
               "flash": None, "ram": None, "arm_instructions_per_window": None,
               "host_instructions_per_window": None, "max_abs_dp": None,
               "notes": [TFLM_NO_ARM]}
        rows.append(row)
        tfl = os.path.join(d, f"tflm_{w}.tflite")
        if err:
            row["status"] = "conversion failed"
            row["notes"].append(err)
            continue
        row["flatbuffer_bytes"] = meta["bytes"]
        row["ops"] = meta["ops"]
        row["convert_seconds"] = meta["seconds"]
        row["flash"] = meta["bytes"]
        spec = None
        if inputs:
            spec, row["tflm_inputs"] = _tflm_inputs(inputs, meta.get("inputs"))
        _say(f"TFLite Micro {w}{label}: running {len(X)} windows on the host interpreter")
        try:
            _, arena, p = _tflm_run(tfl, xcheck, os.path.join(d, f"p_{w}.npy"), inputs=spec)
        except (RuntimeError, subprocess.TimeoutExpired) as e:
            row["status"] = "run failed"
            row["notes"].append(str(e).splitlines()[0][:300])
            missing = tflm_missing_ops(meta["ops"])
            if missing is not None:
                row["tflm_missing_ops"] = missing
                if missing:
                    row["notes"].append("Operators of this model with no kernel in the "
                                        "installed TFLM (no tflite::micro::Register_OP in its "
                                        "_runtime.so): " + ", ".join(missing))
            continue
        row["ram"] = row["arena_bytes"] = arena
        row["max_abs_dp"] = float(np.max(np.abs(p - p_ref)))
        row["check_windows"] = int(len(X))
        row["status"] = "partial"
        if shutil.which("valgrind"):
            _say(f"TFLite Micro {w}{label}: callgrind over {n} windows")
            try:
                ir, _, _ = _tflm_run(tfl, xcount, os.path.join(d, f"pc_{w}.npy"),
                                     callgrind=True, inputs=spec)
                row["host_instructions_per_window"] = ir / n
            except (RuntimeError, subprocess.TimeoutExpired) as e:
                row["notes"].append("callgrind run failed: " + str(e).splitlines()[0][:300])
        else:
            row["notes"].append("valgrind not found: no host count")
    # the WHILE-loop form (recurrent layer not unrolled)
    loop = {}
    if while_timeout:
        for w in ("float32", "int8"):
            tfl = os.path.join(d, f"tflm_while_{w}.tflite")
            _say(f"TFLite Micro {w}: trying the WHILE-loop form")
            (meta, err), = _convert(model_path, calib, [(tfl, False, w == "int8")], 1800,
                                    mode, custom)
            ent = {"converted": err is None, "convert_error": err}
            if meta:
                ent.update(flatbuffer_bytes=meta["bytes"], ops=meta["ops"])
                spec = _tflm_inputs(inputs, meta.get("inputs"))[0] if inputs else None
                try:
                    _, arena, p = _tflm_run(tfl, xcount, os.path.join(d, f"pw_{w}.npy"),
                                            timeout=while_timeout, inputs=spec)
                    ent.update(ran=True, arena_bytes=arena,
                               max_abs_dp=float(np.max(np.abs(p - p_ref[:n]))))
                except subprocess.TimeoutExpired:
                    ent.update(ran=False, run_error=f"{n} window(s) not done in "
                                                    f"{while_timeout:g} s")
                except RuntimeError as e:
                    ent.update(ran=False, run_error=str(e).splitlines()[0][:300])
            loop[w] = ent
    return rows, loop


# ---------------------------------------------------------------------------------- run

def tool_versions():
    out = {}
    for tool, args in ((c_build.ARM_CC, ["--version"]), ("qemu-arm", ["--version"]),
                       ("valgrind", ["--version"])):
        if shutil.which(tool):
            r = subprocess.run([tool, *args], capture_output=True, text=True)
            out[tool] = (r.stdout.splitlines() or [""])[0].strip()
    return out


def _check_tools():
    for tool, pkg in ((c_build.ARM_CC, "gcc-arm-linux-gnueabihf"), ("qemu-arm", "qemu-user")):
        if shutil.which(tool) is None:
            raise RuntimeError(f"{tool} not found (apt-get install {pkg})")


def given_windows(windows, n, m, T, C):
    """``windows`` given to a ``run``: the first ``m`` as (m, T, C) float32, checked; the
    source record; the calibration windows (the same)."""
    X = np.asarray(windows, np.float32)
    if X.ndim != 3 or X.shape[1:] != (T, C) or len(X) < 2 * n:
        raise InputError(f"windows: shape {X.shape}, need (>= {2 * n}, {T}, {C})")
    X = X[:m]
    return X, {"kind": "given", "calibration_windows": int(len(X))}, X


def input_shapes(model):
    """The shape of one window of every input of ``model`` (batch left out), in order."""
    shapes = model.input_shape
    if not isinstance(shapes, list):
        shapes = [shapes]
    return [tuple(int(v) for v in s[1:]) for s in shapes]


def flat_windows(X, shapes):
    """Windows of a several-input model, a list of (n, *shape) arrays, as (n, sum of sizes)
    float32: the inputs one after the other (the emitted C's ``x``)."""
    n = len(X[0])
    if len(X) != len(shapes) or any(np.shape(x) != (n, *s) for x, s in zip(X, shapes)):
        raise InputError(f"windows: shapes {[np.shape(x) for x in X]}, the model takes "
                         f"{[(n, *s) for s in shapes]}")
    return np.concatenate([np.asarray(x, np.float32).reshape(n, -1) for x in X], axis=1)


def measure(model, model_path, work_dir, X, Xcal, n, *, prefix="fog", hop=64, keras2c=True,
            tflm=True, while_timeout=30.0, tflm_mode="keras", custom="", int8_min_weights=None,
            tflm_proxy=None):
    """The measurements of the module docstring for a loaded Keras ``model`` (saved at
    ``model_path``, which the TFLite converter reloads, with ``custom`` = "module:function"
    giving its custom_objects), over the check windows ``X`` (the first 2N also counted;
    ``Xcal``: int8 calibration; for a model of several inputs both are lists of arrays, one
    per input, in the model's order, flattened for the C as the inputs one after the other).
    ``prefix``: C names ``PREFIX_f32``/``PREFIX_i8``; ``hop``: of
    the emitted streaming API; ``keras2c``: True/False (row "not run") or None (no row);
    ``tflm_mode``: converter mode of :data:`CONVERTER`; ``int8_min_weights``: of the emitter
    (None: its default); ``tflm_proxy``: (mode, label, operators) -- when TFLM cannot run the
    model only for lack of kernels of those operators, the model converted in that mode too
    (rows ``TFLite Micro float32|int8`` + label, marked ``proxy``). Returns (implementation
    rows, WHILE-loop record, null driver counts, method dict)."""
    shapes = input_shapes(model)
    n_in = sum(int(np.prod(s)) for s in shapes)
    n_out = int(np.prod(model.output_shape[1:]))
    inputs = None
    if len(shapes) > 1:     # several inputs: a list of arrays; flat windows from here on
        _say(f"Keras reference on {len(X[0])} windows")
        p_ref = model.predict(list(X), batch_size=32, verbose=0).reshape(
            len(X[0]), -1).astype(np.float64)
        X, Xcal = flat_windows(X, shapes), flat_windows(Xcal, shapes)
        cut = np.cumsum([0] + [int(np.prod(s)) for s in shapes])
        inputs = [[t.name, int(a), list(s)] for t, a, s in zip(model.inputs, cut, shapes)]
    else:
        _say(f"Keras reference on {len(X)} windows")
        p_ref = model.predict(X, batch_size=32, verbose=0).reshape(len(X), -1).astype(
            np.float64)
    work = os.path.abspath(work_dir)
    os.makedirs(work, exist_ok=True)
    wfile, cfile = os.path.join(work, "count.bin"), os.path.join(work, "check.bin")
    with open(wfile, "wb") as f:
        f.write(np.ascontiguousarray(X[:2 * n], "<f4").tobytes())
    with open(cfile, "wb") as f:
        f.write(np.ascontiguousarray(X, "<f4").tobytes())
    null = _compile(work, None, os.path.join(work, "null_arm"), n_in, n_out, arm=True,
                    null=True)
    plugin = plugin_path(work)
    # the plugin's count is the Trace-line count: both, on the same run of the null driver
    z1, _ = qemu_count(null, [wfile, str(n)], plugin, trace=True)
    z2, _ = qemu_count(null, [wfile, str(2 * n)], plugin)
    rows = [_ours(model, w, work, X, n, wfile, cfile, (z1, z2), p_ref, plugin, prefix, hop,
                  int8_min_weights) for w in ("float32", "int8")]
    if keras2c is not None:
        rows.append(_keras2c(model) if keras2c else
                    {"impl": "keras2c", "kind": "keras2c", "status": "not run", "notes": []})
    loop = {}
    if tflm:
        tdir = os.path.join(work, "tflm")
        os.makedirs(tdir, exist_ok=True)
        pdir, store = os.path.join(work, "tflm_proxy"), {}
        if tflm_proxy:                  # converted beside the model (one TensorFlow start-up)
            os.makedirs(pdir, exist_ok=True)
        trows, loop = _tflm(os.path.abspath(model_path), tdir, X, Xcal, n, p_ref,
                            while_timeout, tflm_mode, custom,
                            also=(tflm_proxy[0], pdir, store) if tflm_proxy else None,
                            inputs=inputs)
        rows += trows
        missing = {op for r in trows for op in r.get("tflm_missing_ops") or ()}
        if tflm_proxy and missing and missing <= set(tflm_proxy[2]):
            prows, _ = _tflm(os.path.abspath(model_path), pdir, X, Xcal, n, p_ref, 0,
                             tflm_proxy[0], custom, tflm_proxy[1],
                             converted=store.get("converted"), inputs=inputs)
            for r in prows:
                r["proxy"] = True
            rows += prows
    method = {
        "arm": f"{c_build.ARM_CC} {' '.join(c_build.ARM_FLAGS)} -O2 -static; qemu-arm "
               "-singlestep, instructions counted by a TCG plugin (equal to the -d "
               "nochain,exec Trace lines of the same run: checked on the null driver); "
               "per window = ((2N - N) - (null 2N - null N)) / N",
        "host": "valgrind --tool=callgrind, collection on the model entry only, x86-64",
        "flash_ram": "C: arm_footprint of the model object; TFLM: flatbuffer bytes and "
                     "tensor arena bytes",
    }
    return rows, loop, {"count_n": z1, "count_2n": z2, "per_window": (z2 - z1) / n}, method


def run(model_dir, work_dir, n_windows=1, n_check=64, windows=None, data=None,
        keras2c=True, tflm=True, while_timeout=30.0):
    """Benchmark the model folder ``model_dir``; scratch files go to ``work_dir``.

    ``n_windows`` (N): instruction counts from N and 2N windows; ``n_check`` windows (at least
    2N) for max |dp|. ``windows``: (n, T, C) float32 raw mg to use instead of Daphnet windows
    from ``data`` (default the shared ``fog-daphnet`` folder). ``keras2c``/``tflm``: include
    those parts; ``while_timeout``: seconds allowed to the WHILE-loop TFLM form (0: not tried).
    Returns a JSON-able dict of measured figures (see :func:`markdown`).
    """
    t0 = _T0[0] = time.time()
    _WHO[0] = PROG
    n = int(n_windows)
    if n < 1:
        raise InputError(f"n_windows must be at least 1, got {n_windows}")
    _check_tools()
    cfg, model = load_model_dir(model_dir)
    T, C = (int(v) for v in model.input_shape[1:])
    m = max(int(n_check), 2 * n)
    if windows is None:
        data = str(data or SHARED_DATA / "fog-daphnet")
        _say(f"reading Daphnet windows from {data}")
        X, origin, Xcal = real_windows(data, m, T, int(cfg.get("hop", 64)))
        source = {"kind": "daphnet", "data": data, **origin}
    else:
        X, source, Xcal = given_windows(windows, n, m, T, C)
    rows, loop, null, method = measure(
        model, os.path.join(model_dir, "model.keras"), work_dir, X, Xcal, n, prefix="fog",
        keras2c=keras2c, tflm=tflm, while_timeout=while_timeout)
    return {
        "model": {"dir": os.fspath(model_dir), "name": cfg.get("model"), "input": [T, C],
                  "params": int(model.count_params()),
                  "layers": [type(layer).__name__ for layer in model.layers]},
        "windows": {"n_count": n, "n_check": int(len(X)), **source},
        "method": method,
        "null_driver": null,
        "tools": tool_versions(),
        "implementations": rows,
        "tflm_while_loop": loop,
        "runtime_s": time.time() - t0,
    }


# ---------------------------------------------------------------------------------- report

def _num(v, fmt="{:,.0f}"):
    return "n/a" if v is None else fmt.format(v)


def table_md(rows, ms=None):
    """Markdown table lines of implementation rows; ``ms``: a function of a row giving its
    estimated milliseconds per window (a column after the ARM instructions), or None."""
    lines = ["| implementation | status | Flash B (Cortex-A9) | RAM B | ARM instr./window | "
             + ("est. ms/window | " if ms else "")
             + "x86-64 instr./window | max abs dp vs Keras |",
             "|---|---|---:|---:|---:|" + ("---:|" if ms else "") + "---:|---:|"]
    for r in rows:
        dp = r.get("max_abs_dp")
        lines.append(f"| {r['impl']} | {r['status']} | {_num(r.get('flash'))} | "
                     f"{_num(r.get('ram'))} | {_num(r.get('arm_instructions_per_window'))} | "
                     + (f"{_num(ms(r), '{:.2f}')} | " if ms else "")
                     + f"{_num(r.get('host_instructions_per_window'))} | "
                     f"{'n/a' if dp is None else f'{dp:.1e}'} |")
    return lines


def markdown(result):
    """A REPORT.md section: the table and, in words, what could not be measured and why."""
    mdl, win = result["model"], result["windows"]
    rows = result["implementations"]
    src = ("Daphnet windows (half FoG)" if win.get("kind") == "daphnet" else "given windows")
    lines = [
        f"## Freezing-of-gait model as C: ours, keras2c, TFLite Micro ({mdl['name']})", "",
        f"Model `{mdl['dir']}`: {mdl['params']:,} parameters, input {mdl['input'][0]} x "
        f"{mdl['input'][1]}. Instructions per window from {win['n_count']} and "
        f"{2 * win['n_count']} windows; max |dp| against Keras over {win['n_check']} {src}. "
        f"ARM: {result['method']['arm']}; host: {result['method']['host']}. Reading and "
        f"printing a window costs the driver {result['null_driver']['per_window']:,.0f} ARM "
        "instructions (subtracted).", "",
        *table_md(rows), "",
        *notes_md(rows, result.get("tflm_while_loop", {})),
        "", f"Bench run time {result['runtime_s']:.0f} s.", ""]
    return "\n".join(lines)


def notes_md(rows, while_loop=None):
    """Bullet lines: how each implementation's figures were made, what failed and why."""
    lines = []
    for r in rows:
        if r["kind"] == "ours":
            fp = r["footprint"]
            lines.append(f"* {r['impl']}: Flash = text {fp['text']:,} + rodata {fp['rodata']:,}"
                         f" + data {fp['data']:,}; RAM = data + bss {fp['bss']:,} + stack "
                         f"{fp['stack']:,} (the activation arena"
                         + (f", {r['arena_bytes']:,} B" if r.get("arena_bytes") else "")
                         + ", is on the stack).")
        elif r["kind"] == "keras2c":
            if r["status"] == "not run":
                continue
            what = (f"keras2c {r.get('version', '')}".strip() + ": ")
            if r["status"] == "not installed":
                lines.append(f"* {what}not installed here, so not checked.")
                continue
            if r.get("unsupported"):
                what += "its checker rejects the model: " + " ".join(r["unsupported"]) + " "
            else:
                what += "its checker accepts the model. "
            if not r.get("c_library_files"):
                what += ("The package holds no k2c_* C file, and the generated C includes its "
                         "library, so nothing of keras2c can be compiled or measured here.")
            lines.append("* " + what.strip())
        elif r["kind"] == "tflm":
            if r.get("flatbuffer_bytes") is not None:
                ops = r.get("ops", {})
                lines.append(f"* {r['impl']}: {r['converter']}; {sum(ops.values()):,} "
                             f"operators ({', '.join(f'{k} {v}' for k, v in ops.items())}). "
                             "Flash is the flatbuffer alone and RAM the tensor arena alone "
                             "(no interpreter code, no stack); instructions are the host "
                             "interpreter's. "
                             + " ".join(n.rstrip(".") + "." for n in r.get("notes", [])))
            else:
                lines.append(f"* {r['impl']}: {r['status']}; "
                             + "; ".join(r.get("notes", [])) + ".")
    for w, ent in (while_loop or {}).items():
        if not ent["converted"]:
            lines.append(f"* TFLite Micro {w}, recurrent layer as a WHILE loop (not unrolled): "
                         f"{ent['convert_error']}.")
        elif ent.get("ran"):
            lines.append(f"* TFLite Micro {w}, WHILE loop: converted "
                         f"({ent['flatbuffer_bytes']:,} B) and ran (arena "
                         f"{_num(ent.get('arena_bytes'))} B, max |dp| "
                         f"{ent['max_abs_dp']:.1e}).")
        else:
            lines.append(f"* TFLite Micro {w}, WHILE loop: converted "
                         f"({ent['flatbuffer_bytes']:,} B) but the host interpreter did not "
                         f"run it: {ent['run_error']}.")
    return lines


# ---------------------------------------------------------------------------------- CLI

def main(argv=None):
    ap = model_bench_parser(PROG, __doc__.splitlines()[0], "sw.train_fog",
                            SHARED_DATA / "fog-daphnet",
                            "Daphnet recordings (default ../shared/data/fog-daphnet)")
    ap.add_argument("--while-timeout", type=float, default=30.0,
                    help="seconds for the WHILE-loop TFLM form (0: not tried; default 30)")
    return run_model_bench(PROG, ap, argv, run, markdown,
                           extra=lambda a: dict(while_timeout=a.while_timeout))


if __name__ == "__main__":
    sys.exit(main())
