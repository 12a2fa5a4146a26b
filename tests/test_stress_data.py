"""Stress data: E4 readers, label alignment, windows, folds, normalisation; WESAD and K-EmoCon
readers (:mod:`sw.stress_data`).

Real Stress-Predict files of three labelled subjects (and S01, which has no labels) copied into
``tmp_path`` with their rows of the label file; tiny hand-written files for the bad-input
cases and the WESAD / K-EmoCon layouts. Never skipped.
"""

import gzip
import pickle
import shutil

import numpy as np
import pytest

from spec.cli import InputError
from spec.constants import SHARED_DATA
from sw import stress_data as sd
from tests.seeding import seeds

DATA = SHARED_DATA / "stress-wrist-e4"
#: labelled subjects copied for the real-data tests
PICK = (2, 3, 4)


def copy_subjects(dest, subjects, label_subjects=None):
    """Copy ``Sxx`` folders and the label rows of ``label_subjects`` (default: the same)."""
    for s in subjects:                  # files only: the shared copies are read-only
        (dest / f"S{s:02d}").mkdir(parents=True)
        for f in (DATA / f"S{s:02d}").iterdir():
            shutil.copyfile(f, dest / f"S{s:02d}" / f.name)
    keep = set(subjects if label_subjects is None else label_subjects)
    lines = (DATA / sd.LABELS_FILE).read_text().splitlines()
    rows = [ln for ln in lines[1:] if ln and int(ln.split(",")[0]) in keep]
    (dest / sd.LABELS_FILE).write_text("\n".join([lines[0], *rows]) + "\n")
    return dest


@pytest.fixture(scope="module")
def small(tmp_path_factory):
    d = copy_subjects(tmp_path_factory.mktemp("stress"), (1, *PICK), PICK)
    return d, sd.load_subjects(d, hr=True)


@pytest.fixture(scope="module")
def small_windows(small):
    return sd.Windows.concat([sd.make_windows(r) for r in small[1]])


# --- real files: alignment -----------------------------------------------------------------

def test_subject_without_labels_is_left_out(small):
    d, recs = small
    assert [r.subject for r in recs] == list(PICK)
    with pytest.raises(InputError, match="no label rows for subject 1"):
        sd.load_subjects(d, [1])
    with pytest.raises(InputError, match="no folder S07"):
        sd.load_subjects(d, [7])


def test_labels_are_on_the_device_clock_and_hr_column_is_one_second_early(small):
    d, recs = small
    tables = sd.read_labels(d / sd.LABELS_FILE)
    for r in recs:
        t = tables[r.subject]
        # labels start 9 s after the session start, one per second, without gaps
        assert r.label_start == r.start + 9
        assert (np.diff(t.time) == 1).all() and (r.label >= 0).all()
        # the HR column equals HR.csv one second later -- and only there
        match = sd.label_hr_shift(t, r.signals["hr"])
        assert match[1] == 1.0, match
        assert max(v for s, v in match.items() if s != 1) < 0.1, match
        assert r.signals["hr"].start == r.start + 10
    # S02's label changes fall exactly on its button presses (device clock, no shift)
    r = recs[0]
    tags = np.loadtxt(d / "S02" / "tags_S02.csv")
    edges = r.label_start + np.flatnonzero(np.diff(r.label)) + 1
    np.testing.assert_array_equal(edges, tags[:len(edges)])


def test_sensors_native_rates_and_units(small):
    for r in small[1]:
        for s in (*sd.SENSORS, "hr"):
            sig = r.signals[s]
            assert sig.fs == sd.RATES[s] and sig.x.dtype == np.float32
        assert r.signals["acc"].x.shape[1] == 3
        # ACC in g: the wrist at rest shows about 1 g
        mag = np.linalg.norm(r.signals["acc"].x, axis=1)
        assert 0.8 < np.median(mag) < 1.2
        assert 0 <= r.signals["eda"].x.min() and r.signals["eda"].x.max() < 100
        assert 20 < np.median(r.signals["temp"].x) < 40
        # every sensor lasts about as long as the labels
        for s in sd.SENSORS:
            assert abs(r.signals[s].end - (r.label_start + len(r.label))) < 15


