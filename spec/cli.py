"""Conventions every command-line tool of the project shares, written once.

* :func:`parser` -- an ``argparse`` parser whose usage errors are one line naming the option,
  ``PROG: error: MESSAGE (see python -m PROG --help)``, and exit status 2;
  :func:`one_line_errors` gives a sub-command parser the same behaviour.
* :class:`InputError` -- bad input found after parsing (a file, a row, an option value);
  :func:`fail` prints it as one line and returns 2, :func:`guard` wraps a ``main``.
* Atomic output: :func:`atomic_path` (context manager yielding a temporary name in the target's
  folder, renamed into place only on success), :func:`write_text_atomic`,
  :func:`write_bytes_atomic`, :func:`write_csv_atomic`, :func:`write_json_atomic`;
  :class:`OutputFolder` does the same for a whole folder (built aside, swapped in on success).
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
import shutil
import sys
import tempfile
from pathlib import Path

__all__ = ["InputError", "parser", "one_line_errors", "fail", "guard", "atomic_path",
           "write_text_atomic", "write_bytes_atomic", "write_csv_atomic", "write_json_atomic",
           "OutputFolder", "json_default", "dumps"]


class InputError(ValueError):
    """Bad user input: the message is one line naming the file, row or option."""


def one_line_errors(ap, prog=None):
    """Make ``ap`` (a parser or sub-parser) report usage errors as one line and exit 2.

    The hint names the parser's own help: ``(see python -m sw.extract eeg --help)`` for a
    sub-command.
    """
    prog = prog or ap.prog.removeprefix("python -m ").split()[0]

    def error(message):
        print(f"{prog}: error: {message} (see {ap.prog} --help)", file=sys.stderr)
        sys.exit(2)
    ap.error = error
    return ap


def parser(prog, description, **kw):
    """An :class:`argparse.ArgumentParser` for ``python -m PROG`` with one-line errors."""
    import argparse
    ap = argparse.ArgumentParser(prog=f"python -m {prog}", description=description, **kw)
    return one_line_errors(ap, prog)


def fail(prog, message, status=2):
    """Print ``PROG: error: MESSAGE`` (its first line) on stderr and return ``status`` (2)."""
    text = str(message).splitlines()
    print(f"{prog}: error: {text[0] if text else ''}", file=sys.stderr)
    return status


def guard(prog, fn, *args, interrupted=None, **kw):
    """Call ``fn``; an :class:`InputError` becomes :func:`fail` (exit status 2).

    With ``interrupted`` (a message), Ctrl-C prints ``PROG: MESSAGE`` and returns 130.
    """
    try:
        return fn(*args, **kw)
    except InputError as e:
        return fail(prog, e)
    except KeyboardInterrupt:
        if interrupted is None:
            raise
        print(f"{prog}: {interrupted}", file=sys.stderr)
        return 130


def _umask():
    mask = os.umask(0o022)
    os.umask(mask)
    return mask


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
        os.chmod(tmp, 0o666 & ~_umask())          # as open(path, "w") would, not mkstemp's 0600
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


def dumps(obj, indent=2, sort_keys=True):
    """The project's JSON text: indented, keys sorted, NumPy-aware, newline-terminated."""
    return json.dumps(obj, indent=indent, sort_keys=sort_keys, default=json_default) + "\n"


def write_json_atomic(path, obj, indent=2, sort_keys=True):
    """Write ``obj`` as :func:`dumps` JSON to ``path`` atomically."""
    write_text_atomic(path, dumps(obj, indent, sort_keys))


class OutputFolder:
    """Context manager for a whole output folder: yields a temporary sibling of ``path`` to
    write into; on success it replaces ``path`` (the old folder is removed), on an exception
    it is deleted and ``path`` is untouched."""

    def __init__(self, path):
        self.path = os.path.abspath(os.fspath(path))

    def __enter__(self):
        parent = os.path.dirname(self.path)
        os.makedirs(parent, exist_ok=True)
        self.tmp = tempfile.mkdtemp(prefix=os.path.basename(self.path) + ".partial-", dir=parent)
        return self.tmp

    def __exit__(self, kind, value, tb):
        if kind is not None:
            shutil.rmtree(self.tmp, ignore_errors=True)
            return False
        os.chmod(self.tmp, 0o777 & ~_umask())     # as os.makedirs would, not mkdtemp's 0700
        old = None
        if os.path.exists(self.path):
            old = tempfile.mkdtemp(prefix=os.path.basename(self.path) + ".old-",
                                   dir=os.path.dirname(self.path))
            os.rmdir(old)
            os.replace(self.path, old)
        os.replace(self.tmp, self.path)
        if old:
            shutil.rmtree(old, ignore_errors=True)
        return False
