"""Activity context (IMU frames -> HAR model -> per-stride tags): wo_monitor (host and qemu-arm)
against the Python reference sw.activity_context with the Keras model.

A small DIN (sw.har_model.build_din, d=8) is trained for a few seconds on HAPT experiment 1 and
emitted as C (float32); the frame stream carries real HAPT samples of experiment 1 as IMU frames
(a walking segment, then a sitting one, at 50 Hz of the 500 Hz fabric clock) and STRIDE frames
whose ends fall before the first IMU sample, inside each segment and after the last sample, each
at the place of the stream where the fabric would send it (its end), plus a rejected IMU frame
(an undefined flag bit) and one of the wrong length. Needs ../shared/data/har-hapt (a skip
names it; WOTRACK_NO_SKIP=1 makes that a failure).
"""

import json
import os
import re
import subprocess
import sys

import numpy as np
import pytest

from boards import arm_program
from spec.constants import SHARED_DATA
from spec.frames import IMU_CHANNELS, IMU_STEP, STATS, Decoder, encode, encode_record
from sw import activity_context as ac
from sw import c_build
from tests.dnn_fixture import write_test_dnn
from tests.seeding import seeds

RAW = SHARED_DATA / "har-hapt" / "RawData"
#: fabric sample index of the first IMU sample (strides ending before it: no window, unknown)
I0 = 20_000
#: samples taken of each segment (1-based HAPT lines of experiment 1: walking, sitting)
WALK, SIT, N = (8356, 1), (1393, 4), 768


def _quantise(x):
    """g and rad/s -> the IMU frame's int16 raw values (1 mg, 1 mrad/s)."""
    return np.clip(np.round(np.asarray(x, np.float64) * 1000), -32768, 32767).astype(int)


def _stride(rng, seq, start, stride_time):
    rec = {f: int(v) for f, v in zip(
        ("LG_contraction", "LG_relaxation", "LG_duty", "TA_contraction", "TA_relaxation",
         "TA_duty", "BF_contraction", "BF_relaxation", "BF_duty", "RF_contraction",
         "RF_relaxation", "RF_duty", "cocon_LG_TA", "cocon_BF_RF"),
        rng.integers(10, 400, 14))}
    return dict(rec, leg=seq % 2, start=start, stride_time=stride_time, present=0xF, overflow=0)


@pytest.fixture(scope="module", params=seeds(5))
def har(request, tmp_path_factory):
    if not RAW.is_dir():
        pytest.skip(f"{RAW} not found (the UCI HAPT raw data in ../shared/data)")
    os.environ.setdefault("TF_NUM_INTRAOP_THREADS", "1")
    os.environ.setdefault("TF_NUM_INTEROP_THREADS", "1")
    from sw import c_emit, har_data, har_model
    from sw.classifiers import quiet_tensorflow
    seed = request.param
    keras = quiet_tensorflow()
    (exp,) = har_data.load_experiments(RAW, experiments=[1])
    W = har_data.make_windows(exp)
    mean, var = har_model.channel_stats(W.X)
    keras.utils.set_random_seed(seed)
    model = har_model.build_din(6, 128, 6, mean, var, d=8, heads=2, branch=4)
    model.compile(optimizer=keras.optimizers.Adam(3e-3), loss="sparse_categorical_crossentropy")
    model.fit(W.X, W.y, epochs=15, batch_size=32, verbose=0)
    d = tmp_path_factory.mktemp("har")
    (d / "c").mkdir()
    for cname, weights in (("har_test", "float32"), ("har_test_i8", "int8")):
        h, c, _ = c_emit.emit_keras_sequence(cname, model, hop=har_data.HOP, weights=weights)
        (d / "c" / f"{cname}.h").write_text(h)
        (d / "c" / f"{cname}.c").write_text(c)
    names = har_data.class_names(6)
    (d / "config.json").write_text(json.dumps({
        "kind": "har", "model": "din", "classes": 6, "class_names": names,
        "window": har_data.WINDOW, "hop": har_data.HOP, "fs": har_data.FS,
        "channels": list(har_data.CHANNELS), "model_file": "model.keras",
        "c": "c/har_test.c", "c_int8": "c/har_test_i8.c"}))
    write_test_dnn(d)

    # the stream: IMU samples (walking, then sitting; contiguous indexes) and STRIDE frames
    # placed at their ends; one IMU frame rejected (flags 0x80), one of the wrong length
    rng = np.random.default_rng(seed)
    x = np.concatenate([exp.signals[s - 1:s - 1 + N] for s, a in (WALK, SIT)])
    assert [s.activity for s in exp.segments if s.start in (WALK[0], SIT[0])] == [4, 1]
    raw = _quantise(x)
    imu_at = {I0 + k * IMU_STEP: k for k in range(len(raw))}
    last = I0 + (len(raw) - 1) * IMU_STEP
    ends = [I0 - 4000, I0 - 100]                                      # before any window
    ends += list(range(I0 + 1300, I0 + N * IMU_STEP, 530))            # walking
    ends += list(range(I0 + N * IMU_STEP + 1300, last, 530))          # sitting
    ends += [last + 50, last + 2000]                                  # after the last sample
    strides = {}
    for k, e in enumerate(ends):
        st = int(rng.integers(450, 650))
        strides.setdefault(e, []).append(_stride(rng, k, e - st, st))
    bad_k, short_k = 40, 900                                # rejected: flags, length
    stream, seq_imu, seq_s = bytearray(), 0, 0
    for t in range(min(ends), max(ends) + 1):
        k = imu_at.get(t)
        if k is not None:
            rec = {"index": t, **dict(zip(IMU_CHANNELS, map(int, raw[k]))), "flags": 0}
            if k == bad_k:
                rec["flags"] = 0x80
            f = encode_record("IMU", seq_imu % 256, rec)
            if k == short_k:
                f = encode("IMU", seq_imu % 256, f[5:-3])
            stream += f
            seq_imu += 1
        for r in strides.get(t, ()):
            stream += encode_record("STRIDE", seq_s % 256, r)
            seq_s += 1
    return dict(dir=d, model=model, names=names, stream=bytes(stream), ends=ends, seed=seed)


