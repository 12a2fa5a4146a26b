"""Conventions every command-line tool of the project shares, written once.

* :func:`parser` -- an ``argparse`` parser whose usage errors are one line naming the option,
  ``PROG: error: MESSAGE (see python -m PROG --help)``, and exit status 2;
  :func:`one_line_errors` gives a sub-command parser the same behaviour; no argument may hold
  a NUL byte.
* :class:`InputError` -- bad input found after parsing (a file, a row, an option value);
  :func:`fail` prints it as one line and returns 2, :func:`guard` wraps a ``main``;
  :func:`error_status` maps any caught failure (:data:`HANDLED`) to one line and an exit status
  (input 2, environment 1, Ctrl-C 130).

Writing outputs safely is :mod:`spec.outputs`. Imports nothing else of the project (floor
``spec``).

Examples
--------
>>> ap = parser("sw.example", "Example tool.")
>>> _ = ap.add_argument("--n", type=int, default=1)
>>> ap.parse_args(["--n", "3"]).n
3
"""

import sys

__all__ = ["InputError", "parser", "one_line_errors", "fail", "compiler_failure", "guard",
           "HANDLED",
           "error_status", "os_error_line", "without_option"]


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
    one_line_errors(ap, prog)
    parse = ap.parse_known_args                       # parse_args goes through it too

    def parse_known_args(args=None, namespace=None):
        ns, extra = parse(args, namespace)
        for name, value in vars(ns).items():          # no OS call accepts a NUL byte
            values = value if isinstance(value, (list, tuple)) else [value]
            if any(isinstance(v, str) and "\x00" in v for v in values):
                ap.error(f"argument {name}: contains a NUL byte")
        return ns, extra
    ap.parse_known_args = parse_known_args
    return ap


def fail(prog, message, status=2):
    """Print ``PROG: error: MESSAGE`` (its first line) on stderr and return ``status`` (2)."""
    text = str(message).splitlines()
    print(f"{prog}: error: {text[0] if text else ''}", file=sys.stderr)
    return status


def compiler_failure(prog, error):
    """A C compiler missing or failing (a ``RuntimeError`` whose first line is the command):
    the compiler's own output on stderr, then one ``PROG: error:`` line; returns 1."""
    lines = str(error).strip().splitlines() or [type(error).__name__]
    if len(lines) > 1:
        print("\n".join(lines[1:]), file=sys.stderr)
    return fail(prog, lines[0] + (" (compiler output above)" if len(lines) > 1 else ""), 1)


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


#: what :func:`error_status` turns into one line: ``except HANDLED as e: return
#: error_status(PROG, e)``
HANDLED = (InputError, OSError, KeyboardInterrupt)


def error_status(prog, e, interrupted="interrupted; nothing written"):
    """One line for a failure caught by a tool's ``main``, and its exit status.

    :class:`InputError` -> 2, other :class:`OSError` (disk full, permission, port) -> 1,
    Ctrl-C -> 130 with ``PROG: INTERRUPTED``.
    """
    if isinstance(e, InputError):
        return fail(prog, e)
    if isinstance(e, KeyboardInterrupt):
        print(f"{prog}: {interrupted}", file=sys.stderr)
        return 130
    return fail(prog, os_error_line(e), 1)


def os_error_line(e):
    """One line for an :class:`OSError` (``PATH: reason``), as the tools print it."""
    reason = e.strerror or str(e) or type(e).__name__
    return f"{e.filename}: {reason}" if e.filename else reason


def without_option(command, option):
    """``command`` (a shell command line) without ``option VALUE`` pairs, e.g. the command that
    made a figure without the ``--readme FILE`` that only copied it into a document.

    >>> without_option("python -m t --out o --readme R.md --readme d.md", "--readme")
    'python -m t --out o'
    """
    import re
    return re.sub(rf" {re.escape(option)}(?:=| )\S+", "", command)
