"""python -m sw.samples_file: SAMPLES frames for the ARM replay or a live sensor-UART stream."""

import os
import select
import subprocess
import sys
import time
import tty

import numpy as np

from golden.samples_parser_model import SamplesParserModel
from spec.frames import Decoder
from sw.samples_file import samples_bytes


def test_frames_carry_the_samples_in_fabric_order():
    rng = np.random.default_rng(1)
    emg = rng.integers(-32768, 32768, (300, 8)).astype(np.int16)
    eeg = rng.integers(-32768, 32768, (300, 7)).astype(np.int16)
    ext = np.zeros(300, np.uint8)
    ext[[5, 299]] = 1
    data = samples_bytes(emg, eeg, ext)
    frames = Decoder().feed(data)
    assert [f.seq for f in frames] == [k % 256 for k in range(300)]
    r = frames[5].record
    assert [r[f"emg{i}"] for i in range(8)] == emg[5].tolist()
    assert [r[f"eeg{i}"] for i in range(7)] == eeg[5].tolist() and r["eeg7"] == 0
    assert [f.record["flags"] for f in frames].count(1) == 2
    m = SamplesParserModel()                               # what the gateware parser accepts
    assert len(m.feed(data)) == 300 and m.bad_frames == m.lost_frames == 0


def test_cli_file_and_serial(tmp_path):
    out = tmp_path / "s.bin"
    r = subprocess.run([sys.executable, "-m", "sw.samples_file", "--synthetic", "2",
                        "-o", str(out)],
                       capture_output=True, text=True)
    assert r.returncode == 0, r.stderr
    assert "SYNTHETIC" in r.stdout
    frames = Decoder().feed(out.read_bytes())
    assert len(frames) == 1000 and all(f.kind == "SAMPLES" for f in frames)
    assert np.std([f.record["emg0"] for f in frames]) > 10          # a signal, not zeros
    # live stream to a real pseudo-terminal, read on the other side
    master, slave = os.openpty()
    tty.setraw(slave)
    got = bytearray()
    p = subprocess.Popen([sys.executable, "-m", "sw.samples_file", "--synthetic", "2",
                          "--port", os.ttyname(slave)],
                         stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    t0 = time.monotonic()
    while p.poll() is None or select.select([master], [], [], 0.2)[0]:
        if select.select([master], [], [], 0.2)[0]:
            got += os.read(master, 65536)
        assert time.monotonic() - t0 < 60
    err = p.stderr.read()
    os.close(master)
    os.close(slave)
    assert p.returncode == 0 and "sent 1000 SAMPLES frames" in err
    assert bytes(got) == out.read_bytes()
    assert time.monotonic() - t0 > 1.8                                 # paced at 500 frames/s
    for args, msg in ((["-o", str(tmp_path / "x")], "give --synthetic"),
                      (["--emg", str(tmp_path / "missing.csv"), "-o", str(tmp_path / "x")],
                       "missing.csv"),
                      (["--synthetic", "-1", "-o", str(tmp_path / "x")], "positive")):
        r = subprocess.run([sys.executable, "-m", "sw.samples_file", *args],
                           capture_output=True, text=True)
        # bad input (a missing option, file or value): one line, status 2
        assert r.returncode == 2 and msg in r.stderr and len(r.stderr.strip().splitlines()) == 1
        assert not (tmp_path / "x").exists()
