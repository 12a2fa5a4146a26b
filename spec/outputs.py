"""Writing outputs without ever losing what the tool did not create -- used by every writer.

* Atomic files: :func:`atomic_path` (context manager yielding a temporary name in the target's
  folder, renamed into place only on success), :func:`write_text_atomic`,
  :func:`write_bytes_atomic`, :func:`write_csv_atomic`, :func:`write_json_atomic`.
* :func:`check_output_file` refuses an output file that is a symlink, FIFO, device or folder,
  is one of the inputs, or lies in a missing folder.
* :class:`OutputFolder` builds a whole folder aside and moves it in on success; it refuses a
  non-empty folder it did not make (marker file :data:`MARKER` names the tool and the files it
  wrote) and replaces its own earlier output only with ``force``. With ``keep=True`` several
  runs (or several tools of one family, e.g. the ``bench`` reports) share the folder: each
  replaces only the files it writes again and the marker lists them all.
* :func:`scratch_folder` claims a working folder for a tool (missing, empty or already marked
  as that tool's scratch space) before the tool writes into it.
* :func:`json_default`, :func:`dumps` -- the project's JSON text (NumPy-aware).

A tool only ever removes files it created. Imports only :mod:`spec.cli` (floor ``spec``).
"""

import contextlib
import csv
import fnmatch
import json
import os
import shutil
import stat
import tempfile
from pathlib import Path

from spec.cli import InputError

__all__ = ["atomic_path", "write_text_atomic", "replace_block", "update_blocks",
           "check_block_files", "write_bytes_atomic",
           "write_csv_atomic",
           "write_json_atomic", "OutputFolder", "scratch_folder", "json_default", "dumps",
           "MARKER", "check_output_file"]

#: marker file of a folder a tool wrote: line 1 the tool, then the files it wrote, one a line
MARKER = ".wotrack-output"
_PARTIAL = ".wotrack-partial-"


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
    _refuse_special(path, "output")
    try:
        fd, tmp = tempfile.mkstemp(prefix=f".tmp-{os.path.basename(path)}-", suffix=suffix,
                                   dir=os.path.dirname(path))
    except OSError as e:                       # read-only or missing folder: name the target
        raise OSError(e.errno, f"cannot write there ({e.strerror})", path) from None
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


def replace_block(path, start, end, body):
    """Replace what stands between the marker lines ``start`` and ``end`` of the text file
    ``path`` (a README block a tool writes) by ``body``, atomically; returns False and writes
    nothing when a marker is missing."""
    text = Path(path).read_text(encoding="utf-8")
    a, b = text.find(start), text.find(end)
    if a < 0 or b < a:
        return False
    write_text_atomic(path, text[:a] + start + "\n" + body + text[b:])
    return True


def check_block_files(paths, option="--readme"):
    """Check before any work that every Markdown file of ``paths`` (a repeatable option such
    as ``--readme``) exists and may be rewritten; :class:`InputError` otherwise."""
    for p in paths or ():
        check_output_file(p, option=option)
        if not os.path.isfile(p):
            raise InputError(f"{option} {p}: no such file")


def update_blocks(paths, blocks, what, say=print):
    """Write each ``(start, end, body)`` of ``blocks`` into every Markdown file of ``paths``
    that carries its markers (:func:`replace_block`), and say per file how many ``what``
    blocks it got, or that it had none of their markers (then it is left unchanged); returns
    ``{path: number of blocks written}``."""
    done = {str(p): 0 for p in paths or ()}
    for start, end, body in blocks:
        for p in paths or ():
            done[str(p)] += bool(replace_block(p, start, end, body))
    for p, n in done.items():
        say(f"updated {n} {what} block{'s' * (n != 1)} in {p}" if n else
            f"{p} has none of the {what} blocks' markers ({blocks[0][0]} ...); left unchanged")
    return done


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


def _refuse_special(path, what):
    """Raise :class:`InputError` when ``path`` exists and is not a regular file."""
    try:
        st = os.lstat(path)
    except FileNotFoundError:
        return
    except OSError as e:
        raise InputError(f"{what} {path}: {e.strerror}") from None
    if stat.S_ISLNK(st.st_mode):
        raise InputError(f"{what} {path} is a symbolic link; not replaced (give the real file)")
    if stat.S_ISDIR(st.st_mode):
        raise InputError(f"{what} {path} is a directory; give a file name")
    if not stat.S_ISREG(st.st_mode):
        raise InputError(f"{what} {path} is not a regular file (FIFO, device or socket); "
                         "not replaced")


def _same(a, b):
    try:
        return os.path.samefile(a, b)
    except OSError:
        return os.path.realpath(a) == os.path.realpath(b)


