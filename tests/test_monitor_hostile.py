"""Hostile result streams: ``sw.uart``'s monitor and the ARM program agree, nothing crashes.

:func:`test_python_and_c_monitors_agree_on_a_hostile_stream` feeds ONE stream -- valid STRIDE,
MRP and SAMPLES frames interleaved with CRC-valid but impossible records (leg 2 and 5, channel
8 and 250, undefined present/flag bits), garbage with lone and fake sync bytes, a bad CRC,
wrong payload lengths, unknown types and a frame cut short at the end -- to
:class:`sw.uart.Monitor` (in random-sized chunks) and to the host build of
``boards/arm/wo_monitor.c``, and asserts the same accepted records, the same rejected frames
(reason and bytes) and the same counters. The other tests: logs appended across sessions, the
port lost mid-stream (exit 1), a corrupt or incomplete ``--model`` (exit 2).
"""

import csv
import os
import time

import numpy as np
import pytest

from boards import arm_program
from golden.eeg_mrp_model import DB_FLOOR
from spec import frames
from spec.frames import STATS, check_record, encode, encode_record
from sw import uart
from tests.dnn_fixture import MODEL, write_test_dnn

SEED = 13


@pytest.fixture(scope="module")
def records():
    from golden.eeg_pipeline import run_golden_eeg
    from golden.emg_pipeline import run_golden
    from golden.fabric_pipeline import lg_onset_trigger
    from synthetic.emg_gen import generate_walk
    walk = generate_walk(21, "pre", 20)
    trig, strides = run_golden(walk.emg)
    eeg = (np.random.default_rng(SEED).normal(size=(len(walk.emg), 8)) * 300).astype(np.int16)
    mrp = run_golden_eeg(eeg, lg_onset_trigger(trig))             # all 8 inputs: ch7 too
    assert len(strides) >= 15 and {r["channel"] for r in mrp} == set(range(8))
    return strides, mrp[:24]


def _hostile_stream(strides, mrp):
    """(stream, number of valid frames, number of impossible ones); seeded, printed."""
    print(f"hostile stream seed {SEED}")
    rng = np.random.default_rng(SEED)
    s0, m0 = strides[0], mrp[0]
    samples = {f"emg{i}": -5 * i for i in range(8)} | {f"eeg{i}": 7 * i for i in range(8)}
    impossible = [("STRIDE", dict(s0, leg=2)), ("STRIDE", dict(s0, leg=5)),
                  ("STRIDE", dict(s0, present=0x1F)), ("STRIDE", dict(s0, overflow=0x80)),
                  ("MRP", dict(m0, channel=8)), ("MRP", dict(m0, channel=250)),
                  ("MRP", dict(m0, partial=0x02)), ("SAMPLES", dict(samples, flags=0x04))]
    assert all(check_record(k, r) for k, r in impossible)
    valid = [("STRIDE", r) for r in strides] + [("MRP", r) for r in mrp] \
        + [("SAMPLES", dict(samples, flags=1))] * 3
    items = [("ok", k, r) for k, r in valid] + [("bad", k, r) for k, r in impossible]
    items += [("raw", None, encode("STRIDE", 0, bytes(5))),           # wrong payload lengths
              ("raw", None, encode("MRP", 0, bytes(13))),
              ("raw", None, encode(0x7F, 3, bytes(range(9)))),        # unknown types
              ("raw", None, encode(0x00, 0, b"")),
              ("garbage", None, b"\x00\xa5\x5a\x01\xff\x13junk\xa5"),
              ("garbage", None, b"\xa5\xa5\x5a"),
              ("garbage", None, bytes(rng.integers(0, 256, 40, dtype=np.uint8)))]
    order = rng.permutation(len(items))
    seq = {"STRIDE": 0, "MRP": 0, "SAMPLES": 0}
    stream = bytearray()
    for n, i in enumerate(order):
        what, kind, x = items[i]
        if what in ("ok", "bad"):
            if n == 20:
                seq[kind] += 3                                   # three frames lost
            f = bytearray(encode_record(kind, seq[kind] % 256, x))
            seq[kind] += 1
            if n % 10 == 7:                                      # before some: a bad CRC copy
                bad = bytearray(f)
                bad[6] ^= 0x01
                stream += bad
        else:
            f = x
        stream += f
    stream += encode_record("MRP", 200, mrp[1])[:9]              # cut short at the end
    return bytes(stream), len(valid), len(impossible)


