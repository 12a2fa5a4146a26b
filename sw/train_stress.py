"""Train stress detection from E4 wrist physiology leave-subjects-out (EmoHeal beside a feature
baseline) and emit verified C.

Usage::

    python -m sw.train_stress                              # ../shared/data/stress-wrist-e4
    python -m sw.train_stress --folds 3 --epochs 5 --out out/stress_quick

Steps: (1) read the Stress-Predict sessions (:mod:`sw.stress_data`: every sensor at its native
rate, 60 s windows every 30 s, the label of a window = the label of its last second, subject 1
left out for want of labels); (2) z-score every sensor per subject with the statistics of the
subject's first 5 minutes (``--norm baseline``, the default: available on the device once its
calibration is over; ``running`` is causal too; ``session`` uses the whole session and is
**transductive** -- it is labelled so in every output); (3) split the subjects into ``--folds``
leave-subjects-out folds (no subject in two); for every fold train EmoHeal
(:mod:`sw.stress_model`: Adam, cosine-decayed learning rate from :data:`LR`, batch 64, classes
weighted ``n / (2 n_class)``, Gaussian noise on every input during training) on the other folds
and score the held-out subjects in Keras and in the emitted C (float32 and int8 weights, host
``cc``), p(stress) >= 0.5 = stress; the feature baseline (:mod:`sw.stress_baseline`: logistic
regression and random forest on 8 window features, the same normalisation) on the same folds;
(4) pooled over every held-out window: accuracy, balanced accuracy, F1 and AUC of the stress
class and the majority-class rate (:func:`sw.stress_baseline.scores`), ROC PNG; (5) the final
model on every window, its C checked on every window on the host and on ``--arm-windows``
windows under ``qemu-arm``, its Cortex-A9 Flash/RAM.

Verification bounds as :mod:`sw.train_har`: float32 C within :data:`C_TOL` of Keras with the
same decision on every window; int8 decisions equal to the float Keras model's on at least
:data:`INT8_AGREEMENT` of the windows; ARM output byte-identical to the host's; else exit 1
after writing everything.

Output folder (default ``out/stress``), written atomically:

=====================  ============================================================
``model.keras``        the final EmoHeal (trained on every window)
``config.json``        kind "stress", window_s, hop_s, inputs (name, rate, channels),
                       normalisation, threshold, seed, epochs
``metrics.json``       "evaluation": "leave-subjects-out"; emoheal (pooled Keras and
                       int8-C scores, folds), baseline (lr, rf), C checks and sizes
``REPORT.md``          the figures in words
``plots/roc.png``      pooled held-out ROC of EmoHeal (Keras and int8 C)
``c/``                 ``stress_emoheal.c/.h`` (float32), ``stress_emoheal_i8.c/.h``
=====================  ============================================================

Bad input prints one ``sw.train_stress: error: ...`` line and exits 2, writing nothing.
"""

import os
import shutil
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
from sw import c_verify, fog_plots, stress_baseline, stress_data, stress_model
from sw.c_layers import FLOAT_C_TOL
from sw.classifiers import one_thread

__all__ = ["PROG", "C_TOL", "INT8_AGREEMENT", "EPOCHS", "FOLDS", "LR", "THRESHOLD",
           "train_one", "report_md", "readme_block", "readme_summary", "readme_blocks",
           "update_readme", "run", "main", "README_MARKERS", "SUMMARY_MARKERS"]

PROG = "sw.train_stress"
#: |float32 C - Keras| bound on p(stress)
C_TOL = FLOAT_C_TOL
#: int8 C decisions equal to the float Keras model's on at least this fraction of windows
INT8_AGREEMENT = 0.98
#: default epochs
EPOCHS = 12
#: default number of leave-subjects-out folds
FOLDS = 5
#: initial learning rate (cosine decay to 0)
LR = 2e-3
#: training batch
BATCH = 64
#: decision threshold on p(stress) (classes are weighted in training)
THRESHOLD = 0.5
#: windows of the final model run under qemu-arm by default
ARM_WINDOWS = 64
README_MARKERS = (f"<!-- stress:start (written by python -m {PROG} --readme) -->",
                  "<!-- stress:end -->")