def _kv(line):
    return dict(kv.split("=", 1) for kv in line.split()[1:])


def _python(har):
    return ac.tag_stream(har["stream"], lambda X: har["model"].predict(X, verbose=0),
                         har["names"], 128, 64)


def test_c_tags_equal_the_python_reference(har):
    d = har["dir"]
    exe = arm_program.build(str(d), "wo_test_f32", str(d / "wom_har"), har=str(d),
                            har_weights="float32")
    out = arm_program.run(exe, har["stream"]).splitlines()
    windows, strides = _python(har)
    print(f"seed {har['seed']}: {len(windows)} windows, {len(strides)} strides")

    # every window: the same time and class as Keras, probability within float32 error
    c_w = [_kv(ln) for ln in out if ln.startswith("ACTIVITY ")]
    assert len(c_w) == len(windows) >= 15
    for c, p in zip(c_w, windows):
        top = np.sort(p["probabilities"])
        assert top[-1] - top[-2] > 1e-3                    # no near-tie: the class is decided
        assert {k: c[k] for k in ("activity_end_s", "activity", "walking")} == \
            {k: p[k] for k in ("activity_end_s", "activity", "walking")}
        assert abs(float(c["p_activity"]) - float(p["p_activity"])) <= 2e-4

    # every stride, in the printed order: the same tag
    c_s = [_kv(ln) for ln in out if ln.startswith("STRIDE ")]
    assert [int(c["seq"]) for c in c_s] == [s["seq"] for s in strides]
    assert len(c_s) == len(har["ends"])
    for c, p in zip(c_s, strides):
        assert {k: c[k] for k in ("activity", "walking", "activity_end_s")} == \
            {k: p[k] for k in ("activity", "walking", "activity_end_s")}
        assert (c["p_activity"] == "") == (p["p_activity"] == "")
        if c["p_activity"]:
            assert abs(float(c["p_activity"]) - float(p["p_activity"])) <= 2e-4
        assert set(ac.TAG_COLUMNS) <= set(c)

    # the tags mean something: unknown before the IMU and after its end, walking then not
    by_end = dict(zip(sorted(har["ends"]), sorted(strides, key=lambda s: s["end"])))
    walk_end = I0 + N * IMU_STEP
    for e, s in by_end.items():
        if e < I0 or e > I0 + (2 * N - 1) * IMU_STEP:
            assert s["walking"] == s["activity"] == "", s
        elif I0 + 1300 <= e < walk_end - 1300:
            assert s["walking"] == "1", s
        elif walk_end + 1300 <= e and s["walking"]:
            assert s["walking"] == "0", s
    assert {s["walking"] for s in strides} == {"", "0", "1"}

    # rejected IMU frames: the reason text of spec.frames, the counters of the Decoder
    rejected = []
    dec = Decoder(check=True, on_reject=lambda raw, why: rejected.append((why, raw.hex())))
    dec.feed(har["stream"])
    dec.finish()
    assert [ln for ln in out if ln.startswith("# reject")] == \
        [f"# reject {why}: {h}" for why, h in rejected]
    assert [why for why, _ in rejected] == ["IMU.flags=0x80 outside 0x1",
                                            "IMU payload of 16 bytes, expected 17"]
    assert out[-1] == "# " + " ".join(f"{k}={v}" for k, v in dec.stats().items())


