"""``python -m sw.uart`` on a real pseudo-terminal fed by a simulated board.

The board replays the bytes the results-UART gateware (``hdl/results_uart.py``,
cocotb + Icarus, UART BFM on the tx pin) produced for the golden EMG/EEG
records of a synthetic walk, with garbage and a corrupted frame spliced in. The
monitor runs as a subprocess on the pty's slave side, like on a real port.
"""

import csv
import os
import signal
import subprocess
import sys
import time
import tty

import numpy as np
import pytest

from golden.eeg_pipeline import MRP_CSV_COLUMNS, mrp_record_to_row
from golden.stride_indexes_model import CSV_COLUMNS, record_to_row
from hdl.eeg_mrp import mrp_record_layout
from hdl.results_uart import ResultsUART
from hdl.stride_indexes import stride_record_layout
from sim.hdl_build import run_cocotb, simulator_missing
from sim.records import encode_words
from spec.constants import ROOT
from spec.frames import FRAME_TYPES, Decoder
from sw.wo_state import DNNState, save_dnn, state_line

pytestmark = pytest.mark.skipif(simulator_missing() is not None, reason=simulator_missing() or "")

FEATURES = ["stride_time_ms", "cocon_LG_TA_ms", "cocon_BF_RF_ms", "LG_duty_pct", "TA_duty_pct",
            "BF_duty_pct", "RF_duty_pct"]


@pytest.fixture(scope="module")
def board_bytes():
    """UART bytes of the gateware for the golden records of one synthetic walk."""
    from golden.fabric_pipeline import run_golden_fabric
    from synthetic.eeg_gen import generate_eeg
    from synthetic.emg_gen import generate_walk
    walk = generate_walk(5, "pre", 12)
    eeg = generate_eeg(5, n_samples=len(walk.emg), movement_onsets=[], condition="pre")
    _, strides, _, mrp = run_golden_fabric(walk.emg, np.pad(eeg.eeg, ((0, 0), (0, 1))))
    assert len(strides) >= 15 and len(mrp) >= 30
    sl, ml = stride_record_layout(), mrp_record_layout()
    from spec.frames import encode_record
    n_bytes = len(b"".join(encode_record("STRIDE", 0, r) for r in strides)) + \
        len(b"".join(encode_record("MRP", 0, r) for r in mrp))
    out = run_cocotb(ResultsUART(sl, ml, 4), "results_uart", "sim.cocotb_results_uart",
                     dict(stride=np.array([str(w) for w in encode_words(sl, strides)]),
                          mrp=np.array([str(w) for w in encode_words(ml, mrp)]),
                          divisor=4, gap=50, n_bytes=n_bytes), tag="monitor")
    return bytes(out["uart"]), strides, mrp


@pytest.fixture
def model_npz(tmp_path):
    rng = np.random.default_rng(0)
    layers = {"norm": (np.full(7, 0.05, np.float32), np.full(7, -1.0, np.float32)),
              "dense": [(rng.normal(size=(7, 32)).astype(np.float32),
                         rng.normal(size=32).astype(np.float32), "relu"),
                        (rng.normal(size=(32, 1)).astype(np.float32) * 0.1,
                         np.zeros(1, np.float32), "sigmoid")]}
    path = tmp_path / "m_weights.npz"
    save_dnn(path, layers, FEATURES)
    return path


def _wait_open(pid, path, timeout=30):
    t0 = time.time()
    while time.time() - t0 < timeout:
        try:
            if any(os.readlink(f"/proc/{pid}/fd/{fd}") == path
                   for fd in os.listdir(f"/proc/{pid}/fd")):
                time.sleep(0.3)
                return
        except OSError:
            pass
        time.sleep(0.05)
    raise TimeoutError("monitor did not open the pty")


def _start(tmp_path, slave_name, extra=()):
    return subprocess.Popen([sys.executable, "-m", "sw.uart", "--port", slave_name,
                             "--baud", "115200", "--log-dir", str(tmp_path / "log"), "--quiet",
                             *extra],
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                            cwd=str(ROOT))


def _replay(master, chunks, delay=0.002):
    for c in chunks:
        os.write(master, c)
        time.sleep(delay)


def _read_csv(path):
    with open(path, newline="") as f:
        return list(csv.DictReader(f))


