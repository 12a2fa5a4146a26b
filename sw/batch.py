"""Run many independent tasks on dask.distributed: the execution layer of the batch tools.

``python -m sw.extract batch`` (one task per recording) and ``python -m sw.cohort`` (one task
per synthetic walk) hand their tasks to :func:`run_tasks`; where they run is chosen by two
options every such tool shares (:func:`add_cluster_args`):

* nothing: a :class:`distributed.LocalCluster` sized to this machine (one worker *process*
  per core, one thread each);
* ``--workers N``: a local cluster of ``N`` worker processes (``0``: no cluster at all, the
  tasks run one after the other in this process -- the reference run);
* ``--scheduler tcp://HOST:8786``: an existing cluster (``dask scheduler`` on one machine,
  ``dask worker tcp://HOST:8786 --nworkers N --nthreads 1`` on each worker machine; the
  workers need this project installed and the data reachable at the same paths).

Tasks are pure functions of their argument, submitted with ``retries`` (an exception is
retried on any worker; a worker that dies mid-task is replaced and its task rescheduled by
Dask). The results come back in the order of the task list, never in completion order, so
what a tool writes from them does not depend on the number of workers or who finished first.
A task that still fails is returned as a :class:`Failed` (one-line reason) in its place.

A progress line on stderr counts the finished tasks, the rate and the time left, and names
the dashboard when the cluster has one (it needs ``bokeh``).
"""

import contextlib
import logging
import math
import os
import sys
import time
from dataclasses import dataclass

from spec.cli import InputError

__all__ = ["Failed", "Progress", "add_cluster_args", "check_cluster_args", "local_workers",
           "open_client", "run_tasks"]

#: how long a client waits for ``--scheduler`` before giving up (s)
CONNECT_TIMEOUT = 20


@dataclass(frozen=True)
class Failed:
    """A task that failed after its retries: ``reason`` is one line."""

    reason: str


def local_workers():
    """Worker processes of the default local cluster: the cores this process may use."""
    try:
        return max(1, len(os.sched_getaffinity(0)))
    except AttributeError:                                    # pragma: no cover (macOS)
        return max(1, os.cpu_count() or 1)


def add_cluster_args(ap, workers_flag="--workers", default_workers=None):
    """Add ``--workers N`` (or another flag name) and ``--scheduler ADDRESS`` to parser ``ap``."""
    ap.add_argument(workers_flag, type=int, default=default_workers, metavar="N",
                    help="local worker processes, one thread each (default: one per core, "
                         f"{local_workers()} here; 0 = no cluster, run in this process)")
    ap.add_argument("--scheduler", metavar="ADDRESS",
                    help="address of a running Dask scheduler, e.g. tcp://host:8786 (workers "
                         "started with `dask worker ADDRESS --nthreads 1`; they need the "
                         "project installed and the data at the same paths)")


def check_cluster_args(workers, scheduler, workers_flag="--workers"):
    """Raise :class:`InputError` (one line) on a bad worker count or scheduler address."""
    if scheduler is not None:
        if workers is not None:
            raise InputError(f"give {workers_flag} N (a local cluster) or --scheduler ADDRESS "
                             "(an existing one), not both")
        s = scheduler.strip()
        host = s.split("://", 1)[-1]
        if not s or not host or any(c.isspace() for c in s) or (
                "://" in s and s.split("://", 1)[0] not in ("tcp", "tls", "inproc", "ucx", "ws",
                                                             "wss")):
            raise InputError(f"--scheduler {scheduler!r}: give an address like "
                             "tcp://host:8786")
    if workers is not None and not 0 <= workers <= 1024:
        raise InputError(f"{workers_flag} must be between 0 and 1024, not {workers}")


def _has_bokeh():
    try:
        import bokeh  # noqa: F401
    except ImportError:
        return False
    return True


@contextlib.contextmanager
def open_client(workers=None, scheduler=None):
    """A :class:`distributed.Client` on a local cluster of ``workers`` processes (default
    :func:`local_workers`) or on the cluster at ``scheduler``; yields ``(client, where)``,
    ``where`` a phrase naming the cluster and its dashboard."""
    from distributed import Client, LocalCluster
    if scheduler is not None:
        try:
            client = Client(scheduler, timeout=CONNECT_TIMEOUT)
        except (OSError, TimeoutError) as e:
            raise OSError(f"cannot reach the Dask scheduler {scheduler} "
                          f"({str(e).splitlines()[0] if str(e) else type(e).__name__})") from None
        with client:
            n = len(client.scheduler_info().get("workers", {}))
            yield client, (f"cluster {scheduler} ({n} worker{'s' if n != 1 else ''}), "
                           f"dashboard {client.dashboard_link}")
        return
    n = local_workers() if workers is None else workers
    dash = _has_bokeh()
    with LocalCluster(n_workers=n, threads_per_worker=1, processes=True,
                      dashboard_address=":0",      # any free port (8787 may be taken)
                      silence_logs=logging.CRITICAL) as cluster, Client(cluster) as client:
        yield client, (f"local cluster, {n} worker process{'es' if n != 1 else ''}, "
                       + (f"dashboard {client.dashboard_link}" if dash
                          else "no dashboard (pip install bokeh for one)"))