def _kv(line):
    return dict(kv.split("=", 1) for kv in line.split()[1:])


def _rows(path):
    with open(path, newline="") as f:
        return list(csv.DictReader(f))


def test_python_and_c_monitors_agree_on_a_hostile_stream(records, tmp_path):
    strides, mrp = records
    stream, n_valid, n_impossible = _hostile_stream(strides, mrp)
    write_test_dnn(tmp_path)

    mon = uart.Monitor(tmp_path / "log", model=str(tmp_path / "w.npz"), show=lambda s: None)
    rng = np.random.default_rng(SEED + 1)
    cuts = np.sort(rng.choice(len(stream), 80, replace=False))
    for a, b in zip([0, *cuts], [*cuts, len(stream)]):
        mon.feed(stream[a:b])
    mon.close()
    py = mon.stats()

    exe = arm_program.build(str(tmp_path), MODEL, str(tmp_path / "wom"))
    out = arm_program.run(exe, stream).splitlines()

    # the same counters, with the same names, in the same order
    assert out[-1] == "# " + mon.status()
    assert mon.status() == " ".join(f"{k}={py[k]}" for k in STATS)
    assert py["frames"] == n_valid and py["invalid_frames"] == n_impossible
    assert py["length_errors"] == 2 and py["unknown_types"] == 2 and py["crc_errors"] >= 1
    assert (py["seq_gaps"], py["lost_frames"]) == (1, 3)
    assert py["garbage_bytes"] >= 40 + 9                         # incl. the cut-short frame

    # the same rejected frames: reason and raw bytes
    rejects = _rows(tmp_path / "log" / "rejects.csv")
    c_rejects = [ln[len("# reject "):].rsplit(": ", 1) for ln in out if ln.startswith("# reject")]
    assert [[r["reason"], r["frame_hex"]] for r in rejects] == c_rejects
    assert len(rejects) == n_impossible + 4
    reasons = " ".join(r["reason"] for r in rejects)
    for want in ("STRIDE.leg=2 > 1", "STRIDE.leg=5 > 1", "MRP.channel=250 > 7",
                 "STRIDE.present=0x1f outside 0xf", "unknown frame type 0x7f",
                 "STRIDE payload of 5 bytes, expected 37"):
        assert want in reasons
    for r in rejects:
        raw = bytes.fromhex(r["frame_hex"])
        assert raw[:2] == frames.SYNC and frames.crc16(raw[2:-2]) == int.from_bytes(raw[-2:], "big")

    # the same accepted records
    s_rows = _rows(tmp_path / "log" / "strides.csv")
    c_s = [_kv(ln) for ln in out if ln.startswith("STRIDE")]
    assert len(s_rows) == len(c_s) == len(strides)
    for row, c in zip(s_rows, c_s):
        assert {k: c[k] for k in ("seq", "leg", "start_s", "stride_time_ms", "state")} == \
            {k: row[k] for k in ("seq", "leg", "start_s", "stride_time_ms", "state")}
        if row["state"] != "NA":
            assert abs(float(c["p_off"]) - float(row["p_off"])) <= 1.5e-4
    m_rows = _rows(tmp_path / "log" / "mrp.csv")
    c_m = [_kv(ln) for ln in out if ln.startswith("MRP")]
    assert len(m_rows) == len(c_m) == len(mrp)
    for row, c in zip(m_rows, c_m):
        assert (c["seq"], c["trigger_s"], c["site"]) == (row["seq"], row["trigger_s"], row["site"])
        for band in ("BP", "mu", "beta"):
            v = row[f"{band}_dBu"]
            v = DB_FLOOR / 256 if v == "-inf" else float(v)
            assert abs(float(c[f"{band}_dBu"]) - v) <= 0.0051
        assert c["partial"] == ("1" if row["flags"] == "partial" else "0")
    assert "ch7" in {r["site"] for r in m_rows}


def _session(tmp_path, data, **kw):
    mon = uart.Monitor(tmp_path / "log", show=lambda s: None, **kw)
    mon.feed(data)
    mon.close()
    return mon


