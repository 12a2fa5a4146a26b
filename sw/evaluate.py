"""One evaluator for every trained model folder of the toolkit.

``python -m sw.evaluate MODEL_DIR --data DIR [--out DIR] [--force]``

``MODEL_DIR/config.json`` names the model's ``kind``; the evaluator registered for that kind
(:data:`EVALUATORS`, filled by :func:`register`) scores the model on the data of ``--data``
and returns a JSON-able dict, written as ``metrics.json`` into ``--out`` (default
``MODEL_DIR/evaluation``) through :class:`spec.outputs.OutputFolder`: a folder this tool did
not write is never touched, its own earlier output is replaced only with ``--force``. A
missing or unreadable ``config.json`` or an unknown kind is exit status 2, one line naming the
file. A new kind (HAR, stress) is one more function::

    @register("har")
    def evaluate_har(model_dir, config, data, progress) -> dict

Kinds so far:

``fog`` -- every recording of ``--data`` (a Daphnet folder, or one file; :mod:`sw.fog_data`)
windowed as the model's config says (``window``, ``hop``, the same ``normalisation`` and
channels, :mod:`sw.fog_detect`), scored by the Keras model, decided at the config's
``threshold``; metrics of :mod:`sw.fog_metrics` with the truth episodes the label-2 sample
runs: pooled (``sensitivity``, ``specificity``, ``f1``, ``auc`` over all windows, episodes,
detections, false alarms per hour and median latency over all recordings) and per recording
under ``recordings``. One progress line per recording on stderr.

``har`` -- every experiment of ``--data`` (a folder in the UCI HAPT ``RawData`` layout:
``acc_expXX_userYY.txt``, ``gyro_...``, ``labels.txt``; :mod:`sw.har_data`) windowed as the
model's config says (``window``, ``hop``, ``classes``), classified by the Keras model
(:mod:`sw.har_predict`); :func:`sw.har_metrics.classification_metrics` pooled over all windows
(``accuracy``, ``macro_f1``, ``per_class_f1``, ``confusion``, ``support``) and per subject
under ``subjects``. One progress line per subject on stderr.

``stress`` -- every labelled subject of ``--data`` (a folder in the Stress-Predict layout:
``Sxx/`` with the E4 CSVs and ``labels_hr_rsp_binary.csv``; :mod:`sw.stress_data`) windowed
as the model's config says (``window_s``, ``hop_s``), normalised per subject as at training
(``normalisation.mode``), scored by the Keras model at the config's ``threshold``:
:func:`sw.stress_baseline.scores` pooled (``accuracy``, ``balanced_accuracy``, ``f1``,
``auc``, ``majority_rate``) and per subject under ``subjects``.
"""

import math
import sys
from pathlib import Path

import numpy as np

from spec.cli import HANDLED, InputError, error_status, parser
from spec.outputs import OutputFolder, write_json_atomic

__all__ = ["PROG", "EVALUATORS", "register", "evaluate", "evaluate_fog", "evaluate_har",
           "evaluate_stress", "main"]

PROG = "sw.evaluate"
#: kind -> evaluator ``fn(model_dir, config, data, progress) -> dict``
EVALUATORS = {}
_METRICS = ("sensitivity", "specificity", "f1", "auc", "episodes_total", "episodes_detected",
            "false_alarms_per_hour", "latency_median_s")


def register(kind):
    """Decorator: ``fn`` evaluates model folders whose config.json has ``kind``."""
    def deco(fn):
        EVALUATORS[kind] = fn
        return fn
    return deco


def _clean(v):
    """NaN/inf -> None (strict JSON)."""
    if isinstance(v, dict):
        return {k: _clean(x) for k, x in v.items()}
    if isinstance(v, (list, tuple)):
        return [_clean(x) for x in v]
    if isinstance(v, (float, np.floating)):
        return float(v) if math.isfinite(v) else None
    if isinstance(v, np.integer):
        return int(v)
    return v


@register("fog")
def evaluate_fog(model_dir, config, data, progress=None):
    """Metrics of a FoG model folder on the Daphnet recordings of ``data`` (module docstring)."""
    from sw import fog_data, fog_detect
    from sw.fog_metrics import event_metrics, pool_events, recording_metrics, window_metrics
    model = fog_detect.load_model(model_dir)
    recs = fog_data.load_recordings(data)
    ys, ps, parts, per = [], [], [], {}
    for k, rec in enumerate(recs, 1):
        w = fog_detect.recording_windows(rec, model)
        p = fog_detect.predict_python(model, fog_detect.prepare(w, model))
        truth = fog_data.fog_episodes(rec)
        if len(w):
            m = recording_metrics(w.y, p, w.start_s, w.end_s, model.threshold, episodes=truth)
        else:
            m = dict(window_metrics(w.y, w.y, p), **event_metrics(
                w.y, w.y, w.start_s, w.end_s, episodes=truth))
        ys.append(w.y)
        ps.append(p)
        parts.append(m)
        per[rec.name] = {**{key: m[key] for key in _METRICS}, "windows": len(w),
                         "fog_windows": int(w.y.sum()), "false_alarms": m["false_alarms"],
                         "duration_s": rec.duration_s}
        if progress:
            progress(f"[{k}/{len(recs)}] {rec.name}: {len(w)} windows, "
                     f"{m['episodes_detected']}/{m['episodes_total']} episodes detected, "
                     f"{m['false_alarms']} false alarms")
    y, p = np.concatenate(ys), np.concatenate(ps)
    pooled = window_metrics(y, p >= model.threshold, p)
    pooled.update(pool_events(parts))
    del pooled["latencies_s"]
    return {"kind": "fog", "model": str(model_dir), "data": str(data),
            "threshold": model.threshold, "window": model.window, "hop": model.hop,
            "normalisation": model.normalisation,
            **pooled, "recordings": per}


