"""HAR data: UCI HAPT reader, windows, subject folds; PAMAP2 and WISDM readers
(:mod:`sw.har_data`).

Real HAPT files from ``../shared/data/har-hapt`` (two experiments copied into ``tmp_path``
with a trimmed ``labels.txt``; the whole folder once for the folds); tiny hand-written files
for the bad-input cases and the PAMAP2 / WISDM readers. Never skipped.
"""

import gzip
import shutil

import numpy as np
import pytest

from spec.cli import InputError
from spec.constants import SHARED_DATA
from sw import har_data as hd
from tests.seeding import seeds

RAW = SHARED_DATA / "har-hapt" / "RawData"
#: (experiment, user) copied for the small real-data tests
PICK = ((1, 1), (5, 3))


def label_rows(path=RAW / "labels.txt", experiments=None):
    rows = [tuple(map(int, ln.split())) for ln in path.read_text().splitlines() if ln.strip()]
    return [r for r in rows if experiments is None or r[0] in experiments]


@pytest.fixture(scope="module")
def small(tmp_path_factory):
    """Two real experiments (gzip, as shipped) and their rows of labels.txt."""
    d = tmp_path_factory.mktemp("hapt")
    for e, u in PICK:
        for kind in ("acc", "gyro"):
            name = f"{kind}_exp{e:02d}_user{u:02d}.txt.gz"
            shutil.copy(RAW / name, d / name)
    rows = label_rows(experiments={e for e, _ in PICK})
    (d / "labels.txt").write_text("".join(" ".join(map(str, r)) + "\n" for r in rows))
    return d, rows


@pytest.fixture(scope="module")
def full6():
    return hd.load_windows(RAW, classes=6)


def expected_windows(length, size=128, hop=64):
    return (length - size) // hop + 1 if length >= size else 0


# --- real HAPT --------------------------------------------------------------------------

@pytest.mark.parametrize("classes", [6, 12])
def test_real_window_counts_and_segments(small, classes):
    d, rows = small
    exps = hd.load_experiments(d)
    assert [(x.experiment, x.user) for x in exps] == list(PICK)
    w = hd.Windows.concat([hd.make_windows(x, classes) for x in exps], classes=classes)
    assert w.X.shape[1:] == (128, 6) and w.X.dtype == np.float32
    want = 0
    for e, u, act, start, end in rows:
        if act > classes:
            continue
        n = expected_windows(end - start + 1)
        want += n
        sel = (w.experiment == e) & (w.start >= start - 1) & (w.start <= end - 1)
        assert sel.sum() == n, (e, start, end)
        assert (w.activity[sel] == act).all() and (w.y[sel] == act - 1).all()
        assert (w.subject[sel] == u).all()
        np.testing.assert_array_equal(w.start[sel], start - 1 + 64 * np.arange(n))
    assert len(w) == want
    # no window crosses a segment: each lies wholly inside the segment of its activity
    for e, s, a in zip(w.experiment, w.start, w.activity):
        inside = [r for r in rows if r[0] == e and r[3] - 1 <= s and s + 128 <= r[4]]
        assert len(inside) == 1 and inside[0][2] == a
    # the samples are the files' rows: acc in g, gyro in rad/s
    x = exps[0]
    acc = np.loadtxt(gzip.open(d / "acc_exp01_user01.txt.gz", "rt"))
    gyro = np.loadtxt(gzip.open(d / "gyro_exp01_user01.txt.gz", "rt"))
    k = np.flatnonzero(w.experiment == 1)[3]
    s = w.start[k]
    np.testing.assert_array_equal(w.X[k], np.hstack([acc, gyro])[s:s + 128].astype(np.float32))
    assert len(x) == len(acc)
    assert w.names == hd.class_names(classes) and len(w.names) == classes
    assert set(w.y.tolist()) <= set(range(classes))


def test_six_vs_twelve_classes(small):
    d, rows = small
    w6, w12 = hd.load_windows(d, 6), hd.load_windows(d, 12)
    trans = sum(expected_windows(r[4] - r[3] + 1) for r in rows if r[2] > 6)
    assert trans > 0 and len(w12) == len(w6) + trans
    assert w6.y.max() <= 5 and w12.y.max() >= 6
    basic = w12.take(w12.activity <= 6)
    np.testing.assert_array_equal(basic.X, w6.X)
    np.testing.assert_array_equal(basic.start, w6.start)
    assert hd.CLASSES_6 == hd.CLASSES_12[:6] and hd.CLASSES_12[6] == "STAND_TO_SIT"
    assert hd.CHANNELS == ("acc_x", "acc_y", "acc_z", "gyro_x", "gyro_y", "gyro_z")
    with pytest.raises(ValueError):
        hd.load_windows(d, 7)