# --- real files: windows and folds ---------------------------------------------------------

def test_windows_shapes_rates_and_labels(small, small_windows):
    w = small_windows
    L = sd.WINDOW_S
    assert w.bvp.shape[1:] == (64 * L,) and w.acc.shape[1:] == (32 * L, 3)
    assert w.eda.shape[1:] == (4 * L,) and w.temp.shape[1:] == (4 * L,)
    assert w.window_s == L
    for r in small[1]:
        k = np.flatnonzero(w.subject == r.subject)
        off = w.start_s[k] - r.label_start
        np.testing.assert_array_equal(off, np.arange(len(k)) * sd.HOP_S)
        assert len(k) == (len(r.label) - L) // sd.HOP_S + 1
        last = (off + L - 1).astype(int)
        np.testing.assert_array_equal(w.y[k], r.label[last])
        frac = [r.label[int(o):int(o) + L].mean() for o in off]
        np.testing.assert_allclose(w.fraction[k], frac, atol=1e-6)
        np.testing.assert_array_equal(w.session_s[k], w.start_s[k] - r.start)
        # the samples are the signal's own, at its own rate
        for s in sd.SENSORS:
            sig = r.signals[s]
            j = k[5]
            i0 = int(round((w.start_s[j] - sig.start) * sig.fs))
            np.testing.assert_array_equal(getattr(w, s)[j], sig.x[i0:i0 + int(sig.fs * L)])
    assert 0.25 < w.y.mean() < 0.4


def test_folds_are_subject_wise(small_windows):
    w = small_windows
    folds = sd.subject_folds(w, 3, seed=0)
    assert sorted(s for f in folds for s in f.subjects) == list(PICK)
    for f in folds:
        assert set(w.subject[f.test]) == set(f.subjects)
        assert not set(w.subject[f.train]) & set(f.subjects)
        assert len(f.train) + len(f.test) == len(w)


@pytest.mark.parametrize("seed", seeds(1, 2, 3))
def test_folds_random(seed):
    rng = np.random.default_rng(seed)
    print(f"seed {seed}")
    n_sub = int(rng.integers(4, 15))
    counts = rng.integers(1, 40, n_sub)
    subj = np.repeat(rng.permutation(100)[:n_sub], counts)
    w = _synthetic_windows(subj, rng)
    k = int(rng.integers(2, n_sub + 1))
    folds = sd.subject_folds(w, k, seed)
    assert len(folds) == k
    test = np.concatenate([f.test for f in folds])
    np.testing.assert_array_equal(np.sort(test), np.arange(len(w)))
    for f in folds:
        assert not set(w.subject[f.train]) & set(w.subject[f.test])
    assert sd.subject_folds(w, k, seed)[0].subjects == folds[0].subjects


def test_common_rate(small_windows):
    w = small_windows.take(np.arange(6))
    X = sd.to_common_rate(w)
    assert X.shape == (6, sd.COMMON_FS * sd.WINDOW_S, len(sd.COMMON_CHANNELS))
    np.testing.assert_array_equal(X[:, :, 1:4], w.acc)
    # slow signals: interpolated between their own samples
    assert np.all(X[:, :, 4].min(axis=1) >= w.eda.min(axis=1) - 1e-6)
    assert np.all(X[:, :, 4].max(axis=1) <= w.eda.max(axis=1) + 1e-6)
    np.testing.assert_allclose(X[:, ::8, 5], w.temp, atol=1e-5)
    # BVP: a 1.2 Hz sine survives the 64 -> 32 Hz resampling
    t = np.arange(64 * sd.WINDOW_S) / 64
    w.bvp[:] = np.sin(2 * np.pi * 1.2 * t)
    X = sd.to_common_rate(w)
    t32 = np.arange(32 * sd.WINDOW_S) / 32
    np.testing.assert_allclose(X[0, 100:-100, 0], np.sin(2 * np.pi * 1.2 * t32[100:-100]),
                               atol=0.02)