def _say(msg):
    print(msg, file=sys.stderr, flush=True)


def _f(v, fmt=".3f"):
    return "n/a" if v is None or v != v else format(v, fmt)


def train_one(X, y, window_s, seed, epochs, label):
    """EmoHeal trained on inputs ``X`` (list, :data:`sw.stress_model.INPUTS` order) and labels."""
    from sw.classifiers import quiet_tensorflow
    keras = quiet_tensorflow()
    keras.utils.set_random_seed(seed)
    model = stress_model.build_emoheal(window_s)
    steps = epochs * ((len(y) + BATCH - 1) // BATCH)
    model.compile(optimizer=keras.optimizers.Adam(keras.optimizers.schedules.CosineDecay(
        LR, steps)), loss="binary_crossentropy")
    n1 = int(y.sum())
    n0 = len(y) - n1
    cw = {0: len(y) / (2 * max(n0, 1)), 1: len(y) / (2 * max(n1, 1))}
    for ep in range(epochs):
        t = time.perf_counter()
        h = model.fit(X, y.astype(np.float32), batch_size=BATCH, epochs=1, verbose=0,
                      shuffle=True, class_weight=cw)
        _say(f"{label}: epoch {ep + 1}/{epochs} loss {h.history['loss'][-1]:.4f} "
             f"({time.perf_counter() - t:.1f} s)")
    return model


def _predict(model, X):
    return model.predict(X, batch_size=64, verbose=0).astype(np.float64)


def _flat(X):
    return np.concatenate([x.reshape(len(x), -1) for x in X], axis=1)


def _emit(tmp, cname, model, weights, doc):
    from sw import c_emit
    h, c, info = c_emit.emit_keras_sequence(cname, model, doc=doc, weights=weights)
    write_text_atomic(os.path.join(tmp, f"{cname}.h"), h)
    write_text_atomic(os.path.join(tmp, f"{cname}.c"), c)
    return info


def _scores(y, p):
    return stress_baseline.scores(y, p >= THRESHOLD, p)


def run(a, folder, argv):
    from sw import c_build
    t0 = time.perf_counter()
    W = stress_data.load_windows(a.data)
    if len(W) == 0:
        raise InputError(f"--data {a.data}: no labelled window")
    if len(W.subjects) < a.folds:
        raise InputError(f"--folds {a.folds}: the data has {len(W.subjects)} labelled subjects")
    Wn = stress_data.normalise_windows(W, a.norm)
    folds = stress_data.subject_folds(Wn, a.folds, a.seed)
    for f in folds:
        y = W.y[f.train]
        if y.all() or not y.any():
            raise InputError(f"holding out subjects {list(f.subjects)}: the other subjects need "
                             "stress and rest windows")
    window_s = int(W.window_s)
    _say(f"{len(W)} windows of {len(W.subjects)} subjects ({int(W.y.sum())} stress), "
         f"{window_s} s; {len(folds)} leave-subjects-out folds; normalisation {a.norm}")
    X = stress_model.split_inputs(Wn)
    p_all = np.zeros(len(W))
    p8_all = np.zeros(len(W))
    fold_res, fold_checks = [], {}
    for k, f in enumerate(folds):
        label = f"fold {k + 1}/{len(folds)} (subjects {list(f.subjects)} held out)"
        model = train_one([x[f.train] for x in X], W.y[f.train], window_s, a.seed + 100 * k,
                          a.epochs, label)
        Xt = [x[f.test] for x in X]
        p = _predict(model, Xt)
        entries = {}
        with tempfile.TemporaryDirectory() as tmp:
            for wf, suffix in (("float32", ""), ("int8", "_i8")):
                cname = f"stress_fold{k + 1}{suffix}"
                _emit(tmp, cname, model, wf, f"EmoHeal fold {k + 1}")
                entries[cname] = (_flat(Xt), p, wf)
            checks, outs = c_verify.c_check(entries, tmp, name="stress_check")
        fold_checks.update(checks)
        p_all[f.test] = p[:, 0]
        p8_all[f.test] = outs[f"stress_fold{k + 1}_i8"][:, 0]
        s, s8 = _scores(W.y[f.test], p[:, 0]), _scores(W.y[f.test], p8_all[f.test])
        fold_res.append({"subjects": list(f.subjects), "n_train": int(len(f.train)), **s,
                         "int8_c_balanced_accuracy": s8["balanced_accuracy"],
                         "int8_c_auc": s8["auc"]})
        _say(f"fold {k + 1}: balanced accuracy {_f(s['balanced_accuracy'])}, AUC "
             f"{_f(s['auc'])} (int8 C {_f(s8['balanced_accuracy'])} / {_f(s8['auc'])}), "
             f"majority {_f(s['majority'])}")
    emoheal = {"pooled": _scores(W.y, p_all), "pooled_int8_c": _scores(W.y, p8_all),
               "folds": fold_res, "description": stress_model.MODELS["emoheal"],
               "sizes": {k: list(v) if isinstance(v, tuple) else v
                         for k, v in stress_model.EMOHEAL.items()}}
    _say("feature baseline (logistic regression, random forest) on the same folds")
    F = stress_baseline.window_features(W)
    baseline = {m: stress_baseline.loso_scores(W, folds, m, a.norm, features=F, seed=a.seed)
                for m in stress_baseline.MODELS}
    final = train_one(X, W.y, window_s, a.seed + 100 * len(folds), a.epochs,
                      "final model (all windows)")
    arm = c_build.have_arm()
    if not arm:
        _say(f"{PROG}: arm-linux-gnueabihf-gcc or qemu-arm not found: the C is checked on the "
             "host only (no Cortex-A9 figures; make setup installs them)")
    arm_idx = c_verify.arm_index(len(W), a.arm_windows) if arm and a.arm_windows else None
    with folder as tmp:
        os.makedirs(os.path.join(tmp, "c"))
        os.makedirs(os.path.join(tmp, "plots"))
        final.save(os.path.join(tmp, "model.keras"))
        p = _predict(final, X)
        infos, entries = {}, {}
        for wf, suffix in (("float32", ""), ("int8", "_i8")):
            cname = f"stress_emoheal{suffix}"
            infos[wf] = _emit(
                os.path.join(tmp, "c"), cname, final, wf,
                f"EmoHeal stress detector (sw.train_stress, seed {a.seed}, {wf} weights): "
                f"p(stress) of one {window_s} s window; inputs one after the other: "
                + ", ".join(f"{n} {fs} Hz x {c}" for n, (fs, c) in stress_model.INPUTS.items())
                + f", each z-scored per subject ({a.norm}); stress when p >= {THRESHOLD}")
            entries[cname] = (_flat(X), p, wf)
        with tempfile.TemporaryDirectory() as scratch:
            for cname in entries:
                for ext in (".c", ".h"):
                    shutil.copy(os.path.join(tmp, "c", cname + ext), scratch)
            checks, _ = c_verify.c_check(entries, scratch, arm_idx, name="stress_check")
            sizes = ({cname: c_build.arm_footprint(scratch, cname, scratch) for cname in entries}
                     if arm else {})
        roc = fog_plots.roc(
            os.path.join(tmp, "plots", "roc.png"),
            [("EmoHeal (Keras)", W.y, p_all, THRESHOLD),
             ("EmoHeal (int8 C)", W.y, p8_all, THRESHOLD)],
            f"stress, held-out subjects ({len(folds)} leave-subjects-out folds, "
            f"{a.norm} normalisation)")
        emoheal.update({"params": int(infos["float32"]["params"]),
                        "macc_per_window": int(infos["float32"]["macc"]),
                        "arena_bytes": int(infos["float32"]["arena_bytes"]),
                        "float32_param_bytes": int(infos["float32"]["param_bytes"]),
                        "int8_param_bytes": int(infos["int8"]["param_bytes"]),
                        "stream_bytes": int(infos["int8"]["stream_bytes"]),
                        "arm": {"float32": sizes.get("stress_emoheal"),
                                "int8": sizes.get("stress_emoheal_i8")}})
        config = {"kind": "stress", "model": "emoheal", "model_file": "model.keras",
                  "seed": a.seed, "epochs": a.epochs, "window_s": window_s,
                  "hop_s": int(stress_data.HOP_S),
                  "inputs": [{"name": n, "rate_hz": fs, "channels": c}
                             for n, (fs, c) in stress_model.INPUTS.items()],
                  "normalisation": {"mode": a.norm, "transductive": a.norm == "session",
                                    "baseline_s": stress_data.BASELINE_S},
                  "threshold": THRESHOLD, "c": "c/stress_emoheal.c",
                  "c_int8": "c/stress_emoheal_i8.c"}
        all_checks = {**fold_checks, **checks}
        res = {"evaluation": "leave-subjects-out", "folds": a.folds, "seed": a.seed,
               "epochs": a.epochs, "normalisation": a.norm,
               "transductive": a.norm == "session", "window_s": window_s,
               "n_windows": int(len(W)), "n_stress": int(W.y.sum()), "subjects": W.subjects,
               "fold_subjects": [list(f.subjects) for f in folds],
               "emoheal": emoheal, "baseline": baseline, "roc_png": "plots/" + roc,
               "c": {"checks": all_checks, "tolerance": C_TOL,
                     "int8_agreement_bound": INT8_AGREEMENT, "arm_checked": arm_idx is not None}}
        res["command"] = " ".join(["python -m " + PROG, *argv])
        res["runtime_s"] = time.perf_counter() - t0
        res["c"]["violations"] = c_verify.violations(all_checks, C_TOL, INT8_AGREEMENT)
        write_json_atomic(os.path.join(tmp, "config.json"), config, sort_keys=False)
        write_json_atomic(os.path.join(tmp, "metrics.json"), res, sort_keys=False)
        write_text_atomic(os.path.join(tmp, "REPORT.md"), report_md(res))
    return res


_ROWS = (("accuracy", "accuracy"), ("balanced accuracy", "balanced_accuracy"),
         ("F1 (stress)", "f1"), ("AUC", "auc"), ("majority-class rate", "majority"))


def _table(res):
    e, b = res["emoheal"], res["baseline"]
    rows = [f"| {res['evaluation']}, {res['folds']} folds, {res['normalisation']} "
            f"normalisation{' (transductive)' if res['transductive'] else ''} | EmoHeal | "
            "EmoHeal int8 C | logistic regression | random forest |",
            "|---|---:|---:|---:|---:|"]
    for label, k in _ROWS:
        rows.append(f"| {label} | {_f(e['pooled'][k])} | {_f(e['pooled_int8_c'][k])} | "
                    f"{_f(b['lr']['pooled'][k])} | {_f(b['rf']['pooled'][k])} |")
    return rows


#: goals of the issue on held-out subjects (balanced accuracy, AUC)
GOAL = (0.80, 0.85)


def _goal_line(res):
    """The issue's goals, judged from the pooled figures."""
    e, b = res["emoheal"]["pooled"], res["baseline"]
    met = e["balanced_accuracy"] >= GOAL[0] and e["auc"] >= GOAL[1]
    ahead = all(e[k] > b[m]["pooled"][k] for m in b for k in ("balanced_accuracy", "auc"))
    return (f"Goal balanced accuracy >= {GOAL[0]:.2f} and AUC >= {GOAL[1]:.2f} for EmoHeal: "
            f"{'met' if met else 'not met'} ({_f(e['balanced_accuracy'])} / {_f(e['auc'])}); "
            f"ahead of both feature baselines on both: {'yes' if ahead else 'no'}.")


def _c_line(res):
    chk = res["c"]["checks"]
    f32 = [c for c in chk.values() if c["weights"] == "float32"]
    arm = [c for c in chk.values() if c["arm_identical"] is not None]
    a8 = res["emoheal"]["arm"]["int8"]
    text = (f"int8 C on the Cortex-A9: {a8['flash']} B Flash, {a8['ram']} B RAM (the "
            f"activations of one window); its streaming API (one ring per sensor at its own "
            f"rate) holds {res['emoheal']['stream_bytes']} B; " if a8 else "")
    text += (f"float32 C within {max(c['max_abs_dp'] for c in f32):.1e} of Keras on "
             f"{sum(c['windows'] for c in f32)} window runs")
    if arm and all(c["arm_identical"] for c in arm):
        text += (f"; qemu-arm output identical to the host's on "
                 f"{sum(c['arm_windows'] for c in arm)} window runs")
    return text + "."


def report_md(res):
    """REPORT.md: every figure read from ``res``."""
    e = res["emoheal"]
    lines = [f"# Stress from wrist physiology ({res['evaluation']})", "",
             f"`{res['command']}` -- {res['n_windows']} windows of {res['window_s']} s "
             f"({res['n_stress']} stress) of {len(res['subjects'])} subjects (Stress-Predict, "
             f"Empatica E4), {res['folds']} leave-subjects-out folds: no subject in two; every "
             "figure is on held-out subjects, pooled over the folds. Normalisation "
             f"`{res['normalisation']}`"
             + (" -- **transductive** (whole-session statistics, not available at inference "
                "time)." if res["transductive"] else " (causal: available at inference time).")
             + f" {res['epochs']} epochs, seed {res['seed']}; {res['runtime_s']:.0f} s.", ""]
    lines += _table(res)
    lines += ["", _goal_line(res), "",
              f"EmoHeal: {e['params']} parameters, {e['macc_per_window']} MACs per window.",
              "", "Per fold (balanced accuracy / AUC, Keras):", ""]
    lines += [f"- subjects {','.join(map(str, f['subjects']))}: "
              f"{_f(f['balanced_accuracy'])} / {_f(f['auc'])} (majority {_f(f['majority'])})"
              for f in e["folds"]]
    lines += ["", "## C verification", "", _c_line(res),
              f"Violations: {'; '.join(res['c']['violations']) or 'none'}.", "",
              f"ROC: `{res['roc_png']}`.", ""]
    return "\n".join(lines)


def readme_block(res):
    """The README block: the pooled table, the C line, the command."""
    e = res["emoheal"]
    return ("\n".join(_table(res)) + "\n\n" + _goal_line(res) + " "
            + f"EmoHeal {e['params']} parameters, {e['macc_per_window']} MACs per window. "
            + _c_line(res) + "\n\n"
            + f"*`{res['command']}` ({res['n_windows']} windows of {len(res['subjects'])} "
            f"subjects; {res['runtime_s']:.0f} s).*\n")


SUMMARY_MARKERS = ("<!-- stress:summary:start -->", "<!-- stress:summary:end -->")


def readme_summary(res):
    """The README's one-item summary: EmoHeal's pooled figures beside the baselines' and the
    majority-class rate, its int8 C's Flash, the command."""
    e, b = res["emoheal"], res["baseline"]
    a8 = e["arm"]["int8"]
    text = (f"- **Stress**, EmoHeal on Stress-Predict (Empatica E4), {res['evaluation']} "
            f"({res['folds']} folds, {res['normalisation']} normalisation"
            f"{', transductive' if res['transductive'] else ''}): balanced accuracy "
            f"{_f(e['pooled']['balanced_accuracy'])}, AUC {_f(e['pooled']['auc'])} (logistic "
            f"regression {_f(b['lr']['pooled']['balanced_accuracy'])} / "
            f"{_f(b['lr']['pooled']['auc'])}, random forest "
            f"{_f(b['rf']['pooled']['balanced_accuracy'])} / {_f(b['rf']['pooled']['auc'])}; "
            f"majority class {_f(e['pooled']['majority'])})")
    if a8:
        text += f"; int8 C {a8['flash']} B Flash, {a8['ram']} B RAM"
    return text + f". `{without_option(res['command'], '--readme')}`\n"


def readme_blocks(res):
    """The (start, end, body) blocks a run writes: the full table and the summary."""
    return [(*README_MARKERS, readme_block(res)), (*SUMMARY_MARKERS, readme_summary(res))]


def update_readme(path, res):
    """Rewrite the stress blocks (:func:`readme_blocks`) of the Markdown file at ``path``;
    False if none of their markers is there."""
    return bool(update_blocks([path], readme_blocks(res), "", say=lambda m: None)[str(path)])


def main(argv=None):
    ap = parser(PROG, __doc__.splitlines()[0])
    ap.add_argument("--data", default=str(SHARED_DATA / "stress-wrist-e4"),
                    help="Stress-Predict folder (S02..S24 and labels_hr_rsp_binary.csv; "
                         "default ../shared/data/stress-wrist-e4)")
    ap.add_argument("--out", default=str(DEFAULT_OUT / "stress"),
                    help="output folder (default out/stress)")
    ap.add_argument("--norm", default="baseline", choices=("baseline", "running", "session"),
                    help="per-subject normalisation (default baseline: the first 5 min; "
                         "session is transductive)")
    ap.add_argument("--folds", type=int, default=FOLDS,
                    help=f"leave-subjects-out folds (default {FOLDS})")
    ap.add_argument("--epochs", type=int, default=EPOCHS, help=f"epochs (default {EPOCHS})")
    ap.add_argument("--seed", type=int, default=0, help="training and fold seed (default 0)")
    ap.add_argument("--arm-windows", type=int, default=ARM_WINDOWS,
                    help=f"windows of the final model run under qemu-arm (default "
                         f"{ARM_WINDOWS}; -1: all; 0: none)")
    ap.add_argument("--force", action="store_true",
                    help="replace an earlier output of this tool in --out")
    ap.add_argument("--readme", action="append", metavar="FILE",
                    help="after a run whose checks pass, also rewrite the stress figure blocks "
                         "(stress and stress:summary markers) in this Markdown file; may be "
                         "given more than once (make stress: README.md and "
                         "docs/wearable-models.md)")
    args = sys.argv[1:] if argv is None else list(argv)
    a = ap.parse_args(args)
    if a.epochs < 1:
        ap.error("--epochs must be at least 1")
    if a.folds < 2:
        ap.error("--folds must be at least 2")
    if a.arm_windows < -1:
        ap.error("--arm-windows must be -1 (all), 0 (none) or a number of windows")
    try:
        if not os.path.isdir(a.data):
            raise InputError(f"--data {a.data}: no such folder")
        check_block_files(a.readme)
        folder = OutputFolder(a.out, PROG, force=a.force)
        one_thread()
        res = run(a, folder, args)
    except HANDLED as e:
        return error_status(PROG, e)
    except RuntimeError as e:           # a C compiler missing or failing: its output, one line
        return compiler_failure(PROG, e)
    e = res["emoheal"]["pooled"]
    b = res["baseline"]["lr"]["pooled"]
    print(f"wrote {a.out}/ (model.keras, config.json, metrics.json, REPORT.md, plots/, c/) in "
          f"{res['runtime_s']:.0f} s")
    print(f"leave-subjects-out pooled: EmoHeal balanced accuracy {_f(e['balanced_accuracy'])}, "
          f"AUC {_f(e['auc'])}; logistic regression {_f(b['balanced_accuracy'])}, "
          f"{_f(b['auc'])}; majority-class rate {_f(e['majority'])}")
    if res["c"]["violations"]:
        return fail(PROG, "C differs from Keras: " + "; ".join(res["c"]["violations"]), 1)
    update_blocks(a.readme, readme_blocks(res), "stress figure")
    return 0


if __name__ == "__main__":
    sys.exit(main())
