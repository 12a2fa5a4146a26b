"""The command line the model benchmarks share (``bench.fog_bench``, ``bench.har_bench``,
``bench.stress_bench``): a trained model folder in, the figures as markdown on stdout and,
with ``-o``, as JSON.

Each benchmark builds its parser with :func:`model_bench_parser` (adding its own options)
and hands it to :func:`run_model_bench` with its ``run(model_dir, work, windows, check,
data=..., **extra)`` and ``markdown(result)``. Errors follow :mod:`spec.cli`: one line naming
the file or option, exit status 2, nothing written; our float32 C outside :data:`C_TOL` of
Keras: one line, exit status 1, after the figures are written.
"""

import contextlib
import os
import tempfile

from spec.cli import HANDLED, InputError, error_status, fail, parser
from spec.outputs import check_output_file, scratch_folder, write_json_atomic
from sw.c_layers import FLOAT_C_TOL

__all__ = ["model_bench_parser", "run_model_bench", "c_bound_violation", "C_TOL"]

#: bound on our float32 C's max |dp| against Keras (the trainers' ``C_TOL``)
C_TOL = FLOAT_C_TOL


def c_bound_violation(res, tol=C_TOL):
    """Why our float32 C of a benchmark result ``res`` (``implementations`` rows) is outside
    the bound -- a phrase -- or None when it is within it."""
    for r in res.get("implementations", ()):
        if r.get("impl") == "ours float32" and r.get("max_abs_dp") is not None \
                and not r["max_abs_dp"] <= tol:
            return (f"our float32 C differs from Keras by max |dp| {r['max_abs_dp']:.2e} "
                    f"(bound {tol:.0e}) on {r.get('check_windows', '?')} windows")
    return None


def model_bench_parser(prog, description, trainer, data_default, data_help):
    """The shared options: ``model_dir``, ``--work``, ``-o``, ``--windows``, ``--check``,
    ``--data`` (default ``data_default``), for the model folders of ``python -m trainer``."""
    ap = parser(prog, description)
    ap.add_argument("model_dir", help=f"model folder of python -m {trainer}")
    ap.add_argument("--work", help="working folder (kept; default a temporary folder)")
    ap.add_argument("-o", "--output", help="write the figures as JSON")
    ap.add_argument("--windows", type=int, default=1,
                    help="N: instructions from N and 2N windows (default 1)")
    ap.add_argument("--check", type=int, default=64,
                    help="windows for max |dp| (default 64)")
    ap.add_argument("--data", default=str(data_default), help=data_help)
    return ap


def run_model_bench(prog, ap, argv, run, markdown, extra=None):
    """Parse ``argv`` with ``ap``, run the benchmark in ``--work`` (or a temporary folder),
    write ``-o`` and print the markdown; ``extra(args)`` gives more keyword arguments of
    ``run``. Returns the exit status: 1 (one line, after the figures are written) when our
    float32 C is outside :data:`C_TOL` of Keras (:func:`c_bound_violation`)."""
    a = ap.parse_args(argv)
    if a.windows < 1:
        ap.error("--windows must be at least 1")
    try:
        if a.output:
            check_output_file(a.output, option="-o")
        if not os.path.isdir(a.model_dir):
            raise InputError(f"{a.model_dir}: no such folder")
        with (contextlib.nullcontext(None) if a.work else
              tempfile.TemporaryDirectory(prefix=f"{prog.rsplit('.', 1)[-1]}_")) as tmp:
            work = scratch_folder(a.work, prog) if a.work else tmp
            res = run(a.model_dir, work, a.windows, a.check, data=a.data,
                      **(extra(a) if extra else {}))
        if a.output:
            write_json_atomic(a.output, res, sort_keys=False)
    except HANDLED as e:
        return error_status(prog, e)
    except RuntimeError as e:
        return error_status(prog, OSError(str(e).splitlines()[0]))
    print(markdown(res))
    why = c_bound_violation(res)
    return fail(prog, why, 1) if why else 0