def check_output_file(path, inputs=(), option="-o"):
    """Check an output file name before anything is computed; return it as a string.

    Raises :class:`InputError` (one line naming ``option``) when ``path`` is empty, exists and is
    not a regular file (symlink, FIFO, device, folder), is the same file as one of ``inputs``,
    or its folder does not exist. The file is then written with the atomic writers.
    """
    path = os.fspath(path)
    if not path:
        raise InputError(f"{option}: empty file name")
    _refuse_special(path, f"{option}")
    for inp in inputs:
        if inp and os.path.exists(os.fspath(inp)) and _same(path, os.fspath(inp)):
            raise InputError(f"{option} {path} is the input file {os.fspath(inp)}; "
                             "choose another output name")
    parent = os.path.dirname(os.path.abspath(path))
    if not os.path.isdir(parent):
        if os.path.exists(parent) or os.path.lexists(parent):
            raise InputError(f"{option} {path}: {parent} is not a folder")
        raise InputError(f"{option} {path}: output folder {parent} does not exist")
    return path


def _tool_folder(path):
    """Whether ``path`` is a folder a tool of this project wrote (its marker) or is writing
    now (a temporary folder of :class:`OutputFolder` inside)."""
    if not os.path.isdir(path) or os.path.islink(path):
        return False
    if _read_marker(path):
        return True
    try:
        return any(e.startswith(_PARTIAL) for e in os.listdir(path))
    except OSError:
        return False


def _read_marker(folder):
    """(tool, [relative files]) of ``folder``'s marker, or None."""
    try:
        with open(os.path.join(folder, MARKER)) as f:
            lines = f.read().splitlines()
    except (OSError, UnicodeDecodeError):
        return None
    if not lines or not lines[0].strip():
        return None
    return lines[0].strip(), [ln for ln in lines[1:] if ln and not os.path.isabs(ln)
                              and ".." not in ln.split("/")]


def _files_under(root):
    out = []
    for d, dirs, files in os.walk(root):
        dirs.sort()
        for fn in sorted(files):
            out.append(os.path.relpath(os.path.join(d, fn), root).replace(os.sep, "/"))
    return out


