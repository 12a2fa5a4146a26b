"""One activity-recognition (HAR) model as C two ways -- ours, TFLite Micro -- on the Cortex-A9.

Usage::

    python -m bench.har_bench out/har [--work DIR] [-o result.json] [--windows 1] [--check 64]

Reads a model folder of ``python -m sw.train_har`` (``model.keras``, loaded with
:func:`sw.har_model.custom_objects`; ``config.json`` of kind "har"; input one window
``(T, C)`` float32 of raw acc (g) and gyro (rad/s), output the class probabilities) and, in one
run, measures as :mod:`bench.fog_bench` does (same driver, same counting, same footprint):

* **ours** -- :func:`sw.c_emit.emit_keras_sequence` of ``model.keras`` with float32 and with
  int8 weights (the options of ``sw.train_har``: hop 64, defaults otherwise);
* **TFLite Micro** (PyPI ``tflite-micro``, the host interpreter: there is no ARM build of
  TFLM, see :data:`bench.fog_bench.TFLM_NO_ARM`) of ``tf.lite.TFLiteConverter
  .from_concrete_functions`` models (the Keras model traced with a batch-1 input, its
  variables frozen into constants), float32 and full-integer int8 (float in/out). A
  conversion or an interpreter run that fails (an operator the converter or TFLM lacks) is
  recorded with its error and the model's operators that have no kernel in the installed
  TFLM, not raised. When GELU is the only one missing (tflite-micro 0.dev20261023 has no GELU
  kernel), the model with every GELU replaced by x * sigmoid(1.702 x) is run too
  (:data:`PROXY`, rows labelled "proxy"): its instruction count stands in for the model's, and
  its max |dp| includes the changed activation.

Figures per implementation: Flash and RAM (Cortex-A9), ARM instructions per window
(``qemu-arm`` TCG plugin count, checked against the ``-d nochain,exec`` Trace lines),
**estimated latency per window = ARM instructions / 800 MHz** (:data:`CLOCK_HZ`; an estimate
that assumes one instruction per cycle, not a measured time), host (x86-64) instructions per
window (callgrind), max |dp| against Keras over real windows (all class probabilities).

Goals (:data:`GOALS`), each PASS / FAIL from the numbers, or not evaluable when a figure is
missing: our int8 C within 64 KB Flash and 64 KB RAM; at most 10 ms per window estimated at
800 MHz; fewer instructions per window than TFLite Micro -- compared on the x86-64 host
(callgrind), because TFLM has no ARM build here (int8 against int8, float32 against float32;
against the proxy as separate goals).

Windows: real ones, :func:`sw.har_data.load_windows` over the UCI HAPT raw signals
(``--data``, default ``../shared/data/har-hapt/RawData``) with the model's window, hop and
classes, evenly spaced within each class (classes in turn, then mixed); the int8 calibration
windows are up to 128 others, evenly spaced.
"""

import operator
import os
import sys
import time

import numpy as np

from bench import fog_bench
from bench.fog_bench import _say
from bench.model_cli import model_bench_parser, run_model_bench
from spec.cli import InputError
from spec.constants import SHARED_DATA

__all__ = ["run", "markdown", "main", "har_windows", "goals", "CLOCK_HZ", "GOALS",
           "estimated_ms", "readme_md"]

PROG = "bench.har_bench"
#: clock of the DE10-Nano's Cortex-A9 used for the latency estimate (one instruction a cycle)
CLOCK_HZ = 800e6
#: the budget the DIN was sized for (sw.har_model.DIN)
GOALS = {"flash_bytes": 64 * 1024, "ram_bytes": 64 * 1024, "ms_per_window": 10.0}
#: "module:function" giving load_model's custom_objects (for the converter subprocess)
CUSTOM = "sw.har_model:custom_objects"
#: when TFLM lacks only a GELU kernel: the model with GELU -> x * sigmoid(1.702 x) converted
#: too, a proxy whose instruction count stands in for the model's (converter mode, row label,
#: operators it stands in for)
PROXY = ("concrete:gelu=sigmoid", " (proxy: GELU -> x*sigmoid(1.702x))", ("GELU",))


