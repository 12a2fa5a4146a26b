"""Train activity recognition on UCI HAPT subject-wise (DIN beside a 1-D CNN) and emit verified C.

Usage::

    python -m sw.train_har                                # DIN + CNN, 6 classes, 5 folds
    python -m sw.train_har --classes 12 --out out/har12
    python -m sw.train_har --models din --folds 3 --epochs 6 --out out/har_quick

Steps: (1) read the HAPT raw signals (:mod:`sw.har_data`: 2.56 s windows of 128 samples, hop
64, inside labelled segments; acc in g, gyro in rad/s; the six basic activities, or the
twelve classes with the postural transitions); (2) split the subjects into ``--folds``
subject-wise folds (:func:`sw.har_data.subject_folds`: no subject in two folds, folds
balanced by windows); for every fold and every model of ``--models`` train on the other folds'
windows (:func:`train_one`: Adam, cosine-decayed learning rate from :data:`LR`, batch 64,
each epoch's training windows rotated by a random 3-D rotation of up to :data:`ROTATION_DEG`
degrees about each axis, accelerometer and gyroscope alike: the phone is never worn twice
the same way) and classify the held-out subjects' windows, in Keras and in the emitted C
(float32 and int8 weights, host ``cc``); (3) pool the held-out predictions: accuracy,
macro-F1, per-class F1, confusion matrix (:mod:`sw.har_metrics`) -- for Keras and for the
int8 C, the deployed arithmetic; (4) the final models on every window; their C
(:func:`sw.c_emit.emit_keras_sequence`) checked on every window on the host and on
``--arm-windows`` evenly spaced windows under ``qemu-arm`` (output identical to the host's),
and their Cortex-A9 Flash/RAM (``arm-linux-gnueabihf-size``).

Verification bounds: float32 C within :data:`C_TOL` of Keras with the same class on every
window; int8 C classes equal to the float Keras model's on at least :data:`INT8_AGREEMENT` of
the windows; the ARM output byte-identical to the host's. When one fails, everything is
written all the same and the tool exits 1 with one line.

TensorFlow runs on one thread (:func:`sw.classifiers.one_thread`): reproducible.

Output folder (default ``out/har``), written atomically (:class:`spec.outputs.OutputFolder`):

=========================  ==========================================================
``model.keras``            the final DIN (or the first of ``--models``), the deployed one
``<name>.keras``           every final model by name (``din.keras``, ``cnn.keras``)
``config.json``            kind "har", classes, class names, window, hop, fs, channels,
                           units, normalisation, model, model_file, seed, epochs
``metrics.json``           "evaluation": "subject-wise k-fold"; per model: pooled Keras and
                           int8-C metrics, per fold, params, MACs, C checks and sizes
``REPORT.md``              the figures in words
``plots/``                 ``confusion_<name>.png`` (pooled held-out windows)
``c/``                     ``har_<name>.c/.h`` (float32) and ``har_<name>_i8.c/.h`` (int8)
=========================  ==========================================================

Bad input (missing data, an --out folder this tool did not write, a bad option) prints one
``sw.train_har: error: ...`` line and exits 2, writing nothing.
"""

import os
import sys
import tempfile
import time

import numpy as np

from spec.cli import (
    HANDLED,
    InputError,
    compiler_failure,
    error_status,
    fail,
    parser,
    without_option,
)
from spec.constants import DEFAULT_OUT, SHARED_DATA
from spec.outputs import (
    OutputFolder,
    check_block_files,
    update_blocks,
    write_json_atomic,
    write_text_atomic,
)
from sw import c_verify, har_data, har_model, har_plots
from sw.c_layers import FLOAT_C_TOL
from sw.classifiers import one_thread
from sw.har_metrics import classification_metrics

__all__ = ["PROG", "C_TOL", "INT8_AGREEMENT", "ROTATION_DEG", "LR", "EPOCHS", "FOLDS",
           "train_one", "augment", "c_check", "c_violations", "report_md", "readme_block",
           "readme_summary", "readme_blocks", "update_readme", "run", "main", "README_MARKERS",
           "SUMMARY_MARKERS"]

