"""Train all eight classifiers of the paper's Table 2 and compare them (Tables 4 and 6).

Usage::

    python -m sw.train_all                    # default SYNTHETIC cohort -> out/classifiers
    python -m sw.train_all --models tree,dnn4 --out out/some
    python -m sw.train_all --features mine/*.csv

Same data handling and options as ``python -m sw.train_dnn`` (cohort built if
missing, Table 1 selection on the training subjects, subject-wise split, 4-fold
validation). Writes, atomically, into ``--out`` (default ``out/classifiers``; its own earlier
output there is replaced with ``--force``, a folder it did not write is refused):

* ``table4.md`` / ``table4.csv`` -- accuracy, recall, precision, F1, AUC of every
  model on the test subjects, next to the paper's Table 4;
* ``table6.md`` -- Flash / RAM / MACC of every emitted C model (ARM objects);
* ``<model>_confusion_roc.png`` -- confusion matrix + ROC per model;
* ``c/`` -- the C of every model (``wo_tree``, ``wo_qda``, ``wo_svm``,
  ``wo_knn``, ``wo_dnnK_f32``, ``wo_dnnK_i8``) and the test driver;
* ``metrics.json`` -- everything, per model (keys: :mod:`sw.wo_train`);
* ``report.md`` -- one page with all of it.

About 5 minutes on 2 cores for the default cohort (the four DNNs dominate).

Every emitted C is run on the test rows and compared with its Python model; when a figure is
beyond its bound (:data:`sw.wo_train.C_BOUNDS`) the outputs are written all the same (the
report lists the failing figures) and the tool exits with status 1 and one line naming the
model, the figure and the bound.
"""

import os
import sys
import time

from spec.cli import HANDLED, InputError, error_status, fail, parser
from spec.constants import DEFAULT_OUT
from spec.outputs import OutputFolder, write_csv_atomic, write_json_atomic, write_text_atomic
from sw.classifiers import MODELS
from sw.train_dnn import LEGACY, add_data_args, bounds_md, load_dataset, table1_md
from sw.wo_train import (
    PAPER_TABLE4,
    complexity_md,
    dataset_info,
    train_and_export,
    violation_line,
)

PROG = "sw.train_all"


def _say(msg):
    print(msg, file=sys.stderr, flush=True)


def table4_md(results, synthetic):
    lines = [
        "| classifier | accuracy % | recall % | precision % | F1 % | AUC | paper acc. / F1 / AUC |",
        "|---|---:|---:|---:|---:|---:|---:|",
    ]
    for r in results:
        m = r["test"]
        p = PAPER_TABLE4[r["model"]]
        lines.append(
            f"| {r['model'].upper()} | {m['accuracy']:.2f} | {m['recall']:.2f} | "
            f"{m['precision']:.2f} | "
            f"{m['f1']:.2f} | {m['auc']:.3f} | {p[0]} / {p[3]} / {p[4]} |"
        )
        for cn, f in r["c"].items():
            if "test" in f:
                m = f["test"]
                lines.append(
                    f"| {cn} (C, int8 weights) | {m['accuracy']:.2f} | {m['recall']:.2f} | "
                    f"{m['precision']:.2f} | {m['f1']:.2f} | {m['auc']:.3f} | |"
                )
    lines.append("")
    lines.append(
        "Positive class: Pre L-dopa (OFF). "
        + (
            "SYNTHETIC cohort: these figures measure how separable the generator's Pre/Post "
            "distributions are for unseen synthetic subjects, not a clinical result; the paper's "
            "columns are patients."
            if synthetic
            else "Paper columns: the paper's patients."
        )
    )
    return "\n".join(lines) + "\n"