class OutputFolder:
    """A folder output that never loses what the tool did not write.

    ``OutputFolder(path, tool, force=False)`` checks ``path`` at once (:class:`InputError`, one
    line naming ``option``): it must be missing, an empty folder, or a folder whose marker
    :data:`MARKER` names ``tool`` -- the tool's earlier output, replaced only with ``force``
    (``--force``). A non-empty folder without a marker is refused unless each entry matches one
    of the ``legacy`` patterns (names the tool wrote before markers existed; with ``force`` those
    of the same name are replaced, the others left). A folder holding an ``inputs`` file that
    would be replaced is refused.

    As a context manager it yields a temporary folder inside ``path`` to write into. On an
    exception (Ctrl-C included) the temporary folder is deleted and ``path`` is as before (a
    folder it created is removed again). On success the files the marker listed are removed,
    the new files are moved in (umask-respecting permissions) and the marker lists them. Files
    of anyone else in the folder are never touched; a new file that would land on one is an
    :class:`InputError` before anything is changed.

    With ``shared=True`` (``make run``'s ``out/``) sub-folders that carry a marker or are being
    written by a tool -- the outputs of other tools, e.g. ``out/fog`` -- do not make the folder
    foreign; they are never touched.

    With ``keep=True`` the folder is shared by the runs of one tool family (``tool`` names the
    family, e.g. ``"bench"`` for :mod:`bench.report` and :mod:`bench.validate`): a run replaces
    only the files it writes again, the family's other files stay, and the marker lists all.
    """

    def __init__(self, path, tool, force=False, option="--out", legacy=(), inputs=(),
                 keep=False, shared=False):
        self.path = os.fspath(path)
        self.tool, self.force, self.option, self.legacy = tool, force, option, tuple(legacy)
        self.keep, self.shared = keep, shared
        self.old, self._legacy_mode = [], False
        self._check(inputs)

    def _check(self, inputs):
        path, opt = self.path, self.option
        if not path:
            raise InputError(f"{opt}: empty folder name")
        if os.path.lexists(path) and not os.path.isdir(path):
            raise InputError(f"{opt} {path} exists and is not a folder")
        probe = os.path.abspath(path)
        while not os.path.exists(probe):
            probe = os.path.dirname(probe)
        if not os.path.isdir(probe):
            raise InputError(f"{opt} {path}: {probe} is not a folder")
        if not os.path.isdir(path):
            return
        try:
            entries = [e for e in os.listdir(path) if e != MARKER and not e.startswith(_PARTIAL)]
        except OSError as e:
            raise InputError(f"{opt} {path}: {e.strerror}") from None
        if self.shared:                 # other tools' output folders (marked, or being
            entries = [e for e in entries           # written now): left alone
                       if not _tool_folder(os.path.join(path, e))]
        marker = _read_marker(path)
        if marker is None and not entries:
            return
        again = f"{opt} {path} holds an earlier {self.tool} output; add --force to replace it"
        if marker is not None:
            if marker[0] != self.tool:
                raise InputError(f"{opt} {path} holds the output of {marker[0]}; "
                                 "choose another folder")
            if not self.force:
                raise InputError(again)
            self.old = marker[1]
        elif self.legacy and all(self._is_legacy(e) for e in entries):
            if not self.force:
                raise InputError(again)
            self._legacy_mode = True
        else:
            raise InputError(f"{opt} {path} is not empty and was not written by {self.tool}; "
                             "choose a new or empty folder")
        for inp in inputs:
            inp = os.fspath(inp)
            for rel in self.old:
                if os.path.exists(inp) and _same(inp, os.path.join(path, rel)):
                    raise InputError(f"{opt} {path}: the input {inp} would be replaced; "
                                     "choose another folder")

    def _is_legacy(self, rel):
        first = rel.split("/")[0]
        return any(fnmatch.fnmatchcase(first, p) for p in self.legacy)

    def __enter__(self):
        self._made = []
        d = os.path.abspath(self.path)
        while not os.path.isdir(d):
            self._made.append(d)
            d = os.path.dirname(d)
        os.makedirs(self.path, exist_ok=True)
        self.tmp = tempfile.mkdtemp(prefix=_PARTIAL, dir=self.path)
        return self.tmp

    def _undo(self):
        shutil.rmtree(self.tmp, ignore_errors=True)
        for d in self._made:                              # deepest first; only if still empty
            with contextlib.suppress(OSError):
                os.rmdir(d)

    def __exit__(self, kind, value, tb):
        if kind is not None:
            self._undo()
            return False
        try:
            self._commit()
        except BaseException:
            self._undo()
            raise
        return False

    def _commit(self):
        new = _files_under(self.tmp)
        old = set(self.old)
        for rel in new:
            dst = os.path.join(self.path, rel)
            if os.path.lexists(dst) and rel not in old and not (
                    self._legacy_mode and self._is_legacy(rel)):
                raise InputError(f"{self.option} {self.path}: {rel} exists and was not written "
                                 f"by {self.tool}; not replaced")
        mask = _umask()
        drop = [r for r in self.old if r in set(new)] if self.keep else self.old
        for rel in drop:
            p = os.path.join(self.path, rel)
            if os.path.islink(p) or os.path.isfile(p):
                os.unlink(p)
        for rel in sorted(drop, key=lambda r: -r.count("/")):        # now-empty folders of ours
            d = os.path.dirname(rel)
            while d:
                with contextlib.suppress(OSError):
                    os.rmdir(os.path.join(self.path, d))
                d = os.path.dirname(d)
        for rel in new:
            dst = os.path.join(self.path, rel)
            parent = os.path.dirname(dst)
            if not os.path.isdir(parent):
                os.makedirs(parent, 0o777 & ~mask)
            os.replace(os.path.join(self.tmp, rel), dst)
        shutil.rmtree(self.tmp, ignore_errors=True)
        if self.keep:
            new = sorted(set(new) | {r for r in self.old
                                     if os.path.isfile(os.path.join(self.path, r))})
        write_text_atomic(os.path.join(self.path, MARKER),
                          self.tool + "\n" + "".join(r + "\n" for r in new))


def scratch_folder(path, tool, option="--work"):
    """Claim ``path`` as ``tool``'s working folder and return it as a :class:`~pathlib.Path`.

    The folder must be missing, empty, or already marked (:data:`MARKER`, first line ``tool``,
    no file list) as ``tool``'s scratch space. Anything else is an :class:`InputError` naming
    ``option`` and nothing is created. The tool may then replace its own files in it; the
    sub-tools it runs into sub-folders keep their own markers.
    """
    p = os.fspath(path)
    if not p:
        raise InputError(f"{option}: empty folder name")
    if os.path.lexists(p) and not os.path.isdir(p):
        raise InputError(f"{option} {p} exists and is not a folder")
    if os.path.isdir(p):
        try:
            entries = [e for e in os.listdir(p) if e != MARKER]
        except OSError as e:
            raise InputError(f"{option} {p}: {e.strerror}") from None
        marker = _read_marker(p)
        if marker is not None and marker[0] != tool:
            raise InputError(f"{option} {p} holds the output of {marker[0]}; "
                             "choose another folder")
        if marker is None and entries:
            raise InputError(f"{option} {p} is not empty and is not a {tool} working folder; "
                             "choose a new or empty folder")
    try:
        os.makedirs(p, exist_ok=True)
        if _read_marker(p) is None:
            write_text_atomic(os.path.join(p, MARKER), tool + "\n")
    except OSError as e:
        raise InputError(f"{option} {p}: {e.strerror or e}") from None
    return Path(p)
