"""Shared pipeline of ``sw.train_dnn`` and ``sw.train_all``: train, score, emit C, verify, measure.

For each model: fit with the paper's 4-fold validation
(:func:`sw.classifiers.train_model`), score on the test subjects
(:mod:`sw.wo_metrics`, plot ``<model>_confusion_roc.png``), emit the C
(:mod:`sw.c_emit`, into ``c/``), compile it on the host and run every test row
through it, compare with the Python model, and -- when
``arm-linux-gnueabihf-gcc`` and ``qemu-arm`` are installed -- cross-compile for
the Cortex-A9, run under ``qemu-arm`` and compare byte for byte with the host
output; measure Flash/RAM of the ARM object (:func:`sw.c_build.arm_footprint`)
and count MACC (:func:`sw.c_emit.macc_count`).

Figures kept per model in ``metrics.json``:

* ``test``: accuracy/recall/precision/F1/AUC + confusion counts (Python model);
* ``c``: per C variant, ``label_agreement`` with the Python/Keras labels,
  ``max_abs_dscore`` (probability for DNNs), ``arm_identical`` (qemu-arm output ==
  host output, or null when the ARM tools are missing), and for int8 also
  ``int8_model_identical`` (C labels == :func:`sw.dnn_int8.predict_int8`) and the
  Table 4 metrics of the int8 labels;
* ``complexity``: Flash/RAM bytes per C variant and the MACC count;
* ``c_bounds``: the bounds below; ``c_violations``: one line per figure of ``c`` beyond its
  bound (empty when the C is what the Python model computes).

Bounds (:data:`C_BOUNDS`, the same as ``tests/test_c_models.py``): the C of a shallow model
(tree, QDA, SVM, KNN) gives the Python labels on every row and its score within
``shallow_max_rel_dscore`` of the Python score (relative, ``|d| / max(1, |score|)``); the
float32 C of a DNN gives the Keras probability within ``float_dnn_max_abs_dp`` and the Keras
label on every row further than ``float_dnn_undecided`` from p = 0.5; the int8 C gives the
labels of the int8 golden model (:func:`sw.dnn_int8.predict_int8`) on every row and the
Keras label on at least ``int8_min_label_agreement`` of them; under ``qemu-arm`` every C
prints exactly what the host build prints. ``sw.train_dnn`` and ``sw.train_all`` write
their outputs, then exit with status 1 and one line naming the first figure beyond its
bound (:func:`c_bound_violations`).

The callers write into a :class:`spec.outputs.OutputFolder`: files are built in a temporary
folder inside the target and moved in at the end, so an error leaves no half-written output,
and only the files of the tool's earlier output are ever replaced.
"""

import os
import shutil
import sys
import tempfile
import time

import numpy as np

from sw import c_build, c_emit
from sw.classifiers import DNNS, predict, train_model
from sw.dnn_int8 import predict_int8, quantize
from sw.wo_metrics import metrics, plot_confusion_roc, roc_points

__all__ = ["train_and_export", "PAPER_TABLE4", "PAPER_TABLE6", "complexity_md", "C_BOUNDS",
           "c_bound_violations", "violation_line"]

#: what the emitted C must do against the Python model it was emitted from (module doc)
C_BOUNDS = {
    "shallow_max_rel_dscore": 1e-6,
    "float_dnn_max_abs_dp": 1e-5,
    "float_dnn_undecided": 1e-6,
    "int8_min_label_agreement": 0.995,
}

#: paper Table 4 (accuracy, recall, precision, F1 %, AUC)
PAPER_TABLE4 = {
    "tree": (86.79, 79.58, 92.98, 85.76, 0.92),
    "qda": (76.50, 68.58, 81.48, 74.48, 0.84),
    "svm": (70.29, 62.25, 74.18, 67.69, 0.77),
    "knn": (82.31, 71.79, 90.92, 80.23, 0.91),
    "dnn1": (83.04, 80.87, 84.53, 82.66, 0.91),
    "dnn2": (84.33, 81.33, 86.52, 83.84, 0.91),
    "dnn3": (81.48, 81.04, 81.76, 81.40, 0.90),
    "dnn4": (83.72, 80.04, 86.41, 83.11, 0.91),
}
#: paper Table 6 (RAM kB, Flash kB, MACC) and §4.3 inference time at 8 MHz (ms)
PAPER_TABLE6 = {"dnn1": (3.13, 9.30, 2487, 2.8), "dnn2": (3.13, 5.18, 1399, 1.57),
                "dnn3": (3.13, 9.30, 2775, 3.12), "dnn4": (3.13, 1.05, 311, 0.35)}


def _say(msg):
    print(msg, file=sys.stderr, flush=True)