# --- windows on hand-made recordings -------------------------------------------------------

def _recording(label, start=1000.0, lead=9, subject=7, seconds=None):
    seconds = seconds or len(label) + lead + 5
    sig = {}
    for s in sd.SENSORS:
        fs = sd.RATES[s]
        n = seconds * fs
        x = np.arange(n, dtype=np.float32)
        sig[s] = sd.Signal(np.stack([x, -x, x * 0], 1) if s == "acc" else x, fs, start)
    return sd.Recording(subject, sig, start + lead, np.asarray(label, np.int8))


def test_windows_only_where_labels_and_sensors_exist():
    lab = np.zeros(300, np.int8)
    lab[100:130] = -1                    # a gap in the labels
    lab[200:] = 1
    rec = _recording(lab)
    w = sd.make_windows(rec, 60, 20)
    off = w.start_s - rec.label_start
    for o in off:
        assert not (lab[int(o):int(o) + 60] < 0).any()
    assert list(off) == [0, 20, 40, 140, 160, 180, 200, 220, 240]
    assert w.y.tolist() == [0, 0, 0, 0, 1, 1, 1, 1, 1]
    np.testing.assert_allclose(w.fraction[4], 20 / 60)
    # a sensor that stops early removes the windows it does not cover
    rec.signals["eda"].x = rec.signals["eda"].x[:4 * 200]
    w2 = sd.make_windows(rec, 60, 20)
    assert (w2.session_s + 60 <= 200).all() and len(w2) == 3       # 140 + 9 + 60 > 200
    assert len(sd.make_windows(_recording([0] * 30), 60, 20)) == 0
    with pytest.raises(ValueError, match="hop_s"):
        sd.make_windows(rec, 60, 0)


# --- normalisation -------------------------------------------------------------------------

def _synthetic_windows(subj, rng, window_s=20):
    n = len(subj)
    order = np.zeros(n)
    for s in np.unique(subj):
        k = np.flatnonzero(subj == s)
        order[k] = np.arange(len(k)) * 10.0
    z = lambda *shape: rng.normal(size=(n, *shape)).astype(np.float32)  # noqa: E731
    return sd.Windows(bvp=z(64 * window_s), acc=z(32 * window_s, 3), eda=z(4 * window_s),
                      temp=z(4 * window_s), y=rng.integers(0, 2, n).astype(np.int8),
                      fraction=np.zeros(n, np.float32), subject=np.asarray(subj, np.int64),
                      start_s=1e9 + order, session_s=order)


@pytest.mark.parametrize("seed", seeds(4, 5, 6))
def test_causal_normalisations_never_look_ahead(seed):
    rng = np.random.default_rng(seed)
    print(f"seed {seed}")
    subj = np.repeat([1, 2, 3], [60, 45, 50])
    w = _synthetic_windows(subj, rng)
    F = rng.normal(3, 2, (len(w), 4)) * rng.uniform(0.1, 10, 4)
    F[rng.random(F.shape) < 0.05] = np.nan
    base = {m: sd.normalise_features(w, F, m, baseline_s=100) for m in sd.NORMALISATIONS}
    # change the future of subject 2 from its 20th window on
    k = np.flatnonzero(w.subject == 2)[20:]
    G = F.copy()
    G[k] = G[k] * 5 + 7
    other = np.setdiff1d(np.arange(len(w)), k)
    for m in ("baseline", "running"):
        np.testing.assert_array_equal(sd.normalise_features(w, G, m, baseline_s=100)[other],
                                      base[m][other])
    assert not np.allclose(sd.normalise_features(w, G, "session")[other],
                           base["session"][other], equal_nan=True)
    np.testing.assert_array_equal(base["none"], F)
    # baseline mode: the reference windows (end <= 100 s) are z-scored to mean 0, std 1
    for s in (1, 2, 3):
        ref = (w.subject == s) & (w.session_s + w.window_s <= 100)
        np.testing.assert_allclose(np.nanmean(base["baseline"][ref], axis=0), 0, atol=1e-9)
        np.testing.assert_allclose(np.nanstd(base["baseline"][ref], axis=0), 1, atol=1e-9)
        ses = base["session"][w.subject == s]
        np.testing.assert_allclose(np.nanmean(ses, axis=0), 0, atol=1e-9)
    # running: the first windows of a subject have no statistics yet -> 0
    first = np.flatnonzero(w.subject == 3)[:3]
    assert (np.nan_to_num(base["running"][first]) == 0).all()
    assert np.isnan(base["running"]).sum() == np.isnan(F).sum()
    with pytest.raises(ValueError, match="normalisation"):
        sd.normalise_features(w, F, "global")


