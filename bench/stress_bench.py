"""The stress model (EmoHeal) as C three ways -- ours, keras2c, TFLite Micro -- on the Cortex-A9.

Usage::

    python -m bench.stress_bench out/stress [--work DIR] [-o result.json] [--windows 1] [--check 64]

Reads a model folder of ``python -m sw.train_stress`` (``model.keras``: EmoHeal, **four
inputs**, one per Empatica E4 sensor at its native rate, :data:`sw.stress_model.INPUTS`:
bvp (64 L, 1), acc (32 L, 3), eda (4 L, 1), temp (4 L, 1) for windows of L s; output
p(stress); ``config.json`` of kind "stress") and, in one run, measures as
:mod:`bench.fog_bench` does (same driver, same counting, same footprint; the emitted C reads
the four inputs from one flat ``x``, one after the other, ``NAME_IN<k>_OFFSET``):

* **ours** -- :func:`sw.c_emit.emit_keras_sequence` of ``model.keras`` with float32 and with
  int8 weights (the options of ``sw.train_stress``: the emitter's defaults);
* **keras2c** (PyPI ``keras2c``, optional: not a dependency of the project): its model
  checker's verdict on the model is recorded, and whether its C runtime library is inside the
  installed package (the generated C includes it); when keras2c is not installed, or its
  import or checker fails, the row says so (the bench goes on);
* **TFLite Micro** (PyPI ``tflite-micro``, the host interpreter: there is no ARM build of
  TFLM, see :data:`bench.fog_bench.TFLM_NO_ARM`) of ``tf.lite.TFLiteConverter
  .from_concrete_functions`` models: the Keras model rebuilt with the bidirectional GRU
  unrolled, traced with one batch-1 argument per model input, its variables frozen into
  constants; float32 and full-integer int8 (float in/out). A conversion or run that fails is
  recorded with its error, not raised.

Figures per implementation: Flash and RAM (Cortex-A9), ARM instructions per window
(``qemu-arm`` TCG plugin count, checked against the ``-d nochain,exec`` Trace lines), the
latency per window **estimated** at 800 MHz (:data:`bench.har_bench.CLOCK_HZ`, one instruction
a cycle; not a measured time), host (x86-64) instructions per window (callgrind), max |dp|
against Keras over real windows.

Goals (:data:`GOALS`), each PASS / FAIL from the numbers, or NOT EVALUATED with the reason
when a figure is missing: our int8 C within 64 KB Flash and 32 KB RAM (the budget EmoHeal's
sizes were chosen for, :mod:`sw.stress_model`); fewer ARM instructions per window than
keras2c (float32 against keras2c's float32 C).

Windows: real ones, :func:`sw.stress_data.load_windows` over the Stress-Predict sessions
(``--data``, default ``../shared/data/stress-wrist-e4``) of the model's window, normalised as
``config.json`` says (:func:`sw.stress_data.normalise_windows` with its
``normalisation.mode``), split into the model inputs by :func:`sw.stress_model.split_inputs`;
half stress windows, evenly spaced within each class, then mixed; the int8 calibration
windows are up to 128 others, evenly spaced.
"""

import operator
import os
import re
import sys
import time

import numpy as np

from bench import fog_bench, har_bench
from bench.fog_bench import _say
from bench.model_cli import model_bench_parser, run_model_bench
from spec.cli import InputError
from spec.constants import SHARED_DATA

__all__ = ["run", "markdown", "main", "stress_windows", "goals", "GOALS", "readme_md",
           "keras2c_row"]

PROG = "bench.stress_bench"
#: the budget EmoHeal's sizes were chosen for (sw.stress_model)
GOALS = {"flash_bytes": 64 * 1024, "ram_bytes": 32 * 1024}
#: TFLite converter mode (bench.fog_bench.CONVERTER): concrete function, batch 1, one
#: argument per input, recurrent layers (inside Bidirectional too) unrolled
TFLM_MODE = "concrete:unroll"
estimated_ms = har_bench.estimated_ms


