"""Train one wearing-off DNN (DNN4 by default), score it, and emit verified C for the Cortex-A9.

Usage::

    python -m sw.train_dnn                       # DNN4 on the default SYNTHETIC cohort -> out/dnn4
    python -m sw.train_dnn --model dnn2 --out out/dnn2 --seed 3
    python -m sw.train_dnn --features mine/*.csv  # your per-stride CSVs
                                                  # (sw.extract emg + subject, session)
    python -m sw.train_dnn --tune                 # KerasTuner Hyperband over the paper's
                                                  # ranges first

Distributed ``--tune`` (KerasTuner's chief/worker mode): start the same command, same data
options, once with ``KERASTUNER_TUNER_ID=chief`` and once per worker with
``KERASTUNER_TUNER_ID=tuner0``, ``tuner1``, ..., all with ``KERASTUNER_ORACLE_IP`` (the
chief's address) and ``KERASTUNER_ORACLE_PORT`` (a free port there)::

    export KERASTUNER_ORACLE_IP=10.0.0.5 KERASTUNER_ORACLE_PORT=8000
    KERASTUNER_TUNER_ID=chief  python -m sw.train_dnn --tune --features f.csv --out out/tuned
    KERASTUNER_TUNER_ID=tuner0 python -m sw.train_dnn --tune --features f.csv   # each worker

The chief serves the Hyperband oracle, waits for the workers to finish every trial, then
trains the best model and writes ``--out`` as a one-process ``--tune`` does; a worker only
runs trials and writes nothing (its ``--out`` is ignored). See ``docs/many-recordings.md``.

Steps: (1) the cohort -- ``--cohort DIR`` (default ``out/cohort``; built with
``python -m sw.cohort`` defaults if missing, about 4 min on 2 cores) or
``--features``; (2) Table 1 feature selection on the training subjects
(:mod:`sw.feature_select`); (3) the DNN of Table 2 with 4-fold validation,
refit on all training rows (:mod:`sw.classifiers`); (4) Table 4 metrics on the
unseen test subjects with Pre L-dopa (OFF) positive; (5) C99 float32 and int8
sources (:mod:`sw.c_emit`, :mod:`sw.dnn_int8`), compiled with the host ``cc``
and run on every test row, and, if ``arm-linux-gnueabihf-gcc`` and
``qemu-arm`` are installed, for the Cortex-A9 under ``qemu-arm``; (6) Flash,
RAM and MACC of the ARM objects (Table 6).

Output folder (default ``out/<model>``), written atomically; a non-empty folder this tool did
not write is refused, its own earlier output is replaced with ``--force`` (nothing else in the
folder is touched):

=========================  ====================================================
``<model>.keras``          the trained Keras model
``<model>_weights.npz``    the same as plain arrays (read by ``python -m sw.uart --model``)
``metrics.json``           dataset, features, CV, test metrics, C agreement,
                           complexity (keys: :mod:`sw.wo_train`)
``<model>_confusion_roc.png``  confusion matrix + ROC of the test subjects
``table1.md``              the feature selection (paired t-test on training subjects)
``table6.md``              Flash / RAM / MACC of the C, next to the paper
``report.md``              all of the above in one page
``c/``                     ``wo_<model>_f32.[ch]``, ``wo_<model>_i8.[ch]``,
                           ``wo_predict_main.c`` (test driver; build line inside)
=========================  ====================================================

Bad input (missing columns, NaN, a single class, unknown subject) prints one
``sw.train_dnn: error: ...`` line and exits with status 2, writing nothing. When the emitted C
does not compute what the Python model computes (a figure of ``metrics.json`` ``c`` beyond its
bound, :data:`sw.wo_train.C_BOUNDS`), the outputs are written all the same -- the report shows
the failing figure -- and the tool exits with status 1 and one line naming the model, the
figure and the bound.
"""

import json
import os
import sys
import time