def _custom_objects():
    from sw import har_model
    return har_model.custom_objects()


def estimated_ms(row, clock_hz=CLOCK_HZ):
    """ARM instructions per window / clock, in ms (one instruction a cycle); None without an
    ARM count."""
    n = row.get("arm_instructions_per_window")
    return None if n is None else 1e3 * n / clock_hz


def har_windows(data, n, cfg, n_calib=128):
    """``n`` HAPT windows (n, T, 6) float32 of the model's window, hop and classes, evenly
    spaced within each class (class by class in turn: classes mixed), then shuffled; where
    they came from; and up to ``n_calib`` other windows, evenly spaced, for int8 calibration."""
    from sw import har_data
    classes = int(cfg.get("classes", 6))
    size = int(cfg.get("window", har_data.WINDOW))
    hop = int(cfg.get("hop", har_data.HOP))
    w = har_data.load_windows(data, classes, size, hop)
    if len(w) < n:
        raise InputError(f"--data {data}: {len(w)} windows of {size} samples, {n} needed")
    by_class = [np.flatnonzero(w.y == k) for k in range(classes)]
    present = [ix for ix in by_class if len(ix)]
    want = [n // len(present) + (i < n % len(present)) for i in range(len(present))]
    pick, spare = [], []
    for ix, k in zip(present, want):
        take = np.unique(np.linspace(0, len(ix) - 1, min(k, len(ix))).astype(int))
        pick.append(ix[take])
        spare.append(np.setdiff1d(ix, ix[take]))
    pick = np.concatenate(pick)
    if len(pick) < n:                   # a class with too few windows: fill from the others
        rest = np.concatenate(spare)
        pick = np.concatenate([pick, rest[np.linspace(0, len(rest) - 1, n - len(pick))
                                          .astype(int)]])
    pick = pick[np.argsort(np.random.default_rng(0).random(len(pick)))]
    other = np.setdiff1d(np.arange(len(w)), pick)
    cal = other[np.unique(np.linspace(0, len(other) - 1, min(n_calib, len(other))).astype(int))]
    names = w.names
    return (w.X[pick].astype(np.float32),
            {"experiments": [int(v) for v in w.experiment[pick]],
             "subjects": [int(v) for v in w.subject[pick]],
             "starts": [int(v) for v in w.start[pick]],
             "classes": [names[int(v)] for v in w.y[pick]],
             "calibration_windows": int(len(cal))},
            w.X[cal].astype(np.float32))


#: a TFLite Micro proxy whose probabilities are further than this from Keras's computes
#: another function: its instruction count is not compared (a broken int8 conversion)
PROXY_MAX_DP = 0.1


def _row(rows, impl):
    return next((r for r in rows if r["impl"] == impl), None)


def goals(rows):
    """The goals of :data:`GOALS` evaluated on the rows: a list of dicts (name, text, measured,
    limit or other, passed True/False/None, and why when None)."""
    i8, f32 = _row(rows, "ours int8") or {}, _row(rows, "ours float32") or {}
    out = []

    def add(name, text, short, measured, limit, cmp, why=None, **extra):
        ok = None if measured is None or limit is None else bool(cmp(measured, limit))
        g = {"name": name, "goal": text, "short": short, "measured": measured, "limit": limit,
             "passed": ok, **extra}
        if ok is None:
            g["why"] = why or "not measured"
        out.append(g)

    le, lt = operator.le, operator.lt
    add("flash", f"our int8 C <= {GOALS['flash_bytes'] // 1024} KB Flash (Cortex-A9)",
        f"Flash <= {GOALS['flash_bytes'] // 1024} KB", i8.get("flash"), GOALS["flash_bytes"],
        le, unit="B")
    add("ram", f"our int8 C <= {GOALS['ram_bytes'] // 1024} KB RAM (Cortex-A9)",
        f"RAM <= {GOALS['ram_bytes'] // 1024} KB", i8.get("ram"), GOALS["ram_bytes"], le,
        unit="B")
    add("latency", f"our int8 C <= {GOALS['ms_per_window']:g} ms per window, estimated at "
        f"{CLOCK_HZ / 1e6:.0f} MHz assuming one instruction per cycle",
        f"<= {GOALS['ms_per_window']:g} ms per window (estimated)",
        estimated_ms(i8) if i8 else None, GOALS["ms_per_window"], le, unit="ms")
    for w, ours in (("int8", i8), ("float32", f32)):
        t = _row(rows, f"TFLite Micro {w}") or {}
        mine, theirs = ours.get("host_instructions_per_window"), t.get(
            "host_instructions_per_window")
        why = None
        if theirs is None:
            why = (f"TFLite Micro {w} has no instruction count ({t.get('status', 'not run')}"
                   + (": " + "; ".join(t.get("notes", [])[1:]) if t.get("notes", [])[1:]
                      else "") + ")")
        add(f"vs_tflm_{w}", f"our {w} C executes fewer instructions per window than TFLite "
            f"Micro {w} (x86-64 host, callgrind: TFLM has no ARM build here)",
            f"{w}: fewer x86-64 instructions than TFLite Micro", mine, theirs, lt, why,
            unit="instructions", other=f"TFLite Micro {w}")
        p = _row(rows, f"TFLite Micro {w}{PROXY[1]}")
        if p is not None:
            theirs = p.get("host_instructions_per_window")
            dp = p.get("max_abs_dp")
            why = (f"the proxy has no instruction count ({p.get('status')}: "
                   + "; ".join(p.get("notes", [])[1:]) + ")") if theirs is None else None
            if theirs is not None and not (dp is not None and dp <= PROXY_MAX_DP):
                why = (f"the proxy does not compute the model (max |dp| {dp:.2f} against Keras, "
                       f"above {PROXY_MAX_DP}): no fair comparison" if dp is not None else
                       "the proxy's outputs were not checked against Keras")
                theirs = None
            add(f"vs_tflm_proxy_{w}", f"our {w} C executes fewer instructions per window than "
                f"TFLite Micro {w} of the model with GELU replaced by x*sigmoid(1.702x) (a "
                "proxy: TFLM has no GELU kernel; x86-64 host, callgrind), when the proxy's "
                f"outputs are within {PROXY_MAX_DP} of Keras",
                f"{w}: fewer than the TFLite Micro proxy (GELU -> x*sigmoid(1.702x))", mine,
                theirs, lt, why, unit="instructions", other=p["impl"])
    return out


def run(model_dir, work_dir, n_windows=1, n_check=64, windows=None, data=None, tflm=True,
        int8_min_weights=None):
    """Benchmark the HAR model folder ``model_dir``; scratch files go to ``work_dir``.

    ``n_windows`` (N): instruction counts from N and 2N windows; ``n_check`` windows (at least
    2N) for max |dp|. ``windows``: (n, T, C) float32 to use instead of HAPT windows from
    ``data`` (default the shared ``har-hapt/RawData`` folder). ``tflm``: include TFLite Micro.
    ``int8_min_weights``: the emitter's (None: its default, as ``sw.train_har``; a smaller
    number makes the smaller matrices of a tiny test model int8 too).
    Returns a JSON-able dict of measured figures (see :func:`markdown`).
    """
    t0 = fog_bench._T0[0] = time.time()
    fog_bench._WHO[0] = PROG
    n = int(n_windows)
    if n < 1:
        raise InputError(f"n_windows must be at least 1, got {n_windows}")
    fog_bench._check_tools()
    cfg, model = fog_bench.load_model_dir(model_dir, "har", "sw.train_har", _custom_objects())
    T, C = (int(v) for v in model.input_shape[1:])
    n_out = int(np.prod(model.output_shape[1:]))
    names = cfg.get("class_names")
    if names is not None and len(names) != n_out:
        raise InputError(f"{model_dir}/config.json: {len(names)} class names, the model has "
                         f"{n_out} outputs")
    m = max(int(n_check), 2 * n)
    if windows is None:
        data = str(data or SHARED_DATA / "har-hapt" / "RawData")
        if not os.path.isdir(data):
            raise InputError(f"--data {data}: no such folder")
        _say(f"reading HAPT windows from {data}")
        X, origin, Xcal = har_windows(data, m, dict(cfg, window=T))
        if X.shape[1:] != (T, C):
            raise InputError(f"{data}: windows of shape {X.shape[1:]}, the model takes {(T, C)}")
        source = {"kind": "hapt", "data": data, **origin}
    else:
        X, source, Xcal = fog_bench.given_windows(windows, n, m, T, C)
    rows, _, null, method = fog_bench.measure(
        model, os.path.join(model_dir, "model.keras"), work_dir, X, Xcal, n, prefix="har",
        hop=int(cfg.get("hop", 64)), keras2c=None, tflm=tflm, while_timeout=0,
        tflm_mode="concrete", custom=CUSTOM, int8_min_weights=int8_min_weights,
        tflm_proxy=PROXY)
    for r in rows:
        r["est_ms_per_window"] = estimated_ms(r)
    from sw.c_emit import INT8_MIN_WEIGHTS
    method["int8_min_weights"] = (INT8_MIN_WEIGHTS if int8_min_weights is None
                                  else int(int8_min_weights))
    method["latency"] = (f"estimated: ARM instructions per window / {CLOCK_HZ / 1e6:.0f} MHz, "
                         "assuming one instruction per cycle (not a measured time)")
    return {
        "model": {"dir": os.fspath(model_dir), "name": cfg.get("model"), "input": [T, C],
                  "outputs": n_out, "classes": names, "params": int(model.count_params()),
                  "layers": sorted({type(layer).__name__ for layer in model.layers})},
        "windows": {"n_count": n, "n_check": int(len(X)), **source},
        "method": method,
        "clock_hz": CLOCK_HZ,
        "null_driver": null,
        "tools": fog_bench.tool_versions(),
        "implementations": rows,
        "goals": goals(rows),
        "runtime_s": time.time() - t0,
    }


# ---------------------------------------------------------------------------------- report

def _val(g):
    v = g["measured"]
    if v is None:
        return "n/a"
    if g["unit"] == "ms":
        return f"{v:.2f} ms"
    return f"{v:,.0f} {g['unit']}"


def goal_lines(res):
    """One bullet per goal: PASS / FAIL / NOT EVALUATED with the numbers it was decided on."""
    lines = []
    for g in res["goals"]:
        if g["passed"] is None:
            lines.append(f"* **NOT EVALUATED** {g['goal']}: {g['why']}.")
            continue
        verdict = "PASS" if g["passed"] else "FAIL"
        if g["name"].startswith("vs_tflm"):
            lines.append(f"* **{verdict}** {g['goal']}: {g['measured']:,.0f} against "
                         f"{g['limit']:,.0f} ({g['measured'] / g['limit']:.2f}x).")
        else:
            limit = (f"{g['limit']:g} ms" if g["unit"] == "ms" else
                     f"{g['limit'] // 1024} KB = {g['limit']:,} B")
            lines.append(f"* **{verdict}** {g['goal']}: {_val(g)} (limit {limit}).")
    return lines


def _compare_lines(rows):
    """Our int8 C against our float32 C, in words, from the two rows (none if one is missing)."""
    f32, i8 = _row(rows, "ours float32"), _row(rows, "ours int8")
    if not (f32 and i8 and f32.get("arm_instructions_per_window")
            and i8.get("arm_instructions_per_window") and f32.get("flash")):
        return []
    a = i8["arm_instructions_per_window"] / f32["arm_instructions_per_window"]
    return [f"* ours int8 against ours float32: {100 * i8['flash'] / f32['flash']:.0f} % of its "
            f"Flash and {a:.2f}x its ARM instructions per window "
            f"({estimated_ms(i8):.2f} against {estimated_ms(f32):.2f} ms estimated)."]


def markdown(result):
    """A REPORT.md section: the table, the goals, and in words what could not be measured."""
    mdl, win = result["model"], result["windows"]
    rows = result["implementations"]
    mhz = result["clock_hz"] / 1e6
    src = ("UCI HAPT windows (evenly spaced per class, classes mixed)"
           if win.get("kind") == "hapt" else "given windows")
    lines = [
        f"## Activity-recognition model as C: ours vs TFLite Micro ({mdl['name']})", "",
        f"Model `{mdl['dir']}`: {mdl['params']:,} parameters, input {mdl['input'][0]} x "
        f"{mdl['input'][1]}, {mdl['outputs']} class probabilities out. Instructions per window "
        f"from {win['n_count']} and {2 * win['n_count']} windows; max |dp| against Keras (over "
        f"every class probability) on {win['n_check']} {src}. ARM: {result['method']['arm']}; "
        f"host: {result['method']['host']}. Reading and printing a window costs the driver "
        f"{result['null_driver']['per_window']:,.0f} ARM instructions (subtracted). "
        f"**est. ms/window is an estimate**: ARM instructions / {mhz:.0f} MHz, assuming one "
        "instruction per cycle (no cache, pipeline or VFP stall modelled; not a measured "
        "time).", "",
        *fog_bench.table_md(rows, estimated_ms), "",
        *_compare_lines(rows), *fog_bench.notes_md(rows), "",
        "Goals (decided by the figures above):", "", *goal_lines(result),
        "", f"Bench run time {result['runtime_s']:.0f} s.", ""]
    return "\n".join(lines)


def readme_md(result):
    """The short block ``bench.report --readme`` puts in the README: our int8 C's figures, the
    goals, TFLite Micro's host count when there is one."""
    rows = result["implementations"]
    i8 = _row(rows, "ours int8")
    t8 = _row(rows, "TFLite Micro int8") or {}
    p8 = _row(rows, f"TFLite Micro int8{PROXY[1]}")
    mhz = result["clock_hz"] / 1e6
    out = ["| HAR model (`" + str(result["model"]["name"]) + "`), int8 C on the Cortex-A9 "
           "| measured |", "|---|---|",
           f"| Flash / RAM | {i8['flash']:,} B / {i8['ram']:,} B |",
           f"| ARM instructions per window (qemu-arm count) | "
           f"{i8['arm_instructions_per_window']:,.0f} |",
           f"| latency per window, **estimated** at {mhz:.0f} MHz (1 instruction per cycle) | "
           f"{estimated_ms(i8):.2f} ms |",
           f"| x86-64 instructions per window, ours / TFLite Micro int8 (callgrind) | "
           f"{fog_bench._num(i8.get('host_instructions_per_window'))} / "
           f"{fog_bench._num(t8.get('host_instructions_per_window'))}"
           + (f" (proxy, GELU -> x*sigmoid(1.702x): "
              f"{fog_bench._num(p8.get('host_instructions_per_window'))})" if p8 else "")
           + " |",
           f"| max abs dp vs Keras ({result['windows']['n_check']} windows) | "
           f"{i8['max_abs_dp']:.1e} |", ""]
    verdicts = []
    for g in result["goals"]:
        v = {True: "pass", False: "FAIL", None: "not evaluated"}[g["passed"]]
        verdicts.append(f"{g['short']}: {v}")
    return ("\n".join(out) + "\nGoals (int8 C unless said; instruction counts on the x86-64 "
            "host, TFLite Micro having no ARM build): " + "; ".join(verdicts) + ".\n")


# ---------------------------------------------------------------------------------- CLI

def main(argv=None):
    ap = model_bench_parser(PROG, __doc__.splitlines()[0], "sw.train_har",
                            SHARED_DATA / "har-hapt" / "RawData",
                            "HAPT RawData folder (default ../shared/data/har-hapt/RawData)")
    return run_model_bench(PROG, ap, argv, run, markdown)


if __name__ == "__main__":
    sys.exit(main())