def stress_windows(data, n, cfg, n_calib=128, subjects=None):
    """``n`` Stress-Predict windows of the model folder's window length, normalised as its
    config says, as the model inputs (list, :data:`sw.stress_model.INPUTS` order): half of
    them stress windows, evenly spaced within each class, then mixed; where they came from;
    and up to ``n_calib`` other windows, evenly spaced, for int8 calibration (inputs too)."""
    from sw import stress_data, stress_model
    window_s = int(cfg.get("window_s", stress_data.WINDOW_S))
    hop_s = int(cfg.get("hop_s", stress_data.HOP_S))
    mode = (cfg.get("normalisation") or {}).get("mode", "baseline")
    W = stress_data.load_windows(data, subjects, window_s, hop_s)
    if len(W) < n:
        raise InputError(f"--data {data}: {len(W)} labelled windows of {window_s} s, {n} needed")
    W = stress_data.normalise_windows(W, mode)
    stress, rest = np.flatnonzero(W.y == 1), np.flatnonzero(W.y != 1)
    k = min(len(stress), (n + 1) // 2)
    k = max(k, n - len(rest))
    pick = np.concatenate([stress[np.linspace(0, len(stress) - 1, k).astype(int)] if k else [],
                           rest[np.linspace(0, len(rest) - 1, n - k).astype(int)]
                           if n - k else []]).astype(int)
    pick = pick[np.argsort(np.random.default_rng(0).random(len(pick)))]   # classes mixed
    other = np.setdiff1d(np.arange(len(W)), pick)
    cal = other[np.unique(np.linspace(0, len(other) - 1, min(n_calib, len(other))).astype(int))]
    origin = {"subjects": [int(v) for v in W.subject[pick]],
              "session_s": [float(v) for v in W.session_s[pick]],
              "stress": [int(v) for v in W.y[pick]],
              "normalisation": mode, "window_s": window_s,
              "calibration_windows": int(len(cal))}
    return (stress_model.split_inputs(W.take(pick)), origin,
            stress_model.split_inputs(W.take(cal if len(cal) else pick)))


def keras2c_row(model):
    """keras2c's row (:func:`bench.fog_bench._keras2c`), never raising: an import or checker
    failure is recorded as the row's status and reason."""
    try:
        return fog_bench._keras2c(model)
    except Exception as e:          # keras2c is optional and outside the project: record it
        msg = (str(e).strip().splitlines() or [type(e).__name__])[0][:300]
        return {"impl": "keras2c", "kind": "keras2c", "weights": "float32",
                "status": "check failed", "flash": None, "ram": None,
                "arm_instructions_per_window": None, "host_instructions_per_window": None,
                "max_abs_dp": None,
                "notes": [f"keras2c could not be imported or its checker failed on the model: "
                          f"{type(e).__name__}: {msg}"]}


def _row(rows, impl):
    return next((r for r in rows if r["impl"] == impl), None)


def _condense(msgs):
    """keras2c's checker messages, each kind once: the layers it names listed, repeats counted."""
    groups = {}
    for m in msgs:
        names = re.findall(r"for layer '([^']*)'", m)
        key = re.sub(r" for layer '[^']*'", "", m).strip().rstrip(".")
        groups.setdefault(key, []).append(names[0] if names else None)
    out = []
    for key, names in groups.items():
        named = [v for v in names if v]
        out.append(key + (f" (layers {', '.join(named)})" if named else
                          f" ({len(names)} layers)" if len(names) > 1 else ""))
    return out


def _keras2c_why(k):
    """Why keras2c has no ARM count, in words (from its row)."""
    if not k:
        return "keras2c was not run"
    if k.get("status") == "not installed":
        return "keras2c is not installed here, so its C cannot be built"
    parts = []
    if k.get("unsupported"):
        parts.append("its checker rejects the model: " + "; ".join(_condense(k["unsupported"])))
    if k.get("c_library_files") == []:
        parts.append("the installed package holds no k2c_* C library, which its generated C "
                     "includes")
    if not parts:
        parts = [n.rstrip(".") for n in k.get("notes", [])] or [k.get("status", "not run")]
    return "keras2c cannot be built here: " + "; ".join(parts)


def goals(rows):
    """The goals of :data:`GOALS` evaluated on the rows: a list of dicts (name, text, short,
    measured, limit, passed True/False/None, and why when None)."""
    i8, f32 = _row(rows, "ours int8") or {}, _row(rows, "ours float32") or {}
    k = _row(rows, "keras2c")
    out = []

    def add(name, text, short, measured, limit, cmp, why=None, **extra):
        ok = None if measured is None or limit is None else bool(cmp(measured, limit))
        g = {"name": name, "goal": text, "short": short, "measured": measured, "limit": limit,
             "passed": ok, **extra}
        if ok is None:
            g["why"] = why or "not measured"
        out.append(g)

    add("flash", f"our int8 C <= {GOALS['flash_bytes'] // 1024} KB Flash (Cortex-A9)",
        f"Flash <= {GOALS['flash_bytes'] // 1024} KB", i8.get("flash"), GOALS["flash_bytes"],
        operator.le, unit="B")
    add("ram", f"our int8 C <= {GOALS['ram_bytes'] // 1024} KB RAM (Cortex-A9; the model's "
        "activations, static data and stack -- the caller's input window is not counted)",
        f"RAM <= {GOALS['ram_bytes'] // 1024} KB (the input window excluded)", i8.get("ram"),
        GOALS["ram_bytes"], operator.le, unit="B")
    theirs = (k or {}).get("arm_instructions_per_window")
    for w, ours in (("int8", i8), ("float32", f32)):
        add(f"vs_keras2c_{w}", f"our {w} C executes fewer ARM instructions per window than "
            "keras2c's C (float32)", f"{w}: fewer ARM instructions than keras2c",
            ours.get("arm_instructions_per_window"), theirs, operator.lt,
            None if theirs is not None else _keras2c_why(k), unit="instructions",
            other="keras2c")
    return out


def run(model_dir, work_dir, n_windows=1, n_check=64, windows=None, data=None, tflm=True,
        keras2c=True, int8_min_weights=None, subjects=None):
    """Benchmark the stress model folder ``model_dir``; scratch files go to ``work_dir``.

    ``n_windows`` (N): instruction counts from N and 2N windows; ``n_check`` windows (at least
    2N) for max |dp|. ``windows``: the model inputs (a list of arrays, one per input) to use
    instead of Stress-Predict windows from ``data`` (default the shared
    ``stress-wrist-e4`` folder; ``subjects``: only those). ``tflm``/``keras2c``: include those
    parts. ``int8_min_weights``: the emitter's (None: its default, as ``sw.train_stress``).
    Returns a JSON-able dict of measured figures (see :func:`markdown`).
    """
    t0 = fog_bench._T0[0] = time.time()
    fog_bench._WHO[0] = PROG
    n = int(n_windows)
    if n < 1:
        raise InputError(f"n_windows must be at least 1, got {n_windows}")
    fog_bench._check_tools()
    cfg, model = fog_bench.load_model_dir(model_dir, "stress", "sw.train_stress")
    shapes = fog_bench.input_shapes(model)
    names = [t.name for t in model.inputs]
    m = max(int(n_check), 2 * n)
    if windows is None:
        data = str(data or SHARED_DATA / "stress-wrist-e4")
        if not os.path.isdir(data):
            raise InputError(f"--data {data}: no such folder")
        _say(f"reading Stress-Predict windows from {data}")
        X, origin, Xcal = stress_windows(data, m, cfg, subjects=subjects)
        source = {"kind": "stress-predict", "data": data, **origin}
    else:
        X = [np.asarray(x, np.float32) for x in windows]
        if len(X) != len(shapes) or len(X[0]) < 2 * n:
            raise InputError(f"windows: {len(X)} inputs of {len(X[0]) if X else 0} windows, "
                             f"need {len(shapes)} of >= {2 * n}")
        X = [x[:m] for x in X]
        Xcal = X
        source = {"kind": "given", "calibration_windows": int(len(X[0]))}
    got = [tuple(x.shape[1:]) for x in X]
    if got != shapes:
        raise InputError(f"windows of shapes {got}, the model takes {shapes}")
    rows, _, null, method = fog_bench.measure(
        model, os.path.join(model_dir, "model.keras"), work_dir, X, Xcal, n, prefix="stress",
        keras2c=None, tflm=tflm, while_timeout=0, tflm_mode=TFLM_MODE,
        int8_min_weights=int8_min_weights)
    if keras2c:
        _say("keras2c: its model checker on the model")
        rows.insert(2, keras2c_row(model))
    else:
        rows.insert(2, {"impl": "keras2c", "kind": "keras2c", "status": "not run",
                        "notes": []})
    for r in rows:
        r["est_ms_per_window"] = estimated_ms(r)
    from sw.c_emit import INT8_MIN_WEIGHTS
    method["int8_min_weights"] = (INT8_MIN_WEIGHTS if int8_min_weights is None
                                  else int(int8_min_weights))
    method["latency"] = (f"estimated: ARM instructions per window / "
                         f"{har_bench.CLOCK_HZ / 1e6:.0f} MHz, assuming one instruction per "
                         "cycle (not a measured time)")
    method["inputs"] = ("the C reads every input from one flat x, one after the other "
                        "(NAME_IN<k>_OFFSET); TFLM: each input set to its own tensor")
    return {
        "model": {"dir": os.fspath(model_dir), "name": cfg.get("model"),
                  "inputs": [{"name": a, "shape": list(s)} for a, s in zip(names, shapes)],
                  "n_in": int(sum(int(np.prod(s)) for s in shapes)),
                  "window_s": cfg.get("window_s"), "normalisation": cfg.get("normalisation"),
                  "params": int(model.count_params()),
                  "layers": sorted({type(layer).__name__ for layer in model.layers})},
        "windows": {"n_count": n, "n_check": int(len(X[0])), **source},
        "method": method,
        "clock_hz": har_bench.CLOCK_HZ,
        "null_driver": null,
        "tools": fog_bench.tool_versions(),
        "implementations": rows,
        "goals": goals(rows),
        "runtime_s": time.time() - t0,
    }


# ---------------------------------------------------------------------------------- report

def _val(g):
    v = g["measured"]
    return "n/a" if v is None else f"{v:,.0f} {g['unit']}"


def goal_lines(res):
    """One bullet per goal: PASS / FAIL / NOT EVALUATED with the numbers it was decided on."""
    lines = []
    for g in res["goals"]:
        if g["passed"] is None:
            lines.append(f"* **NOT EVALUATED** {g['goal']}: {g['why']}.")
            continue
        verdict = "PASS" if g["passed"] else "FAIL"
        if g["name"].startswith("vs_"):
            lines.append(f"* **{verdict}** {g['goal']}: {g['measured']:,.0f} against "
                         f"{g['limit']:,.0f} ({g['measured'] / g['limit']:.2f}x).")
        else:
            lines.append(f"* **{verdict}** {g['goal']}: {_val(g)} (limit "
                         f"{g['limit'] // 1024} KB = {g['limit']:,} B).")
    return lines


def _compare_lines(rows):
    """Our C against TFLite Micro on the host, and int8 against float32, in words."""
    out = []
    f32, i8 = _row(rows, "ours float32"), _row(rows, "ours int8")
    if (f32 and i8 and f32.get("arm_instructions_per_window")
            and i8.get("arm_instructions_per_window") and f32.get("flash")):
        a = i8["arm_instructions_per_window"] / f32["arm_instructions_per_window"]
        out.append(f"* ours int8 against ours float32: {100 * i8['flash'] / f32['flash']:.0f} % "
                   f"of its Flash and {a:.2f}x its ARM instructions per window.")
    for w, ours in (("float32", f32), ("int8", i8)):
        t = _row(rows, f"TFLite Micro {w}") or {}
        a, b = (ours or {}).get("host_instructions_per_window"), t.get(
            "host_instructions_per_window")
        if a and b:
            out.append(f"* ours {w} against TFLite Micro {w} on the x86-64 host (callgrind; "
                       f"not a goal): {a:,.0f} against {b:,.0f} instructions per window "
                       f"({a / b:.2f}x).")
    return out


def _keras2c_lines(rows):
    k = _row(rows, "keras2c")
    if k is None or k["status"] == "not run":
        return []
    if k["status"] == "check failed":
        return [f"* keras2c: {'; '.join(k['notes'])}."]
    return [f"* keras2c {k.get('version', '')}".rstrip() + f" ({k['status']}): "
            + _keras2c_why(k) + "."]


def markdown(result):
    """A REPORT.md section: the table, the goals, and in words what could not be measured."""
    mdl, win = result["model"], result["windows"]
    rows = result["implementations"]
    mhz = result["clock_hz"] / 1e6
    src = ("Stress-Predict windows (half stress, evenly spaced per class, normalised "
           f"`{win.get('normalisation')}` as the model's config says)"
           if win.get("kind") == "stress-predict" else "given windows")
    ins = ", ".join(f"{i['name']} {i['shape'][0]} x {i['shape'][1]}" for i in mdl["inputs"])
    lines = [
        f"## Stress model as C: ours, keras2c, TFLite Micro ({mdl['name']})", "",
        f"Model `{mdl['dir']}`: {mdl['params']:,} parameters, four inputs ({ins}; "
        f"{mdl['n_in']:,} floats per window, read by the C from one flat `x`, the inputs one "
        f"after the other), p(stress) out. Instructions per window from {win['n_count']} and "
        f"{2 * win['n_count']} windows; max |dp| against Keras on {win['n_check']} {src}. "
        f"ARM: {result['method']['arm']}; host: {result['method']['host']}. Reading and "
        f"printing a window costs the driver {result['null_driver']['per_window']:,.0f} ARM "
        f"instructions (subtracted). **est. ms/window is an estimate**: ARM instructions / "
        f"{mhz:.0f} MHz, assuming one instruction per cycle (not a measured time).", "",
        *fog_bench.table_md(rows, estimated_ms), "",
        *_compare_lines(rows),
        *fog_bench.notes_md([r for r in rows if r["kind"] != "keras2c"]),
        *_keras2c_lines(rows), "",
        "Goals (decided by the figures above):", "", *goal_lines(result),
        "", f"Bench run time {result['runtime_s']:.0f} s.", ""]
    return "\n".join(lines)


def readme_md(result):
    """The short block ``bench.report --readme`` puts in the README: our int8 C's figures,
    TFLite Micro's host count when there is one, the goals."""
    rows = result["implementations"]
    i8 = _row(rows, "ours int8")
    t8 = _row(rows, "TFLite Micro int8") or {}
    mhz = result["clock_hz"] / 1e6
    out = ["| stress model (`" + str(result["model"]["name"]) + "`, four inputs), int8 C on "
           "the Cortex-A9 | measured |", "|---|---|",
           f"| Flash / RAM | {i8['flash']:,} B / {i8['ram']:,} B |",
           f"| ARM instructions per window (qemu-arm count) | "
           f"{i8['arm_instructions_per_window']:,.0f} |",
           f"| latency per window, **estimated** at {mhz:.0f} MHz (1 instruction per cycle) | "
           f"{estimated_ms(i8):.2f} ms |",
           f"| x86-64 instructions per window, ours / TFLite Micro int8 (callgrind) | "
           f"{fog_bench._num(i8.get('host_instructions_per_window'))} / "
           f"{fog_bench._num(t8.get('host_instructions_per_window'))} |",
           f"| max abs dp vs Keras ({result['windows']['n_check']} windows) | "
           f"{i8['max_abs_dp']:.1e} |", ""]
    verdicts = []
    for g in result["goals"]:
        v = {True: "pass", False: "FAIL", None: "not evaluated"}[g["passed"]]
        verdicts.append(f"{g['short']}: {v}")
    k = _row(rows, "keras2c")
    why = ("" if k is None or k.get("arm_instructions_per_window") is not None
           else f" ({_keras2c_why(k)})")
    return ("\n".join(out) + "\nGoals (int8 C unless said): " + "; ".join(verdicts) + why
            + ".\n")


# ---------------------------------------------------------------------------------- CLI

def main(argv=None):
    ap = model_bench_parser(PROG, __doc__.splitlines()[0], "sw.train_stress",
                            SHARED_DATA / "stress-wrist-e4",
                            "Stress-Predict folder (default ../shared/data/stress-wrist-e4)")
    return run_model_bench(PROG, ap, argv, run, markdown)


if __name__ == "__main__":
    sys.exit(main())