PROG = "sw.train_har"
#: |float32 C - Keras| bound on every class probability
C_TOL = FLOAT_C_TOL
#: int8 C classes equal to the float Keras model's on at least this fraction of windows
INT8_AGREEMENT = 0.98
#: largest random rotation about each axis during training, degrees
ROTATION_DEG = 15.0
#: initial learning rate (cosine decay to 0 over the epochs)
LR = 2e-3
#: default epochs per model
EPOCHS = 12
#: default number of subject-wise folds
FOLDS = 5
#: windows run under qemu-arm per final model by default
ARM_WINDOWS = 256


def _say(msg):
    print(msg, file=sys.stderr, flush=True)


def _f(v, fmt=".3f"):
    return "n/a" if v is None or v != v else format(v, fmt)


def _rotations(rng, n, deg):
    a = np.deg2rad(rng.uniform(-deg, deg, (n, 3)))
    c, s = np.cos(a), np.sin(a)
    z, o = np.zeros(n), np.ones(n)
    rx = np.stack([o, z, z, z, c[:, 0], -s[:, 0], z, s[:, 0], c[:, 0]], 1).reshape(n, 3, 3)
    ry = np.stack([c[:, 1], z, s[:, 1], z, o, z, -s[:, 1], z, c[:, 1]], 1).reshape(n, 3, 3)
    rz = np.stack([c[:, 2], -s[:, 2], z, s[:, 2], c[:, 2], z, z, z, o], 1).reshape(n, 3, 3)
    return rz @ ry @ rx


def augment(X, rng, deg=ROTATION_DEG):
    """Every window (n, T, 6) rotated by its own random rotation (up to ``deg`` degrees about
    each axis), the accelerometer (channels 0-2) and the gyroscope (3-5) by the same one."""
    if deg <= 0:
        return X
    R = _rotations(rng, len(X), deg).astype(np.float32)
    acc = np.einsum("ntc,ndc->ntd", X[:, :, :3], R)
    gyr = np.einsum("ntc,ndc->ntd", X[:, :, 3:], R)
    return np.concatenate([acc, gyr], axis=2).astype(np.float32)