def test_monitor_decodes_logs_and_survives_garbage(board_bytes, model_npz, tmp_path):
    data, strides, mrp = board_bytes
    frames_pos = []
    i = 0
    while i < len(data):
        n = data[i + 4]
        frames_pos.append((i, i + 7 + n))
        i += 7 + n
    # damage frame 3 (a flipped payload bit) and splice garbage with a fake sync after frame 10
    bad = bytearray(data)
    a, b = frames_pos[3]
    bad[a + 6] ^= 0x10
    cut = frames_pos[10][1]
    stream = bytes(bad[:cut]) + b"\x00\xa5\x5a\x01\xff\x13garbage" + bytes(bad[cut:])
    # the damaged frame is dropped: which record (its type, and its index among that type's)
    kinds = [data[x + 2] for x, _ in frames_pos]
    damaged_kind, lost = kinds[3], kinds[:3].count(kinds[3])
    master, slave = os.openpty()
    tty.setraw(slave)
    name = os.ttyname(slave)
    p = _start(tmp_path, name, ["--idle-exit", "2", "--model", str(model_npz)])
    try:
        _wait_open(p.pid, name)
        rng = np.random.default_rng(1)
        cuts = np.sort(rng.choice(len(stream), 60, replace=False))
        _replay(master, [stream[x:y] for x, y in zip([0, *cuts], [*cuts, len(stream)])])
        out, err = p.communicate(timeout=60)
    finally:
        os.close(master)
        os.close(slave)
    assert p.returncode == 0, err
    assert "crc_errors=1 " in out or "crc_errors=2 " in out, out
    assert "length_errors=0 unknown_types=0 invalid_frames=0" in out        # every counter shown
    s_rows = _read_csv(tmp_path / "log" / "strides.csv")
    m_rows = _read_csv(tmp_path / "log" / "mrp.csv")
    # the complete ordered sequences the log must hold: every golden record with its seq, less
    # the one the damaged frame carried
    def expected(kind, records):
        return [(k, r) for k, r in enumerate(records)
                if not (damaged_kind == FRAME_TYPES[kind] and k == lost)]
    want_s, want_m = expected("STRIDE", strides), expected("MRP", mrp)
    assert len(want_s) + len(want_m) == len(strides) + len(mrp) - 1
    assert (len(s_rows), len(m_rows)) == (len(want_s), len(want_m))
    st = DNNState(model_npz)
    for i, (row, (k, r)) in enumerate(zip(s_rows, want_s)):
        assert row["seq"] == str(k % 256), f"stride row {i}: seq {row['seq']}, want {k % 256}"
        assert {c: row[c] for c in CSV_COLUMNS} == record_to_row(r), f"stride row {i} (record {k})"
        pp, s = st.state(r)                            # the state column is the model's
        assert row["state"] == s and (s == "NA" or abs(float(row["p_off"]) - pp) < 1e-4), i
    for i, (row, (k, r)) in enumerate(zip(m_rows, want_m)):
        assert row["seq"] == str(k % 256), f"MRP row {i}: seq {row['seq']}, want {k % 256}"
        assert {c: row[c] for c in MRP_CSV_COLUMNS} == mrp_record_to_row(r), f"MRP row {i} ({k})"
    assert "seq_gaps=1 " in out                          # the lost frame shows as a gap


def test_monitor_ctrl_c_flushes_the_log(board_bytes, tmp_path):
    data, strides, _ = board_bytes
    master, slave = os.openpty()
    tty.setraw(slave)
    name = os.ttyname(slave)
    p = _start(tmp_path, name)
    try:
        _wait_open(p.pid, name)
        half = len(data) // 2
        _replay(master, [data[:half]])
        time.sleep(1.0)
        expect = len([f for f in Decoder().feed(data[:half]) if f.kind == "STRIDE"])
        p.send_signal(signal.SIGINT)
        out, err = p.communicate(timeout=30)
    finally:
        os.close(master)
        os.close(slave)
    assert p.returncode == 130, err                 # interrupted, as every tool reports it
    assert "sw.uart: interrupted; " in out
    rows = _read_csv(tmp_path / "log" / "strides.csv")
    assert len(rows) == expect > 0


def test_monitor_bad_port(tmp_path):
    r = subprocess.run([sys.executable, "-m", "sw.uart", "--port", "/dev/does-not-exist",
                        "--log-dir", str(tmp_path / "l")], capture_output=True, text=True)
    assert r.returncode == 1                        # the environment lacks the device
    assert r.stderr.count("\n") == 1 and r.stderr.startswith("sw.uart: error: cannot open")
    assert not (tmp_path / "l").exists()


def test_state_line_format():
    rec = {"leg": 1, "start": 1234, "stride_time": 540}
    assert state_line(7, rec, 0.73, "OFF") == \
        "STRIDE seq=7 leg=R start_s=2.468 stride_time_ms=1080 p_off=0.7300 state=OFF"