@register("har")
def evaluate_har(model_dir, config, data, progress=None):
    """Metrics of a HAR model folder on the HAPT experiments of ``data`` (module docstring)."""
    from sw import har_data, har_predict
    from sw.har_metrics import classification_metrics
    model = har_predict.load(model_dir)
    cfg = model.config
    if not Path(data).is_dir():
        raise InputError(f"--data {data}: no such folder (a HAPT RawData folder)")
    W = har_data.load_windows(data, classes=cfg["classes"], size=cfg["window"], hop=cfg["hop"])
    if not len(W):
        raise InputError(f"--data {data}: no window inside a labelled segment")
    names = model.names
    p = model.predict(W.X)
    pred = p.argmax(axis=1)
    per = {}
    for k, s in enumerate(W.subjects, 1):
        sel = W.subject == s
        m = classification_metrics(W.y[sel], pred[sel], names)
        per[str(s)] = {key: m[key] for key in ("n_windows", "accuracy", "macro_f1")}
        if progress:
            progress(f"[{k}/{len(W.subjects)}] subject {s}: {m['n_windows']} windows, "
                     f"accuracy {m['accuracy']:.3f}")
    return {"kind": "har", "model": str(model_dir), "data": str(data),
            "classes": cfg["classes"], "window": cfg["window"], "hop": cfg["hop"],
            **classification_metrics(W.y, pred, names), "subjects": per}


@register("stress")
def evaluate_stress(model_dir, config, data, progress=None):
    """Metrics of a stress model folder on the Stress-Predict layout of ``data``."""
    from sw import stress_data, stress_model
    from sw.classifiers import quiet_tensorflow
    from sw.stress_baseline import scores
    where = Path(model_dir) / "config.json"
    try:
        window_s, hop_s = int(config["window_s"]), int(config["hop_s"])
        mode = config["normalisation"]["mode"]
        threshold = float(config["threshold"])
        path = Path(model_dir) / config["model_file"]
    except (KeyError, TypeError, ValueError) as e:
        raise InputError(f"{where}: not a stress model config ({type(e).__name__}: {e})") from None
    if not Path(data).is_dir():
        raise InputError(f"--data {data}: no such folder (a Stress-Predict folder)")
    if not path.is_file():
        raise InputError(f"{path}: no such file (named by {where})")
    keras = quiet_tensorflow()
    try:
        model = keras.models.load_model(path, compile=False)
    except Exception as e:  # noqa: BLE001 -- keras raises many types on a bad file
        raise InputError(f"{path}: cannot load the Keras model ({type(e).__name__})") from None
    W = stress_data.load_windows(data, window_s=window_s, hop_s=hop_s)
    if not len(W):
        raise InputError(f"--data {data}: no labelled window")
    Wn = stress_data.normalise_windows(W, mode)
    p = model.predict(stress_model.split_inputs(Wn), batch_size=64, verbose=0)[:, 0]
    per = {}
    for k, s in enumerate(W.subjects, 1):
        sel = W.subject == s
        m = scores(W.y[sel], p[sel] >= threshold, p[sel])
        per[str(s)] = {key: m[key] for key in ("n_windows", "n_stress", "accuracy",
                                                "balanced_accuracy", "auc")}
        if progress:
            progress(f"[{k}/{len(W.subjects)}] subject {s}: {m['n_windows']} windows, "
                     f"accuracy {m['accuracy']:.3f}")
    m = scores(W.y, p >= threshold, p)
    m["majority_rate"] = m.pop("majority")
    return {"kind": "stress", "model": str(model_dir), "data": str(data),
            "window_s": window_s, "hop_s": hop_s, "normalisation": mode,
            "transductive": mode == "session", "threshold": threshold, **m, "subjects": per}


def evaluate(model_dir, data, progress=None):
    """Dispatch on ``MODEL_DIR/config.json`` ``kind``; returns the evaluator's dict."""
    from sw.fog_detect import read_config
    config = read_config(model_dir)
    kind = config.get("kind")
    fn = EVALUATORS.get(kind) if isinstance(kind, str) else None
    if fn is None:
        raise InputError(f"{Path(model_dir) / 'config.json'}: unknown kind {kind!r} (known: "
                         f"{', '.join(sorted(EVALUATORS))})")
    return _clean(fn(model_dir, config, data, progress))


def main(argv=None):
    """``python -m sw.evaluate MODEL_DIR --data DIR [options]``; returns the exit status."""
    ap = parser(PROG, "Evaluate a trained model folder (config.json kind: "
                f"{', '.join(sorted(EVALUATORS))}) on another data folder; writes metrics.json.")
    ap.add_argument("model", help="trained model folder (with config.json)")
    ap.add_argument("--data", required=True, help="data folder (or file) to score on")
    ap.add_argument("--out", help="output folder (default MODEL_DIR/evaluation)")
    ap.add_argument("--force", action="store_true",
                    help="replace this tool's earlier output in --out")
    a = ap.parse_args(argv)
    out = a.out if a.out is not None else str(Path(a.model) / "evaluation")
    try:
        from sw.fog_detect import read_config
        read_config(a.model)                      # a bad folder fails before --out is checked
        folder = OutputFolder(out, PROG, force=a.force)
        result = evaluate(a.model, a.data, lambda s: print(s, file=sys.stderr, flush=True))
        with folder as tmp:
            write_json_atomic(Path(tmp) / "metrics.json", result)
        print(f"wrote {Path(out) / 'metrics.json'}")
    except HANDLED as e:
        return error_status(PROG, e)
    return 0


if __name__ == "__main__":
    sys.exit(main())