def test_gzip_and_plain_give_the_same(small, tmp_path):
    d, _ = small
    plain = tmp_path / "plain"
    plain.mkdir()
    shutil.copy(d / "labels.txt", plain / "labels.txt")
    for e, u in PICK:
        for kind in ("acc", "gyro"):
            text = gzip.decompress((d / f"{kind}_exp{e:02d}_user{u:02d}.txt.gz").read_bytes())
            # names that lie: plain text called .gz, gzip called .txt -- magic bytes decide
            if kind == "acc":
                (plain / f"{kind}_exp{e:02d}_user{u:02d}.txt.gz").write_bytes(text)
            else:
                (plain / f"{kind}_exp{e:02d}_user{u:02d}.txt").write_bytes(
                    gzip.compress(text))
    a, b = hd.load_windows(d, 12), hd.load_windows(plain, 12)
    for k in hd.Windows._ROWS:
        np.testing.assert_array_equal(getattr(a, k), getattr(b, k))


def test_selected_experiments_ignore_other_label_rows(small, tmp_path):
    d, _ = small
    shutil.copy(RAW / "labels.txt", tmp_path / "labels.txt")      # all 42 experiments
    w = hd.load_windows(d, experiments=[5], labels=tmp_path / "labels.txt")
    assert set(w.experiment.tolist()) == {5} and set(w.subject.tolist()) == {3}
    with pytest.raises(InputError, match=r"labels.txt: line \d+: experiment 2 has no"):
        hd.load_windows(d, labels=tmp_path / "labels.txt")


def test_full_dataset_counts(full6):
    """The 21 training users of HAPT: 7415 windows of the six basic activities."""
    assert len(full6) == 7415 and len(full6.subjects) == 21
    assert full6.counts() == {"WALKING": 1226, "WALKING_UPSTAIRS": 1073,
                              "WALKING_DOWNSTAIRS": 987, "SITTING": 1293, "STANDING": 1423,
                              "LAYING": 1413}


# --- folds ------------------------------------------------------------------------------

def check_partition(w, folds, k):
    assert len(folds) == k
    tested = [s for f in folds for s in f.subjects]
    assert sorted(tested) == w.subjects                     # each subject in exactly one fold
    everything = np.sort(np.concatenate([f.test for f in folds]))
    np.testing.assert_array_equal(everything, np.arange(len(w)))
    for f in folds:
        np.testing.assert_array_equal(np.sort(np.concatenate([f.train, f.test])),
                                      np.arange(len(w)))
        assert not set(w.subject[f.train].tolist()) & set(f.subjects)
        assert set(w.subject[f.test].tolist()) == set(f.subjects)


@pytest.mark.parametrize("seed", seeds(0, 1, 2))
def test_real_folds_partition_subjects(full6, seed):
    for k in (2, 5, 21):
        folds = hd.subject_folds(full6, k, seed)
        check_partition(full6, folds, k)
        sizes = [len(f.test) for f in folds]
        if k < 21:
            assert max(sizes) <= 1.1 * min(sizes), sizes
        again = hd.subject_folds(full6, k, seed)
        assert [f.subjects for f in again] == [f.subjects for f in folds]


@pytest.mark.parametrize("seed", seeds(3, 4, 5))
def test_random_folds_partition_subjects(seed):
    rng = np.random.default_rng(seed)
    n_subj = int(rng.integers(3, 15))
    per = rng.integers(1, 60, n_subj)
    subj = np.repeat(rng.permutation(100)[:n_subj], per)
    n = len(subj)
    w = hd.Windows(X=np.zeros((n, 4, 6), np.float32), y=np.zeros(n, np.int8),
                   activity=np.ones(n, np.int8), subject=subj.astype(np.int64),
                   experiment=np.zeros(n, np.int64), start=np.zeros(n, np.int64))
    k = int(rng.integers(2, n_subj + 1))
    folds = hd.subject_folds(w, k, seed)
    check_partition(w, folds, k)
    assert all(len(f.subjects) for f in folds)
    sizes = [len(f.test) for f in folds]
    assert max(sizes) - min(sizes) <= per.max()             # greedy bound, then refined
    with pytest.raises(ValueError):
        hd.subject_folds(w, n_subj + 1, seed)
    with pytest.raises(ValueError):
        hd.subject_folds(w, 1, seed)


# --- bad HAPT input ---------------------------------------------------------------------

