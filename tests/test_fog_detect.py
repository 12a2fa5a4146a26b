"""``python -m sw.fog_detect`` (issue 15, item 5): the Python and C engines over a real Daphnet
recording give the same episodes (identical CSV) and probabilities within 1e-5; the C engine
streams each segment (reset at the gap of S06R02); bad input is one line and exit status 2.

The model is a tiny Keras model (Conv1D -> GlobalAveragePooling1D -> Dense(1, sigmoid)) saved
in the layout of ``python -m sw.train_fog`` (:func:`make_model_dir`, also used by
tests/test_evaluate.py), its threshold put in the widest gap of its own probabilities near the
70th percentile so that episodes exist and no probability sits at the threshold.
"""

import json
import shutil

import numpy as np
import pytest

from spec.constants import SHARED_DATA
from sw import fog_data, fog_detect
from sw.fog_detect import main

DAPHNET = SHARED_DATA / "fog-daphnet"
#: two segments (a label-0 gap in the middle), no freeze
GAP_RECORDING = "S06R02.txt.gz"
TOL = 1e-5


def make_model_dir(path, channels=("ankle_x", "ankle_y", "ankle_z"),
                   normalisation="frozen_batchnorm", recording=DAPHNET / GAP_RECORDING, seed=0):
    """A trained-model folder (model.keras, config.json, metrics.json, c/fog_detector.c/.h).

    ``normalisation``: ``"frozen_batchnorm"`` (a first BatchNormalization layer holding the
    recording's channel mean and variance, as ``sw.train_fog`` writes it; raw mg in),
    ``"none"``, ``"window"`` or ``"running"``."""
    from sw.c_emit import emit_keras_sequence
    from sw.classifiers import quiet_tensorflow
    keras = quiet_tensorflow()
    L = keras.layers
    keras.utils.set_random_seed(seed)
    C = len(channels)
    bn = normalisation == "frozen_batchnorm"
    rec = fog_data.read_recording(recording)
    inp = keras.Input((fog_data.WINDOW, C))
    x = inp
    if bn:
        norm = L.BatchNormalization(epsilon=1e-3, center=False, scale=False, name="normalise")
        x = norm(x)
        acc = rec.acc[:, [fog_data.CHANNELS.index(c) for c in channels]].astype(np.float64)
        norm.set_weights([acc.mean(0).astype(np.float32), acc.var(0).astype(np.float32)])
        norm.trainable = False
    conv = L.Conv1D(4, 5, activation="relu")
    x = L.GlobalAveragePooling1D()(conv(x))
    dense = L.Dense(1, activation="sigmoid")
    model = keras.Model(inp, dense(x))
    rng = np.random.default_rng(seed)
    scale = 0.001 if normalisation == "none" else 0.3
    conv_w, conv_b = conv.get_weights()
    conv.set_weights([rng.normal(0, scale, conv_w.shape).astype(np.float32),
                      rng.normal(0, 0.5, conv_b.shape).astype(np.float32)])
    cfg = {"kind": "fog", "window": fog_data.WINDOW, "hop": fog_data.HOP,
           "channels": list(channels),
           "normalisation": {"kind": normalisation, "layer": "normalise"} if bn
           else normalisation, "threshold": 0.5, "model": "small", "seed": seed}
    # Dense(1): logits of the recording's windows centred, spread +-2 (no saturated p)
    fm = fog_detect.FogModel(path, cfg)
    w = fog_detect.recording_windows(rec, fm)
    feat = np.asarray(keras.Model(inp, x)(fog_detect.prepare(w, fm)), np.float64)
    dense_w = rng.normal(0, 1.0, (feat.shape[1], 1))
    z = feat @ dense_w
    gain = 2 / max(z.std(), 1e-6)
    dense.set_weights([(dense_w * gain).astype(np.float32),
                       np.array([-np.median(z) * gain], np.float32)])
    path.mkdir(parents=True)
    model.save(path / "model.keras")
    # threshold: the middle of the widest gap between sorted probabilities at 60-80 %
    fm = fog_detect.FogModel(path, cfg)
    p = np.sort(fog_detect.predict_python(fm, fog_detect.prepare(w, fm)))
    lo, hi = int(0.6 * len(p)), int(0.8 * len(p))
    k = lo + int(np.argmax(np.diff(p[lo:hi + 1])))
    cfg["threshold"] = float((p[k] + p[k + 1]) / 2)
    (path / "config.json").write_text(json.dumps(cfg, indent=2))
    (path / "metrics.json").write_text("{}\n")
    h, c, _ = emit_keras_sequence(fog_detect.C_NAME, model, hop=fog_data.HOP)
    (path / "c").mkdir()
    (path / "c" / f"{fog_detect.C_NAME}.h").write_text(h)
    (path / "c" / f"{fog_detect.C_NAME}.c").write_text(c)
    return path


@pytest.fixture(scope="module")
def model_dir(tmp_path_factory):
    return make_model_dir(tmp_path_factory.mktemp("fogmodel") / "model")


