"""ARM-side monitor (boards/arm/wo_monitor.c): host build vs Cortex-A9 build (qemu-arm) vs Python.

The recorded stream: frames (spec.frames) of the golden stride and MRP records
of a synthetic walk, with garbage, a corrupted frame and a lost frame spliced
in. The classifier is a DNN4-shaped float32 network emitted by
:func:`sw.c_emit.emit_dnn_f32`; Python's side is :class:`sw.wo_state.DNNState`
on the same weights and :class:`spec.frames.Decoder`.
"""

import os

import numpy as np
import pytest

from boards import arm_program
from spec import registers
from spec.frames import STATS, Decoder, encode_record
from sw import c_build
from sw.wo_state import DNNState, state_line
from tests.dnn_fixture import write_test_dnn


@pytest.fixture(scope="module")
def setup(tmp_path_factory):
    from golden.eeg_pipeline import run_golden_eeg
    from golden.emg_pipeline import run_golden
    from golden.fabric_pipeline import lg_onset_trigger
    from synthetic.emg_gen import generate_walk
    d = tmp_path_factory.mktemp("arm")
    rng = np.random.default_rng(3)
    write_test_dnn(d)
    walk = generate_walk(21, "pre", 30)
    trig, strides = run_golden(walk.emg)
    eeg = (rng.normal(size=(len(walk.emg), 8)) * 300).astype(np.int16)
    mrp = run_golden_eeg(eeg, lg_onset_trigger(trig))
    strides[3] = dict(strides[3], present=strides[3]["present"] & 0b1110)   # LG absent on one
    frames = [encode_record("STRIDE", k % 256, r) for k, r in enumerate(strides)]
    frames += [encode_record("MRP", k % 256, r) for k, r in enumerate(mrp[:20])]
    order = np.random.default_rng(4).permutation(len(frames))
    stream = bytearray()
    for i, k in enumerate(order):
        f = bytearray(frames[k])
        if i == 5:
            f[9] ^= 0x40                          # corrupted
        if i == 9:
            continue                              # lost
        if i % 7 == 0:
            stream += b"\x13\xa5\x00junk\xa5"    # garbage, a lone sync byte
        stream += f
    return d, bytes(stream), strides


def test_host_build_matches_python(setup):
    d, stream, strides = setup
    exe = arm_program.build(str(d), "wo_test_f32", str(d / "wom"))
    out = arm_program.run(exe, stream)
    lines = out.splitlines()
    dec = Decoder(check=True)
    frames = dec.feed(stream)
    st = DNNState(d / "w.npz")
    want = []
    for f in frames:
        if f.kind == "STRIDE":
            p, s = st.state(f.record)
            want.append((state_line(f.seq, f.record, p, s), p, s))
    got = [ln for ln in lines if ln.startswith("STRIDE")]
    assert len(got) == len(want) >= 25
    states = set()
    for g, (w, p, s) in zip(got, want):
        gk = dict(kv.split("=") for kv in g.split()[1:])
        wk = dict(kv.split("=") for kv in w.split()[1:])
        assert {k: gk[k] for k in ("seq", "leg", "start_s", "stride_time_ms", "state")} == \
            {k: wk[k] for k in ("seq", "leg", "start_s", "stride_time_ms", "state")}
        if s != "NA":
            assert abs(float(gk["p_off"]) - p) <= 1.5e-4
        states.add(s)
    assert states == {"ON", "OFF", "NA"}                 # the test exercises every state
    mrp_lines = [ln for ln in lines if ln.startswith("MRP")]
    assert len(mrp_lines) == sum(f.kind == "MRP" for f in frames)
    s = dec.stats()
    assert lines[-1] == "# " + " ".join(f"{k}={v}" for k, v in s.items())
    assert list(s) == list(STATS) and s["length_errors"] == s["invalid_frames"] == 0
    assert s["crc_errors"] >= 1 and s["seq_gaps"] >= 1


@pytest.mark.skipif(not c_build.have_arm(),
                    reason="apt-get install gcc-arm-linux-gnueabihf qemu-user (make setup)")