def _verify_c(cdir, work, cname, X, ref_label, ref_score, progress, dnn=False):
    """Host (+ ARM) run of one emitted model over X; returns (figures dict, host labels)."""
    exe = c_build.build(cdir, cname, os.path.join(work, cname))
    lab, sc, out_host = c_build.run(exe, X)
    fig = {
        "rows": int(len(X)),
        "label_agreement": float(np.mean(lab == ref_label)),
        "label_mismatches": int(np.sum(lab != ref_label)),
        "max_abs_dscore": float(np.max(np.abs(sc - ref_score))) if ref_score is not None else None,
        "arm_identical": None,
    }
    if ref_score is not None and dnn:       # rows at p = 0.5 (within float32 rounding) may flip
        decided = np.abs(np.asarray(ref_score, float) - 0.5) > C_BOUNDS["float_dnn_undecided"]
        fig["label_mismatches_decided"] = int(np.sum((lab != ref_label) & decided))
    elif ref_score is not None:
        ref = np.asarray(ref_score, float)
        fig["max_rel_dscore"] = float(np.max(np.abs(sc - ref) / np.maximum(1.0, np.abs(ref))))
    if c_build.have_arm():
        arm = c_build.build(cdir, cname, os.path.join(work, cname + ".arm"), arm=True)
        _, _, out_arm = c_build.run(arm, X, arm=True)
        fig["arm_identical"] = out_arm == out_host
    progress(
        f"  C {cname}: host labels agree on {100 * fig['label_agreement']:.2f} % of {len(X)} rows"
        + (
            f", max |d score| {fig['max_abs_dscore']:.2e}"
            if fig["max_abs_dscore"] is not None
            else ""
        )
        + (
            ""
            if fig["arm_identical"] is None
            else f", qemu-arm output {'identical' if fig['arm_identical'] else 'DIFFERENT'}"
        )
    )
    return fig, lab, sc


def train_and_export(name, ds, out, seed=0, epochs=60, progress=_say, layers=None, optimizer=None,
                     save_model=True):
    """Train one model and write its plots and C into folder ``out``; returns its result dict."""
    t = train_model(name, ds.X_train, ds.y_train, seed=seed, epochs=epochs, progress=progress,
                    layers=layers, optimizer=optimizer)
    label, score = predict(t, ds.X_test)
    m = metrics(ds.y_test, label, score)
    progress(f"{name}: test accuracy {m['accuracy']:.2f} %, recall {m['recall']:.2f} %, "
             f"precision {m['precision']:.2f} %, F1 {m['f1']:.2f} %, AUC {m['auc']:.3f} "
             f"({t.seconds:.0f} s)")
    tag = " (SYNTHETIC cohort)" if ds.synthetic else ""
    plot_confusion_roc(os.path.join(out, f"{name}_confusion_roc.png"), ds.y_test, label, score,
                       f"{name.upper()} on test subjects {', '.join(ds.test_subjects)}{tag}")
    res = {"model": name, "seconds": round(t.seconds, 1), "cv": t.cv, "test": m, "epochs": t.epochs,
           "c": {}, "complexity": {}, "roc": roc_points(ds.y_test, score)}
    if t.is_dnn:
        res["layers"] = [[int(u), a] for u, a in (layers or _spec_layers(name))]
        if save_model:
            t.model.save(os.path.join(out, f"{name}.keras"))
        from sw.classifiers import dnn_layers
        from sw.wo_state import save_dnn
        save_dnn(os.path.join(out, f"{name}_weights.npz"), dnn_layers(t.model), ds.features)
    cdir = os.path.join(out, "c")
    os.makedirs(cdir, exist_ok=True)
    files = c_emit.emit_model(t, ds.features, ds.X_train)
    for fn, text in files.items():
        if not fn.startswith("_"):
            with open(os.path.join(cdir, fn), "w") as f:
                f.write(text)
    shutil.copy(c_build.DRIVER, cdir)
    macc, macc_note = c_emit.macc_count(t, len(ds.features))
    with tempfile.TemporaryDirectory() as work:
        for fn in sorted(files):
            if not fn.endswith(".c"):
                continue
            cname = fn[:-2]
            fig, clab, csc = _verify_c(cdir, work, cname, ds.X_test, label,
                                       score if not cname.endswith("_i8") else None, progress,
                                       dnn=t.is_dnn)
            if cname.endswith("_i8"):
                ilab, _, logit = predict_int8(files["_int8"], ds.X_test)
                fig["int8_model_identical"] = bool(np.array_equal(ilab, clab))
                fig["int8_max_abs_dp"] = float(np.max(np.abs(csc - score)))
                fig["test"] = metrics(ds.y_test, clab, csc)
                l8, _, _ = predict_int8(
                    quantize(files["_layers"], ds.X_train, act_bits=8), ds.X_test
                )
                fig["int8_activations_agreement"] = float(np.mean(l8 == label))
                progress(
                    f"  C {cname}: labels == int8 golden model: {fig['int8_model_identical']}; "
                    f"max |dp| vs float Keras {fig['int8_max_abs_dp']:.4f}; "
                    f"int8 accuracy {fig['test']['accuracy']:.2f} %"
                )
            res["c"][cname] = fig
            if c_build.have_arm():
                fp = c_build.arm_footprint(cdir, cname, work)
                fp["macc"] = macc
                fp["macc_note"] = macc_note
                res["complexity"][cname] = fp
    if t.is_dnn:
        res["features"] = ds.features
    res["c_bounds"] = dict(C_BOUNDS)
    res["c_violations"] = c_bound_violations(res)
    for v in res["c_violations"]:
        progress(f"  OUTSIDE THE BOUND: {v}")
    return res, t