@pytest.mark.skipif(not c_build.have_arm(),
                    reason="apt-get install gcc-arm-linux-gnueabihf qemu-user (make setup)")
def test_arm_build_under_qemu_prints_the_same(har):
    d = har["dir"]
    host = arm_program.run(arm_program.build(str(d), "wo_test_f32", str(d / "wh"), har=str(d),
                                             har_weights="float32"), har["stream"])
    arm = arm_program.run(arm_program.build(str(d), "wo_test_f32", str(d / "wa"), arm=True,
                                            har=str(d), har_weights="float32"),
                          har["stream"], arm=True)
    assert arm == host and host.count("ACTIVITY ") >= 15


def test_int8_build_and_the_plain_build(har):
    """--har with the deployed int8 C builds and tags every stride; without --har the IMU frames
    are counted and nothing else changes (no activity columns, no ACTIVITY lines)."""
    d = har["dir"]
    out = arm_program.run(arm_program.build(str(d), "wo_test_f32", str(d / "w8"), har=str(d)),
                          har["stream"])
    s8 = [_kv(ln) for ln in out.splitlines() if ln.startswith("STRIDE ")]
    assert len(s8) == len(har["ends"]) and all("walking" in s for s in s8)
    # the deployed int8 C tags the strides as the float Keras model does (int8 weights move a
    # probability by a little, so a stride on a near-tie window may differ: at most one)
    _, ref = _python(har)
    assert [int(c["seq"]) for c in s8] == [s["seq"] for s in ref]
    same = [c["activity"] == p["activity"] and c["walking"] == p["walking"]
            and c["activity_end_s"] == p["activity_end_s"] for c, p in zip(s8, ref)]
    print(f"int8 tags equal to Keras on {sum(same)} of {len(same)} strides")
    assert sum(same) >= len(same) - 1
    plain = arm_program.run(arm_program.build(str(d), "wo_test_f32", str(d / "wp")),
                            har["stream"]).splitlines()
    assert not any(ln.startswith("ACTIVITY") or "walking=" in ln for ln in plain)
    assert sum(ln.startswith("STRIDE ") for ln in plain) == len(har["ends"])
    dec = Decoder(check=True)
    dec.feed(har["stream"])
    assert plain[-1] == "# " + " ".join(f"{k}={v}" for k, v in dec.stats().items())
    assert list(dec.stats()) == list(STATS)


