"""Our DNN4 C next to the same network converted by emlearn and run by TFLite Micro, in one run.

Usage::

    python -m bench.dnn_compare [--model out/dnn4] [--rows 100] [--json out/dnn_compare.json]

Reads the DNN4 written by ``python -m sw.train_dnn`` (``--model`` folder:
``dnn4.keras``, ``metrics.json``, ``c/``), folds its input BatchNorm into the
first dense layer (``W' = diag(scale) W``, ``b' = shift W + b``: the same function,
checked on the rows) and gives that network to

* **emlearn** (``emlearn.convert(..., method="loadable")``, float, ``eml_net.h``),
  compiled with the host ``cc -O2`` into a driver that calls
  ``eml_net_predict_proba`` through one non-inlined function;
* **TFLite Micro** (the ``tflite-micro`` Python package's host build of the TFLM
  interpreter), from ``tf.lite.TFLiteConverter``: a float32 model and a
  full-integer int8 model (float in/out, representative dataset = the
  training rows);

and runs our ``wo_dnn4_f32`` / ``wo_dnn4_i8`` beside them. For each: instructions
per inference counted by ``valgrind --tool=callgrind`` with collection toggled
on the inference function only (``wo_dnn4_*_predict``, the emlearn wrapper,
``tflite::MicroInterpreter::Invoke``), over ``--rows`` feature rows of the
cohort (x86-64 host instructions: repeatable, independent of machine load;
not Cortex-A9 cycles); **ARM instructions** per inference of the same code built for the
Cortex-A9 (``arm-linux-gnueabihf-gcc`` with :data:`sw.c_build.ARM_FLAGS`, ``-O2``,
``-static``) and counted under ``qemu-arm -singlestep -d nochain,exec`` (one ``Trace`` line
per executed instruction, :func:`sw.c_build.qemu_instructions`): the driver runs the model
over the rows once and twice after reading them, the difference over the rows is one
inference plus the driver's loop (:func:`sw.c_build.arm_instructions_per_call`); for our
DNNs also the decision-only entry point ``wo_dnn4_*_decide`` (no sigmoid), on both machines.
TFLite Micro's ARM figure needs a TFLM source tree (``--tflm-src``: a checkout of
tensorflow/tflite-micro whose ``tensorflow/lite/micro/tools/make/downloads`` holds
flatbuffers (with TFLM's ``flatbuffers.patch``), gemmlowp and ruy -- what its Makefile
downloads) and ``arm-linux-gnueabihf-g++``: :func:`build_tflm_arm` cross-compiles the
interpreter with the four kernels DNN4 uses and the driver :data:`TFLM_ARM_DRIVER` (counted:
input copy + ``Invoke`` + output read); ``--tflm-arm-exe`` reuses such a build. Without
either, TFLite Micro's rows have no ARM figure (the ``tflite-micro`` package is a host
build of the interpreter only);
bytes -- for the C models the ARM object
(``arm-linux-gnueabihf-gcc``, Flash = text + rodata + data, RAM = data + bss +
stack), for TFLite Micro the flatbuffer (its weights and graph, which sit in
Flash) and the tensor arena (RAM) reported by TFLM's recording allocator; the
TFLM interpreter's own code is not counted (no ARM build of it here); and the
largest |p - p_keras| over the rows.

Our float C must stay within the bound ``sw.train_dnn`` holds it to
(:data:`sw.wo_train.C_BOUNDS` ``float_dnn_max_abs_dp``): beyond it the table and ``--json``
(key ``violations``) are written all the same and the exit status is 1, with one line naming
the figure and the bound.

:func:`compare` returns the figures (``bench.report`` section ``dnn`` reads them from
``--json``): ``rows``, ``features``, ``violations`` and ``results``, one dict per
implementation with ``impl``, ``instructions`` (x86-64, callgrind), ``instructions_arm``
(Cortex-A9 build under qemu-arm; None where there is none), ``instructions_decide`` /
``instructions_decide_arm`` (our DNNs: the decision-only entry point; None for the others),
``flash``, ``ram``, ``max_abs_dp`` and for some a ``note``.

Install: ``pip install emlearn tflite-micro``; ``apt-get install valgrind
gcc-arm-linux-gnueabihf qemu-user`` (``make setup`` does all).
"""

