"""Train a freezing-of-gait detector on Daphnet, leave-one-subject-out, and emit verified C.

Usage::

    python -m sw.train_fog                                # logspec on ../shared/data/fog-daphnet
    python -m sw.train_fog --model yi_hwang --threshold train --out out/fog_yi_hwang
    python -m sw.train_fog --model small --epochs 10 --out out/fog_small --seed 1

Steps: (1) read the recordings (:mod:`sw.fog_data`; 2 s windows, 1 s hop, 9 channels, raw
mg); (2) for every subject with FoG windows in turn: train on every other subject's windows
(subjects without FoG give negatives only), with class weights ``n / (2 n_class)`` for the
rare FoG class and augmentation redrawn every epoch (subjects differ in amplitude): each
training window multiplied by a random gain, log-uniform in [1/2, 2], each of its channels
by a further log-uniform gain in [e^-0.2, e^0.2] (about [0.82, 1.22]), and shifted in time
by a random circular shift; the decision threshold is chosen on the *training* subjects only
(``--threshold``): ``oof`` (default) the one maximising balanced accuracy of out-of-fold
predictions -- one inner model per training subject with FoG, trained on the other training
subjects and predicting that subject's windows, the predictions pooled (when no inner fold has
both classes to train on: ``train``); ``train`` the one maximising balanced accuracy of the
fold model's predictions on its own training windows (optimistic: the model has seen them);
``half`` 0.5; score the held-out subject's windows (:mod:`sw.fog_metrics`, window and event
metrics, per fold and pooled); (3) the freeze-index baseline (:func:`sw.fog_baseline.loso`) on
the same windows; (4) the final model on all windows, its threshold chosen the same way (out
of fold: one inner model per subject with FoG); (5) its C
(:func:`sw.c_emit.emit_keras_sequence`); (6) compression, each step measured: every fold
model and the final model pruned by magnitude (``--prune``, default 80 % of each prunable
kernel in steps of 20 %, ``--prune-epochs`` of fine-tuning per step; :mod:`sw.fog_compress`;
the pruned matrices stored as CSR in the C) and emitted with int8 weights (dynamic range);
for float32, int8, pruned float32 and pruned int8: leave-one-subject-out figures and the
Cortex-A9 Flash/RAM of the final model's C; (7) verification: every fold model's C (float32,
int8, pruned, pruned int8) on its held-out subject's windows and the final models' C on all
held-out windows, host ``cc`` and Cortex-A9 under ``qemu-arm`` (identical output): float32
within :data:`C_TOL` of Keras with identical labels, int8 labels equal to the float Keras
model's on at least :data:`INT8_AGREEMENT` of the windows.

TensorFlow runs on one thread (:func:`one_thread`): reproducible, and the machine is shared.

Normalisation: the model's first layer is a frozen BatchNormalization with the training
windows' per-channel mean and variance (:mod:`sw.fog_model`), so the C takes raw mg samples.

Output folder (default ``out/fog``), written atomically (:class:`spec.outputs.OutputFolder`):

========================  ==========================================================
``model.keras``           the final model (trained on every window)
``config.json``           kind "fog", window, hop, fs, channels, normalisation, threshold,
                          model, seed, epochs
``metrics.json``          "evaluation": "leave-one-subject-out"; folds, pooled, baseline,
                          compression (the steps), plots, c (checks, sizes)
``folds.npz``             per held-out subject ``train_<s>``/``test_<s>`` window indexes and
                          the windows' ``window_subject``/``window_file``/``window_start``
``REPORT.md``             the figures in words, next to the freeze-index baseline
``model_pruned.keras``    the final model pruned (``--prune``)
``c/``                    ``fog_detector.c/.h`` (the final model, float32) and
                          ``fog_detector_i8.c/.h`` (int8 weights, for the ARM: the final
                          model, or with ``--deploy pruned_int8`` the pruned one)
``plots/``                ``roc.png`` (per held-out subject, chosen thresholds, freeze
                          index), ``timeline_<recording>.png`` (held-out p(FoG) vs truth)
========================  ==========================================================

Bad input (missing data, an --out folder this tool did not write) prints one
``sw.train_fog: error: ...`` line and exits 2, writing nothing. When a C output differs from
Keras by more than :data:`C_TOL`, a label differs, int8 labels agree on less than
:data:`INT8_AGREEMENT` or the ARM output differs from the host's, everything is written all
the same and the tool exits 1 with one line.
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
    write_bytes_atomic,
    write_json_atomic,
    write_text_atomic,
)
from sw import fog_data, fog_model
from sw.c_layers import FLOAT_C_TOL
from sw.classifiers import one_thread
from sw.fog_metrics import event_metrics, pool_events, window_metrics

PROG = "sw.train_fog"
#: how each --threshold rule chose the threshold, in words (config.json)
RULE_TEXT = {"oof": "max balanced accuracy on out-of-fold predictions of the training subjects "
                    "(one inner model per subject with FoG)",
             "train": "max balanced accuracy on the training windows' predictions",
             "half": "0.5"}
#: largest |C - Keras| probability allowed (float32 weights)
C_TOL = FLOAT_C_TOL
#: smallest fraction of int8-weight C labels equal to the float Keras model's
INT8_AGREEMENT = 0.995
#: range of the random per-window gain of the augmentation (log-uniform)
GAIN = (0.5, 2.0)
#: the random per-channel gain on top of it: exp(uniform(-CHANNEL_GAIN, CHANNEL_GAIN))
CHANNEL_GAIN = 0.2
#: learning rate (Adam)
LR = {"logspec": 3e-3}
#: default epochs per model
EPOCHS = {"logspec": 30}
#: threshold rules of --threshold
THRESHOLD_RULES = ("oof", "train", "half")
#: the paper's figure (random window split, not subject-wise)
PAPER_F1 = 0.994


def _say(msg):
    print(msg, file=sys.stderr, flush=True)


def choose_threshold(y, p):
    """Threshold on ``p`` maximising balanced accuracy on (y, p), halfway between two scores;
    ties -> the lowest."""
    y = np.asarray(y, bool)
    if y.all() or not y.any():
        return 0.5
    u = np.unique(p)
    # midpoints between neighbouring scores: no window sits on the threshold, so a C output
    # within float rounding of Keras gets the same label
    cand = np.concatenate([(u[:-1] + u[1:]) / 2, [0.5]])
    best, best_t = -1.0, 0.5
    n1, n0 = y.sum(), (~y).sum()
    for t in cand:
        pred = p >= t
        ba = 0.5 * ((pred & y).sum() / n1 + (~pred & ~y).sum() / n0)
        if ba > best + 1e-12:
            best, best_t = ba, float(t)
    return best_t


def augment(X, rng):
    """A random gain per window and per channel (:data:`GAIN`, :data:`CHANNEL_GAIN`) and a
    random circular time shift per window."""
    n, T, C = X.shape
    g = np.exp(rng.uniform(np.log(GAIN[0]), np.log(GAIN[1]), (n, 1, 1))
               + rng.uniform(-CHANNEL_GAIN, CHANNEL_GAIN, (n, 1, C)))
    idx = (np.arange(T)[None, :] + rng.integers(0, T, n)[:, None]) % T
    return np.take_along_axis(X * g.astype(np.float32), idx[:, :, None], axis=1)


def _predict(model, X):
    return model.predict(X, batch_size=256, verbose=0)[:, 0].astype(np.float64)


def _class_weights(y):
    n1 = int(y.sum())
    n0 = len(y) - n1
    return {0: len(y) / (2 * max(n0, 1)), 1: len(y) / (2 * max(n1, 1))}


def fit(model, X, y, rng, epochs, label, callbacks=(), batch=64):
    """``epochs`` epochs of ``model`` on (X, y): class weights, augmentation redrawn each epoch
    (:func:`augment`), progress on stderr."""
    cw = _class_weights(y)
    yf = y.astype(np.float32)
    for ep in range(epochs):
        t = time.perf_counter()
        h = model.fit(augment(X, rng), yf, batch_size=batch, epochs=1, class_weight=cw,
                      verbose=0, shuffle=True, callbacks=list(callbacks))
        _say(f"{label}: epoch {ep + 1}/{epochs} loss {h.history['loss'][-1]:.4f} "
             f"({time.perf_counter() - t:.1f} s)")


def train_one(name, X, y, seed, epochs, label, batch=64):
    """A model ``name`` trained on (X, y) with class weights and augmentation."""
    from sw.classifiers import quiet_tensorflow
    keras = quiet_tensorflow()
    keras.utils.set_random_seed(seed)
    rng = np.random.default_rng(seed)
    mean, var = fog_model.channel_stats(X)
    model = fog_model.build(name, X.shape[2], X.shape[1], mean, var)
    model.compile(optimizer=keras.optimizers.Adam(LR.get(name, 1e-3)),
                  loss="binary_crossentropy")
    fit(model, X, y, rng, epochs, label, batch=batch)
    return model, mean, var


def pruned_copy(model, name, X, y, seed, target, epochs, label):
    """A copy of ``model`` pruned by magnitude to ``target`` of each prunable kernel in the
    steps of :data:`sw.fog_compress.SCHEDULE` up to ``target`` (``epochs`` of fine-tuning per
    step, on the same windows, augmentation and class weights, learning rate / 10)."""
    from sw import fog_compress
    from sw.classifiers import quiet_tensorflow
    keras = quiet_tensorflow()
    keras.utils.set_random_seed(seed)
    rng = np.random.default_rng(seed)
    pm = keras.models.clone_model(model)
    pm.set_weights(model.get_weights())
    pm.compile(optimizer=keras.optimizers.Adam(LR.get(name, 1e-3) / 10),
               loss="binary_crossentropy")
    schedule = [f for f in fog_compress.SCHEDULE if f < target] + [target]
    steps = fog_compress.prune(
        pm, lambda m, cbs, step: fit(m, X, y, rng, epochs, f"{label}, {step}", cbs),
        schedule=schedule)
    return pm, steps


def threshold_for(rule, name, W, train, seed, epochs, label):
    """(threshold, rule applied, fitted model or None) for a model trained on windows
    ``train`` of ``W`` (module docstring, ``--threshold``); ``oof`` trains one inner model per
    training subject with FoG (seeds ``seed + 1 + j``)."""
    if rule == "half":
        return 0.5, "half"
    if rule == "oof":
        subj = W.subject[train]
        ys, ps = [], []
        inner = [s for s in dict.fromkeys(subj.tolist()) if W.y[train][subj == s].any()]
        for j, s in enumerate(inner):
            itr, ite = train[subj != s], train[subj == s]
            if W.y[itr].all() or not W.y[itr].any():
                continue
            m, _, _ = train_one(name, W.X[itr], W.y[itr], seed + 1 + j, epochs,
                                f"{label}, inner model without subject {s}")
            ys.append(W.y[ite])
            ps.append(_predict(m, W.X[ite]))
        if ys:
            return choose_threshold(np.concatenate(ys), np.concatenate(ps)), "oof"
    return None, "train"


def _events(windows, idx, pred, episodes):
    parts = []
    for name in dict.fromkeys(windows.file[idx].tolist()):
        k = windows.file[idx] == name
        parts.append(event_metrics(windows.y[idx][k], pred[k], windows.start_s[idx][k],
                                   windows.end_s[idx][k], episodes.get(name)))
    return parts


def _c_check(models, tmp, arm=None):
    """Emit, build once per target and run every model on its windows.

    ``models``: C name -> (keras model, X, keras p, threshold, weights) with weights
    ``"float32"`` or ``"int8"``; labels are ``p >= threshold``. Host ``cc`` always; the
    Cortex-A9 build under ``qemu-arm`` when ``arm`` (default: when the toolchain is there),
    whose printed outputs must equal the host's byte for byte. Returns {cname: {windows,
    weights, max_abs_dp, label_agreement, labels_identical, arm_identical (None: not run)}}
    and {cname: the C's p (host)}.
    """
    from sw import c_build, c_emit
    if arm is None:
        arm = c_build.have_arm()
        if not arm:
            _say(f"{PROG}: arm-linux-gnueabihf-gcc or qemu-arm not found: the C is checked on "
                 "the host only (no Cortex-A9 figures; make setup installs them)")
    for cname, (model, _, _, _, weights) in models.items():
        h, c, _ = c_emit.emit_keras_sequence(cname, model, doc=f"FoG detector {cname}", hop=64,
                                             weights=weights)
        write_text_atomic(os.path.join(tmp, f"{cname}.h"), h)
        write_text_atomic(os.path.join(tmp, f"{cname}.c"), c)
    exe = c_build.build_sequence(tmp, list(models), os.path.join(tmp, "fog_check"))
    exe_arm = (c_build.build_sequence(tmp, list(models), os.path.join(tmp, "fog_check_arm"),
                                      arm=True) if arm else None)
    out, outputs = {}, {}
    for cname, (_, X, p, th, weights) in models.items():
        yc, text = c_build.run_sequence(exe, cname, X)
        outputs[cname] = yc[:, 0]
        same_arm = None
        if exe_arm:
            _say(f"C check: {cname} ({weights}) on {len(X)} windows under qemu-arm")
            same_arm = c_build.run_sequence(exe_arm, cname, X, arm=True)[1] == text
        d = float(np.max(np.abs(yc[:, 0] - p))) if len(X) else 0.0
        agree = float(np.mean((yc[:, 0] >= th) == (p >= th))) if len(X) else 1.0
        out[cname] = {"windows": int(len(X)), "weights": weights, "max_abs_dp": d,
                      "threshold": th, "label_agreement": agree,
                      "labels_identical": agree == 1.0, "arm_identical": same_arm}
    return out, outputs


def c_violations(checks):
    """One line per C check that fails its bound: float32 |C - Keras| <= :data:`C_TOL` and
    identical labels; int8 labels >= :data:`INT8_AGREEMENT` equal to float Keras'; the ARM
    output identical to the host's."""
    bad = []
    for n, c in checks.items():
        if c["weights"] == "float32":
            if c["max_abs_dp"] > C_TOL:
                bad.append(f"{n}: max |C - Keras| {c['max_abs_dp']:.3g} > {C_TOL:g}")
            elif not c["labels_identical"]:
                bad.append(f"{n}: labels differ from Keras")
        elif c["label_agreement"] < INT8_AGREEMENT:
            bad.append(f"{n}: int8 labels equal to Keras on {100 * c['label_agreement']:.2f}% "
                       f"< {100 * INT8_AGREEMENT:g}%")
        if c["arm_identical"] is False:
            bad.append(f"{n}: qemu-arm output differs from the host build")
    return bad


def _f(v, fmt=".3f"):
    return "n/a" if v is None or v != v else format(v, fmt)


#: the issue's goals, pooled leave-one-subject-out: sensitivity, specificity, AUC (Masiala et
#: al. 2019, subject-independent LSTM: 0.81 / 0.90 / 0.93); the deployed int8 C's Flash and RAM
GOAL = dict(sensitivity=0.85, specificity=0.90, auc=0.93, flash=20 * 1024, ram=32 * 1024)
#: Bächlin et al. 2010, freeze index online: sensitivity, specificity
BACHLIN = (0.731, 0.816)


def goal_line(res):
    """The goals judged from the run's pooled figures and its deployed C, with the anchors."""
    p = res["pooled"]
    dep = res["compression"]["steps"][3 if res["deploy"] == "pruned_int8" else 1]
    met = all(p[k] == p[k] and p[k] >= GOAL[k] for k in ("sensitivity", "specificity", "auc"))
    text = (f"Goal sensitivity >= {GOAL['sensitivity']:.2f}, specificity >= "
            f"{GOAL['specificity']:.2f}, AUC >= {GOAL['auc']:.2f} (Masiala et al. 2019, "
            "subject-independent: 0.81 / 0.90 / 0.93; Bächlin et al. 2010 freeze index online: "
            f"{BACHLIN[0]:.3f} / {BACHLIN[1]:.3f}): {'met' if met else 'not met'} "
            f"({_f(p['sensitivity'])} / {_f(p['specificity'])} / {_f(p['auc'])}).")
    if dep.get("arm"):
        fits = dep["arm"]["flash"] <= GOAL["flash"] and dep["arm"]["ram"] <= GOAL["ram"]
        text += (f" Deployed C within {GOAL['flash'] // 1024} KB Flash and {GOAL['ram'] // 1024} "
                 f"KB RAM: {'yes' if fits else 'no'}.")
    return text


def report_md(res, argv):
    pooled, base = res["pooled"], res["baseline"]["pooled"]
    rows = [("sensitivity", "sensitivity"), ("specificity", "specificity"), ("F1", "f1"),
            ("AUC", "auc"), ("episodes detected", None), ("false alarms / h",
                                                          "false_alarms_per_hour"),
            ("median latency, s", "latency_median_s")]
    lines = [f"# FoG detector `{res['model']}`, leave-one-subject-out on Daphnet", "",
             f"Made by `python -m {PROG}{' ' + ' '.join(argv) if argv else ''}` "
             f"(seed {res['seed']}, {res['epochs']} epochs per model, "
             f"{res['runtime_s']:.0f} s; threshold rule `{res['threshold_rule']}`).", "",
             f"{res['n_windows']} windows of {res['window']} samples (hop {res['hop']}), "
             f"{res['n_fog']} of them FoG; held out in turn: subjects "
             f"{', '.join(str(f['subject']) for f in res['folds'])}; every other subject's "
             "windows train the fold model.", "",
             "## Pooled over the held-out subjects", "",
             "| figure | this model | freeze index |", "|---|---:|---:|"]
    for label, key in rows:
        if key is None:
            a = f"{pooled['episodes_detected']}/{pooled['episodes_total']}"
            b = f"{base['episodes_detected']}/{base['episodes_total']}"
        else:
            fmt = ".2f" if key in ("false_alarms_per_hour", "latency_median_s") else ".3f"
            a, b = _f(pooled[key], fmt), _f(base[key], fmt)
        lines.append(f"| {label} | {a} | {b} |")
    better = [lbl for lbl, k in rows[:4] if pooled[k] == pooled[k] and base[k] == base[k]
              and pooled[k] > base[k]]
    lines += ["", (f"This model is above the freeze-index baseline on "
                   f"{', '.join(better)}." if better else
                   "This model is above the freeze-index baseline on none of sensitivity, "
                   "specificity, F1 and AUC."),
              goal_line(res),
              f"Its pooled F1 is {_f(pooled['f1'])}, against F1 {PAPER_F1} reported by Yi & "
              "Hwang: theirs came from random window splits (windows of one subject, even "
              "overlapping ones, on both sides), these figures are subject-wise -- no window "
              "of the held-out subject is seen in training.", "",
              "## Per held-out subject", "",
              "| subject | windows | FoG | threshold | sens | spec | F1 | AUC | episodes | "
              "FI sens | FI spec | FI F1 | FI AUC |", "|---|---:|---:|---:|---:|---:|---:|---:|"
              "---:|---:|---:|---:|---:|"]
    for f, b in zip(res["folds"], res["baseline"]["folds"]):
        lines.append(f"| {f['subject']} | {f['n_windows']} | {f['n_fog']} | "
                     f"{f['threshold']:.3f} | {_f(f['sensitivity'])} | {_f(f['specificity'])} | "
                     f"{_f(f['f1'])} | {_f(f['auc'])} | {f['episodes_detected']}/"
                     f"{f['episodes_total']} | {_f(b['sensitivity'])} | "
                     f"{_f(b['specificity'])} | {_f(b['f1'])} | {_f(b['auc'])} |")
    worst = min(res["folds"], key=lambda f: -1 if f["f1"] != f["f1"] else f["f1"])
    lines += ["", f"The lowest fold F1 is {_f(worst['f1'])} (subject {worst['subject']}, "
              f"{worst['n_fog']} FoG windows).", "",
              "## C", ""]
    for cname, c in res["c"]["checks"].items():
        arm = {None: "ARM not run", True: "ARM output identical",
               False: "ARM output DIFFERENT"}[c["arm_identical"]]
        if c["weights"] == "float32":
            lines.append(f"- `{cname}` (float32): max |C - Keras| = {c['max_abs_dp']:.2e} over "
                         f"{c['windows']} windows, labels "
                         f"{'identical' if c['labels_identical'] else 'DIFFERENT'}"
                         f" (bound {C_TOL:.0e}); {arm}.")
        else:
            lines.append(f"- `{cname}` (int8 weights): labels equal to the float Keras model's "
                         f"on {100 * c['label_agreement']:.2f}% of {c['windows']} windows "
                         f"(bound {100 * INT8_AGREEMENT:g}%), max |C - Keras| = "
                         f"{c['max_abs_dp']:.2e}; {arm}.")
    lines += ["", "Each fold model's C runs on its held-out subject's windows; `fog_detector` "
              "and `fog_detector_i8` (the final models, which trained on every window) on all "
              "of the held-out subjects' windows. ARM: the same C built with "
              "`arm-linux-gnueabihf-gcc -mcpu=cortex-a9` and run under `qemu-arm`."]
    lines += ["", f"`c/fog_detector.c` is the final model (all windows, threshold "
              f"{res['threshold']:.3f}); parameters {res['c']['params']}, arena "
              f"{res['c']['arena_bytes']} bytes, {res['c']['macc']} MACC per window. "
              "`c/fog_detector_i8.c` is the same model"
              + (f" pruned to {100 * res['prune']:.0f}% of each prunable kernel"
                 if res["deploy"] == "pruned_int8" else "")
              + " with int8 weights (`--deploy " + res["deploy"] + "`).", ""]
    comp = res["compression"]
    lines += ["## Compression steps", "",
              "Leave-one-subject-out figures pooled over the held-out subjects (each fold model "
              "pruned and fine-tuned on its own training windows, the fold's threshold kept); "
              "bytes of the final model's C compiled alone for the Cortex-A9 (Flash = text + "
              "rodata + data; RAM = data + bss + stack, the activation arena being on the "
              "stack).", "",
              "| step | sens | spec | F1 | AUC | zeros in prunable kernels | Flash, B | RAM, B |",
              "|---|---:|---:|---:|---:|---:|---:|---:|"]
    for r in comp["steps"]:
        fl = r["arm"]["flash"] if r["arm"] else "n/a"
        ram = r["arm"]["ram"] if r["arm"] else "n/a"
        lines.append(f"| {r['step']} | {_f(r['sensitivity'])} | {_f(r['specificity'])} | "
                     f"{_f(r['f1'])} | {_f(r['auc'])} | {100 * r['sparsity']:.0f}% | {fl} | "
                     f"{ram} |")
    last = comp["steps"][3 if res["deploy"] == "pruned_int8" else 1]
    if last["arm"]:
        lines += ["", f"The deployed C (`c/fog_detector_i8.c`, step \"{last['step']}\") takes "
                  f"{last['arm']['flash'] / 1024:.2f} KB of Flash and "
                  f"{last['arm']['ram'] / 1024:.2f} KB of RAM; Yi & Hwang report a peak memory "
                  f"of {comp['paper_kb']['peak']} KB and {comp['paper_kb']['pruned_quantized']} "
                  "KB after pruning and dynamic quantization (their measure, on their model)."]
    lines += ["", "Full int8 (int8 activations as well) is not a step here: the emitter keeps "
              "float activations beside int8 weights; TFLite Micro's full-int8 conversion of "
              "the same model is measured by `python -m bench.fog_bench` (`make bench`, fog "
              "sections), with its max |dp| against Keras."]
    lines += ["", "## Plots", ""] + [f"- [{p}]({p})" for p in res["plots"]] + [""]
    return "\n".join(lines)


#: Yi & Hwang's memory figures (KB): peak, and after pruning + dynamic quantization
PAPER_KB = {"peak": 420.91, "pruned_quantized": 44.04}


def _compression(a, W, idx, folds_iter, fold_models, c_out, final, pruned):
    """The measured compression steps: leave-one-subject-out metrics of each weight format
    (float32 from Keras -- the C is within :data:`C_TOL` of it --, int8 from the C itself)
    pooled over the held-out subjects, and the Cortex-A9 bytes of the final model's C."""
    from sw import fog_compress
    steps = [("float32", "", "float32", final), ("int8 weights (dynamic range)", "_i8", "int8",
                                                 final)]
    if a.prune:
        steps += [(f"pruned {100 * a.prune:.0f}%, float32", "_pruned", "float32", pruned),
                  (f"pruned {100 * a.prune:.0f}%, int8 weights (dynamic range)", "_pruned_i8",
                   "int8", pruned)]
    out = []
    for label, suffix, weights, fmodel in steps:
        ps, preds = [], []
        for k in range(len(folds_iter)):
            _, _, p_keras, th, _ = fold_models[f"fog_fold{k + 1}{suffix}"]
            p = c_out[f"fog_fold{k + 1}{suffix}"] if weights == "int8" else p_keras
            ps.append(p)
            preds.append(p >= th)
        p_all, pred_all = np.concatenate(ps), np.concatenate(preds)
        row = {"step": label, "weights": weights, "pruned": bool(suffix.startswith("_pruned")),
               "source": "C (host)" if weights == "int8" else "Keras (C within tolerance)",
               **window_metrics(W.y[idx], pred_all, p_all)}
        try:
            row["arm"] = fog_compress.arm_bytes(f"fog_{weights}{suffix}", fmodel, weights)
        except RuntimeError as e:                  # no ARM compiler: said, not hidden
            row["arm"] = None
            row["arm_missing"] = str(e).splitlines()[0]
        row["sparsity"] = fog_compress.sparsity(fmodel)
        out.append(row)
    return {"steps": out, "paper_kb": PAPER_KB,
            "note": "each fold model is pruned and fine-tuned on its own training windows; "
                    "the fold's threshold is kept"}


def _plots(tmp, W, idx, folds, fold_models, recs, episodes, baseline):
    """plots/roc.png and plots/timeline_<recording>.png of the held-out predictions (``idx``:
    the held-out windows, fold after fold, as the fold models' outputs)."""
    from sw import fog_plots
    os.makedirs(os.path.join(tmp, "plots"))
    curves, start = [], 0
    for k, f in enumerate(folds):
        _, _, p, th, _ = fold_models[f"fog_fold{k + 1}"]
        curves.append((f"subject {f['subject']} (AUC {_f(f['auc'], '.2f')})",
                       W.y[idx[start:start + len(p)]], p, th))
        start += len(p)
    b = baseline["pooled"]
    names = [fog_plots.roc(
        os.path.join(tmp, "plots", "roc.png"), curves,
        "FoG detector, leave-one-subject-out (dots: chosen thresholds)",
        points=[("freeze index (pooled)", b["sensitivity"], b["specificity"])])]
    p_all = np.concatenate([c[2] for c in curves])
    th_all = np.concatenate([np.full(len(c[2]), c[3]) for c in curves])
    for r in recs:
        k = W.file[idx] == r.name
        if not k.any():                     # a subject never held out (no FoG)
            continue
        names.append(fog_plots.timeline(
            os.path.join(tmp, "plots", f"timeline_{r.name}.png"),
            f"{r.name}: held-out predictions (leave-one-subject-out)", W.end_s[idx][k],
            W.y[idx][k], p_all[k], float(th_all[k][0]), episodes.get(r.name, ())))
    return ["plots/" + n for n in names]


def run(a, folder, argv):
    t0 = time.perf_counter()
    recs = fog_data.load_recordings([a.data])
    W = fog_data.Windows.concat([fog_data.make_windows(r) for r in recs])
    episodes = {r.name: fog_data.fog_episodes(r) for r in recs}
    folds_iter = list(fog_data.loso_folds(W))
    if not folds_iter:
        raise InputError(f"--data {a.data}: no subject with FoG windows")
    for f in folds_iter:
        y = W.y[f.train]
        if y.all() or not y.any():
            raise InputError(f"holding out subject {f.subject}: the other subjects need FoG and "
                             "non-FoG windows")
    _say(f"{len(W)} windows ({int(W.y.sum())} FoG) of {len(recs)} recordings; "
         f"{len(folds_iter)} folds; model {a.model}")
    folds, pooled_idx, pooled_p, pooled_pred, parts, fold_models = [], [], [], [], [], {}
    split = {"window_subject": W.subject.astype(str), "window_file": W.file.astype(str),
             "window_start": W.start}
    for k, f in enumerate(folds_iter):
        label = f"fold {k + 1}/{len(folds_iter)} (subject {f.subject} held out)"
        model, _, _ = train_one(a.model, W.X[f.train], W.y[f.train], a.seed + 100 * k,
                                a.epochs, label)
        th, rule = threshold_for(a.threshold, a.model, W, f.train, a.seed + 100 * k, a.epochs,
                                 label)
        if th is None:
            th = choose_threshold(W.y[f.train], _predict(model, W.X[f.train]))
        p = _predict(model, W.X[f.test])
        pred = p >= th
        ev = _events(W, f.test, pred, episodes)
        parts.extend(ev)
        m = {"subject": f.subject, "n_windows": int(len(f.test)),
             "n_fog": int(W.y[f.test].sum()), "n_train": int(len(f.train)),
             "train_subjects": sorted({str(s) for s in W.subject[f.train]}),
             "threshold": th, "threshold_rule": rule,
             **window_metrics(W.y[f.test], pred, p), **pool_events(ev)}
        folds.append(m)
        _say(f"fold {k + 1}: subject {f.subject}: threshold {th:.3f}, sensitivity "
             f"{_f(m['sensitivity'])}, specificity {_f(m['specificity'])}, F1 {_f(m['f1'])}, "
             f"AUC {_f(m['auc'])}")
        pooled_idx.append(f.test)
        pooled_p.append(p)
        pooled_pred.append(pred)
        split[f"train_{f.subject}"] = f.train
        split[f"test_{f.subject}"] = f.test
        X_test = W.X[f.test]
        fold_models[f"fog_fold{k + 1}"] = (model, X_test, p, th, "float32")
        fold_models[f"fog_fold{k + 1}_i8"] = (model, X_test, p, th, "int8")
        if a.prune:
            pm, _ = pruned_copy(model, a.model, W.X[f.train], W.y[f.train],
                                a.seed + 100 * k + 50, a.prune, a.prune_epochs, label)
            pp = _predict(pm, X_test)
            fold_models[f"fog_fold{k + 1}_pruned"] = (pm, X_test, pp, th, "float32")
            fold_models[f"fog_fold{k + 1}_pruned_i8"] = (pm, X_test, pp, th, "int8")
    idx = np.concatenate(pooled_idx)
    p_all, pred_all = np.concatenate(pooled_p), np.concatenate(pooled_pred)
    pooled = {"n_windows": int(len(idx)), "n_fog": int(W.y[idx].sum()),
              **window_metrics(W.y[idx], pred_all, p_all), **pool_events(parts)}
    from sw.fog_baseline import loso
    baseline = loso(W, episodes=episodes)
    fseed = a.seed + 100 * len(folds_iter)
    final, mean, var = train_one(a.model, W.X, W.y, fseed, a.epochs, "final model (all windows)")
    threshold, final_rule = threshold_for(a.threshold, a.model, W, np.arange(len(W)), fseed,
                                          a.epochs, "final model")
    if threshold is None:
        threshold = choose_threshold(W.y, _predict(final, W.X))
    final_p = _predict(final, W.X[idx])
    finals = {"fog_detector": (final, W.X[idx], final_p, threshold, "float32")}
    pruned_final = None
    if a.prune:
        pruned_final, _ = pruned_copy(final, a.model, W.X, W.y, fseed + 50, a.prune,
                                      a.prune_epochs, "final model")
    deploy = pruned_final if a.deploy == "pruned_int8" else final
    finals["fog_detector_i8"] = (deploy, W.X[idx], _predict(deploy, W.X[idx]), threshold,
                                 "int8")
    with folder as tmp:
        final.save(os.path.join(tmp, "model.keras"))
        os.makedirs(os.path.join(tmp, "c"))
        from sw import c_emit
        h, c, info = c_emit.emit_keras_sequence(
            "fog_detector", final, hop=fog_data.HOP,
            doc=f"FoG detector {a.model} (sw.train_fog, seed {a.seed}): p(FoG) per 2 s window "
                f"of raw mg samples, FoG when p >= {threshold:.6g}")
        write_text_atomic(os.path.join(tmp, "c", "fog_detector.h"), h)
        write_text_atomic(os.path.join(tmp, "c", "fog_detector.c"), c)
        if pruned_final is not None:
            pruned_final.save(os.path.join(tmp, "model_pruned.keras"))
        h8, c8, info8 = c_emit.emit_keras_sequence(
            "fog_detector_i8", deploy, hop=fog_data.HOP, weights="int8",
            doc=f"FoG detector {a.model} (sw.train_fog, seed {a.seed})"
                f"{f', pruned to {a.prune:g}' if deploy is pruned_final else ''}, int8 weights "
                f"(matrices >= {c_emit.INT8_MIN_WEIGHTS} weights): p(FoG) per 2 s "
                f"window of raw mg samples, FoG when p >= {threshold:.6g}")
        write_text_atomic(os.path.join(tmp, "c", "fog_detector_i8.h"), h8)
        write_text_atomic(os.path.join(tmp, "c", "fog_detector_i8.c"), c8)
        with tempfile.TemporaryDirectory() as scratch:
            checks, c_out = _c_check({**fold_models, **finals}, scratch)
        compression = _compression(a, W, idx, folds_iter, fold_models, c_out, final,
                                   pruned_final)
        plots = _plots(tmp, W, idx, folds, fold_models, recs, episodes, baseline)
        config = {"kind": "fog", "model": a.model, "seed": a.seed, "epochs": a.epochs,
                  "window": fog_data.WINDOW, "hop": fog_data.HOP, "fs": fog_data.FS,
                  "fog_threshold": fog_data.FOG_THRESHOLD, "channels": list(fog_data.CHANNELS),
                  "units": "mg",
                  "normalisation": {"kind": "frozen_batchnorm",
                                    "layer": "normalise", "epsilon": fog_model.NORM_EPS,
                                    "mean": mean.tolist(), "variance": var.tolist(),
                                    "note": "per-channel affine from the training windows, "
                                            "first layer of the model (the C does it too)"},
                  "threshold": threshold, "threshold_rule": RULE_TEXT[final_rule],
                  "augmentation": {"gain_loguniform": list(GAIN),
                                   "channel_gain_log": CHANNEL_GAIN, "circular_shift": True},
                  "c": "c/fog_detector.c", "c_int8": "c/fog_detector_i8.c",
                  "prune": a.prune, "prune_epochs": a.prune_epochs, "deploy": a.deploy}
        res = {"evaluation": "leave-one-subject-out", "model": a.model, "seed": a.seed,
               "prune": a.prune, "prune_epochs": a.prune_epochs, "deploy": a.deploy,
               "epochs": a.epochs, "threshold_rule": a.threshold,
               "window": fog_data.WINDOW, "hop": fog_data.HOP,
               "n_windows": int(len(W)), "n_fog": int(W.y.sum()),
               "recordings": [r.name for r in recs], "threshold": threshold,
               "folds": folds, "pooled": pooled, "baseline": baseline,
               "compression": compression, "plots": plots,
               "c": {"checks": checks, "tolerance": C_TOL, "int8_agreement_bound": INT8_AGREEMENT,
                     "params": info["params"], "arena_bytes": info["arena_bytes"],
                     "macc": info["macc"], "int8_param_bytes": info8["param_bytes"]}}
        res["command"] = " ".join(["python -m " + PROG, *argv])
        res["runtime_s"] = time.perf_counter() - t0
        violations = c_violations(checks)
        res["c"]["violations"] = violations
        write_json_atomic(os.path.join(tmp, "config.json"), config, sort_keys=False)
        write_json_atomic(os.path.join(tmp, "metrics.json"), res, sort_keys=False)
        import io
        buf = io.BytesIO()
        np.savez(buf, **split)
        write_bytes_atomic(os.path.join(tmp, "folds.npz"), buf.getvalue())
        write_text_atomic(os.path.join(tmp, "REPORT.md"), report_md(res, argv))
    return res


def readme_markers(model):
    """(start, end) markers of the README block of model ``model``."""
    return (f"<!-- fog:{model}:start (written by python -m {PROG} --readme) -->",
            f"<!-- fog:{model}:end -->")


def readme_block(res):
    """The README block of one run: pooled leave-one-subject-out figures beside the freeze
    index, the deployed C's bytes and its verification, and the command that made them."""
    p, b = res["pooled"], res["baseline"]["pooled"]
    steps = res["compression"]["steps"]
    dep = steps[3 if res["deploy"] == "pruned_int8" else 1]
    chk = res["c"]["checks"]
    f32 = [c for c in chk.values() if c["weights"] == "float32"]
    i8 = [c for c in chk.values() if c["weights"] == "int8"]
    arm = all(c["arm_identical"] for c in chk.values())
    rows = ["| leave-one-subject-out, pooled over subjects "
            f"{', '.join(str(f['subject']) for f in res['folds'])} | `{res['model']}` | "
            "freeze index |", "|---|---:|---:|"]
    for label, k in (("sensitivity", "sensitivity"), ("specificity", "specificity"),
                     ("F1", "f1"), ("AUC", "auc")):
        rows.append(f"| {label} | {_f(p[k])} | {_f(b[k])} |")
    rows.append(f"| episodes detected | {p['episodes_detected']}/{p['episodes_total']} | "
                f"{b['episodes_detected']}/{b['episodes_total']} |")
    rows.append(f"| false alarms per hour | {_f(p['false_alarms_per_hour'], '.2f')} | "
                f"{_f(b['false_alarms_per_hour'], '.2f')} |")
    rows.append(f"| median detection latency, s | {_f(p['latency_median_s'], '.2f')} | "
                f"{_f(b['latency_median_s'], '.2f')} |")
    text = "\n".join(rows) + "\n\n" + goal_line(res) + " "
    if dep.get("arm"):
        text += (f"Deployed C (`{dep['step']}`): {dep['arm']['flash']} B Flash, "
                 f"{dep['arm']['ram']} B RAM on the Cortex-A9; ")
    text += (f"float32 C within {max(c['max_abs_dp'] for c in f32):.1e} of Keras on "
             f"{sum(c['windows'] for c in f32)} window runs, int8 labels equal to Keras on "
             f"{100 * min(c['label_agreement'] for c in i8):.2f}% or more; "
             + ("ARM (qemu-arm) output identical to the host's." if arm else
                "ARM output not checked or different.") + "\n\n"
             + f"*`{res['command']}` ({res['n_windows']} windows, {res['n_fog']} FoG; "
             f"{res['runtime_s']:.0f} s).*\n")
    return text


def summary_markers(model):
    """(start, end) markers of the one-paragraph summary of model ``model`` (README.md)."""
    return f"<!-- fog:{model}:summary:start -->", f"<!-- fog:{model}:summary:end -->"


def readme_summary(res):
    """The README's one-item summary of a run: pooled leave-one-subject-out figures beside the
    freeze index's, the deployed C's bytes, the command."""
    p, b = res["pooled"], res["baseline"]["pooled"]
    dep = res["compression"]["steps"][3 if res["deploy"] == "pruned_int8" else 1]
    subjects = ", ".join(str(f["subject"]) for f in res["folds"])
    text = (f"- **Freezing of gait**, `{res['model']}` on Daphnet, leave-one-subject-out "
            f"(subjects {subjects} pooled): sensitivity {_f(p['sensitivity'])}, specificity "
            f"{_f(p['specificity'])}, AUC {_f(p['auc'])} (freeze index {_f(b['sensitivity'])} "
            f"/ {_f(b['specificity'])} / {_f(b['auc'])})")
    if dep.get("arm"):
        text += f"; C {dep['arm']['flash']} B Flash, {dep['arm']['ram']} B RAM"
    return text + f". `{without_option(res['command'], '--readme')}`\n"


def readme_blocks(res):
    """The (start, end, body) blocks a run writes: the full table and the summary."""
    m = res["model"]
    return [(*readme_markers(m), readme_block(res)), (*summary_markers(m), readme_summary(res))]


def update_readme(path, res):
    """Rewrite the blocks of ``res['model']`` (:func:`readme_blocks`) in the Markdown file at
    ``path``; False if none of their markers is there (then nothing is written)."""
    return bool(update_blocks([path], readme_blocks(res), "", say=lambda m: None)[str(path)])


def main(argv=None):
    ap = parser(PROG, __doc__.splitlines()[0])
    ap.add_argument("--data", default=str(SHARED_DATA / "fog-daphnet"),
                    help="folder of Daphnet recordings (default ../shared/data/fog-daphnet)")
    ap.add_argument("--out", default=str(DEFAULT_OUT / "fog"), help="output folder "
                    "(default out/fog)")
    ap.add_argument("--seed", type=int, default=0, help="training seed (default 0)")
    ap.add_argument("--epochs", type=int, default=None,
                    help="epochs per model (default 30 for logspec, else 20)")
    ap.add_argument("--threshold", default="oof", choices=THRESHOLD_RULES,
                    help="decision threshold rule (default oof: out-of-fold predictions of "
                         "the training subjects)")
    ap.add_argument("--model", default="logspec", choices=list(fog_model.MODELS),
                    help="topology (default logspec)")
    ap.add_argument("--prune", type=float, default=0.8,
                    help="fraction of each prunable kernel set to zero, reached in steps of "
                         "0.2 (default 0.8; 0: no pruning)")
    ap.add_argument("--prune-epochs", type=int, default=2,
                    help="fine-tuning epochs per pruning step (default 2)")
    ap.add_argument("--deploy", default="int8", choices=("int8", "pruned_int8"),
                    help="what c/fog_detector_i8.c holds: the final model with int8 weights "
                         "(default) or its pruned copy with int8 weights")
    ap.add_argument("--force", action="store_true",
                    help="replace an earlier output of this tool in --out")
    ap.add_argument("--readme", action="append", metavar="FILE",
                    help="after a run whose checks pass, also rewrite this model's figure "
                         "blocks (fog:<model> and fog:<model>:summary markers) in this Markdown "
                         "file; may be given more than once (make fog: README.md and "
                         "docs/wearable-models.md)")
    args = sys.argv[1:] if argv is None else list(argv)
    a = ap.parse_args(args)
    if a.epochs is None:
        a.epochs = EPOCHS.get(a.model, 20)
    if a.epochs < 1:
        ap.error("--epochs must be at least 1")
    if not 0 <= a.prune < 1:
        ap.error(f"--prune must be in [0, 1), got {a.prune:g}")
    if a.prune_epochs < 1:
        ap.error("--prune-epochs must be at least 1")
    if a.deploy == "pruned_int8" and not a.prune:
        ap.error("--deploy pruned_int8 needs --prune above 0")
    try:
        if not os.path.isdir(a.data):
            raise InputError(f"--data {a.data}: no such folder")
        fog_data.find_recordings([a.data])
        check_block_files(a.readme)
        folder = OutputFolder(a.out, PROG, force=a.force)
        one_thread()
        res = run(a, folder, args)
    except HANDLED as e:
        return error_status(PROG, e)
    except RuntimeError as e:           # a C compiler missing or failing: its output, one line
        return compiler_failure(PROG, e)
    p, b = res["pooled"], res["baseline"]["pooled"]
    print(f"wrote {a.out}/ (model.keras, config.json, metrics.json, folds.npz, REPORT.md, c/) "
          f"in {res['runtime_s']:.0f} s")
    print(f"leave-one-subject-out pooled: sensitivity {_f(p['sensitivity'])}, specificity "
          f"{_f(p['specificity'])}, F1 {_f(p['f1'])}, AUC {_f(p['auc'])}; freeze index: "
          f"sensitivity {_f(b['sensitivity'])}, specificity {_f(b['specificity'])}, F1 "
          f"{_f(b['f1'])}, AUC {_f(b['auc'])}")
    if res["c"]["violations"]:
        return fail(PROG, "C differs from Keras: " + "; ".join(res["c"]["violations"]), 1)
    update_blocks(a.readme, readme_blocks(res), f"{a.model} figure")
    return 0


if __name__ == "__main__":
    sys.exit(main())