from spec.cli import HANDLED, InputError, error_status, fail, parser
from spec.constants import DEFAULT_OUT
from spec.outputs import OutputFolder, write_json_atomic, write_text_atomic
from sw.classifiers import DNN_SPECS, DNNS
from sw.wo_data import load_table, make_dataset
from sw.wo_metrics import metrics_table_md
from sw.wo_train import (
    C_BOUNDS,
    PAPER_TABLE4,
    complexity_md,
    dataset_info,
    train_and_export,
    violation_line,
)

PROG = "sw.train_dnn"
#: names a model folder held before output folders carried a marker (replaced with --force)
LEGACY = ("*.keras", "*_weights.npz", "*_confusion_roc.png", "metrics.json", "report.md",
          "table*.md", "table4.csv", "c")


def _say(msg):
    print(msg, file=sys.stderr, flush=True)


def ensure_cohort(cohort, progress=_say):
    """Build the default synthetic cohort in ``cohort`` if it is not there yet; rebuild a
    synthetic cohort that the current pipeline would not build (:func:`sw.cohort.stale_reason`:
    a golden model, generator or ``sw.cohort`` changed since), with its seed and size."""
    from sw import cohort as cohort_mod
    meta_path = os.path.join(cohort, "cohort.json")
    if os.path.isfile(meta_path) and os.path.isfile(os.path.join(cohort, "cohort.csv")):
        try:
            with open(meta_path) as f:
                meta = json.load(f)
        except (OSError, ValueError):
            meta = {}
        if not isinstance(meta, dict) or meta.get("source") != "synthetic":
            return
        why = cohort_mod.stale_reason(meta)
        if why is None:
            return
        progress(f"{cohort}: {why}; rebuilding it with the same seed and size")
        args = [f"--{k}={meta[k]}" for k in ("seed", "walks", "steps") if k in meta]
    else:
        progress(
            f"{cohort}: no cohort yet, building the default SYNTHETIC one (python -m sw.cohort "
            f"--out {cohort})"
        )
        args = []
    rc = cohort_mod.main(["--out", cohort, *args])
    if rc:
        raise InputError(f"building the cohort in {cohort} failed (status {rc})")


def table1_md(ds, alpha):
    lines = [
        "Table 1 -- paired t-test Pre vs Post on training subjects "
        f"{', '.join(ds.train_subjects)}, "
        f"alpha = {alpha:g}" + (" (SYNTHETIC cohort)" if ds.synthetic else ""),
        "",
        "| feature | mean Pre | mean Post | p | selected |",
        "|---|---:|---:|---:|:---:|",
    ]
    for r in ds.table1:
        p = r["p"]
        lines.append(f"| {r['feature']} | {r['mean_pre']:.2f} | {r['mean_post']:.2f} | "
                     f"{'n/a' if p != p else ('<0.001' if p < 0.001 else f'{p:.3f}')} | "
                     f"{'yes' if r['feature'] in ds.features else 'no'} |")
    return "\n".join(lines) + "\n"


def add_data_args(ap):
    ap.add_argument(
        "--cohort",
        default=str(DEFAULT_OUT / "cohort"),
        help="cohort folder from python -m sw.cohort (default out/cohort; built if missing)",
    )
    ap.add_argument(
        "--features",
        nargs="+",
        metavar="CSV",
        help="per-stride feature CSVs (sw.extract emg columns + subject, session) instead of a "
             "cohort",
    )
    ap.add_argument(
        "--train",
        help="training subjects, comma-separated (default: 2 mild + 1 severe "
        "drawn from the cohort seed; the rest are the test subjects)",
    )
    ap.add_argument(
        "--alpha", type=float, default=0.05, help="Table 1 significance level (default 0.05)"
    )
    ap.add_argument("--seed", type=int, default=0, help="training seed (default 0)")
    ap.add_argument(
        "--epochs", type=int, default=60, help="max epochs per fold, early stopping (default 60)"
    )