import json
import os
import re
import shutil
import subprocess
import sys
import tempfile

import numpy as np

from spec.cli import InputError, fail, parser
from spec.constants import DEFAULT_OUT
from spec.outputs import check_output_file, write_json_atomic
from sw import c_build

PROG = "bench.dnn_compare"
#: about this many training rows calibrate the int8 TFLite conversion
CALIBRATION_ROWS = 500

EML_DRIVER = r"""
#include <stdio.h>
#include <stdlib.h>
#include "eml_dnn4.h"

__attribute__((noinline)) float eml_dnn4_run(const float *x)
{
    float out[2];
    eml_net_predict_proba(&eml_dnn4, x, N_FEATURES, out, 2);
    return out[1];
}

/* usage: prog [--repeat R]: with R, read every row first, run R passes over them and print
 * the last pass only (ARM instruction counts: count(R = 2) - count(R = 1)), as
 * sw/c/wo_predict_main.c */
int main(int argc, char **argv)
{
    char line[4096];
    long n = 0, r, k, repeat = argc > 2 ? strtol(argv[2], NULL, 10) : 0;
    float *rows = malloc(sizeof(float) * N_FEATURES * 8192);   /* heap: not in the RAM figure */
    if (!rows)
        return 2;
    while (fgets(line, sizeof line, stdin)) {
        float *x = rows + (repeat ? n : 0) * N_FEATURES;
        char *p = line, *end;
        int i;
        for (i = 0; i < N_FEATURES; i++) {
            x[i] = strtof(p, &end);
            p = end + 1;
        }
        if (!repeat)
            printf("%.9g\n", (double)eml_dnn4_run(x));
        else if (++n == 8192)
            return 2;
    }
    for (r = 0; r < repeat; r++)
        for (k = 0; k < n; k++) {
            float p = eml_dnn4_run(rows + k * N_FEATURES);
            if (r == repeat - 1)
                printf("%.9g\n", (double)p);
        }
    free(rows);
    return 0;
}
"""

#: TFLite Micro on the Cortex-A9: ``prog MODEL.tflite [--repeat R] < rows`` (as the C drivers)
TFLM_ARM_DRIVER = r"""
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <vector>
#include "tensorflow/lite/micro/micro_interpreter.h"
#include "tensorflow/lite/micro/micro_mutable_op_resolver.h"
#include "tensorflow/lite/schema/schema_generated.h"

alignas(16) static uint8_t arena[16 * 1024];
alignas(16) static uint8_t model_buf[64 * 1024];

__attribute__((noinline)) static float run(tflite::MicroInterpreter &it, const float *x, int n)
{
    TfLiteTensor *in = it.input(0);
    if (in->type == kTfLiteFloat32) {
        for (int i = 0; i < n; i++) in->data.f[i] = x[i];
    } else {
        for (int i = 0; i < n; i++) {
            long v = lroundf(x[i] / in->params.scale) + in->params.zero_point;
            in->data.int8[i] = (int8_t)(v < -128 ? -128 : v > 127 ? 127 : v);
        }
    }
    if (it.Invoke() != kTfLiteOk) exit(3);
    TfLiteTensor *out = it.output(0);
    if (out->type == kTfLiteFloat32) return out->data.f[0];
    return (out->data.int8[0] - out->params.zero_point) * out->params.scale;
}

int main(int argc, char **argv)
{
    FILE *f = argc > 1 ? fopen(argv[1], "rb") : nullptr;
    if (!f) return 2;
    size_t len = fread(model_buf, 1, sizeof model_buf, f);
    fclose(f);
    if (len == 0 || len == sizeof model_buf) return 2;
    long repeat = argc > 3 ? strtol(argv[3], nullptr, 10) : 1;
    static tflite::MicroMutableOpResolver<4> resolver;
    resolver.AddFullyConnected();
    resolver.AddLogistic();
    resolver.AddQuantize();
    resolver.AddDequantize();
    static tflite::MicroInterpreter it(tflite::GetModel(model_buf), resolver, arena,
                                       sizeof arena);
    if (it.AllocateTensors() != kTfLiteOk) return 4;
    int n = it.input(0)->dims->data[1];
    std::vector<float> rows;
    char line[4096];
    while (fgets(line, sizeof line, stdin)) {
        char *p = line, *end;
        for (int i = 0; i < n; i++) { rows.push_back(strtof(p, &end)); p = end + 1; }
    }
    size_t m = rows.size() / n;
    for (long r = 0; r < repeat; r++)
        for (size_t k = 0; k < m; k++) {
            float y = run(it, &rows[k * n], n);
            if (r == repeat - 1) printf("%.9g\n", (double)y);
        }
    return 0;
}
"""
#: TFLM sources of the interpreter and the kernels of DNN4 (relative to a tflite-micro tree)
TFLM_SOURCES = [f"tensorflow/lite/micro/{f}.cc" for f in (
    "debug_log", "flatbuffer_utils", "memory_helpers", "micro_allocation_info",
    "micro_allocator", "micro_context", "micro_interpreter", "micro_interpreter_context",
    "micro_interpreter_graph", "micro_log", "micro_op_resolver", "micro_resource_variable",
    "micro_time", "micro_utils", "arena_allocator/non_persistent_arena_buffer_allocator",
    "arena_allocator/persistent_arena_buffer_allocator",
    "arena_allocator/single_arena_buffer_allocator", "memory_planner/greedy_memory_planner",
    "memory_planner/linear_memory_planner", "memory_planner/non_persistent_buffer_planner_shim",
    "tflite_bridge/flatbuffer_conversions_bridge", "tflite_bridge/micro_error_reporter",
    "kernels/fully_connected", "kernels/fully_connected_common", "kernels/logistic",
    "kernels/logistic_common", "kernels/quantize", "kernels/quantize_common",
    "kernels/dequantize", "kernels/dequantize_common", "kernels/kernel_util")] + [
    "tensorflow/lite/core/api/flatbuffer_conversions.cc",
    "tensorflow/lite/core/api/tensor_utils.cc", "tensorflow/lite/core/c/common.cc"]