def main(argv=None):
    ap = parser(PROG, __doc__.splitlines()[0])
    ap.add_argument("--models", default=",".join(MODELS),
                    help=f"comma-separated subset of {','.join(MODELS)} (default: all eight)")
    ap.add_argument("--out", default=str(DEFAULT_OUT / "classifiers"),
                    help=f"output folder (default {DEFAULT_OUT / 'classifiers'})")
    ap.add_argument("--force", action="store_true",
                    help="replace an earlier output of this tool in --out (files it wrote only)")
    add_data_args(ap)
    a = ap.parse_args(argv)
    t0 = time.perf_counter()
    try:
        models = [m.strip().lower() for m in a.models.split(",") if m.strip()]
        bad = [m for m in models if m not in MODELS]
        if bad or not models:
            raise InputError(f"--models: unknown model {bad[0] if bad else '(none)'!r} "
                             f"(choose from {', '.join(MODELS)})")
        if os.path.lexists(a.out) and not os.path.isdir(a.out):
            raise InputError(f"--out {a.out} exists and is not a folder")
        ds = load_dataset(a)                # data errors first, then the folder, before training
        folder = OutputFolder(a.out, PROG, force=a.force, legacy=LEGACY,
                              inputs=[*(a.features or []), os.path.join(a.cohort, "cohort.csv")])
        results = []
        with folder as tmp:
            for i, name in enumerate(models):
                _say(f"[{i + 1}/{len(models)}] {name} ({time.perf_counter() - t0:.0f} s elapsed)")
                res, _ = train_and_export(name, ds, tmp, seed=a.seed, epochs=a.epochs)
                results.append(res)
            t4 = table4_md(results, ds.synthetic)
            t6 = complexity_md(results, ds.synthetic)
            t1 = table1_md(ds, a.alpha)
            for fn, text in (("table4.md", t4), ("table6.md", t6), ("table1.md", t1)):
                write_text_atomic(os.path.join(tmp, fn), text)
            write_csv_atomic(
                os.path.join(tmp, "table4.csv"),
                ["model", "accuracy", "recall", "precision", "f1", "auc", "tp", "tn", "fp", "fn"],
                [
                    {
                        "model": r["model"],
                        **{
                            k: (
                                f"{r['test'][k]:.4f}"
                                if isinstance(r["test"][k], float)
                                else r["test"][k]
                            )
                            for k in (
                                "accuracy",
                                "recall",
                                "precision",
                                "f1",
                                "auc",
                                "tp",
                                "tn",
                                "fp",
                                "fn",
                            )
                        },
                    }
                    for r in results
                ],
            )
            write_json_atomic(os.path.join(tmp, "metrics.json"),
                              {"dataset": dataset_info(ds), "models": results}, sort_keys=False)
            cmd = "python -m " + PROG + ("" if not (argv if argv is not None else sys.argv[1:]) else
                                         " " + " ".join(argv if argv is not None else sys.argv[1:]))
            plots = "\n".join(
                f"- {r['model'].upper()}: ![{r['model']}]({r['model']}_confusion_roc.png)"
                for r in results
            )
            violations = [v for r in results for v in r["c_violations"]]
            write_text_atomic(
                os.path.join(tmp, "report.md"),
                "# Wearing-off classifiers (Table 2)"
                + (" -- SYNTHETIC cohort" if ds.synthetic else "")
                + f"\n\nMade by `{cmd}` in {time.perf_counter() - t0:.0f} s.\n\n{ds.describe()}\n\n"
                f"## Table 4 (test subjects {', '.join(ds.test_subjects)})\n\n{t4}\n"
                f"## C against Python\n\n{bounds_md(violations)}\n\n"
                f"## Table 6 (C for the Cortex-A9)\n\n{t6}\n## Table 1\n\n{t1}\n## "
                f"Plots\n\n{plots}\n",
            )
    except HANDLED as e:
        return error_status(PROG, e)
    print(t4, end="")
    print(
        f"wrote {a.out}/ (report.md, table4, table6, plots, c/) in {time.perf_counter() - t0:.0f} s"
    )
    if violations:
        return fail(PROG, violation_line(violations), 1)
    return 0


if __name__ == "__main__":
    sys.exit(main())