def test_arm_build_under_qemu_prints_the_same(setup):
    d, stream, _ = setup
    host = arm_program.run(arm_program.build(str(d), "wo_test_f32", str(d / "wom_h")), stream)
    arm_exe = arm_program.build(str(d), "wo_test_f32", str(d / "wom_a"), arm=True)
    arm = arm_program.run(arm_exe, stream, arm=True)
    assert arm == host and host.count("\n") > 30


def test_usage_error(setup):
    import subprocess
    d, _, _ = setup
    exe = arm_program.build(str(d), "wo_test_f32", str(d / "wom_u"))
    r = subprocess.run([exe], capture_output=True, text=True)
    assert r.returncode == 2 and "usage" in r.stderr


def test_cli_builds_and_reports_a_missing_model(setup, tmp_path):
    import subprocess
    import sys
    d, stream, _ = setup
    cli = [sys.executable, "-m", "boards.arm_program", "--model-dir", str(d), "--model"]
    r = subprocess.run(cli + ["wo_test_f32", "--out", str(tmp_path / "wom")],
                       capture_output=True, text=True)
    assert r.returncode == 0, r.stderr
    assert "STRIDE" in arm_program.run(str(tmp_path / "wom"), stream)
    r = subprocess.run(cli + ["nope"], capture_output=True, text=True)
    assert r.returncode == 2 and "nope.c not found" in r.stderr
    assert len(r.stderr.strip().splitlines()) == 1


#: the "# fabric" line of wo_monitor --devmem for the registers of boards/arm/wo_fake_bridge.c:
#: the flags and counters of spec.registers, each named after its register (and field)
FAKE_FABRIC_LINE = ("# fabric status_overflow=1 status_stride_overrun=1 dropped=4294967295 "
                    "samples_in=123456 ingress_rejected=2 ingress_lost=3 rx_errors_framing=4 "
                    "rx_errors_overrun=5 stride_overruns=6")


def test_devmem_replay_against_a_fake_bridge(setup, tmp_path):
    """--devmem --replay: SOURCE set during the replay and restored, every sample byte written once
    (the full flag polled), results popped and printed as in --file mode, and the fabric's
    flags and counters (STATUS, DROPPED, SAMPLES_IN, INGRESS, RX_ERRORS, STRIDE_OVERRUNS) in a
    "# fabric" line before the decoder's counters."""
    import os
    import subprocess
    d, stream, _ = setup
    exe = arm_program.build(str(d), "wo_test_f32", str(tmp_path / "wom_fake"), fake_bridge=True)
    samples = bytes(np.random.default_rng(9).integers(0, 256, 5000, dtype=np.uint8))
    (tmp_path / "samples.bin").write_bytes(samples)
    (tmp_path / "result.bin").write_bytes(stream)
    env = dict(os.environ, WO_FAKE_RESULT=str(tmp_path / "result.bin"),
               WO_FAKE_SAMPLES=str(tmp_path / "written.bin"), WO_FAKE_LOG=str(tmp_path / "log.txt"))
    r = subprocess.run([exe, "--devmem", "--replay", str(tmp_path / "samples.bin"),
                        "--idle-exit", "20"], capture_output=True, text=True, env=env, timeout=60)
    assert r.returncode == 0, r.stderr
    assert (tmp_path / "written.bin").read_bytes() == samples
    reset = registers.REGISTERS["CONTROL"].reset                  # 0x7f00ff00
    replay = registers.field("CONTROL", "SOURCE").mask
    assert (tmp_path / "log.txt").read_text().splitlines() == [f"CONTROL 0x{reset | replay:08x}",
                                                               f"CONTROL 0x{reset:08x}"]
    want = arm_program.run(exe, stream).splitlines()
    assert r.stdout.splitlines() == want[:-1] + [FAKE_FABRIC_LINE, want[-1]]
    names = [kv.split("=")[0] for kv in FAKE_FABRIC_LINE.split()[2:]]
    assert {n for n in names if not n.startswith("status_")} == \
        {"dropped", "samples_in", "ingress_rejected", "ingress_lost", "rx_errors_framing",
         "rx_errors_overrun", "stride_overruns"}
    regs = registers.REGISTERS           # each name a register, or a register and its field
    fields = {f"{r.name}_{f.name}" for r in regs.values() for f in r.fields}
    assert all(n.upper() in regs or n.upper() in fields for n in names), names
    r = subprocess.run([exe, "--devmem", "--idle-exit", "x"], capture_output=True, text=True,
                       env=env)
    assert r.returncode == 2 and "milliseconds" in r.stderr