def tiny(d, n=300, gyro_n=None, labels=None):
    """A synthetic experiment 1 of user 2: ``n`` rows of acc and gyro, labels as given."""
    rng = np.random.default_rng(0)
    for kind, m in (("acc", n), ("gyro", n if gyro_n is None else gyro_n)):
        rows = rng.normal(size=(m, 3))
        (d / f"{kind}_exp01_user02.txt").write_text(
            "".join(" ".join(f"{v:.6f}" for v in r) + "\n" for r in rows))
    if labels is None:
        labels = ["1 2 1 1 140", "1 2 7 141 160", "1 2 5 161 300"]
    (d / "labels.txt").write_text("".join(ln + "\n" for ln in labels))
    return d


def edit_line(path, k, text):
    lines = path.read_text().splitlines()
    lines[k - 1] = text
    path.write_text("\n".join(lines) + "\n")


def test_tiny_experiment_reads(tmp_path):
    w = hd.load_windows(tiny(tmp_path), 12)
    assert w.start.tolist() == [0, 160] and w.activity.tolist() == [1, 5]
    w = hd.load_windows(tiny(tmp_path, n=300), 12, size=16, hop=8)
    assert (w.activity == 7).sum() == expected_windows(20, 16, 8)


BAD = {
    "acc_cells": ("acc", 5, "1.0 2.0", "acc_exp01_user02.txt: line 5: 2 cells"),
    "gyro_text": ("gyro", 7, "1.0 x 2.0", "gyro_exp01_user02.txt: line 7, column 2"),
    "acc_nan": ("acc", 9, "1.0 nan 2.0", "acc_exp01_user02.txt: line 9, column 2"),
    "gyro_inf": ("gyro", 300, "inf 0 0", "gyro_exp01_user02.txt: line 300, column 1"),
    "label_cells": ("labels", 2, "1 2 7 141", "labels.txt: line 2: 4 cells"),
    "label_float": ("labels", 3, "1 2 5 161.5 300", "labels.txt: line 3, column 4"),
    "label_activity": ("labels", 2, "1 2 13 141 160", "labels.txt: line 2: unknown activity"),
    "label_zero": ("labels", 2, "1 2 0 141 160", "labels.txt: line 2: unknown activity"),
    "label_end_before_start": ("labels", 3, "1 2 5 161 150", "labels.txt: line 3: end 150"),
    "label_start_0": ("labels", 1, "1 2 1 0 140", "labels.txt: line 1: start 0"),
    "label_outside": ("labels", 3, "1 2 5 161 301", "labels.txt: line 3: segment 161-301"),
    "label_far_outside": ("labels", 3, "1 2 5 900 1000", "labels.txt: line 3: segment 900"),
    "label_overlap": ("labels", 3, "1 2 5 160 300", "labels.txt: line 3: segment 160-300 "
                      "overlaps"),
    "label_user": ("labels", 1, "1 3 1 1 140", "labels.txt: line 1: user 3"),
}


@pytest.mark.parametrize("case", list(BAD))
def test_bad_input_is_one_input_error(tmp_path, case):
    kind, line, text, want = BAD[case]
    d = tiny(tmp_path)
    path = d / ("labels.txt" if kind == "labels" else f"{kind}_exp01_user02.txt")
    edit_line(path, line, text)
    with pytest.raises(InputError) as e:
        hd.load_windows(d)
    msg = str(e.value)
    assert want in msg and "\n" not in msg and str(d) in msg


@pytest.mark.parametrize("gyro_n", [299, 302])
def test_acc_gyro_lengths_differ(tmp_path, gyro_n):
    d = tiny(tmp_path, gyro_n=gyro_n)
    with pytest.raises(InputError) as e:
        hd.load_windows(d)
    msg = str(e.value)
    assert msg.startswith(f"{d / 'gyro_exp01_user02.txt'}: {gyro_n} rows")
    assert f"line {min(300, gyro_n) + 1} missing" in msg and "\n" not in msg


def test_bad_files(tmp_path):
    d = tiny(tmp_path)
    (d / "gyro_exp01_user02.txt").write_bytes(b"\x1f\x8b\x08garbage")
    with pytest.raises(InputError, match="gyro_exp01_user02.txt: not a readable gzip"):
        hd.load_windows(d)
    (d / "gyro_exp01_user02.txt").unlink()
    with pytest.raises(InputError, match="acc_exp01_user02.txt: no matching gyro"):
        hd.load_windows(d)
    tiny(d)
    (d / "acc_exp01_user02.txt").write_text("\n\n")
    with pytest.raises(InputError, match="acc_exp01_user02.txt: no data rows"):
        hd.load_windows(d)
    with pytest.raises(InputError, match="not a folder"):
        hd.load_windows(d / "nothing")


# --- PAMAP2 -----------------------------------------------------------------------------

def pamap_row(t, act, hand=(1, 2, 3), gyro=(0.1, 0.2, 0.3), nan_hand=False):
    imu = [30.0, *hand, 9, 9, 9, *gyro, 5, 5, 5, 1, 0, 0, 0]
    if nan_hand:
        imu[1] = float("nan")
    other = [31.0] + [7.0] * 16
    return [t, act, float("nan"), *imu, *other, *other]