#: directories of further sources, every non-test ``.cc`` in them
TFLM_SOURCE_DIRS = ["tensorflow/lite/kernels/internal", "tensorflow/lite/kernels",
                    "tensorflow/compiler/mlir/lite/core/api",
                    "tensorflow/compiler/mlir/lite/schema"]
ARM_CXX = "arm-linux-gnueabihf-g++"


def build_tflm_arm(tflm_src, out, jobs=2):
    """Cross-compile TFLite Micro + :data:`TFLM_ARM_DRIVER` into the static ARM program ``out``.

    ``tflm_src``: a tensorflow/tflite-micro tree with flatbuffers, gemmlowp and ruy in
    ``tensorflow/lite/micro/tools/make/downloads`` (see the module docstring). The flags are
    :data:`sw.c_build.ARM_FLAGS`, ``-O2``, ``-static``, C++17 without RTTI and exceptions,
    ``TF_LITE_STATIC_MEMORY`` (TFLM's own build settings). Returns ``out``.
    """
    from concurrent.futures import ThreadPoolExecutor
    if shutil.which(ARM_CXX) is None:
        raise RuntimeError(f"{ARM_CXX} not found (apt-get install g++-arm-linux-gnueabihf)")
    dl = os.path.join(tflm_src, "tensorflow/lite/micro/tools/make/downloads")
    srcs = [os.path.join(tflm_src, f) for f in TFLM_SOURCES]
    for sub in TFLM_SOURCE_DIRS:
        srcs += sorted(os.path.join(tflm_src, sub, f)
                       for f in os.listdir(os.path.join(tflm_src, sub))
                       if f.endswith(".cc") and not f.endswith("_test.cc"))
    flags = ["-std=c++17", "-O2", *c_build.ARM_FLAGS, "-fno-rtti", "-fno-exceptions",
             "-DTF_LITE_STATIC_MEMORY", "-DNDEBUG", "-ffunction-sections", "-fdata-sections",
             f"-I{tflm_src}", f"-I{dl}/flatbuffers/include", f"-I{dl}/gemmlowp", f"-I{dl}/ruy"]
    with tempfile.TemporaryDirectory() as d:
        main_cc = os.path.join(d, "tflm_arm_main.cc")
        with open(main_cc, "w") as f:
            f.write(TFLM_ARM_DRIVER)

        def compile_one(k_src):
            k, src = k_src
            obj = os.path.join(d, f"{k}.o")
            r = subprocess.run([ARM_CXX, *flags, "-c", src, "-o", obj], capture_output=True,
                               text=True)
            if r.returncode:
                raise RuntimeError(f"{ARM_CXX} -c {src} failed:\n{r.stderr[-2000:]}")
            return obj

        with ThreadPoolExecutor(max_workers=jobs) as ex:
            objs = list(ex.map(compile_one, enumerate(srcs + [main_cc])))
        r = subprocess.run([ARM_CXX, "-static", "-Wl,--gc-sections", *objs, "-o", out],
                           capture_output=True, text=True)
        if r.returncode:
            raise RuntimeError(f"{ARM_CXX} link failed:\n{r.stderr[-2000:]}")
    return out


