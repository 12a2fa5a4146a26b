"""End to end: synthetic EMG/EEG samples -> sensor UART (a stretch; the bulk through the
HPS replay path, which takes far fewer simulated cycles) -> the whole fabric design ->
results UART bytes -> ``sw.uart`` decoding and logging -> the host build of the ARM
program -> wearing-off states; identical to the golden pipeline + the Python
classifier on the same samples. And the ARM's replay path alone: SAMPLE writes in,
RESULT pops out.
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

#: Verilator when installed (``make setup`` installs it): the same Verilog, and both benches keep
#: the design busy for a few hundred thousand cycles (EEG computations), which Icarus
#: simulates ~6x slower; Icarus otherwise
SIM = "verilator" if simulator_missing("verilator") is None else "icarus"
pytestmark = pytest.mark.skipif(simulator_missing(SIM) is not None,
                                reason=simulator_missing(SIM) or "")


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

    # the bulk of the samples goes in through the HPS replay path (bursts to SAMPLE: a few
    # cycles a byte); a stretch in the middle through the sensor UART (40 cycles a byte). The
    # stretch holds an LG onset (an EEG computation: the ingress FIFO takes the bytes that
    # arrive meanwhile) and the end of a stride; the source is switched at frame boundaries.
    uart = (1700, 1760)
    assert trigger[uart[0]:uart[1] - 20].any()          # an onset 20 frames before it ends
    assert any(uart[0] <= s["start"] + s["stride_time"] < uart[1] for s in strides)
    stream = samples_stream(emg, eeg8, ext)
    frame = len(stream) // n
    segments = np.array([(uart[0] * frame, 1), (uart[1] * frame, 0), (n * frame, 1)])
    divisor = 4
    top = SystemTop(rx_divisor=divisor, tx_divisor=divisor, cycles_per_sample=20,
                    ingress_fifo=512, result_fifo=1024, heartbeat_bit=8)
    out = run_cocotb(top, "system_top", "sim.cocotb_system_top",
                     dict(stream=np.frombuffer(stream, np.uint8), segments=segments,
                          divisor=divisor, settle=60000, sample_fifo=top.regs.sample_depth),
                     sim=SIM)
    # every frame parsed, none rejected or lost, no UART framing error or overrun
    assert [int(v) for v in out["regs"]] == [n, 0, 0]
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
    the frames popped from RESULT equal the golden pipeline's, whole and in order, over a walk
    long enough for the EMG warm-up and strides of both legs."""
    n = 2400
    walk = generate_walk(7, "post", n_strides=4)
    emg = walk.emg[:n]
    eeg8 = (np.random.default_rng(7).normal(size=(n, 8)) * 400).astype(np.int16)
    ext = np.zeros(n, np.uint8)
    ext[[150, 300, 301]] = 1
    control = 0x7F00FF01                       # replay, all muscles, LG, 7 EEG sites
    enable = np.array([(0x7F >> k) & 1 for k in range(8)], bool)
    _, strides, trigger, mrp = run_golden_fabric(emg, eeg8, ext, eeg_enable=enable)
    assert len(strides) >= 4 and {s["leg"] for s in strides} == {0, 1}
    assert len(mrp) == 7 * trigger.sum() >= 21
    want = [encode_record("STRIDE", k % 256, r) for k, r in enumerate(strides)] + \
        [encode_record("MRP", k % 256, r) for k, r in enumerate(mrp)]
    stream = samples_stream(emg, eeg8, ext)
    # the first 160 frames byte by byte as wo_monitor writes them (STATUS polled before each
    # byte), across the EEG computation of the trigger at 150: the sample FIFO fills up and
    # the writer waits; the rest in bursts sized from SAMPLES_IN (sim/cocotb_system_replay.py)
    arm_bytes = 160 * len(stream) // n
    top = SystemTop(rx_divisor=4, tx_divisor=4, cycles_per_sample=20, ingress_fifo=512,
                    result_fifo=1024, heartbeat_bit=8)
    out = run_cocotb(top, "system_top", "sim.cocotb_system_replay",
                     dict(stream=np.frombuffer(stream, np.uint8), control=control,
                          arm_bytes=arm_bytes, sample_fifo=top.regs.sample_depth),
                     sim=SIM, tag="replay")
    assert int(out["full_polls"]) > 0
    words = [int(v) for v in out["result"]]
    got = bytes(v & 0xFF for v in words)
    dec = Decoder()
    frames = dec.feed(got)
    assert dec.crc_errors == 0 and dec.garbage_bytes == 0 and not dec.buf
    assert sum(v >> 9 & 1 for v in words) == len(frames)           # LAST marks each frame's end
    assert sorted(f.payload for f in frames) == sorted(w[5:-2] for w in want)
    for code, kind in ((0x01, "STRIDE"), (0x02, "MRP")):
        assert [f.payload for f in frames if f.kind == kind] == \
            [w[5:-2] for w in want if w[2] == code]
    samples_in, ingress, rx_errors, dropped = (int(v) for v in out["regs"])
    assert (samples_in, ingress, rx_errors, dropped) == (n, 0, 0, 0)