def _cli(*args):
    import subprocess
    import sys
    return subprocess.run([sys.executable, "-m", "boards.arm_program", *args],
                          capture_output=True, text=True)


def test_cli_shows_the_compilers_own_error(setup, tmp_path):
    """A failed build: one error line naming the compiler, then its last messages (bounded)."""
    d, _, _ = setup
    (tmp_path / "wo_test_f32.h").write_bytes((d / "wo_test_f32.h").read_bytes())
    src = (d / "wo_test_f32.c").read_text()
    (tmp_path / "wo_test_f32.c").write_text(src + "\n#error boom_marker_13\n"
                                            + "".join(f"#warning w{k}\n" for k in range(40)))
    r = _cli("--model-dir", str(tmp_path), "--model", "wo_test_f32",
             "--out", str(tmp_path / "wom"))
    assert r.returncode == 1
    lines = r.stderr.splitlines()
    assert lines[0].startswith("boards.arm_program: error: ") and "failed (exit 1)" in lines[0]
    assert len(lines) == 1 + arm_program.STDERR_LINES            # bounded
    assert "boom_marker_13" in lines[1]                    # the error line first, then the tail
    assert "w39" in r.stderr and "Traceback" not in r.stderr
    assert not (tmp_path / "wom").exists() and not list(tmp_path.glob(".tmp-*"))
    (tmp_path / "wo_test_f32.c").write_text(src + "\n#error boom_marker_13\n")
    r = _cli("--model-dir", str(tmp_path), "--model", "wo_test_f32",
             "--out", str(tmp_path / "wom"))
    assert r.returncode == 1 and "boom_marker_13" in r.stderr      # the compiler's own message


def test_cli_non_utf8_header_is_one_line(setup, tmp_path):
    d, _, _ = setup
    (tmp_path / "wo_test_f32.c").write_bytes((d / "wo_test_f32.c").read_bytes())
    header = (d / "wo_test_f32.h").read_bytes()
    (tmp_path / "wo_test_f32.h").write_bytes(b"/* \xff\xfe */\n" + header)
    r = _cli("--model-dir", str(tmp_path), "--model", "wo_test_f32",
             "--out", str(tmp_path / "wom"))
    assert r.returncode == 2
    assert r.stderr.count("\n") == 1 and "not UTF-8" in r.stderr and "wo_test_f32.h" in r.stderr
    assert not (tmp_path / "wom").exists()


def test_cli_never_writes_onto_an_input_or_a_node(setup, tmp_path):
    """--out onto the model's own header or C, a symlink or a folder: one line, exit 2, every
    file as it was; onto a regular file of the user's: replaced whole (as cc -o does), never
    half-written; into a missing folder: one line, exit 2."""
    d, _, _ = setup
    for name in ("wo_test_f32.c", "wo_test_f32.h"):
        (tmp_path / name).write_bytes((d / name).read_bytes())
    before = {p.name: p.read_bytes() for p in tmp_path.iterdir()}
    (tmp_path / "target").write_text("keep\n")
    os.symlink(tmp_path / "target", tmp_path / "link")
    (tmp_path / "folder").mkdir()
    for out in ("wo_test_f32.h", "wo_test_f32.c", "link", "folder", "nowhere/wom", ""):
        r = _cli("--model-dir", str(tmp_path), "--model", "wo_test_f32",
                 "--out", str(tmp_path / out) if out else "")
        assert r.returncode == 2, (out, r.stderr)
        assert r.stderr.count("\n") == 1 and "--out" in r.stderr, (out, r.stderr)
    assert {p.name: p.read_bytes() for p in tmp_path.iterdir() if p.name in before} == before
    assert (tmp_path / "target").read_text() == "keep\n" and os.path.islink(tmp_path / "link")
    assert not list(tmp_path.glob(".tmp-*"))
    r = _cli("--model-dir", str(tmp_path), "--model", "wo_test_f32",
             "--out", str(tmp_path / "target"))
    assert r.returncode == 0 and os.access(tmp_path / "target", os.X_OK)
