"""End to end: synthetic EMG/EEG samples -> sensor UART -> the whole fabric design ->
results UART bytes -> ``sw.uart`` decoding and logging -> the host build of the ARM
program -> wearing-off states; identical to the golden pipeline + the Python
classifier on the same samples.
"""

import csv

import numpy as np
import pytest

from boards import arm_program
from golden.fabric_pipeline import run_golden_fabric
from golden.stride_indexes_model import record_to_row
from hdl.hps_regs import CONTROL_RESET
from hdl.system_top import SystemTop
from sim.hdl_build import run_cocotb, simulator_missing
from spec.frames import Decoder, encode, encode_record
from sw.uart import Monitor
from sw.wo_state import DNNState, state_line
from synthetic.eeg_gen import generate_eeg
from synthetic.emg_gen import generate_walk
from tests.dnn_fixture import MODEL, write_test_dnn

pytestmark = pytest.mark.skipif(simulator_missing() is not None, reason=simulator_missing() or "")


def samples_stream(emg, eeg8, ext):
    payload = np.zeros(len(emg), dtype=[("emg", "<i2", 8), ("eeg", "<i2", 8), ("flags", "u1")])
    payload["emg"], payload["eeg"], payload["flags"] = emg, eeg8, ext
    return b"".join(encode("SAMPLES", k % 256, payload[k].tobytes()) for k in range(len(emg)))


def test_samples_to_states_end_to_end(tmp_path):
    n = 2000
    walk = generate_walk(31, "pre", n_strides=4)
    emg = walk.emg[:n]
    eeg = generate_eeg(31, n_samples=n).eeg
    eeg8 = np.zeros((n, 8), np.int16)
    eeg8[:, :eeg.shape[1]] = eeg
    ext = np.zeros(n, np.uint8)
    ext[900] = 1
    # golden pipeline: the register block's reset CONTROL (all muscles, the 7 sites, LG)
    enable = np.array([(CONTROL_RESET >> (24 + k)) & 1 for k in range(8)], bool)
    assert enable.sum() == 7
    _, strides, trigger, mrp = run_golden_fabric(emg, eeg8, ext, eeg_enable=enable)
    assert len(strides) >= 3 and trigger.sum() >= 5
    want = [encode_record("STRIDE", k % 256, r) for k, r in enumerate(strides)]
    want_mrp = [encode_record("MRP", k % 256, r) for k, r in enumerate(mrp)]

    divisor = 4
    out = run_cocotb(SystemTop(rx_divisor=divisor, tx_divisor=divisor, cycles_per_sample=20,
                               ingress_fifo=512, result_fifo=1024, heartbeat_bit=8),
                     "system_top", "sim.cocotb_system_top",
                     dict(stream=np.frombuffer(samples_stream(emg, eeg8, ext), np.uint8),
                          divisor=divisor, settle=60000))
    tx = bytes(out["uart"])

    # 1. the UART bytes are exactly the golden records' frames (per type, in order)
    dec = Decoder()
    frames = dec.feed(tx)
    assert dec.stats()["crc_errors"] == 0 and dec.garbage_bytes == 0 and not dec.buf
    assert [f.payload for f in frames if f.kind == "STRIDE"] == [w[5:-2] for w in want]
    assert [f.payload for f in frames if f.kind == "MRP"] == [w[5:-2] for w in want_mrp]

    # 2. sw.uart's monitor logs every stride with the Python classifier's state
    npz = write_test_dnn(tmp_path)
    mon = Monitor(tmp_path / "log", model=str(npz), show=lambda *a: None)
    mon.feed(tx)
    mon.close()
    rows = list(csv.DictReader(open(tmp_path / "log" / "strides.csv")))
    st = DNNState(npz)
    assert len(rows) == len(strides)
    for row, rec in zip(rows, strides):
        for k, v in record_to_row(rec).items():
            if isinstance(v, str):
                assert row[k] == v, k
            else:
                assert float(row[k]) == pytest.approx(float(v), nan_ok=True), k
        p, s = st.state(rec)
        assert row["state"] == s
    assert len(list(csv.DictReader(open(tmp_path / "log" / "mrp.csv")))) == len(mrp)

    # 3. the ARM program (host build) prints the golden + Python classifier state lines
    exe = arm_program.build(str(tmp_path), MODEL, str(tmp_path / "wom"))
    lines = [ln for ln in arm_program.run(exe, tx).splitlines() if ln.startswith("STRIDE")]
    expect = []
    for k, rec in enumerate(strides):
        p, s = st.state(rec)
        expect.append(state_line(k % 256, rec, p, s))
    assert len(lines) == len(expect)
    for g, w in zip(lines, expect):
        gk = dict(kv.split("=") for kv in g.split()[1:])
        wk = dict(kv.split("=") for kv in w.split()[1:])
        assert {k: gk[k] for k in ("seq", "leg", "start_s", "stride_time_ms", "state")} == \
            {k: wk[k] for k in ("seq", "leg", "start_s", "stride_time_ms", "state")}
        if wk["state"] != "NA":
            assert abs(float(gk["p_off"]) - float(wk["p_off"])) <= 1.5e-4


def test_hps_replay_path_end_to_end():
    """Samples written by the ARM over the LW bridge -> fabric -> result FIFO read over the bridge:
    the frames popped from RESULT equal the golden pipeline's, whole and in order."""
    n = 420
    walk = generate_walk(7, "post", n_strides=1)
    emg = walk.emg[:n]
    eeg8 = (np.random.default_rng(7).normal(size=(n, 8)) * 400).astype(np.int16)
    ext = np.zeros(n, np.uint8)
    ext[[150, 300, 301]] = 1
    control = 0x7F00FF01                       # replay, all muscles, LG, 7 EEG sites
    enable = np.array([(0x7F >> k) & 1 for k in range(8)], bool)
    _, strides, trigger, mrp = run_golden_fabric(emg, eeg8, ext, eeg_enable=enable)
    assert len(mrp) == 7 * trigger.sum() >= 21
    want = [encode_record("STRIDE", k % 256, r) for k, r in enumerate(strides)] + \
        [encode_record("MRP", k % 256, r) for k, r in enumerate(mrp)]
    stream = samples_stream(emg, eeg8, ext)
    out = run_cocotb(SystemTop(rx_divisor=4, tx_divisor=4, cycles_per_sample=20, ingress_fifo=512,
                               result_fifo=1024, heartbeat_bit=8),
                     "system_top", "sim.cocotb_system_replay",
                     dict(stream=np.frombuffer(stream, np.uint8), control=control), tag="replay")
    words = [int(v) for v in out["result"]]
    got = bytes(v & 0xFF for v in words)
    dec = Decoder()
    frames = dec.feed(got)
    assert dec.crc_errors == 0 and dec.garbage_bytes == 0 and not dec.buf
    assert sum(v >> 9 & 1 for v in words) == len(frames)           # LAST marks each frame's end
    assert sorted(f.payload for f in frames) == sorted(w[5:-2] for w in want)
    assert [f.payload for f in frames if f.kind == "MRP"] == [w[5:-2] for w in want if w[2] == 0x02]
    samples_in, ingress, rx_errors, dropped = (int(v) for v in out["regs"])
    assert (samples_in, ingress, rx_errors, dropped) == (n, 0, 0, 0)