def test_logs_are_appended_across_sessions_never_truncated(records, tmp_path):
    strides, mrp = records
    a = b"".join(encode_record("STRIDE", k, r) for k, r in enumerate(strides[:3]))
    b = b"".join(encode_record("STRIDE", k, r) for k, r in enumerate(strides[3:5]))
    m1 = _session(tmp_path, a + encode_record("MRP", 0, mrp[0]))
    time.sleep(0.01)
    m2 = _session(tmp_path, b + encode_record("MRP", 0, dict(mrp[0], channel=99)))
    assert m1.session != m2.session
    text = (tmp_path / "log" / "strides.csv").read_text()
    assert text.count("session,received_s,seq") == 1
    rows = _rows(tmp_path / "log" / "strides.csv")
    assert [r["session"] for r in rows] == [m1.session] * 3 + [m2.session] * 2
    assert [r["start_s"] for r in rows] == [f"{r['start'] / 500:.3f}" for r in strides[:5]]
    assert len(_rows(tmp_path / "log" / "mrp.csv")) == 1
    (rej,) = _rows(tmp_path / "log" / "rejects.csv")
    assert rej["session"] == m2.session and rej["reason"] == "MRP.channel=99 > 7"
    # someone else's file of the same name is left alone: the session writes beside it
    (tmp_path / "log" / "mrp.csv").write_text("not,our,header\n1,2,3\n")
    m3 = _session(tmp_path, encode_record("MRP", 0, mrp[1]))
    assert (tmp_path / "log" / "mrp.csv").read_text() == "not,our,header\n1,2,3\n"
    assert m3.paths["MRP"] == str(tmp_path / "log" / f"mrp-{m3.session}.csv")
    assert len(_rows(m3.paths["MRP"])) == 1
    assert len(_rows(tmp_path / "log" / "strides.csv")) == 5


class _FakePort:
    """A port that delivers ``chunks`` and then fails like an unplugged USB adapter."""

    def __init__(self, chunks):
        self.chunks, self.closed = list(chunks), False

    def read(self, n):
        import serial
        if not self.chunks:
            raise serial.SerialException("device reports readiness to read but returned no "
                                         "data (device disconnected or multiple access on port?)")
        return self.chunks.pop(0)

    def close(self):
        self.closed = True


def test_port_lost_mid_stream_is_one_line_exit_1(records, tmp_path, monkeypatch, capsys):
    import serial
    strides, _ = records
    data = b"".join(encode_record("STRIDE", k, r) for k, r in enumerate(strides[:4]))
    port = _FakePort([data[:50], data[50:]])
    monkeypatch.setattr(serial, "serial_for_url", lambda *a, **k: port)
    rc = uart.main(["--port", "/dev/ttyFAKE", "--log-dir", str(tmp_path / "log"), "--quiet"])
    err = capsys.readouterr().err
    assert rc == 1 and port.closed
    assert err.count("\n") == 1 and err.startswith("sw.uart: error: /dev/ttyFAKE lost mid-stream")
    assert "frames=4" in err and "Traceback" not in err
    assert len(_rows(tmp_path / "log" / "strides.csv")) == 4        # what came is kept


def test_port_lost_on_a_pyserial_loop_url(tmp_path, monkeypatch, capsys):
    """The same with a real pyserial object (``loop://``) whose read starts failing."""
    import serial
    real = serial.serial_for_url("loop://", timeout=0.01)

    def broken(n):
        raise serial.SerialException("port closed by the OS")
    monkeypatch.setattr(real, "read", broken)
    monkeypatch.setattr(serial, "serial_for_url", lambda *a, **k: real)
    rc = uart.main(["--port", "loop://", "--log-dir", str(tmp_path / "log"), "--quiet"])
    err = capsys.readouterr().err
    assert rc == 1 and err.count("\n") == 1 and "port closed by the OS" in err