TFLM_RUNNER = r"""
import sys, numpy as np
from tflite_micro.python.tflite_micro import runtime
model = open(sys.argv[1], "rb").read()
X = np.load(sys.argv[2]).astype(np.float32)
it = runtime.Interpreter.from_bytes(model, arena_size=64 * 1024)
out = []
for i, row in enumerate(X):
    it.set_input(row[None, :], 0)
    it.invoke()
    out.append(float(np.asarray(it.get_output(0)).ravel()[0]))
    if i == 0:
        it.print_allocations()
np.save(sys.argv[3], np.array(out))
"""


def _callgrind(cmd, toggle, n, stdin=None):
    with tempfile.TemporaryDirectory() as d:
        out = os.path.join(d, "cg.out")
        r = subprocess.run(
            [
                "valgrind",
                "--tool=callgrind",
                f"--callgrind-out-file={out}",
                f"--toggle-collect={toggle}",
                *cmd,
            ],
            input=stdin,
            capture_output=True,
            text=True,
        )
        if r.returncode:
            raise RuntimeError(f"callgrind {' '.join(cmd)} failed: {r.stderr[-2000:]}")
        with open(out) as f:
            m = re.search(r"^(?:summary|totals):\s*(\d+)", f.read(), re.M)
    return int(m.group(1)) / n, r


def fold_batchnorm(model):
    """Keras DNN -> the same network without the BatchNorm layer (folded into Dense 1)."""
    from sw.classifiers import dnn_layers, quiet_tensorflow
    keras = quiet_tensorflow()
    layers = dnn_layers(model)
    scale, shift = layers["norm"]
    (W1, b1, a1), *rest = layers["dense"]
    W1f = (scale[:, None].astype(np.float64) * W1).astype(np.float32)
    b1f = (shift.astype(np.float64) @ W1 + b1).astype(np.float32)
    seq = keras.Sequential(
        [keras.Input(shape=(W1.shape[0],))]
        + [keras.layers.Dense(W.shape[1], activation=a) for W, _, a in [(W1, b1, a1)] + rest]
    )
    seq.set_weights([W1f, b1f] + [w for W, b, _ in rest for w in (W, b)])
    return seq


def _arm_bytes(src_dir, name, extra_inc=()):
    with tempfile.TemporaryDirectory() as work:
        obj = os.path.join(work, name + ".o")
        cmd = [
            c_build.ARM_CC,
            "-std=c99",
            "-O2",
            *c_build.ARM_FLAGS,
            "-fstack-usage",
            *[f"-I{i}" for i in extra_inc],
            f"-I{src_dir}",
            "-c",
            os.path.join(src_dir, name + ".c"),
            "-o",
            obj,
        ]
        subprocess.run(cmd, check=True, capture_output=True, text=True, cwd=work)
        size = subprocess.run(
            [c_build.ARM_SIZE, "-A", obj], capture_output=True, text=True, check=True
        ).stdout
        sec = {
            m.group(1): int(m.group(2)) for m in re.finditer(r"^(\.\S+)\s+(\d+)\s+\d+", size, re.M)
        }
        stack = sum(
            int(ln.split("\t")[1])
            for ln in open(os.path.join(work, name + ".su"))
            if "\t" in ln and "main" not in ln.split("\t")[0]
        )
    rodata = sum(v for k, v in sec.items() if k.startswith(".rodata"))
    return {"flash": sec.get(".text", 0) + rodata + sec.get(".data", 0),
            "ram": sec.get(".data", 0) + sec.get(".bss", 0) + stack}