def c_bound_violations(res):
    """One phrase per figure of ``res["c"]`` beyond its bound (:data:`C_BOUNDS`, read now);
    empty when every C variant of the model is within its bounds.

    Each phrase names the model, the C variant, the figure and the bound, e.g.
    ``dnn4 wo_dnn4_f32: max |dp| vs Keras 3.2e-02 > bound 1e-05``.
    """
    b, out = C_BOUNDS, []
    for cname, f in res["c"].items():
        who = f"{res['model']} {cname}"
        n = f["rows"]
        if cname.endswith("_i8"):
            if f.get("int8_model_identical") is False:
                out.append(f"{who}: labels differ from the int8 golden model (bound: identical)")
            if f["label_agreement"] < b["int8_min_label_agreement"]:
                out.append(f"{who}: labels agree with Keras on {100 * f['label_agreement']:.2f} % "
                           f"of {n} rows < bound {100 * b['int8_min_label_agreement']:.2f} %")
        elif cname.endswith("_f32"):                  # float32 DNN
            if f["max_abs_dscore"] > b["float_dnn_max_abs_dp"]:
                out.append(f"{who}: max |dp| vs Keras {f['max_abs_dscore']:.2e} > bound "
                           f"{b['float_dnn_max_abs_dp']:.0e}")
            bad = f.get("label_mismatches_decided", f["label_mismatches"])
            if bad:
                out.append(f"{who}: {bad} of {n} labels differ from Keras away from p = 0.5 "
                           "(bound: 0)")
        else:                                         # shallow model
            if f.get("max_rel_dscore") is not None and \
                    f["max_rel_dscore"] > b["shallow_max_rel_dscore"]:
                out.append(f"{who}: max relative |d score| vs Python {f['max_rel_dscore']:.2e} "
                           f"> bound {b['shallow_max_rel_dscore']:.0e}")
            if f["label_mismatches"]:
                out.append(f"{who}: {f['label_mismatches']} of {n} labels differ from Python "
                           "(bound: 0)")
        if f.get("arm_identical") is False:
            out.append(f"{who}: qemu-arm output differs from the host build (bound: identical)")
    return out


def violation_line(violations):
    """The one-line reason a tool exits 1 with: the first violation, and how many more."""
    more = len(violations) - 1
    return ("C differs from the Python model beyond its bound: " + violations[0]
            + (f" (and {more} more, see report.md)" if more else ""))


def _spec_layers(name):
    from sw.classifiers import DNN_SPECS
    return DNN_SPECS[name]["layers"]


def complexity_md(results, synthetic):
    """Markdown Table 6 for every C variant of ``results`` (list of result dicts)."""
    lines = ["| C model | Flash B (text+rodata+data) | RAM B (data+bss+stack) | stack B | MACC | "
             "paper Flash kB | paper RAM kB | paper MACC |",
             "|---|---:|---:|---:|---:|---:|---:|---:|"]
    for r in results:
        for cname, fp in r["complexity"].items():
            p = PAPER_TABLE6.get(r["model"])
            lines.append(
                f"| {cname} | {fp['flash']} | {fp['ram']} | {fp['stack']} | {fp['macc']} | "
                + (f"{p[1]} | {p[0]} | {p[2]} |" if p else "- | - | - |")
            )
    lines += [
        "",
        "ARM object built with `arm-linux-gnueabihf-gcc "
        + " ".join(c_emit.CFLAGS + c_build.ARM_FLAGS)
        + " -fstack-usage`; MACC: "
        + "; ".join(
            sorted(
                {
                    f"{r['model']}: {fp['macc_note']}"
                    for r in results
                    for fp in r["complexity"].values()
                }
            )
        )
        + ". The paper's figures (X-CUBE.AI on an 8 MHz microcontroller) include its runtime "
          "library.",
    ]
    if synthetic:
        lines.append(
            "Sizes depend on the trained model only through the feature count (DNNs) or the "
            "training set (tree nodes, KNN rows) of the SYNTHETIC cohort."
        )
    return "\n".join(lines) + "\n"


def dataset_info(ds):
    return {
        "features": ds.features,
        "train_subjects": ds.train_subjects,
        "test_subjects": ds.test_subjects,
        "train_rows": int(len(ds.y_train)),
        "test_rows": int(len(ds.y_test)),
        "train_pre": int(ds.y_train.sum()),
        "test_pre": int(ds.y_test.sum()),
        "dropped_nan_rows": ds.dropped,
        "synthetic": ds.synthetic,
        "source": ds.source,
        "positive_class": "pre (Pre L-dopa, OFF)",
    }


__all__ += ["dataset_info", "DNNS", "time"]