def _bad_models(tmp_path, good):
    data = good.read_bytes()
    (tmp_path / "corrupt_weights.npz").write_bytes(bytes(range(256)) * 4)
    (tmp_path / "truncated_weights.npz").write_bytes(data[:len(data) // 2])
    np.savez(tmp_path / "incomplete_weights.npz", features=np.array(["stride_time_ms"]))
    with np.load(good) as f:
        arrays = {k: f[k] for k in f.files}
    arrays["W0"] = arrays["W0"][:3]                               # shapes that do not chain
    np.savez(tmp_path / "shapes_weights.npz", **arrays)
    return ["corrupt", "truncated", "incomplete", "shapes"]


def test_corrupt_or_incomplete_model_is_one_line_exit_2(tmp_path, capsys):
    good = write_test_dnn(tmp_path) or tmp_path / "w.npz"
    for name in _bad_models(tmp_path, good):
        path = tmp_path / f"{name}_weights.npz"
        rc = uart.main(["--port", "loop://", "--log-dir", str(tmp_path / "log"), "--quiet",
                        "--model", str(path), "--duration", "0.1"])
        err = capsys.readouterr().err
        assert rc == 2, name
        assert err.count("\n") == 1 and err.startswith(f"sw.uart: error: --model {path}"), err
        assert "Traceback" not in err
        assert not (tmp_path / "log").exists()                    # nothing written
    rc = uart.main(["--port", "loop://", "--log-dir", str(tmp_path / "log"), "--quiet",
                    "--model", str(tmp_path / "missing.npz")])
    assert rc == 2 and capsys.readouterr().err.count("\n") == 1
    rc = uart.main(["--port", "loop://", "--log-dir", str(tmp_path / "log"), "--quiet",
                    "--model", str(good), "--duration", "0.1"])
    out = capsys.readouterr().out
    assert rc == 0 and "frames=0 crc_errors=0 length_errors=0 unknown_types=0" in out
    assert os.path.isfile(tmp_path / "log" / "strides.csv")


class _InterruptedPort(_FakePort):
    """Delivers ``chunks``, then the user presses Ctrl-C."""

    def read(self, n):
        if not self.chunks:
            raise KeyboardInterrupt
        return self.chunks.pop(0)


def test_ctrl_c_keeps_the_logs_says_so_and_exits_130(records, tmp_path, monkeypatch, capsys):
    import serial
    strides, _ = records
    data = b"".join(encode_record("STRIDE", k, r) for k, r in enumerate(strides[:3]))
    port = _InterruptedPort([data])
    monkeypatch.setattr(serial, "serial_for_url", lambda *a, **k: port)
    rc = uart.main(["--port", "/dev/ttyFAKE", "--log-dir", str(tmp_path / "log"), "--quiet"])
    out = capsys.readouterr()
    assert rc == 130 and port.closed and "Traceback" not in out.err
    assert "sw.uart: interrupted; " in out.out and "frames=3" in out.out
    assert len(_rows(tmp_path / "log" / "strides.csv")) == 3


def test_a_port_that_cannot_be_opened_is_an_environment_error(tmp_path, monkeypatch, capsys):
    import serial

    def absent(*a, **k):
        raise serial.SerialException("[Errno 2] could not open port /dev/ttyNONE")
    monkeypatch.setattr(serial, "serial_for_url", absent)
    rc = uart.main(["--port", "/dev/ttyNONE", "--log-dir", str(tmp_path / "log"), "--quiet"])
    err = capsys.readouterr().err
    assert rc == 1 and err.count("\n") == 1 and "cannot open /dev/ttyNONE" in err
    assert not (tmp_path / "log").exists()


def test_samples_file_port_lost_mid_stream_is_one_error_line(tmp_path, monkeypatch, capsys):
    import serial

    from sw import samples_file

    class Lost:
        def __init__(self):
            self.writes = 0

        def write(self, b):
            self.writes += 1
            if self.writes > 2:
                raise serial.SerialException("write failed: [Errno 5] Input/output error")

        def close(self):
            pass
    monkeypatch.setattr(serial, "serial_for_url", lambda *a, **k: Lost())
    monkeypatch.setattr(samples_file.time, "sleep", lambda s: None)
    rc = samples_file.main(["--synthetic", "2", "--port", "/dev/ttyFAKE"])
    err = [ln for ln in capsys.readouterr().err.splitlines() if ln.strip()]
    errors = [ln for ln in err if "error" in ln]
    assert rc == 1 and len(errors) == 1, err
    assert "lost mid-stream (write failed" in errors[0] and "sent 100 of 1000" in errors[0]
