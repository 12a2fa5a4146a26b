"""Batch extraction on Dask: recordings per second with 1 and 2 local workers, and the overhead.

The batch is the 16 shared UCI lower-limb walks (``../shared/data/emg-lower-limb-uci``)
listed ``repeat`` times in a manifest under different names (``r1_1Nmar``, ``r2_1Nmar``, ...),
run with the issue's options (``--fs 1000 --map R_RF=RF,R_BF=BF``) by
:func:`sw.extract.run_batch` into a fresh folder each time:

* ``loop``: ``--workers 0``, the tasks one after the other in this process (no Dask);
* ``dask1`` / ``dask2``: a :class:`distributed.LocalCluster` of 1 and 2 worker processes.

Each time is the whole command (hashing, the cluster's start, the tasks, ``features.csv``).
The Dask layer's cost per recording is ``(dask1 - cluster start - loop) / recordings``, with
the cluster start measured alone (an empty 1-worker cluster opened and closed); it includes
each worker's first import of NumPy, SciPy and the models, and shipping tasks and results
between processes. The speed-up
is ``rate(dask2) / rate(dask1)``; on a machine whose cores other work shares it stays below 2.

``python -m bench.batch_bench [--repeat K]`` prints the table; :func:`batch_figures` returns
the dict (``bench.report``). About 1.5 min with the default ``repeat`` of 2 on 2 busy cores.
"""

import os
import sys
import tempfile
import time

from spec.cli import parser
from spec.constants import SHARED_DATA
from sw.batch import local_workers, open_client
from sw.extract import build_parser, run_batch

__all__ = ["batch_figures", "main", "UCI_DIR"]

UCI_DIR = SHARED_DATA / "emg-lower-limb-uci"
OPTIONS = ["--fs", "1000", "--map", "R_RF=RF,R_BF=BF"]


def _manifest(folder, repeat):
    files = sorted(p for p in os.listdir(UCI_DIR) if p.endswith(".txt"))
    path = os.path.join(folder, "manifest.csv")
    with open(path, "w") as f:
        f.write("path,recording\n")
        for k in range(1, repeat + 1):
            for fn in files:
                f.write(f"{UCI_DIR / fn},r{k}_{os.path.splitext(fn)[0]}\n")
    return path, repeat * len(files)


def _timed_batch(manifest, out, workers):
    args = build_parser().parse_args(["batch", manifest, "--out", out, "--workers",
                                      str(workers), "-q", *OPTIONS])
    t0 = time.perf_counter()
    status = run_batch(args)
    dt = time.perf_counter() - t0
    if status:
        raise RuntimeError(f"batch with --workers {workers} exited with status {status}")
    with open(os.path.join(out, "features.csv"), "rb") as f:
        return dt, f.read()


def batch_figures(repeat=2, quiet=True):
    """The benchmark as a dict (see the module docstring); ``{"skipped": reason}`` without
    the shared UCI data."""
    if not UCI_DIR.is_dir():
        return {"skipped": f"shared UCI data not found at {UCI_DIR}"}
    import contextlib
    import io
    sink = io.StringIO() if quiet else sys.stderr
    with tempfile.TemporaryDirectory(prefix="batch_bench-") as d, \
            contextlib.redirect_stderr(sink):
        manifest, n = _manifest(d, repeat)
        t0 = time.perf_counter()
        with open_client(1):
            pass
        start = time.perf_counter() - t0
        runs, tables = {}, {}
        for name, workers in (("loop", 0), ("dask1", 1), ("dask2", 2)):
            dt, tables[name] = _timed_batch(manifest, os.path.join(d, name), workers)
            runs[name] = {"workers": workers, "seconds": round(dt, 3),
                          "recordings_per_s": round(n / dt, 3)}
    identical = len(set(tables.values())) == 1
    return {"recordings": n, "repeat": repeat, "cores": local_workers(), "runs": runs,
            "speedup_2_vs_1": round(runs["dask1"]["seconds"] / runs["dask2"]["seconds"], 3),
            "cluster_start_s": round(start, 3),
            "dask_overhead_ms_per_recording": round(
                1000 * (runs["dask1"]["seconds"] - start - runs["loop"]["seconds"]) / n, 1),
            "features_identical": identical}


def table(fig):
    """The dict of :func:`batch_figures` as a Markdown table."""
    if "skipped" in fig:
        return f"batch benchmark skipped: {fig['skipped']}\n"
    lines = [f"Batch extraction, {fig['recordings']} recordings (16 UCI walks x {fig['repeat']}),"
             f" {fig['cores']} cores", "",
             "| run | workers | s | recordings/s |", "|---|---:|---:|---:|"]
    for name, r in fig["runs"].items():
        lines.append(f"| {name} | {r['workers']} | {r['seconds']:.2f} | "
                     f"{r['recordings_per_s']:.2f} |")
    lines += ["", f"- 2 workers vs 1: x{fig['speedup_2_vs_1']:.2f}",
              f"- local cluster start: {fig['cluster_start_s']:.2f} s",
              f"- Dask layer per recording (1 worker vs plain loop, start excluded): "
              f"{fig['dask_overhead_ms_per_recording']:.0f} ms",
              f"- features.csv identical in the three runs: {fig['features_identical']}"]
    return "\n".join(lines) + "\n"


def main(argv=None):
    ap = parser("bench.batch_bench", __doc__.splitlines()[0])
    ap.add_argument("--repeat", type=int, default=2,
                    help="times the 16 UCI walks are listed (default 2)")
    a = ap.parse_args(argv)
    if a.repeat < 1:
        ap.error("--repeat must be at least 1")
    fig = batch_figures(a.repeat)
    print(table(fig), end="")
    return 0 if "skipped" in fig or fig["features_identical"] else 1


if __name__ == "__main__":
    sys.exit(main())
