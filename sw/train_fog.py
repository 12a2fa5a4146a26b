"""Train a freezing-of-gait detector on Daphnet, leave-one-subject-out, and emit verified C.

Usage::

    python -m sw.train_fog                                # yi_hwang on ../shared/data/fog-daphnet
    python -m sw.train_fog --model small --epochs 10 --out out/fog_small --seed 1

Steps: (1) read the recordings (:mod:`sw.fog_data`; 2 s windows, 1 s hop, 9 channels, raw
mg); (2) for every subject with FoG windows in turn: train on every other subject's windows
(subjects without FoG give negatives only), with class weights ``n / (2 n_class)`` for the
rare FoG class and augmentation (each training window's channels multiplied by a random gain
in [0.8, 1.25], redrawn every epoch: subjects differ in amplitude); the decision threshold is
chosen on the *training* windows only -- the one maximising balanced accuracy of the fold
model's predictions on its own training windows (no held-out data; optimistic, since the
model has seen those windows); score the held-out subject's windows (:mod:`sw.fog_metrics`,
window and event metrics, per fold and pooled); (3) the freeze-index baseline
(:func:`sw.fog_baseline.loso`) on the same windows; (4) the final model on all windows, its
threshold chosen the same way; (5) its C (:func:`sw.c_emit.emit_keras_sequence`), and each
fold model's C, compiled with the host ``cc`` and run on the held-out windows against Keras.

Normalisation: the model's first layer is a frozen BatchNormalization with the training
windows' per-channel mean and variance (:mod:`sw.fog_model`), so the C takes raw mg samples.

Output folder (default ``out/fog``), written atomically (:class:`spec.outputs.OutputFolder`):

=====================  ==========================================================
``model.keras``        the final model (trained on every window)
``config.json``        kind "fog", window, hop, fs, channels, normalisation, threshold,
                       model, seed, epochs
``metrics.json``       "evaluation": "leave-one-subject-out"; folds, pooled, baseline, c
``folds.npz``          per held-out subject ``train_<s>``/``test_<s>`` window indexes and
                       the windows' ``window_subject``/``window_file``/``window_start``
``REPORT.md``          the figures in words, next to the freeze-index baseline
``c/``                 ``fog_detector.c``, ``fog_detector.h`` (the final model)
=====================  ==========================================================

Bad input (missing data, an --out folder this tool did not write) prints one
``sw.train_fog: error: ...`` line and exits 2, writing nothing. When a C output differs from
Keras by more than :data:`C_TOL` or a label differs, everything is written all the same and the
tool exits 1 with one line.
"""

import os
import sys
import tempfile
import time

import numpy as np

from spec.cli import HANDLED, InputError, error_status, fail, parser
from spec.constants import DEFAULT_OUT, SHARED_DATA
from spec.outputs import OutputFolder, write_bytes_atomic, write_json_atomic, write_text_atomic
from sw import fog_data, fog_model
from sw.fog_metrics import event_metrics, pool_events, window_metrics

PROG = "sw.train_fog"
#: largest |C - Keras| probability allowed
C_TOL = 1e-5
#: range of the random per-channel gain of the augmentation
GAIN = (0.8, 1.25)
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


def _predict(model, X):
    return model.predict(X, batch_size=256, verbose=0)[:, 0].astype(np.float64)


def train_one(name, X, y, seed, epochs, label, batch=64):
    """A model ``name`` trained on (X, y) with class weights and gain augmentation."""
    from sw.classifiers import quiet_tensorflow
    keras = quiet_tensorflow()
    keras.utils.set_random_seed(seed)
    rng = np.random.default_rng(seed)
    mean, var = fog_model.channel_stats(X)
    model = fog_model.build(name, X.shape[2], X.shape[1], mean, var)
    model.compile(optimizer=keras.optimizers.Adam(1e-3), loss="binary_crossentropy")
    n1 = int(y.sum())
    n0 = len(y) - n1
    cw = {0: len(y) / (2 * max(n0, 1)), 1: len(y) / (2 * max(n1, 1))}
    yf = y.astype(np.float32)
    for ep in range(epochs):
        t = time.perf_counter()
        gain = rng.uniform(*GAIN, size=(len(X), 1, X.shape[2])).astype(np.float32)
        h = model.fit(X * gain, yf, batch_size=batch, epochs=1, class_weight=cw, verbose=0,
                      shuffle=True)
        _say(f"{label}: epoch {ep + 1}/{epochs} loss {h.history['loss'][-1]:.4f} "
             f"({time.perf_counter() - t:.1f} s)")
    return model, mean, var


def _events(windows, idx, pred, episodes):
    parts = []
    for name in dict.fromkeys(windows.file[idx].tolist()):
        k = windows.file[idx] == name
        parts.append(event_metrics(windows.y[idx][k], pred[k], windows.start_s[idx][k],
                                   windows.end_s[idx][k], episodes.get(name)))
    return parts