@pytest.fixture(scope="module")
def recording(tmp_path_factory):
    dst = tmp_path_factory.mktemp("rec") / GAP_RECORDING
    shutil.copyfile(DAPHNET / GAP_RECORDING, dst)
    return dst


def test_engines_agree(model_dir, recording, tmp_path, capsys):
    model = fog_detect.load_model(model_dir)
    rec = fog_data.read_recording(recording)
    assert len(rec.segments) == 2
    w = fog_detect.recording_windows(rec, model)
    p_py = fog_detect.predict_python(model, fog_detect.prepare(w, model))
    p_c = fog_detect.predict_c(model, rec, w)
    assert p_c.shape == p_py.shape == (len(w),)
    print(f"{len(w)} windows, max |p_c - p_py| = {np.abs(p_c - p_py).max():.2e}")
    assert np.abs(p_c - p_py).max() <= TOL
    assert np.mean((p_py > 0.05) & (p_py < 0.95)) > 0.2          # not saturated
    assert set(w.segment.tolist()) == {0, 1}
    ev = fog_detect.episodes(w, p_py, model.threshold)
    assert len(ev) >= 2
    outs = {}
    for engine in fog_detect.ENGINES:
        out = tmp_path / f"{engine}.csv"
        assert main([str(recording), "--model", str(model_dir), "--engine", engine,
                     "--out", str(out)]) == 0
        outs[engine] = out.read_text()
    assert outs["python"] == outs["c"]
    assert outs["python"] == fog_detect.format_csv(ev)
    lines = outs["c"].splitlines()
    assert lines[0] == "start_s,end_s,peak_p" and len(lines) == len(ev) + 1
    # stdout without --out; the cached executable is reused
    capsys.readouterr()
    assert main([str(recording), "--model", str(model_dir), "--engine", "c"]) == 0
    assert capsys.readouterr().out == outs["c"]


def test_episodes_merge_and_gap():
    w = fog_data.Windows(
        X=np.zeros((5, 4, 9), np.float32), y=np.zeros(5, np.int8), fog_fraction=np.zeros(5),
        file=np.full(5, "r", object), subject=np.full(5, "r", object),
        start=np.arange(5), start_s=np.array([0.0, 1.0, 2.5, 4.5, 5.5]),
        end_s=np.array([2.0, 3.0, 4.5, 6.5, 7.5]), segment=np.array([0, 0, 0, 1, 1]))
    # a gap splits a run; touching windows of two segments do not merge
    p = np.array([0.9, 0.2, 0.7, 0.8, 0.95])
    assert fog_detect.episodes(w, p, 0.5) == [(0.0, 2.0, 0.9), (2.5, 4.5, 0.7),
                                              (4.5, 7.5, 0.95)]
    # overlapping and touching windows of one segment merge; p == threshold counts
    assert fog_detect.episodes(w, np.array([0.9, 0.9, 0.5, 0, 0]), 0.5) == [(0.0, 4.5, 0.9)]
    assert fog_detect.format_csv([(0.0, 4.5, 0.9)]) == "start_s,end_s,peak_p\n0.000,4.500,0.9000\n"


def test_bad_input(model_dir, recording, tmp_path, capsys):
    cases = [
        ([str(tmp_path / "missing.txt"), "--model", str(model_dir)], "missing.txt"),
        ([str(recording), "--model", str(tmp_path / "nomodel")], "nomodel"),
        ([str(recording), "--model", str(model_dir), "--out", str(recording)], "--out"),
        ([str(recording), "--model", str(model_dir), "--out",
          str(tmp_path / "no" / "x.csv")], "--out"),
    ]
    bad = tmp_path / "bad.txt"
    bad.write_text("0 1 2 3 4 5 6 7 8 9 1\n15 1 2 3\n")
    cases.append(([str(bad), "--model", str(model_dir)], "row 2"))
    link = tmp_path / "link.csv"
    link.symlink_to(tmp_path / "target.csv")
    cases.append(([str(recording), "--model", str(model_dir), "--out", str(link)],
                  "symbolic link"))
    cfg = json.loads((model_dir / "config.json").read_text())
    odd = tmp_path / "oddnorm"
    odd.mkdir()
    (odd / "config.json").write_text(json.dumps({**cfg, "normalisation": {"kind": "zscore"}}))
    cases.append(([str(recording), "--model", str(odd)], "normalisation 'zscore'"))
    wrong = tmp_path / "wrongkind"
    wrong.mkdir()
    (wrong / "config.json").write_text('{"kind": "har"}')
    cases.append(([str(recording), "--model", str(wrong)], "config.json"))
    corrupt = tmp_path / "corrupt"
    shutil.copytree(model_dir, corrupt)
    (corrupt / "model.keras").write_bytes(b"not a zip")
    cases.append(([str(recording), "--model", str(corrupt)], "model.keras"))
    cases.append(([str(recording), "--model", str(model_dir), "--out",
                   str(model_dir / "config.json")], "--out"))
    for argv, needle in cases:
        capsys.readouterr()
        assert main(argv) == 2, argv
        err = capsys.readouterr().err.strip()
        assert len(err.splitlines()) == 1 and needle in err, (argv, err)
    assert not (tmp_path / "target.csv").exists()
