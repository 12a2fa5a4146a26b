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
not Cortex-A9 cycles); bytes -- for the C models the ARM object
(``arm-linux-gnueabihf-gcc``, Flash = text + rodata + data, RAM = data + bss +
stack), for TFLite Micro the flatbuffer (its weights and graph, which sit in
Flash) and the tensor arena (RAM) reported by TFLM's recording allocator; the
TFLM interpreter's own code is not counted (no ARM build of it here); and the
largest |p - p_keras| over the rows.

Our float C must stay within the bound ``sw.train_dnn`` holds it to
(:data:`sw.wo_train.C_BOUNDS` ``float_dnn_max_abs_dp``): beyond it the table and ``--json``
(key ``violations``) are written all the same and the exit status is 1, with one line naming
the figure and the bound.

Install: ``pip install emlearn tflite-micro``; ``apt-get install valgrind
gcc-arm-linux-gnueabihf`` (``make setup`` does all).
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

int main(void)
{
    char line[4096];
    while (fgets(line, sizeof line, stdin)) {
        float x[N_FEATURES];
        char *p = line, *end;
        int i;
        for (i = 0; i < N_FEATURES; i++) {
            x[i] = strtof(p, &end);
            p = end + 1;
        }
        printf("%.9g\n", (double)eml_dnn4_run(x));
    }
    return 0;
}
"""

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


def main(argv=None):
    ap = parser(PROG, __doc__.splitlines()[0])
    ap.add_argument("--model", default=str(DEFAULT_OUT / "dnn4"), help="sw.train_dnn output folder")
    ap.add_argument("--cohort", default=str(DEFAULT_OUT / "cohort"))
    ap.add_argument("--rows", type=int, default=100)
    ap.add_argument("--json", help="also write the figures as JSON")
    a = ap.parse_args(argv)
    for tool, how in (
        ("valgrind", "apt-get install valgrind"),
        (c_build.ARM_CC, "apt-get install gcc-arm-linux-gnueabihf"),
    ):
        if shutil.which(tool) is None:
            return fail(PROG, f"{tool} not found ({how})")
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
    import emlearn

    from sw.classifiers import quiet_tensorflow
    from sw.wo_data import load_table, make_dataset
    keras = quiet_tensorflow()
    import tensorflow as tf
    meta = json.load(open(os.path.join(a.model, "metrics.json")))
    feats = meta["dataset"]["features"]
    df, cmeta = load_table(a.cohort)
    ds = make_dataset(df, cmeta, train=meta["dataset"]["train_subjects"], select=feats)
    X = ds.X_test[np.random.default_rng(0).permutation(len(ds.X_test))[:a.rows]].astype(np.float32)
    n = X.shape[1]
    model = keras.models.load_model(kpath)
    p_ref = model.predict(X, verbose=0)[:, 0]
    folded = fold_batchnorm(model)
    p_fold = folded.predict(X, verbose=0)[:, 0]
    rows_text = c_build.format_rows(X)
    results = []
    with tempfile.TemporaryDirectory() as d:
        # ours
        cdir = os.path.join(a.model, "c")
        for name in ("wo_dnn4_f32", "wo_dnn4_i8"):
            exe = c_build.build(cdir, name, os.path.join(d, name))
            ipc, r = _callgrind([exe], f"{name}_predict", len(X), rows_text)
            p = np.array([float(ln.split(",")[1]) for ln in r.stdout.splitlines()])
            fp = c_build.arm_footprint(cdir, name, d)
            results.append(
                {
                    "impl": f"ours {name}",
                    "instructions": ipc,
                    "flash": fp["flash"],
                    "ram": fp["ram"],
                    "max_abs_dp": float(np.max(np.abs(p - p_ref))),
                }
            )
        # emlearn
        cwd = os.getcwd()
        os.chdir(d)                  # emlearn.convert compiles a test copy under ./tmp
        try:
            eml = emlearn.convert(folded, method="loadable")
        finally:
            os.chdir(cwd)
        eml.save(name="eml_dnn4", file=os.path.join(d, "eml_dnn4.h"))
        with open(os.path.join(d, "eml_dnn4.c"), "w") as f:
            f.write(f"#define N_FEATURES {n}\n" + EML_DRIVER)
        exe = os.path.join(d, "eml_dnn4")
        subprocess.run(
            [
                "cc",
                "-std=c99",
                "-O2",
                f"-I{emlearn.includedir}",
                f"-I{d}",
                os.path.join(d, "eml_dnn4.c"),
                "-o",
                exe,
                "-lm",
            ],
            check=True,
            capture_output=True,
            text=True,
        )
        ipc, r = _callgrind([exe], "eml_dnn4_run", len(X), rows_text)
        p = np.array([float(ln) for ln in r.stdout.splitlines()])
        fp = _arm_bytes(d, "eml_dnn4", [emlearn.includedir])
        results.append(
            {
                "impl": "emlearn (float, folded BN)",
                "instructions": ipc,
                "flash": fp["flash"],
                "ram": fp["ram"],
                "max_abs_dp": float(np.max(np.abs(p - p_ref))),
                "note": "ARM bytes include the driver's main() and libm calls are not linked",
            }
        )
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
            m = re.search(
                r"\[RecordingMicroAllocator\] Arena allocation total (\d+) bytes", r.stderr
            )
            results.append(
                {
                    "impl": label,
                    "instructions": ipc,
                    "flash": len(blob),
                    "ram": int(m.group(1)) if m else None,
                    "max_abs_dp": float(np.max(np.abs(p - p_ref))),
                    "note": "Flash = flatbuffer only (interpreter code not counted); RAM = "
                            "tensor arena",
                }
            )
    print(
        f"DNN4 ({n} features, {len(X)} rows of the cohort's test subjects; BN-folded copy max |dp| "
        f"{np.max(np.abs(p_fold - p_ref)):.1e})"
    )
    print(
        "| implementation | instructions / inference (callgrind, x86-64) | Flash B | RAM B | "
        "max abs dp vs Keras |"
    )
    print("|---|---:|---:|---:|---:|")
    for r in results:
        print(
            f"| {r['impl']} | {r['instructions']:.0f} | {r['flash']} | "
            f"{r['ram'] if r['ram'] is not None else '-'} "
            f"| {r['max_abs_dp']:.1e} |"
        )
    print("Paper (X-CUBE.AI, 8 MHz MCU): 311 MACC, Flash 1.05 kB, RAM 3.13 kB, ~350 us/inference. "
          "TFLite Micro Flash = model flatbuffer only; C rows = ARM object of the model.")
    violations = c_violations(results)
    if a.json:
        write_json_atomic(a.json, {"rows": len(X), "features": feats, "results": results,
                                   "violations": violations}, sort_keys=False)
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