def write_rows(path, rows, gz=False):
    text = "".join(" ".join("NaN" if v != v else f"{v:g}" for v in r) + "\n" for r in rows)
    path.write_bytes(gzip.compress(text.encode()) if gz else text.encode())
    return path


def test_pamap2(tmp_path):
    rows = [pamap_row(0.00, 0), pamap_row(0.01, 0),                   # transient: dropped
            pamap_row(0.02, 1, (1, 2, 3)), pamap_row(0.03, 1, (3, 4, 5)),
            pamap_row(0.04, 1), pamap_row(0.05, 1, nan_hand=True),    # NaN: pair dropped
            pamap_row(0.06, 1), pamap_row(0.07, 4),                   # mixed: dropped
            pamap_row(0.08, 4, gyro=(1, 1, 1)), pamap_row(0.09, 4, gyro=(3, 3, 3)),
            pamap_row(0.10, 4)]                                       # odd last row
    rows[2][1 + 2 + 17 + 1] = float("nan")                  # NaN in the chest: not used
    for gz in (False, True):
        r = hd.read_pamap2(write_rows(tmp_path / f"subject101.dat{gz:d}", rows, gz), "hand")
        assert r.subject == "subject101" and r.imu == "hand"
        np.testing.assert_allclose(r.time_s, [0.02, 0.08])
        assert r.activity.tolist() == [1, 4] and r.X.dtype == np.float32
        np.testing.assert_allclose(r.X, [[2, 3, 4, 0.1, 0.2, 0.3], [1, 2, 3, 2, 2, 2]])
    r = hd.read_pamap2(tmp_path / "subject101.dat0", "chest")
    assert r.activity.tolist() == [1, 4]            # chest NaN in row 3; hand NaN not used
    np.testing.assert_allclose(r.X[0], [7] * 6)


def test_pamap2_bad(tmp_path):
    good = [pamap_row(0.01 * k, 1) for k in range(6)]
    bad = [list(good), list(good), list(good)]
    bad[0][3] = good[3][:-1]
    bad[1][4] = list(good[4])
    bad[1][4][1] = 8
    bad[2][2] = list(good[2])
    bad[2][2][0] = float("nan")
    wants = ["line 4: 53 cells", "line 5: unknown activity id 8", "line 3: timestamp"]
    for rows, want in zip(bad, wants):
        p = write_rows(tmp_path / "subject102.dat", rows)
        with pytest.raises(InputError, match=f"subject102.dat: {want}"):
            hd.read_pamap2(p)
    with pytest.raises(ValueError):
        hd.read_pamap2(p, "wrist")


# --- WISDM ------------------------------------------------------------------------------

def test_wisdm(tmp_path):
    text = ("33,Jogging,49105962326000,-0.6946377,12.680544,0.50395286;\n"
            "33,Jogging,49106062271000,5.012288,11.264028,0.95342433;\n"
            "\n"
            "17,Walking,1,1.0,2.0,3.0;17,Walking,2,4.0,5.0,6.0;\n"      # two on one line
            "17,Walking,3,7.0,8.0,9.0\n"                               # no trailing ;
            "11,Walking,1867172313000,4.4,4.4,;\n"                     # empty field
            "11,Walking,1867172313000,4.4;\n"                          # missing fields
            "11,Dancing,1,1,1,1;\n"
            "17,Upstairs,4,0,0,nan;\n"
            "33,Sitting,0,0.1,-0.2,9.8;\n")
    for gz in (False, True):
        p = tmp_path / f"wisdm{gz:d}.txt"
        p.write_bytes(gzip.compress(text.encode()) if gz else text.encode())
        data = hd.read_wisdm(p)
        assert list(data.users) == [17, 33]
        u = data.users[17]
        assert u.timestamp.tolist() == [1, 2, 3]
        np.testing.assert_allclose(u.X, [[1, 2, 3], [4, 5, 6], [7, 8, 9]])
        assert [hd.WISDM_ACTIVITIES[a] for a in u.activity] == ["Walking"] * 3
        u = data.users[33]
        assert [hd.WISDM_ACTIVITIES[a] for a in u.activity] == ["Jogging", "Jogging",
                                                                 "Sitting"]
        assert u.X.shape == (3, 3) and u.timestamp[0] == 49105962326000
        assert [k for k, _ in data.skipped] == [6, 7, 8, 9]
    (tmp_path / "empty.txt").write_text("\n;\n")
    with pytest.raises(InputError, match="empty.txt: no valid WISDM record"):
        hd.read_wisdm(tmp_path / "empty.txt")