def _ours(cdir, d, X, rows_text, p_ref, arm):
    out = []
    for name in ("wo_dnn4_f32", "wo_dnn4_i8"):
        exe = c_build.build(cdir, name, os.path.join(d, name))
        ipc, r = _callgrind([exe], f"{name}_predict", len(X), rows_text)
        ipc_d, _ = _callgrind([exe, "--decide"], f"{name}_decide", len(X), rows_text)
        p = np.array([float(ln.split(",")[1]) for ln in r.stdout.splitlines()])
        fp = c_build.arm_footprint(cdir, name, d)
        row = {"impl": f"ours {name}", "instructions": ipc, "instructions_arm": None,
               "instructions_decide": ipc_d, "instructions_decide_arm": None,
               "flash": fp["flash"], "ram": fp["ram"],
               "max_abs_dp": float(np.max(np.abs(p - p_ref)))}
        if arm:
            exe = c_build.build(cdir, name, os.path.join(d, name + ".arm"), arm=True)
            row["instructions_arm"] = c_build.arm_instructions_per_call(exe, rows_text, len(X))
            row["instructions_decide_arm"] = c_build.arm_instructions_per_call(
                exe, rows_text, len(X), ["--decide"])
        out.append(row)
    return out


def _emlearn(folded, d, n, X, rows_text, p_ref, arm):
    import emlearn
    cwd = os.getcwd()
    os.chdir(d)                  # emlearn.convert compiles a test copy under ./tmp
    try:
        eml = emlearn.convert(folded, method="loadable")
    finally:
        os.chdir(cwd)
    eml.save(name="eml_dnn4", file=os.path.join(d, "eml_dnn4.h"))
    with open(os.path.join(d, "eml_dnn4.c"), "w") as f:
        f.write(f"#define N_FEATURES {n}\n" + EML_DRIVER)
    row = {"impl": "emlearn (float, folded BN)", "instructions_arm": None,
           "instructions_decide": None, "instructions_decide_arm": None,
           "note": "ARM bytes include the driver's main() and libm calls are not linked"}
    for cc, flags, exe in (("cc", [], os.path.join(d, "eml_dnn4")),
                           (c_build.ARM_CC, [*c_build.ARM_FLAGS, "-static"],
                            os.path.join(d, "eml_dnn4.arm"))):
        if flags and not arm:
            continue
        subprocess.run([cc, "-std=c99", "-O2", *flags, f"-I{emlearn.includedir}", f"-I{d}",
                        os.path.join(d, "eml_dnn4.c"), "-o", exe, "-lm"],
                       check=True, capture_output=True, text=True)
        if flags:
            one = c_build.qemu_instructions([exe, "--repeat", "1"], rows_text)
            two = c_build.qemu_instructions([exe, "--repeat", "2"], rows_text)
            row["instructions_arm"] = (two - one) / len(X)
        else:
            ipc, r = _callgrind([exe], "eml_dnn4_run", len(X), rows_text)
            p = np.array([float(ln) for ln in r.stdout.splitlines()])
            row["instructions"] = ipc
            row["max_abs_dp"] = float(np.max(np.abs(p - p_ref)))
    fp = _arm_bytes(d, "eml_dnn4", [emlearn.includedir])
    row.update(flash=fp["flash"], ram=fp["ram"])
    return row