def _one_line(e):
    """One line for a task's exception; a task the cluster cannot even load (a worker or the
    scheduler lacks this project or a library) names the missing module."""
    cause = e.__cause__ or e.__context__
    if isinstance(cause, ImportError) or "deserializ" in str(e):
        why = f"{type(cause).__name__}: {cause}" if cause is not None else str(e).split(".")[0]
        return (f"the cluster cannot load the task ({why}); install this project and its "
                "libraries on the scheduler and every worker")
    text = str(e).strip().splitlines()
    return f"{type(e).__name__}: {text[0]}" if text else type(e).__name__


class Progress:
    """The progress line: ``LABEL: 5/16 done, 1 failed, 1.2/s, ETA 9 s``.

    On a terminal the line is rewritten in place; otherwise a line is printed at every tenth
    of the work (and at the end), so logs stay short.
    """

    def __init__(self, label, total, stream=None, unit="task"):
        self.label, self.total, self.unit = label, total, unit
        self.stream = stream if stream is not None else sys.stderr
        self.done = self.failed = 0
        self.t0 = time.perf_counter()
        self.tty = bool(getattr(self.stream, "isatty", lambda: False)())
        self._step = -1

    def line(self):
        """The current progress text."""
        dt = max(time.perf_counter() - self.t0, 1e-9)
        rate = self.done / dt
        left = self.total - self.done
        eta = f", ETA {left / rate:.0f} s" if rate > 0 and left else ""
        return (f"{self.label}: {self.done}/{self.total} {self.unit}s done"
                + (f", {self.failed} failed" if self.failed else "")
                + f", {rate:.2f}/s{eta}, {dt:.0f} s")

    def update(self, failed=False):
        """Count one finished task (``failed``: it failed) and show the line when due."""
        self.done += 1
        self.failed += bool(failed)
        if self.tty:
            end = "\n" if self.done >= self.total else ""
            print(f"\r{self.line()}\x1b[K", end=end, file=self.stream, flush=True)
            return
        step = math.floor(10 * self.done / max(self.total, 1))
        if step != self._step or self.done >= self.total:
            self._step = step
            print(self.line(), file=self.stream, flush=True)


def run_tasks(fn, items, *, workers=None, scheduler=None, retries=2, keys=None, label="tasks",
              on_result=None, say=None, unit="task", on_start=None, progress=True):
    """Run ``fn(item)`` for every item; return the results in the order of ``items``.

    Parameters
    ----------
    fn : callable
        A pure, importable (module-level) function of one argument.
    items : list
        Its arguments (picklable).
    workers : int, optional
        Local worker processes (default :func:`local_workers`); ``0`` runs the tasks in this
        process, one after the other, without Dask.
    scheduler : str, optional
        Address of an existing Dask scheduler (instead of a local cluster).
    retries : int
        Times Dask re-runs a task that raised (a killed worker's task is rescheduled anyway).
    keys : list of str, optional
        Dask keys of the tasks (unique); default derived from ``label`` and the position.
    label : str
        Name of the work in the progress line.
    on_result : callable, optional
        ``on_result(index, result)`` as each task finishes (completion order: for progress
        messages only; the returned list is in item order).
    say : callable, optional
        Where the one-line description of the cluster goes (default: stderr).
    unit : str
        What a task is, for the progress line (``recording``, ``walk``).
    on_start : callable, optional
        Called once the cluster is up, before the first task is submitted (a tool claims its
        output folder there, so an unreachable scheduler leaves nothing behind).
    progress : bool
        Show the progress line (stderr).

    Returns
    -------
    list
        ``fn(item)`` for each item, or :class:`Failed` for a task that raised even after
        ``retries`` (or whose worker kept dying).
    """
    say = say or (lambda m: print(m, file=sys.stderr, flush=True))
    items = list(items)
    out = [None] * len(items)
    bar = Progress(label, len(items), unit=unit) if progress else None

    def finished(i, res):
        out[i] = res
        if bar is not None:
            bar.update(isinstance(res, Failed))
        if on_result is not None:
            on_result(i, res)

    if not items:
        return out
    if workers == 0 and scheduler is None:
        say(f"{label}: {len(items)} {unit}s in this process (no cluster)")
        if on_start is not None:
            on_start()
        for i, item in enumerate(items):
            try:
                res = fn(item)
            except (InputError, KeyboardInterrupt, SystemExit):
                raise
            except Exception as e:                    # a task's bug: reported, others go on
                res = Failed(_one_line(e))
            finished(i, res)
        return out
    from distributed import as_completed
    if keys is None:
        keys = [f"{label}-{i}" for i in range(len(items))]
    with open_client(workers, scheduler) as (client, where):
        say(f"{label}: {len(items)} {unit}s on a {where}")
        if on_start is not None:
            on_start()
        futures = client.map(fn, items, key=list(keys), retries=retries, pure=True)
        index = {f.key: i for i, f in enumerate(futures)}
        for fut in as_completed(futures):
            i = index[fut.key]
            if fut.status == "finished":
                res = fut.result()
            else:
                try:
                    exc = fut.exception()
                except Exception as e:                # cancelled, scheduler lost
                    exc = e
                res = Failed(_one_line(exc))
            fut.release()
            finished(i, res)
    return out