def _c_check(models, tmp):
    """Emit, build once and run: {cname: {windows, max_abs_dp, labels_identical}}; ``models``
    maps a C name to (keras model, X, keras p, threshold); labels are ``p >= threshold``."""
    from sw import c_build, c_emit
    for cname, (model, _, _, _) in models.items():
        h, c, _ = c_emit.emit_keras_sequence(cname, model, doc=f"FoG detector {cname}", hop=64)
        write_text_atomic(os.path.join(tmp, f"{cname}.h"), h)
        write_text_atomic(os.path.join(tmp, f"{cname}.c"), c)
    exe = c_build.build_sequence(tmp, list(models), os.path.join(tmp, "fog_check"))
    out = {}
    for cname, (_, X, p, th) in models.items():
        yc, _ = c_build.run_sequence(exe, cname, X)
        d = float(np.max(np.abs(yc[:, 0] - p))) if len(X) else 0.0
        out[cname] = {"windows": int(len(X)), "max_abs_dp": d,
                      "threshold": th,
                         "labels_identical": bool(np.array_equal(yc[:, 0] >= th, p >= th))}
    return out


def _f(v, fmt=".3f"):
    return "n/a" if v is None or v != v else format(v, fmt)


def report_md(res, argv):
    pooled, base = res["pooled"], res["baseline"]["pooled"]
    rows = [("sensitivity", "sensitivity"), ("specificity", "specificity"), ("F1", "f1"),
            ("AUC", "auc"), ("episodes detected", None), ("false alarms / h",
                                                          "false_alarms_per_hour"),
            ("median latency, s", "latency_median_s")]
    lines = [f"# FoG detector `{res['model']}`, leave-one-subject-out on Daphnet", "",
             f"Made by `python -m {PROG}{' ' + ' '.join(argv) if argv else ''}` "
             f"(seed {res['seed']}, {res['epochs']} epochs per model, "
             f"{res['runtime_s']:.0f} s).", "",
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
        lines.append(f"- `{cname}`: max |C - Keras| = {c['max_abs_dp']:.2e} over "
                     f"{c['windows']} windows, labels "
                     f"{'identical' if c['labels_identical'] else 'DIFFERENT'}"
                     f" (bound {C_TOL:.0e}).")
    lines += ["", "Each fold model's C runs on its held-out subject's windows; `fog_detector` "
              "(the final model, which trained on every window) on all of the held-out "
              "subjects' windows."]
    lines += ["", f"`c/fog_detector.c` is the final model (all windows, threshold "
              f"{res['threshold']:.3f}); parameters {res['c']['params']}, arena "
              f"{res['c']['arena_bytes']} bytes, {res['c']['macc']} MACC per window.", ""]
    return "\n".join(lines)


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
        model, _, _ = train_one(a.model, W.X[f.train], W.y[f.train], a.seed + k, a.epochs,
                                f"fold {k + 1}/{len(folds_iter)} (subject {f.subject} held out)")
        th = choose_threshold(W.y[f.train], _predict(model, W.X[f.train]))
        p = _predict(model, W.X[f.test])
        pred = p >= th
        ev = _events(W, f.test, pred, episodes)
        parts.extend(ev)
        m = {"subject": f.subject, "n_windows": int(len(f.test)),
             "n_fog": int(W.y[f.test].sum()), "n_train": int(len(f.train)),
             "train_subjects": sorted({str(s) for s in W.subject[f.train]}),
             "threshold": th, **window_metrics(W.y[f.test], pred, p), **pool_events(ev)}
        folds.append(m)
        _say(f"fold {k + 1}: subject {f.subject}: threshold {th:.3f}, sensitivity "
             f"{_f(m['sensitivity'])}, specificity {_f(m['specificity'])}, F1 {_f(m['f1'])}, "
             f"AUC {_f(m['auc'])}")
        pooled_idx.append(f.test)
        pooled_p.append(p)
        pooled_pred.append(pred)
        split[f"train_{f.subject}"] = f.train
        split[f"test_{f.subject}"] = f.test
        fold_models[f"fog_fold{k + 1}"] = (model, W.X[f.test], p, th)
    idx = np.concatenate(pooled_idx)
    p_all, pred_all = np.concatenate(pooled_p), np.concatenate(pooled_pred)
    pooled = {"n_windows": int(len(idx)), "n_fog": int(W.y[idx].sum()),
              **window_metrics(W.y[idx], pred_all, p_all), **pool_events(parts)}
    from sw.fog_baseline import loso
    baseline = loso(W, episodes=episodes)
    final, mean, var = train_one(a.model, W.X, W.y, a.seed + len(folds_iter), a.epochs,
                                 "final model (all windows)")
    threshold = choose_threshold(W.y, _predict(final, W.X))
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
        with tempfile.TemporaryDirectory() as scratch:
            final_check = (final, W.X[idx], _predict(final, W.X[idx]), threshold)
            checks = _c_check({**fold_models, "fog_detector": final_check}, scratch)
        config = {"kind": "fog", "model": a.model, "seed": a.seed, "epochs": a.epochs,
                  "window": fog_data.WINDOW, "hop": fog_data.HOP, "fs": fog_data.FS,
                  "fog_threshold": fog_data.FOG_THRESHOLD, "channels": list(fog_data.CHANNELS),
                  "units": "mg",
                  "normalisation": {"kind": "frozen_batchnorm",
                                    "layer": "normalise", "epsilon": fog_model.NORM_EPS,
                                    "mean": mean.tolist(), "variance": var.tolist(),
                                    "note": "per-channel affine from the training windows, "
                                            "first layer of the model (the C does it too)"},
                  "threshold": threshold, "threshold_rule": "max balanced accuracy on the "
                  "training windows' predictions", "c": "c/fog_detector.c"}
        res = {"evaluation": "leave-one-subject-out", "model": a.model, "seed": a.seed,
               "epochs": a.epochs, "window": fog_data.WINDOW, "hop": fog_data.HOP,
               "n_windows": int(len(W)), "n_fog": int(W.y.sum()),
               "recordings": [r.name for r in recs], "threshold": threshold,
               "folds": folds, "pooled": pooled, "baseline": baseline,
               "c": {"checks": checks, "tolerance": C_TOL, "params": info["params"],
                     "arena_bytes": info["arena_bytes"], "macc": info["macc"]}}
        res["runtime_s"] = time.perf_counter() - t0
        violations = [f"{n}: max |C - Keras| {c['max_abs_dp']:.3g} > {C_TOL:g}"
                      if c["max_abs_dp"] > C_TOL else f"{n}: labels differ from Keras"
                      for n, c in checks.items()
                      if c["max_abs_dp"] > C_TOL or not c["labels_identical"]]
        res["c"]["violations"] = violations
        write_json_atomic(os.path.join(tmp, "config.json"), config, sort_keys=False)
        write_json_atomic(os.path.join(tmp, "metrics.json"), res, sort_keys=False)
        import io
        buf = io.BytesIO()
        np.savez(buf, **split)
        write_bytes_atomic(os.path.join(tmp, "folds.npz"), buf.getvalue())
        write_text_atomic(os.path.join(tmp, "REPORT.md"), report_md(res, argv))
    return res


def main(argv=None):
    ap = parser(PROG, __doc__.splitlines()[0])
    ap.add_argument("--data", default=str(SHARED_DATA / "fog-daphnet"),
                    help="folder of Daphnet recordings (default ../shared/data/fog-daphnet)")
    ap.add_argument("--out", default=str(DEFAULT_OUT / "fog"), help="output folder "
                    "(default out/fog)")
    ap.add_argument("--seed", type=int, default=0, help="training seed (default 0)")
    ap.add_argument("--epochs", type=int, default=20, help="epochs per model (default 20)")
    ap.add_argument("--model", default="yi_hwang", choices=list(fog_model.MODELS),
                    help="topology (default yi_hwang)")
    ap.add_argument("--force", action="store_true",
                    help="replace an earlier output of this tool in --out")
    args = sys.argv[1:] if argv is None else list(argv)
    a = ap.parse_args(args)
    if a.epochs < 1:
        ap.error("--epochs must be at least 1")
    try:
        if not os.path.isdir(a.data):
            raise InputError(f"--data {a.data}: no such folder")
        fog_data.find_recordings([a.data])
        folder = OutputFolder(a.out, PROG, force=a.force)
        res = run(a, folder, args)
    except HANDLED as e:
        return error_status(PROG, e)
    p, b = res["pooled"], res["baseline"]["pooled"]
    print(f"wrote {a.out}/ (model.keras, config.json, metrics.json, folds.npz, REPORT.md, c/) "
          f"in {res['runtime_s']:.0f} s")
    print(f"leave-one-subject-out pooled: sensitivity {_f(p['sensitivity'])}, specificity "
          f"{_f(p['specificity'])}, F1 {_f(p['f1'])}, AUC {_f(p['auc'])}; freeze index: "
          f"sensitivity {_f(b['sensitivity'])}, specificity {_f(b['specificity'])}, F1 "
          f"{_f(b['f1'])}, AUC {_f(b['auc'])}")
    if res["c"]["violations"]:
        return fail(PROG, "C differs from Keras: " + "; ".join(res["c"]["violations"]), 1)
    return 0


if __name__ == "__main__":
    sys.exit(main())