def compare(model_dir, cohort, rows=100, arm=None, tflm_arm_exe=None):
    """Our DNN4 C, emlearn and TFLite Micro on ``rows`` test rows of ``cohort``.

    Parameters
    ----------
    model_dir : str
        ``sw.train_dnn`` output folder (``dnn4.keras``, ``metrics.json``, ``c/``).
    cohort : str
        Cohort folder the model was trained on.
    rows : int
        Feature rows of the test subjects to run.
    arm : bool or None
        Count ARM instructions (qemu-arm); None: when ``arm-linux-gnueabihf-gcc`` and
        ``qemu-arm`` are installed.
    tflm_arm_exe : str or None
        A :func:`build_tflm_arm` program: TFLite Micro's ARM counts (else None in its rows).

    Returns
    -------
    dict
        ``rows``, ``features``, ``fold_max_abs_dp``, ``results`` (one dict per
        implementation, keys in the module docstring) and ``violations``
        (:func:`c_violations`).
    """
    from sw.classifiers import quiet_tensorflow
    from sw.wo_data import load_table, make_dataset
    keras = quiet_tensorflow()
    import tensorflow as tf
    if arm is None:
        arm = c_build.have_arm()
    meta = json.load(open(os.path.join(model_dir, "metrics.json")))
    feats = meta["dataset"]["features"]
    df, cmeta = load_table(cohort)
    ds = make_dataset(df, cmeta, train=meta["dataset"]["train_subjects"], select=feats)
    X = ds.X_test[np.random.default_rng(0).permutation(len(ds.X_test))[:rows]].astype(np.float32)
    n = X.shape[1]
    model = keras.models.load_model(os.path.join(model_dir, "dnn4.keras"))
    p_ref = model.predict(X, verbose=0)[:, 0]
    folded = fold_batchnorm(model)
    p_fold = folded.predict(X, verbose=0)[:, 0]
    rows_text = c_build.format_rows(X)
    with tempfile.TemporaryDirectory() as d:
        results = _ours(os.path.join(model_dir, "c"), d, X, rows_text, p_ref, arm)
        results.append(_emlearn(folded, d, n, X, rows_text, p_ref, arm))
        # TFLite Micro, float and int8
        conv = tf.lite.TFLiteConverter.from_keras_model(folded)
        tfl_f32 = conv.convert()
        conv = tf.lite.TFLiteConverter.from_keras_model(folded)
        conv.optimizations = [tf.lite.Optimize.DEFAULT]
        Xtr = ds.X_train.astype(np.float32)
        step = max(1, len(Xtr) // CALIBRATION_ROWS)
        conv.representative_dataset = lambda: ([Xtr[i:i + 1]] for i in range(0, len(Xtr), step))
        conv.target_spec.supported_ops = [tf.lite.OpsSet.TFLITE_BUILTINS_INT8]
        tfl_i8 = conv.convert()
        np.save(os.path.join(d, "X.npy"), X)
        runner = os.path.join(d, "tflm_run.py")
        with open(runner, "w") as f:
            f.write(TFLM_RUNNER)
        for label, blob in (("TFLite Micro float32", tfl_f32), ("TFLite Micro int8", tfl_i8)):
            mp = os.path.join(d, "m.tflite")
            with open(mp, "wb") as f:
                f.write(blob)
            ipc, r = _callgrind(
                [sys.executable, runner, mp, os.path.join(d, "X.npy"), os.path.join(d, "p.npy")],
                "tflite::micro::MicroInterpreter::Invoke()",
                len(X),
            )
            p = np.load(os.path.join(d, "p.npy"))
            arm_ipc, arm_note = None, ("no ARM count (the tflite-micro package is a host build; "
                                       "bench.dnn_compare --tflm-src builds one)")
            if arm and tflm_arm_exe:
                one = c_build.qemu_instructions([tflm_arm_exe, mp, "--repeat", "1"], rows_text)
                two = c_build.qemu_instructions([tflm_arm_exe, mp, "--repeat", "2"], rows_text)
                arm_ipc = (two - one) / len(X)
                arm_note = "ARM count: input copy + Invoke + output read, per inference"
            m = re.search(
                r"\[RecordingMicroAllocator\] Arena allocation total (\d+) bytes", r.stderr
            )
            results.append(
                {
                    "impl": label,
                    "instructions": ipc,
                    "instructions_arm": arm_ipc,
                    "instructions_decide": None,
                    "instructions_decide_arm": None,
                    "flash": len(blob),
                    "ram": int(m.group(1)) if m else None,
                    "max_abs_dp": float(np.max(np.abs(p - p_ref))),
                    "note": "Flash = flatbuffer only (interpreter code not counted); RAM = "
                            "tensor arena; " + arm_note,
                }
            )
    return {"rows": len(X), "features": feats,
            "fold_max_abs_dp": float(np.max(np.abs(p_fold - p_ref))),
            "results": results, "violations": c_violations(results)}


def _fmt(v):
    return "-" if v is None else f"{v:.0f}"


def main(argv=None):
    ap = parser(PROG, __doc__.splitlines()[0])
    ap.add_argument("--model", default=str(DEFAULT_OUT / "dnn4"), help="sw.train_dnn output folder")
    ap.add_argument("--cohort", default=str(DEFAULT_OUT / "cohort"))
    ap.add_argument("--rows", type=int, default=100)
    ap.add_argument("--json", help="also write the figures as JSON")
    ap.add_argument("--no-arm", action="store_true",
                    help="skip the ARM instruction counts (qemu-arm)")
    ap.add_argument("--tflm-src", help="tflite-micro source tree (with its downloads): "
                    "cross-build TFLite Micro for the ARM counts (minutes)")
    ap.add_argument("--tflm-arm-exe", help="a TFLite Micro ARM program built by --tflm-src "
                    "(bench.dnn_compare.build_tflm_arm) to reuse")
    a = ap.parse_args(argv)
    for tool, how in (
        ("valgrind", "apt-get install valgrind"),
        (c_build.ARM_CC, "apt-get install gcc-arm-linux-gnueabihf"),
    ):
        if shutil.which(tool) is None:
            return fail(PROG, f"{tool} not found ({how})")
    if not a.no_arm and shutil.which("qemu-arm") is None:
        return fail(PROG, "qemu-arm not found (apt-get install qemu-user; or --no-arm)")
    try:
        import emlearn  # noqa: F401
        import tflite_micro  # noqa: F401
    except ImportError as e:
        return fail(PROG, f"{e.name} not installed (pip install emlearn tflite-micro)")
    if a.json:
        try:
            check_output_file(a.json, option="--json")
        except InputError as e:
            return fail(PROG, e)
    kpath = os.path.join(a.model, "dnn4.keras")
    if not os.path.isfile(kpath):
        return fail(PROG, f"{kpath} not found (run python -m sw.train_dnn first)")
    tflm_exe = a.tflm_arm_exe
    with tempfile.TemporaryDirectory() as tdir:
        if a.tflm_src and not a.no_arm and not tflm_exe:
            try:
                tflm_exe = build_tflm_arm(a.tflm_src, os.path.join(tdir, "tflm_arm"))
            except (OSError, RuntimeError) as e:
                return fail(PROG, f"--tflm-src: {e}")
        res = compare(a.model, a.cohort, a.rows, arm=not a.no_arm, tflm_arm_exe=tflm_exe)
    results = res["results"]
    print(
        f"DNN4 ({len(res['features'])} features, {res['rows']} rows of the cohort's test "
        f"subjects; BN-folded copy max |dp| {res['fold_max_abs_dp']:.1e})"
    )
    print(
        "| implementation | instructions / inference (callgrind, x86-64) | ARM instructions / "
        "inference (qemu-arm, Cortex-A9 build) | decide only x86 / ARM | Flash B | RAM B | "
        "max abs dp vs Keras |"
    )
    print("|---|---:|---:|---:|---:|---:|---:|")
    for r in results:
        dec = ("-" if r["instructions_decide"] is None else
               f"{_fmt(r['instructions_decide'])} / {_fmt(r['instructions_decide_arm'])}")
        print(
            f"| {r['impl']} | {r['instructions']:.0f} | {_fmt(r['instructions_arm'])} | {dec} | "
            f"{r['flash']} | {r['ram'] if r['ram'] is not None else '-'} "
            f"| {r['max_abs_dp']:.1e} |"
        )
    print("Paper (X-CUBE.AI, 8 MHz MCU): 311 MACC, Flash 1.05 kB, RAM 3.13 kB, ~350 us/inference. "
          "TFLite Micro Flash = model flatbuffer only; C rows = ARM object of the model.")
    violations = res["violations"]
    if a.json:
        write_json_atomic(a.json, {"rows": res["rows"], "features": res["features"],
                                   "results": results, "violations": violations},
                          sort_keys=False)
    if violations:
        return fail(PROG, "C differs from the Python model beyond its bound: " + violations[0], 1)
    return 0


def c_violations(results):
    """Our float C beyond its bound against Keras (one phrase each; empty: within bounds)."""
    from sw.wo_train import C_BOUNDS
    bound = C_BOUNDS["float_dnn_max_abs_dp"]
    return [f"dnn4 {r['impl'].removeprefix('ours ')}: max |dp| vs Keras {r['max_abs_dp']:.2e} > "
            f"bound {bound:.0e}"
            for r in results if r["impl"].endswith("_f32") and r["impl"].startswith("ours ")
            and not r["max_abs_dp"] <= bound]


if __name__ == "__main__":
    sys.exit(main())