def test_normalise_windows(small_windows):
    w = small_windows
    z = sd.normalise_windows(w)
    assert z.acc.shape == w.acc.shape and z.acc.dtype == np.float32
    np.testing.assert_array_equal(z.y, w.y)
    for s in PICK:
        ref = (w.subject == s) & (w.session_s + w.window_s <= sd.BASELINE_S)
        assert ref.sum() >= 4
        np.testing.assert_allclose(z.eda[ref].mean(), 0, atol=1e-4)
        np.testing.assert_allclose(z.eda[ref].std(), 1, atol=1e-3)
        np.testing.assert_allclose(z.acc[ref].reshape(-1, 3).mean(axis=0), 0, atol=1e-4)
    t = sd.normalise_windows(w, "session")
    np.testing.assert_allclose(t.temp[w.subject == PICK[0]].mean(), 0, atol=1e-4)
    r = sd.normalise_windows(w, "running")
    assert np.isfinite(r.bvp).all() and np.isfinite(r.acc).all()
    first = np.flatnonzero(w.subject == PICK[1])[:3]             # warm-up windows: 0
    assert (r.eda[first] == 0).all() and (r.acc[first] == 0).all()
    np.testing.assert_array_equal(sd.normalise_windows(w, "none").bvp, w.bvp)


# --- readers: plain, gzip, bad input -------------------------------------------------------

def e4_text(rows, start=1600000000, fs=4, ncol=1):
    head = [", ".join([f"{start:.6f}"] * ncol), ", ".join([f"{fs:.6f}"] * ncol)]
    return "\n".join(head + [",".join(map(str, r)) if ncol > 1 else str(r) for r in rows]) + "\n"


def write(path, text, gz=False):
    if gz:
        path.write_bytes(gzip.compress(text.encode()))
    else:
        path.write_text(text)
    return path


def test_plain_and_gzip_read_the_same(tmp_path):
    real = sd.read_e4(DATA / "S02" / "EDA.csv.gz")
    plain = tmp_path / "EDA.csv"
    plain.write_bytes(gzip.decompress((DATA / "S02" / "EDA.csv.gz").read_bytes()))
    p = sd.read_e4(plain)
    np.testing.assert_array_equal(p.x, real.x)
    assert (p.fs, p.start) == (real.fs, real.start) == (4.0, 1644227574.0)
    # a whole subject folder with plain files reads like the gzip one
    d = tmp_path / "plain"
    (d / "S02").mkdir(parents=True)
    for f in (DATA / "S02").glob("*.csv.gz"):
        (d / "S02" / f.name[:-3]).write_bytes(gzip.decompress(f.read_bytes()))
    lines = (DATA / sd.LABELS_FILE).read_text().splitlines()
    (d / sd.LABELS_FILE).write_text("\n".join([lines[0]] + [ln for ln in lines[1:]
                                                            if ln.startswith("2,")]) + "\n")
    r = sd.load_subjects(d)[0]
    assert r.subject == 2 and len(r.signals["bvp"]) == 228173
    shutil.copyfile(DATA / "S02" / "EDA.csv.gz", d / "S02" / "EDA.csv.gz")
    with pytest.raises(InputError, match="EDA given twice"):
        sd.load_subjects(d)