def test_devmem_imu_stream_against_a_fake_bridge(har, tmp_path):
    """--devmem --imu PATH: the IMU frames from their own stream, the strides from the result
    FIFO (fake bridge); every stride gets the tag of the Python reference over the frames in the
    order wo_monitor completes them (per loop turn: one result byte, then up to 256 IMU bytes)."""
    d = har["dir"]
    exe = arm_program.build(str(d), "wo_test_f32", str(tmp_path / "wf"), fake_bridge=True,
                            har=str(d), har_weights="float32")
    frames = Decoder().feed(har["stream"])
    strides = b"".join(encode_record("STRIDE", f.seq, f.record) for f in frames
                       if f.kind == "STRIDE")
    imu = b"".join(encode_record("IMU", f.seq, f.record) for f in frames if f.kind == "IMU")
    (tmp_path / "result.bin").write_bytes(strides)
    (tmp_path / "imu.bin").write_bytes(imu)
    env = dict(os.environ, WO_FAKE_RESULT=str(tmp_path / "result.bin"),
               WO_FAKE_SAMPLES=str(tmp_path / "written.bin"), WO_FAKE_LOG=str(tmp_path / "l"))
    r = subprocess.run([exe, "--devmem", "--imu", str(tmp_path / "imu.bin"), "--idle-exit",
                        "20"], capture_output=True, text=True, env=env, timeout=60)
    assert r.returncode == 0, r.stderr
    dr, di, order = Decoder(check=True), Decoder(check=True), []
    for i in range(max(len(strides), -(-len(imu) // 256))):
        order += dr.feed(strides[i:i + 1]) + di.feed(imu[256 * i:256 * (i + 1)])
    windows, want = ac.replay(order, lambda X: har["model"].predict(X, verbose=0), har["names"],
                              128, 64)
    got = [_kv(ln) for ln in r.stdout.splitlines() if ln.startswith("STRIDE ")]
    assert [int(c["seq"]) for c in got] == [p["seq"] for p in want]
    assert len(want) == len(har["ends"]) and {p["walking"] for p in want} >= {"0", "1"}
    for c, p in zip(got, want):
        assert {k: c[k] for k in ("activity", "walking", "activity_end_s")} == \
            {k: p[k] for k in ("activity", "walking", "activity_end_s")}
    assert r.stdout.count("ACTIVITY ") == len(windows)


def test_constants_are_the_c_ones():
    here = os.path.dirname(arm_program.SOURCE)
    h = open(os.path.join(here, "wo_activity.h")).read()
    c = open(arm_program.SOURCE).read()
    assert re.search(r"#define WO_ACT_HISTORY (\d+)", h)[1] == str(ac.HISTORY)
    assert re.search(r"#define WO_ACT_PENDING (\d+)", c)[1] == str(ac.PENDING)
    assert ac.walking_mask(["SITTING", "WALKING", "LAYING", "WALKING_UPSTAIRS"]) == 0b1010
    from spec.frames import IMU_FS
    from sw import har_data
    assert har_data.CHANNELS == IMU_CHANNELS and har_data.FS == IMU_FS     # the model's input
    assert set(ac.WALKING) <= set(har_data.class_names(6))


def test_python_rule_without_a_model():
    """Strides before any window, a full queue, a gap in the IMU indexes (windows restart),
    the newest covering window of the last HISTORY."""
    from spec.frames import FRAME_TYPES, Frame

    def imu(seq, index):
        return Frame(FRAME_TYPES["IMU"], seq % 256, encode_record(
            "IMU", seq % 256, {"index": index, **dict.fromkeys(IMU_CHANNELS, seq),
                               "flags": 0})[5:-2])

    def stride(seq, start, st):
        return Frame(FRAME_TYPES["STRIDE"], seq, encode_record(
            "STRIDE", seq, _stride(np.random.default_rng(seq), seq, start, st))[5:-2])

    def predict(X):                    # class = (first acc_x value) % 6, deterministic
        P = np.full((len(X), 6), 0.01)
        P[np.arange(len(X)), (X[:, 0, 0] * 1000).round().astype(int) % 6] = 0.95
        return P
    names = ["WALKING", "WALKING_UPSTAIRS", "WALKING_DOWNSTAIRS", "SITTING", "STANDING", "LAYING"]
    fr = [stride(k, 100 + k, 50) for k in range(ac.PENDING + 2)]       # no IMU yet
    fr += [imu(k, 10_000 + 10 * k) for k in range(200)]
    fr += [imu(200 + k, 30_000 + 10 * k) for k in range(130)]          # a gap: a restart
    fr += [stride(40, 10_000 + 1270 - 30, 30), stride(41, 30_000 + 1000, 0)]
    windows, strides = ac.replay(fr, predict, names, 128, 64)
    # windows end at the 128th sample and 64 later (10000 + 1270, + 640), and after the gap
    assert [(w["activity_end_s"], w["activity"]) for w in windows] == \
        [("22.540", "WALKING"), ("23.820", "STANDING"), ("62.540", "WALKING_DOWNSTAIRS")]
    assert [s["seq"] for s in strides] == list(range(ac.PENDING + 2)) + [40, 41]
    assert all(s[k] == "" for s in strides[:-2] for k in ac.TAG_COLUMNS)
    assert {k: strides[-2][k] for k in ac.TAG_COLUMNS} == \
        {"activity": "STANDING", "p_activity": "0.9500", "walking": "0",
         "activity_end_s": "23.820"}                     # the newer of its two windows
    assert (strides[-1]["activity"], strides[-1]["walking"]) == ("WALKING_DOWNSTAIRS", "1")


def test_cli_refuses_a_folder_that_is_not_a_har_model(har, tmp_path):
    d = har["dir"]
    cfg = json.loads((d / "config.json").read_text())
    (tmp_path / "config.json").write_text(json.dumps(dict(cfg, channels=cfg["channels"][::-1])))
    cli = [sys.executable, "-m", "boards.arm_program", "--model-dir", str(d), "--model",
           "wo_test_f32", "--out", str(tmp_path / "w")]
    for bad, want in ((tmp_path, "the IMU frames carry acc_x"),
                      (tmp_path / "nope", "no such file")):
        r = subprocess.run(cli + ["--har", str(bad)], capture_output=True, text=True)
        assert r.returncode == 2 and want in r.stderr, r.stderr
        assert r.stderr.count("\n") == 1 and not (tmp_path / "w").exists()
    r = subprocess.run(cli + ["--har", str(d)], capture_output=True, text=True)
    assert r.returncode == 0 and "activity context" in r.stdout, r.stderr