def train_one(name, X, y, classes, seed, epochs, label):
    """Model ``name`` trained on windows (X, y): normalisation from X, Adam with a cosine-decayed
    learning rate, :func:`augment` redrawn every epoch, progress on stderr."""
    from sw.classifiers import quiet_tensorflow
    keras = quiet_tensorflow()
    keras.utils.set_random_seed(seed)
    rng = np.random.default_rng(seed)
    mean, var = har_model.channel_stats(X)
    model = har_model.build(name, X.shape[2], X.shape[1], classes, mean, var)
    steps = epochs * ((len(X) + 63) // 64)
    model.compile(optimizer=keras.optimizers.Adam(keras.optimizers.schedules.CosineDecay(
        LR, steps)), loss="sparse_categorical_crossentropy")
    for ep in range(epochs):
        t = time.perf_counter()
        h = model.fit(augment(X, rng), y.astype(np.int64), batch_size=64, epochs=1, verbose=0,
                      shuffle=True)
        _say(f"{label}: epoch {ep + 1}/{epochs} loss {h.history['loss'][-1]:.4f} "
             f"({time.perf_counter() - t:.1f} s)")
    return model, mean, var


def _predict(model, X):
    return model.predict(X, batch_size=256, verbose=0).astype(np.float64)


def _emit(tmp, cname, model, weights, doc):
    from sw import c_emit
    h, c, info = c_emit.emit_keras_sequence(cname, model, doc=doc, hop=har_data.HOP,
                                            weights=weights)
    write_text_atomic(os.path.join(tmp, f"{cname}.h"), h)
    write_text_atomic(os.path.join(tmp, f"{cname}.c"), c)
    return info


def c_check(entries, tmp, arm_index=None):
    """:func:`sw.c_verify.c_check` (cname -> (X, Keras probabilities, weights))."""
    return c_verify.c_check(entries, tmp, arm_index, name="har_check")


def c_violations(checks):
    """One line per C check outside its bound (module docstring)."""
    return c_verify.violations(checks, C_TOL, INT8_AGREEMENT)


def run(a, folder, argv):
    from sw import c_build
    t0 = time.perf_counter()
    W = har_data.load_windows(a.data, classes=a.classes)
    if len(W) == 0:
        raise InputError(f"--data {a.data}: no window inside a labelled segment")
    if len(W.subjects) < a.folds:
        raise InputError(f"--folds {a.folds}: the data has {len(W.subjects)} subjects")
    names = W.names
    folds = har_data.subject_folds(W, a.folds, a.seed)
    for f in folds:
        if len(set(W.y[f.train].tolist())) < 2:
            raise InputError(f"holding out subjects {list(f.subjects)}: the other subjects have "
                             "fewer than two classes")
    _say(f"{len(W)} windows of {len(W.subjects)} subjects, {a.classes} classes; "
         f"{len(folds)} subject-wise folds; models {', '.join(a.models)}")
    arm = c_build.have_arm()
    res_models = {m: {"folds": []} for m in a.models}
    held = {m: {"p": [], "p_c8": [], "y": []} for m in a.models}
    fold_checks = {}
    for k, f in enumerate(folds):
        entries = {}
        with tempfile.TemporaryDirectory() as tmp:
            for m in a.models:
                label = f"fold {k + 1}/{len(folds)} {m} (subjects {list(f.subjects)} held out)"
                model, _, _ = train_one(m, W.X[f.train], W.y[f.train], a.classes,
                                        a.seed + 100 * k, a.epochs, label)
                p = _predict(model, W.X[f.test])
                for wf, suffix in (("float32", ""), ("int8", "_i8")):
                    cname = f"har_{m}_fold{k + 1}{suffix}"
                    _emit(tmp, cname, model, wf, f"{m} fold {k + 1}")
                    entries[cname] = (W.X[f.test], p, wf)
                held[m]["p"].append(p)
                held[m]["y"].append(W.y[f.test])
            checks, outs = c_check(entries, tmp)
        fold_checks.update(checks)
        for m in a.models:
            p = held[m]["p"][-1]
            p8 = outs[f"har_{m}_fold{k + 1}_i8"]
            held[m]["p_c8"].append(p8)
            mk = classification_metrics(W.y[f.test], p.argmax(1), names)
            m8 = classification_metrics(W.y[f.test], p8.argmax(1), names)
            res_models[m]["folds"].append({
                "subjects": list(f.subjects), "n_train": int(len(f.train)),
                "n_test": int(len(f.test)), "accuracy": mk["accuracy"],
                "macro_f1": mk["macro_f1"], "int8_c_macro_f1": m8["macro_f1"]})
            _say(f"fold {k + 1}: {m}: accuracy {_f(mk['accuracy'])}, macro-F1 "
                 f"{_f(mk['macro_f1'])} (int8 C {_f(m8['macro_f1'])})")
    plots = {}
    finals, infos = {}, {}
    for m in a.models:
        y = np.concatenate(held[m]["y"])
        p = np.concatenate(held[m]["p"])
        p8 = np.concatenate(held[m]["p_c8"])
        res_models[m]["pooled"] = classification_metrics(y, p.argmax(1), names)
        res_models[m]["pooled_int8_c"] = classification_metrics(y, p8.argmax(1), names)
        model, mean, var = train_one(m, W.X, W.y, a.classes, a.seed + 100 * len(folds),
                                     a.epochs, f"final {m} (all windows)")
        finals[m] = (model, mean, var)
    arm_index = c_verify.arm_index(len(W), a.arm_windows) if arm and a.arm_windows != 0 else None
    if not arm:
        _say(f"{PROG}: arm-linux-gnueabihf-gcc not found: the C is checked on the host only")
    with folder as tmp:
        os.makedirs(os.path.join(tmp, "c"))
        os.makedirs(os.path.join(tmp, "plots"))
        entries = {}
        for m, (model, _, _) in finals.items():
            model.save(os.path.join(tmp, f"{m}.keras"))
            p = _predict(model, W.X)
            for wf, suffix in (("float32", ""), ("int8", "_i8")):
                cname = f"har_{m}{suffix}"
                infos[cname] = _emit(
                    os.path.join(tmp, "c"), cname, model, wf,
                    f"activity recognition {m} (sw.train_har, seed {a.seed}, {a.classes} "
                    f"classes, {wf} weights): class probabilities per 2.56 s window of raw "
                    f"acc (g) and gyro (rad/s) samples, classes in order: {', '.join(names)}")
                entries[cname] = (W.X, p, wf)
        with tempfile.TemporaryDirectory() as scratch:
            import shutil
            for cname in entries:
                for ext in (".c", ".h"):
                    shutil.copy(os.path.join(tmp, "c", cname + ext), scratch)
            checks, _ = c_check(entries, scratch, arm_index)
            sizes = {}
            if arm:
                for cname in entries:
                    sizes[cname] = c_build.arm_footprint(scratch, cname, scratch)
        for m in a.models:
            plots[m] = "plots/" + har_plots.confusion(
                os.path.join(tmp, "plots", f"confusion_{m}.png"),
                res_models[m]["pooled"]["confusion"], names,
                f"{m}, held-out subjects ({len(folds)} subject-wise folds), "
                f"macro-F1 {_f(res_models[m]['pooled']['macro_f1'])}")
            i32, i8 = infos[f"har_{m}"], infos[f"har_{m}_i8"]
            res_models[m].update({
                "description": har_model.MODELS[m], "params": int(i32["params"]),
                "macc_per_window": int(i32["macc"]), "arena_bytes": int(i32["arena_bytes"]),
                "float32_param_bytes": int(i32["param_bytes"]),
                "int8_param_bytes": int(i8["param_bytes"]),
                "arm": {"float32": sizes.get(f"har_{m}"), "int8": sizes.get(f"har_{m}_i8")},
                "confusion_png": plots[m]})
        deployed = a.models[0]
        finals[deployed][0].save(os.path.join(tmp, "model.keras"))
        _, mean, var = finals[deployed]
        config = {"kind": "har", "model": deployed, "models": list(a.models),
                  "model_file": "model.keras", "seed": a.seed, "epochs": a.epochs,
                  "classes": a.classes, "class_names": names,
                  "window": har_data.WINDOW, "hop": har_data.HOP, "fs": har_data.FS,
                  "channels": list(har_data.CHANNELS), "units": list(har_data.UNITS),
                  "sizes": har_model.DIN if deployed == "din" else har_model.CNN,
                  "normalisation": {"kind": "frozen_batchnorm", "layer": "normalise",
                                    "epsilon": har_model.NORM_EPS, "mean": mean.tolist(),
                                    "variance": var.tolist(),
                                    "note": "per-channel affine from the training windows, "
                                            "first layer of the model (the C does it too)"},
                  "augmentation": {"rotation_deg": ROTATION_DEG},
                  "c": f"c/har_{deployed}.c", "c_int8": f"c/har_{deployed}_i8.c"}
        all_checks = {**fold_checks, **checks}
        res = {"evaluation": "subject-wise k-fold", "folds": a.folds, "seed": a.seed,
               "epochs": a.epochs, "classes": a.classes, "class_names": names,
               "n_windows": int(len(W)), "subjects": W.subjects,
               "fold_subjects": [list(f.subjects) for f in folds],
               "counts": W.counts(), "models": res_models,
               "c": {"checks": all_checks, "tolerance": C_TOL,
                     "int8_agreement_bound": INT8_AGREEMENT,
                     "arm_checked": arm_index is not None}}
        res["command"] = " ".join(["python -m " + PROG, *argv])
        res["runtime_s"] = time.perf_counter() - t0
        res["c"]["violations"] = c_violations(all_checks)
        write_json_atomic(os.path.join(tmp, "config.json"), config, sort_keys=False)
        write_json_atomic(os.path.join(tmp, "metrics.json"), res, sort_keys=False)
        write_text_atomic(os.path.join(tmp, "REPORT.md"), report_md(res))
    return res


def _sizes_line(r):
    arm = r["arm"]["int8"]
    if not arm:
        return f"int8 weights {r['int8_param_bytes']} B (ARM toolchain not found: no Flash/RAM)"
    return f"int8 C on the Cortex-A9: {arm['flash']} B Flash, {arm['ram']} B RAM"


#: goal of the issue: macro-F1 on held-out subjects, six classes
GOAL_MACRO_F1 = 0.95


def _goal_line(res):
    """The issue's goals, judged from the pooled figures (six classes, DIN vs the CNN)."""
    m = res["models"]
    if res["classes"] != 6 or "din" not in m:
        return ""
    f1 = m["din"]["pooled"]["macro_f1"]
    text = (f"Goal macro-F1 >= {GOAL_MACRO_F1:.2f} for `din` on the six classes: "
            f"{'met' if f1 >= GOAL_MACRO_F1 else 'not met'} ({_f(f1)})")
    if "cnn" in m:
        ahead = f1 > m["cnn"]["pooled"]["macro_f1"]
        text += f"; ahead of the CNN baseline: {'yes' if ahead else 'no'}"
    return text + "."


def report_md(res):
    """REPORT.md: every figure read from ``res``."""
    names = res["class_names"]
    lines = [f"# Activity recognition, {res['classes']} classes ({res['evaluation']})", "",
             f"`{res['command']}` -- {res['n_windows']} windows of {len(res['subjects'])} "
             f"subjects (UCI HAPT raw signals), {res['folds']} subject-wise folds: no subject "
             "is in two folds; every figure below is on held-out subjects, pooled over the "
             f"folds. {res['epochs']} epochs per model, seed {res['seed']}; "
             f"{res['runtime_s']:.0f} s.", "",
             "| model | params | MACs/window | accuracy | macro-F1 | int8 C macro-F1 | "
             "int8 C Flash | int8 C RAM |", "|---|---:|---:|---:|---:|---:|---:|---:|"]
    for m, r in res["models"].items():
        arm = r["arm"]["int8"] or {}
        lines.append(f"| `{m}` | {r['params']} | {r['macc_per_window']} | "
                     f"{_f(r['pooled']['accuracy'])} | {_f(r['pooled']['macro_f1'])} | "
                     f"{_f(r['pooled_int8_c']['macro_f1'])} | {arm.get('flash', 'n/a')} | "
                     f"{arm.get('ram', 'n/a')} |")
    if _goal_line(res):
        lines += ["", _goal_line(res)]
    lines += ["", "Per-class F1 (held-out subjects, Keras):", "",
              "| class | " + " | ".join(f"`{m}`" for m in res["models"]) + " | windows |",
              "|---|" + "---:|" * (len(res["models"]) + 1)]
    first = next(iter(res["models"].values()))
    for n in names:
        lines.append(f"| {n} | " + " | ".join(_f(r["pooled"]["per_class_f1"][n])
                                             for r in res["models"].values())
                     + f" | {first['pooled']['support'][n]} |")
    lines += ["", "Per fold (macro-F1, Keras / int8 C):", ""]
    for m, r in res["models"].items():
        lines.append(f"- `{m}`: " + "; ".join(
            f"subjects {','.join(map(str, f['subjects']))}: {_f(f['macro_f1'])} / "
            f"{_f(f['int8_c_macro_f1'])}" for f in r["folds"]))
    chk = res["c"]["checks"]
    f32 = [c for c in chk.values() if c["weights"] == "float32"]
    i8 = [c for c in chk.values() if c["weights"] == "int8"]
    arm = [c for c in chk.values() if c["arm_identical"] is not None]
    lines += ["", "## C verification", "",
              f"- float32 C vs Keras: max |dp| {max(c['max_abs_dp'] for c in f32):.2e} over "
              f"{sum(c['windows'] for c in f32)} window runs (bound {res['c']['tolerance']:g}), "
              f"classes identical: {all(c['classes_identical'] for c in f32)}.",
              f"- int8 C classes equal to float Keras on at least "
              f"{100 * min(c['class_agreement'] for c in i8):.2f}% of the windows (bound "
              f"{100 * res['c']['int8_agreement_bound']:g}%).",
              (f"- qemu-arm (Cortex-A9 build) output identical to the host's on "
               f"{sum(c['arm_windows'] for c in arm)} window runs: "
               f"{all(c['arm_identical'] for c in arm)}." if arm else
               "- qemu-arm: not run (no ARM toolchain)."),
              f"- violations: {'; '.join(res['c']['violations']) or 'none'}.", ""]
    for m, r in res["models"].items():
        lines.append(f"Confusion matrix of `{m}`: `{r['confusion_png']}`.")
    return "\n".join(lines) + "\n"


README_MARKERS = (f"<!-- har:start (written by python -m {PROG} --readme) -->",
                  "<!-- har:end -->")


def readme_block(res):
    """The README block: subject-wise figures of every model, the int8 C's size, the command."""
    rows = ["| subject-wise " f"{res['folds']}-fold, {res['classes']} classes | params | "
            "MACs/window | accuracy | macro-F1 | int8 C macro-F1 | int8 C Flash / RAM |",
            "|---|---:|---:|---:|---:|---:|---:|"]
    for m, r in res["models"].items():
        arm = r["arm"]["int8"]
        size = f"{arm['flash']} B / {arm['ram']} B" if arm else "n/a"
        rows.append(f"| `{m}` | {r['params']} | {r['macc_per_window']} | "
                    f"{_f(r['pooled']['accuracy'])} | {_f(r['pooled']['macro_f1'])} | "
                    f"{_f(r['pooled_int8_c']['macro_f1'])} | {size} |")
    worst = {}
    for m, r in res["models"].items():
        f1 = {k: v for k, v in r["pooled"]["per_class_f1"].items() if v is not None}
        worst[m] = min(f1, key=f1.get)
    chk = res["c"]["checks"]
    f32 = [c for c in chk.values() if c["weights"] == "float32"]
    arm = [c for c in chk.values() if c["arm_identical"] is not None]
    text = "\n".join(rows) + "\n\n"
    if _goal_line(res):
        text += _goal_line(res) + " "
    text += ("Lowest per-class F1: " + "; ".join(
        f"`{m}` {w} ({_f(res['models'][m]['pooled']['per_class_f1'][w])})"
        for m, w in worst.items()) + ". ")
    text += (f"float32 C within {max(c['max_abs_dp'] for c in f32):.1e} of Keras on "
             f"{sum(c['windows'] for c in f32)} window runs"
             + (f"; qemu-arm output identical to the host's on "
                f"{sum(c['arm_windows'] for c in arm)} window runs" if arm and
                all(c['arm_identical'] for c in arm) else "") + ".\n\n"
             + f"*`{res['command']}` ({res['n_windows']} windows of "
             f"{len(res['subjects'])} subjects; {res['runtime_s']:.0f} s).*\n")
    return text


SUMMARY_MARKERS = ("<!-- har:summary:start -->", "<!-- har:summary:end -->")


def readme_summary(res):
    """The README's one-item summary: the first model's subject-wise figures beside the
    others', its int8 C's figure and Flash, the command."""
    (m, r), *others = res["models"].items()
    arm = r["arm"]["int8"]
    text = (f"- **Activity recognition**, `{m}` on UCI HAPT, subject-wise {res['folds']}-fold "
            f"({res['classes']} classes): accuracy {_f(r['pooled']['accuracy'])}, macro-F1 "
            f"{_f(r['pooled']['macro_f1'])}"
            + "".join(f" (`{o}` {_f(q['pooled']['macro_f1'])})" for o, q in others)
            + f"; int8 C macro-F1 {_f(r['pooled_int8_c']['macro_f1'])}")
    if arm:
        text += f", {arm['flash']} B Flash, {arm['ram']} B RAM"
    return text + f". `{without_option(res['command'], '--readme')}`\n"


def readme_blocks(res):
    """The (start, end, body) blocks a run writes: the full table and the summary."""
    return [(*README_MARKERS, readme_block(res)), (*SUMMARY_MARKERS, readme_summary(res))]


def update_readme(path, res):
    """Rewrite the HAR blocks (:func:`readme_blocks`) of the Markdown file at ``path``; False
    if none of their markers is there."""
    return bool(update_blocks([path], readme_blocks(res), "", say=lambda m: None)[str(path)])


def _models(value):
    names = [v.strip() for v in value.split(",") if v.strip()]
    bad = [n for n in names if n not in har_model.MODELS]
    if not names or bad or len(set(names)) != len(names):
        raise ValueError(value)
    return names


def main(argv=None):
    ap = parser(PROG, __doc__.splitlines()[0])
    ap.add_argument("--data", default=str(SHARED_DATA / "har-hapt" / "RawData"),
                    help="HAPT RawData folder (acc_expXX_userYY.txt, gyro_..., labels.txt; "
                         "default ../shared/data/har-hapt/RawData)")
    ap.add_argument("--out", default=str(DEFAULT_OUT / "har"),
                    help="output folder (default out/har)")
    ap.add_argument("--classes", type=int, default=6, choices=(6, 12),
                    help="6 basic activities (default) or 12 with the postural transitions")
    ap.add_argument("--models", default="din,cnn",
                    help="comma-separated, the first is deployed (model.keras; default din,cnn)")
    ap.add_argument("--folds", type=int, default=FOLDS,
                    help=f"subject-wise folds (default {FOLDS})")
    ap.add_argument("--epochs", type=int, default=EPOCHS,
                    help=f"epochs per model (default {EPOCHS})")
    ap.add_argument("--seed", type=int, default=0, help="training and fold seed (default 0)")
    ap.add_argument("--arm-windows", type=int, default=ARM_WINDOWS,
                    help=f"windows per final model run under qemu-arm (default {ARM_WINDOWS}; "
                         "-1: all; 0: none)")
    ap.add_argument("--force", action="store_true",
                    help="replace an earlier output of this tool in --out")
    ap.add_argument("--readme", action="append", metavar="FILE",
                    help="after a run whose checks pass, also rewrite the HAR figure blocks "
                         "(har and har:summary markers) in this Markdown file; may be given "
                         "more than once (make har: README.md and docs/wearable-models.md)")
    args = sys.argv[1:] if argv is None else list(argv)
    a = ap.parse_args(args)
    try:
        a.models = _models(a.models)
    except ValueError:
        ap.error(f"--models {a.models!r}: a comma-separated list of distinct names from "
                 f"{', '.join(har_model.MODELS)}")
    if a.epochs < 1:
        ap.error("--epochs must be at least 1")
    if a.folds < 2:
        ap.error("--folds must be at least 2")
    if a.arm_windows < -1:
        ap.error("--arm-windows must be -1 (all), 0 (none) or a number of windows")
    try:
        if not os.path.isdir(a.data):
            raise InputError(f"--data {a.data}: no such folder")
        har_data.find_experiments(a.data)
        check_block_files(a.readme)
        folder = OutputFolder(a.out, PROG, force=a.force)
        one_thread()
        res = run(a, folder, args)
    except HANDLED as e:
        return error_status(PROG, e)
    except RuntimeError as e:           # a C compiler missing or failing: its output, one line
        return compiler_failure(PROG, e)
    print(f"wrote {a.out}/ (model.keras, config.json, metrics.json, REPORT.md, plots/, c/) in "
          f"{res['runtime_s']:.0f} s")
    for m, r in res["models"].items():
        print(f"{m}: subject-wise pooled accuracy {_f(r['pooled']['accuracy'])}, macro-F1 "
              f"{_f(r['pooled']['macro_f1'])} (int8 C {_f(r['pooled_int8_c']['macro_f1'])}), "
              f"{r['params']} params, {r['macc_per_window']} MACs/window")
    if res["c"]["violations"]:
        return fail(PROG, "C differs from Keras: " + "; ".join(res["c"]["violations"]), 1)
    update_blocks(a.readme, readme_blocks(res), "HAR figure")
    return 0


if __name__ == "__main__":
    sys.exit(main())