def test_acc_in_g_and_blank_lines(tmp_path):
    rows = [(64, 0, -32)] * 10
    text = e4_text(rows, fs=32, ncol=3).replace("\n64,0,-32\n", "\n64,0,-32\n\n", 1)
    s = sd.read_e4(write(tmp_path / "ACC.csv", text), 3)
    assert s.x.shape == (10, 3) and s.fs == 32


@pytest.mark.parametrize("gz", [False, True])
@pytest.mark.parametrize("case, row, words", [
    ("start", 1, "is not a number"),
    ("rate", 2, "sample rate 0 is not positive"),
    ("cell", 5, "'abc' is not a number"),
    ("nan", 6, "is not finite"),
    ("cells", 4, "2 cells, expected 1"),
])
def test_bad_e4_rows_name_file_and_row(tmp_path, gz, case, row, words):
    lines = e4_text([0.5] * 8).splitlines()
    if case == "start":
        lines[0] = "yesterday"
    elif case == "rate":
        lines[1] = "0"
    elif case == "cell":
        lines[4] = "abc"
    elif case == "nan":
        lines[5] = "nan"
    elif case == "cells":
        lines[3] = "1,2"
    p = write(tmp_path / ("EDA.csv.gz" if gz else "EDA.csv"), "\n".join(lines) + "\n", gz)
    with pytest.raises(InputError) as e:
        sd.read_e4(p, 1)
    assert str(e.value).startswith(f"{p}: row {row}") and words in str(e.value)


def test_bad_e4_files(tmp_path):
    acc = write(tmp_path / "ACC.csv", "1600000000, 1600000001, 1600000000\n32,32,32\n1,2,3\n")
    with pytest.raises(InputError, match=r"ACC.csv: row 1: columns differ"):
        sd.read_e4(acc, 3)
    for name, data in (("empty.csv", b""), ("head.csv", b"1600000000\n4\n"),
                       ("bad.csv.gz", b"\x1f\x8bxx")):
        p = tmp_path / name
        p.write_bytes(data)
        with pytest.raises(InputError, match=str(p)):
            sd.read_e4(p)
    with pytest.raises(InputError, match="no such file"):
        sd.read_e4(tmp_path / "missing.csv")
    # a rate other than the E4's
    d = copy_subjects(tmp_path / "rate", (2,))
    eda = d / "S02" / "EDA.csv.gz"
    text = gzip.decompress(eda.read_bytes()).decode().replace("\n4.000000\n", "\n8.000000\n", 1)
    eda.write_bytes(gzip.compress(text.encode()))
    with pytest.raises(InputError, match=r"EDA.csv.gz: row 2: sample rate 8 Hz, expected 4"):
        sd.load_subjects(d)


@pytest.mark.parametrize("case, row, words", [
    ("header", 1, "expected 'Participant,HR,respr,Time(sec),Label'"),
    ("label", 3, "label 2, expected 0 or 1"),
    ("time", 4, "does not increase"),
    ("float", 3, "is not an integer"),
    ("cells", 2, "4 cells, expected 5"),
    ("hr", 3, "'x' is not a number"),
])
def test_bad_label_rows(tmp_path, case, row, words):
    lines = ["Participant,HR,respr,Time(sec),Label", "2,80,12.1,1000,0", "2,81,12.1,1001,0",
             "2,82,12.2,1002,1", "3,,12,2000,1"]
    if case == "header":
        lines[0] = "Participant,HR,resp,Time,Label"
    elif case == "label":
        lines[2] = "2,81,12.1,1001,2"
    elif case == "time":
        lines[3] = "2,82,12.2,1001,1"
    elif case == "float":
        lines[2] = "2,81,12.1,1001.5,0"
    elif case == "cells":
        lines[1] = "2,80,1000,0"
    elif case == "hr":
        lines[2] = "2,x,12.1,1001,0"
    p = write(tmp_path / "labels.csv", "\n".join(lines) + "\n")
    with pytest.raises(InputError) as e:
        sd.read_labels(p)
    assert str(e.value).startswith(f"{p}: row {row}") and words in str(e.value)