def load_dataset(a, progress=_say):
    if not 0 < a.alpha < 1:
        raise InputError("--alpha must be between 0 and 1")
    if a.epochs < 1:
        raise InputError("--epochs must be at least 1")
    if getattr(a, "tune_epochs", 1) < 1:
        raise InputError("--tune-epochs must be at least 1")
    if not a.features:
        ensure_cohort(a.cohort, progress)
    df, meta = load_table(a.cohort, a.features, progress=progress)
    train = [s.strip() for s in a.train.split(",") if s.strip()] if a.train else None
    ds = make_dataset(df, meta, train=train, alpha=a.alpha)
    progress(("SYNTHETIC cohort: " if ds.synthetic else "") + ds.describe())
    return ds


def main(argv=None):
    ap = parser(PROG, __doc__.splitlines()[0])
    ap.add_argument(
        "--model", default="dnn4", choices=DNNS, help="DNN of the paper's Table 2 (default dnn4)"
    )
    ap.add_argument("--out", help="output folder (default out/<model>, or out/tuned with --tune)")
    ap.add_argument("--force", action="store_true",
                    help="replace an earlier output of this tool in --out (files it wrote only)")
    add_data_args(ap)
    ap.add_argument(
        "--tune",
        action="store_true",
        help="KerasTuner Hyperband over 1-3 layers x 8/16/32/64 units x relu/selu/tanh x "
        "nadam/rmsprop (objective: mean validation loss of 4 folds), then train the best; "
        "distributed with KERASTUNER_TUNER_ID (chief, tuner0, ...), KERASTUNER_ORACLE_IP, "
        "KERASTUNER_ORACLE_PORT set (docs/many-recordings.md)",
    )
    ap.add_argument("--tune-epochs", type=int, default=30, help="Hyperband max epochs (default 30)")
    a = ap.parse_args(argv)
    name = "tuned" if a.tune else a.model
    out = a.out or str(DEFAULT_OUT / name)
    t0 = time.perf_counter()
    try:
        role = None
        if a.tune:
            from sw.dnn_tune import distributed_role
            role = distributed_role()
        if role not in (None, "chief"):     # a tuning worker: trials only, no output
            ds = load_dataset(a)
            from sw.dnn_tune import tune
            _, _, info = tune(ds.X_train, ds.y_train, seed=a.seed, max_epochs=a.tune_epochs,
                              progress=_say)
            print(f"tuning worker {role}: {info['trials']} trials run; the chief writes the "
                  "result")
            return 0
        if os.path.lexists(out) and not os.path.isdir(out):
            raise InputError(f"--out {out} exists and is not a folder")
        ds = load_dataset(a)                # data errors first, then the folder, before training
        folder = OutputFolder(out, PROG, force=a.force, legacy=LEGACY,
                              inputs=[*(a.features or []), os.path.join(a.cohort, "cohort.csv")])
        layers = optimizer = None
        tune_info = None
        if a.tune:
            from sw.dnn_tune import tune
            layers, optimizer, tune_info = tune(ds.X_train, ds.y_train, seed=a.seed,
                                                max_epochs=a.tune_epochs, progress=_say)
        with folder as tmp:
            res, _ = train_and_export(
                name if not a.tune else "tuned",
                ds,
                tmp,
                seed=a.seed,
                epochs=a.epochs,
                layers=layers or DNN_SPECS[a.model]["layers"],
                optimizer=optimizer or DNN_SPECS[a.model]["optimizer"],
            )
            if tune_info:
                res["tuning"] = tune_info
            res["dataset"] = dataset_info(ds)
            write_json_atomic(os.path.join(tmp, "metrics.json"), res, sort_keys=False)
            t1 = table1_md(ds, a.alpha)
            t6 = complexity_md([res], ds.synthetic)
            write_text_atomic(os.path.join(tmp, "table1.md"), t1)
            write_text_atomic(os.path.join(tmp, "table6.md"), t6)
            rows = [(name.upper(), res["test"])]
            rows += [(f"{cn} (C)", fig["test"]) for cn, fig in res["c"].items() if "test" in fig]
            paper = PAPER_TABLE4.get(name)
            t4 = metrics_table_md(rows, ds.synthetic)
            if paper:
                t4 += (f"\nPaper Table 4, {name.upper()}: accuracy {paper[0]}, recall {paper[1]}, "
                       f"precision {paper[2]}, F1 {paper[3]}, AUC {paper[4]} (patients).\n")
            cfig = "\n".join(
                f"- `{cn}`: labels agree with Keras on {100 * f['label_agreement']:.2f} % of "
                f"{f['rows']} test rows"
                + (
                    f", max |Δp| {f['max_abs_dscore']:.2e}"
                    if f.get("max_abs_dscore") is not None
                    else ""
                )
                + (
                    f", max |Δp| vs float {f['int8_max_abs_dp']:.4f}, labels == int8 golden model: "
                    f"{f['int8_model_identical']}"
                    if "int8_max_abs_dp" in f
                    else ""
                )
                + (
                    ""
                    if f["arm_identical"] is None
                    else "; qemu-arm output "
                         f"{'identical to' if f['arm_identical'] else 'DIFFERS from'} host"
                )
                for cn, f in res["c"].items()
            )
            cfig += "\n\n" + bounds_md(res["c_violations"])
            report = (
                f"# {name.upper()} wearing-off classifier"
                + (" -- SYNTHETIC cohort" if ds.synthetic else "")
                + "\n\n"
                "Made by `python -m "
                f"{PROG}{' ' + ' '.join(argv if argv is not None else sys.argv[1:])}`.\n\n"
                f"Layers: BatchNorm -> "
                + " -> ".join(f"Dense({u}, {act})" for u, act in res["layers"])
                + " -> Dense(1, sigmoid)"
                + f"; {res['epochs']} epochs on all training rows.\n\n"
                f"{ds.describe()}\n\n## Test subjects (Table 4)\n\n{t4}\n"
                f"![confusion and ROC]({name}_confusion_roc.png)\n\n## C on the ARM "
                f"side\n\n{cfig}\n\n"
                f"## Complexity (Table 6)\n\n{t6}\n## Feature selection\n\n{t1}"
            )
            write_text_atomic(os.path.join(tmp, "report.md"), report)
    except HANDLED as e:
        return error_status(PROG, e)
    print(
        f"wrote {out}/ (report.md, metrics.json, {name}.keras, plots, c/) in "
        f"{time.perf_counter() - t0:.0f} s"
    )
    print(
        f"test accuracy {res['test']['accuracy']:.2f} %, F1 {res['test']['f1']:.2f} %, AUC "
        f"{res['test']['auc']:.3f}"
        + (" (SYNTHETIC cohort)" if ds.synthetic else "")
    )
    if res["c_violations"]:
        return fail(PROG, violation_line(res["c_violations"]), 1)
    return 0


def bounds_md(violations):
    """The C-against-Python verdict of a report: the bounds, and every figure beyond one."""
    b = C_BOUNDS
    text = (f"Bounds (`sw/wo_train.py` `C_BOUNDS`): shallow models' C labels identical and "
            f"scores within {b['shallow_max_rel_dscore']:.0e} (relative); float32 DNN C max |Δp| "
            f"<= {b['float_dnn_max_abs_dp']:.0e} and labels identical away from p = 0.5; int8 C "
            f"labels identical to the int8 golden model and equal to Keras on >= "
            f"{100 * b['int8_min_label_agreement']:.1f} % of rows; qemu-arm output identical to "
            "the host's.")
    if not violations:
        return text + " **All within bounds.**"
    return (text + "\n\n**OUTSIDE THE BOUND** (the run exits with status 1):\n\n"
            + "\n".join(f"- {v}" for v in violations))


if __name__ == "__main__":
    sys.exit(main())
