"""Conventions every command-line tool of the project shares, written once.

* :func:`parser` -- an ``argparse`` parser whose usage errors are one line naming the option,
  ``PROG: error: MESSAGE (see python -m PROG --help)``, and exit status 2;
  :func:`one_line_errors` gives a sub-command parser the same behaviour.
* :class:`InputError` -- bad input found after parsing (a file, a row, an option value);
  :func:`fail` prints it as one line and returns 2, :func:`guard` wraps a ``main``.
* Atomic output: :func:`atomic_path` (context manager yielding a temporary name in the target's
  folder, renamed into place only on success), :func:`write_text_atomic`,
  :func:`write_bytes_atomic`, :func:`write_csv_atomic`, :func:`write_json_atomic`.
* :func:`json_default` -- the ``json.dumps`` fallback for NumPy scalars/arrays and paths.

Imports nothing else of the project (floor ``spec``).

Examples
--------
>>> ap = parser("sw.example", "Example tool.")
>>> _ = ap.add_argument("--n", type=int, default=1)
>>> ap.parse_args(["--n", "3"]).n
3
"""

import contextlib
import csv
import json
import os
import sys
import tempfile
from pathlib import Path

__all__ = ["InputError", "parser", "one_line_errors", "fail", "guard", "atomic_path",
           "write_text_atomic", "write_bytes_atomic", "write_csv_atomic", "write_json_atomic",
           "json_default", "dumps"]


class InputError(ValueError):
    """Bad user input: the message is one line naming the file, row or option."""


def one_line_errors(ap, prog=None):
    """Make ``ap`` (a parser or sub-parser) report usage errors as one line and exit 2."""
    prog = prog or ap.prog.removeprefix("python -m ").split()[0]

    def error(message):
        print(f"{prog}: error: {message} (see python -m {prog} --help)", file=sys.stderr)
        sys.exit(2)
    ap.error = error
    return ap


def parser(prog, description, **kw):
    """An :class:`argparse.ArgumentParser` for ``python -m PROG`` with one-line errors."""
    import argparse
    ap = argparse.ArgumentParser(prog=f"python -m {prog}", description=description, **kw)
    return one_line_errors(ap, prog)


def fail(prog, message):
    """Print ``PROG: error: MESSAGE`` on stderr and return exit status 2."""
    print(f"{prog}: error: {message}", file=sys.stderr)
    return 2


def guard(prog, fn, *args, **kw):
    """Call ``fn``; an :class:`InputError` becomes :func:`fail` (exit status 2)."""
    try:
        return fn(*args, **kw)
    except InputError as e:
        return fail(prog, e)


@contextlib.contextmanager
def atomic_path(path, suffix=""):
    """Yield a temporary file name beside ``path``; rename it onto ``path`` on success.

    On an exception (Ctrl-C included) the temporary file is removed and ``path`` is untouched.
    """
    path = os.path.abspath(os.fspath(path))
    fd, tmp = tempfile.mkstemp(prefix=f".tmp-{os.path.basename(path)}-", suffix=suffix,
                               dir=os.path.dirname(path))
    os.close(fd)
    try:
        yield tmp
        os.replace(tmp, path)
    except BaseException:
        with contextlib.suppress(FileNotFoundError):
            os.unlink(tmp)
        raise


def write_text_atomic(path, text):
    """Write ``text`` to ``path`` atomically."""
    with atomic_path(path) as tmp:
        Path(tmp).write_text(text)


def write_bytes_atomic(path, data):
    """Write ``data`` to ``path`` atomically."""
    with atomic_path(path) as tmp:
        Path(tmp).write_bytes(data)


def write_csv_atomic(path, columns, rows):
    """Write dict ``rows`` under the header ``columns`` to a CSV at ``path`` atomically."""
    with atomic_path(path, ".csv") as tmp:
        with open(tmp, "w", newline="") as f:
            w = csv.DictWriter(f, fieldnames=columns)
            w.writeheader()
            w.writerows(rows)


def json_default(o):
    """``json.dumps`` fallback for NumPy scalars and arrays and for paths."""
    if isinstance(o, Path):
        return str(o)
    try:
        import numpy as np
    except ImportError:                                   # pragma: no cover
        raise TypeError(type(o)) from None
    if isinstance(o, np.integer):
        return int(o)
    if isinstance(o, np.floating):
        return float(o)
    if isinstance(o, np.bool_):
        return bool(o)
    if isinstance(o, np.ndarray):
        return o.tolist()
    raise TypeError(type(o))


def dumps(obj):
    """The project's JSON text: indented, keys sorted, NumPy-aware, newline-terminated."""
    return json.dumps(obj, indent=2, sort_keys=True, default=json_default) + "\n"


def write_json_atomic(path, obj):
    """Write ``obj`` as :func:`dumps` JSON to ``path`` atomically."""
    write_text_atomic(path, dumps(obj))