def test_labels_per_second_and_empty_hr(tmp_path):
    p = write(tmp_path / "l.csv", "Participant,HR,respr,Time(sec),Label\n2,80,1,1000,0\n"
              "2,,1,1001,1\n2,70,1,1003,1\n")
    t = sd.read_labels(p)[2]
    assert np.isnan(t.hr[1]) and t.lines.tolist() == [2, 3, 4]
    start, lab = t.per_second()
    assert start == 1000 and lab.tolist() == [0, 1, -1, 1]


# --- WESAD ---------------------------------------------------------------------------------

def write_e4_folder(d, seconds, start=1500000000, gz=False):
    d.mkdir(parents=True, exist_ok=True)
    rng = np.random.default_rng(0)
    for s, name in sd._FILES.items():
        if s == "hr":
            continue
        n = seconds * sd.RATES[s]
        rows = (rng.integers(-64, 64, (n, 3)).tolist() if s == "acc"
                else np.round(rng.random(n) + 1, 4).tolist())
        text = e4_text(rows, start, sd.RATES[s], 3 if s == "acc" else 1)
        write(d / (f"{name}.csv.gz" if gz else f"{name}.csv"), text, gz)
    return d


@pytest.mark.parametrize("gz", [False, True])
def test_wesad_e4_folder_and_label_text(tmp_path, gz):
    d = write_e4_folder(tmp_path / "S5_E4_Data", 200, gz=gz)
    per_s = [1] * 70 + [0] * 5 + [2] * 80 + [3] * 30 + [6] * 10      # 195 s
    lab = np.repeat(per_s, sd.WESAD_FS)
    lab[70 * 700 - 100:70 * 700] = 0             # the end of second 69 is a transition
    (tmp_path / "S5_labels.csv").write_text("label\n" + "\n".join(map(str, lab)) + "\n")
    rec = sd.read_wesad(d, tmp_path / "S5_labels.csv", offset_s=2.0)
    assert rec.subject == 5 and rec.label_start == 1500000002.0
    assert rec.signals["acc"].x.shape == (200 * 32, 3)
    assert np.abs(rec.signals["acc"].x).max() <= 1.0               # g
    assert rec.label[:69].tolist() == [0] * 69 and rec.label[69] == -1
    assert (rec.label[70:75] == -1).all() and (rec.label[75:155] == 1).all()
    assert (rec.label[155:185] == 0).all() and (rec.label[185:] == -1).all()
    w = sd.make_windows(rec, 30, 10)
    assert len(w) and (w.start_s - rec.label_start + 30 <= 185).all()
    assert w.eda.shape[1:] == (120,) and w.bvp.shape[1:] == (30 * 64,)
    assert set(w.y.tolist()) == {0, 1}


def test_wesad_pickle_and_bad_labels(tmp_path):
    d = write_e4_folder(tmp_path / "S2_E4_Data", 40)
    pk = tmp_path / "S2.pkl"
    pk.write_bytes(pickle.dumps({"label": np.repeat([1, 2], 20 * 700), "subject": "S2"}))
    with pytest.raises(InputError, match="trust_pickle"):
        sd.read_wesad(d, pk)
    rec = sd.read_wesad(d, pk, trust_pickle=True)
    assert rec.label.tolist() == [0] * 20 + [1] * 20
    bad = write(tmp_path / "bad.csv", "1\n1\n9\n")
    with pytest.raises(InputError, match=r"bad.csv: row 3: '9' is not a WESAD label"):
        sd.read_wesad_labels(bad)
    with pytest.raises(InputError, match="name is not SX_E4_Data"):
        sd.read_wesad(write_e4_folder(tmp_path / "wrist", 10))


# --- K-EmoCon ------------------------------------------------------------------------------

def write_kemocon(d, seconds, t0_ms=1546000000000, serials=("A013E1",), shuffle=True,
                  gap_at=None):
    d.mkdir(parents=True, exist_ok=True)
    rng = np.random.default_rng(1)
    for s, name in sd.KEMOCON_FILES.items():
        fs = sd.RATES[s]
        cols = "x,y,z" if s == "acc" else "value"
        rows = []
        for serial in serials:
            for i in range(seconds * fs):
                t = t0_ms + i * 1000 / fs + rng.uniform(-3, 3)
                if gap_at is not None and i >= gap_at * fs:
                    t += 5000
                v = (f"{i % 64},{-(i % 64)},64" if s == "acc" else f"{1 + i / fs / 100:.4f}")
                rows.append(f"{t:.0f},5,{v},{serial}")
        if shuffle:
            rows = [rows[i] for i in rng.permutation(len(rows))]
        (d / name).write_text(f"timestamp,pid,{cols},device_serial\n" + "\n".join(rows) + "\n")
    return d


def test_kemocon_files_and_annotations(tmp_path):
    d = write_kemocon(tmp_path / "e4_data" / "5", 130)
    ann = tmp_path / "P5.self.csv"
    ann.write_text("seconds,arousal,valence,cheerful\n" +
                   "\n".join(f"{5 * (i + 1)},{1 + i // 6},3,1" for i in range(24)) + "\n")
    rec = sd.read_kemocon(d, ann, debate_start_ms=1546000002000)
    assert rec.subject == 5 and rec.label_start == 1546000002.0
    acc = rec.signals["acc"]
    assert acc.fs == 32 and acc.x.shape[1] == 3 and abs(len(acc) - 130 * 32) <= 1
    np.testing.assert_allclose(acc.x[:, 2], 1.0)                       # 64 -> 1 g
    eda = rec.signals["eda"]
    np.testing.assert_allclose(eda.x, 1 + np.arange(len(eda)) / 4 / 100, atol=2e-3)
    # arousal 1-2 for seconds 0-59 (rows 1-12), >= 3 after
    assert rec.label[:60].tolist() == [0] * 60 and (rec.label[60:120] == 1).all()
    w = sd.make_windows(rec, 20, 10)
    assert len(w) == 11 and w.y.tolist() == [0] * 5 + [1] * 6
    sec, ar = sd.read_kemocon_annotations(ann)
    assert sec[0] == 5 and ar[-1] == 4


def test_kemocon_bad_input(tmp_path):
    two = write_kemocon(tmp_path / "29", 5, serials=("A013E1", "A01A3A"))
    with pytest.raises(InputError, match="2 devices"):
        sd.read_kemocon(two)
    assert sd.read_kemocon(two, device="A01A3A").subject == 29
    gap = write_kemocon(tmp_path / "7", 10, shuffle=False, gap_at=5)
    with pytest.raises(InputError, match=r"E4_BVP.csv: row 322: 5.\d+ s after"):
        sd.read_kemocon(gap)
    bad = tmp_path / "8"
    write_kemocon(bad, 3)
    (bad / "E4_EDA.csv").write_text("timestamp,pid,val,device_serial\n1,5,1,A\n")
    with pytest.raises(InputError, match=r"E4_EDA.csv: row 1: no column value"):
        sd.read_kemocon(bad)
    (bad / "E4_EDA.csv").write_text("timestamp,pid,value,device_serial\n1000,5,1,A\n"
                                    "1250,5,x,A\n")
    with pytest.raises(InputError, match=r"E4_EDA.csv: row 3, column 3: 'x' is not a number"):
        sd.read_kemocon(bad)
    ann = write(tmp_path / "P8.self.csv", "seconds,arousal\n5,3\n10,6\n")
    with pytest.raises(InputError, match=r"P8.self.csv: row 3: arousal 6"):
        sd.read_kemocon_annotations(ann)
    with pytest.raises(InputError, match="debate_start_ms"):
        sd.read_kemocon(write_kemocon(tmp_path / "9", 3), ann)
