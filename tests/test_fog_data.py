"""Daphnet FoG reader, windows, LOSO folds and normalisation (:mod:`sw.fog_data`).

Tiny hand-written files for the reader; the real recordings in ``../shared/data/fog-daphnet``
for the quirks and the folds (never skipped: the data is part of the checkout's layout).
"""

import gzip

import numpy as np
import pytest

from spec.cli import InputError
from spec.constants import SHARED_DATA
from sw import fog_data as fd

DATA = SHARED_DATA / "fog-daphnet"


def rows_for(labels, t0=15, gap_after=None, gap_ms=1000):
    """Rows of 11 ints: time alternating 15/16 ms (plus a time gap), acc, ``labels``."""
    rows, t = [], t0
    for k, lab in enumerate(labels):
        rows.append([t, k % 7, 1000 + k % 5, -k % 3, 1, 2, 3, 4, 5, 6, lab])
        t += 15 if k % 2 == 0 else 16
        if gap_after is not None and k == gap_after:
            t += gap_ms
    return rows


def write(path, rows, gz=False):
    text = "".join(" ".join(map(str, r)) + "\n" for r in rows)
    if gz:
        path.write_bytes(gzip.compress(text.encode()))
    else:
        path.write_text(text)
    return path


# --- reader -----------------------------------------------------------------------------

def test_plain_and_gzip_read_the_same(tmp_path):
    rows = rows_for([0] * 5 + [1] * 200 + [2] * 100 + [0] * 3)
    a = fd.read_recording(write(tmp_path / "S01R02.txt", rows))
    b = fd.read_recording(write(tmp_path / "S01R02.txt.gz", rows, gz=True))
    for r in (a, b):
        assert (r.name, r.subject, r.run) == ("S01R02", 1, 2)
        assert len(r.time_ms) == 300 and r.segments == [(0, 300)]
        assert set(np.unique(r.label)) == {1, 2}
        assert r.sample[0] == 5                        # label-0 rows counted in the file index
    np.testing.assert_array_equal(a.acc, b.acc)
    np.testing.assert_array_equal(a.time_ms, b.time_ms)
    assert a.acc.shape == (300, 9) and a.acc[0, 1] == 1000


def test_names():
    assert fd.parse_name("x/S06R02.txt.gz") == ("S06R02", 6, 2)
    assert fd.parse_name("s3r3.TXT") == ("s3r3", 3, 3)
    assert fd.parse_name("walk_anna.txt") == ("walk_anna", "walk_anna", None)


def test_other_name_gets_its_stem_as_subject(tmp_path):
    r = fd.read_recording(write(tmp_path / "patient7.txt", rows_for([1] * 130)))
    assert (r.subject, r.run) == ("patient7", None)
    assert fd.make_windows(r).subject.tolist() == ["patient7"]


def test_label0_gap_and_time_gap_split_segments(tmp_path):
    labels = [1] * 300 + [0] * 40 + [1] * 200 + [2] * 150
    rec = fd.read_recording(write(tmp_path / "S06R02.txt", rows_for(labels, gap_after=439)))
    # label-0 gap after kept row 300; time gap after file row 439 = kept row 399
    assert rec.segments == [(0, 300), (300, 400), (400, 650)]
    w = fd.make_windows(rec)
    # per segment: floor((L - 128) / 64) + 1 windows -> 300: 3, 100: 0, 250: 2
    assert len(w) == 5
    assert w.segment.tolist() == [0, 0, 0, 2, 2]
    for start, seg in zip(w.start, w.segment):
        a, b = rec.segments[seg]
        k = np.searchsorted(rec.sample, start)
        assert a <= k and k + fd.WINDOW <= b           # the whole window in one segment
        t = rec.time_ms[k:k + fd.WINDOW]
        assert np.diff(t).max() <= 16
        assert np.all(np.diff(rec.sample[k:k + fd.WINDOW]) == 1)


def test_blank_lines_and_crlf_are_accepted(tmp_path):
    rows = rows_for([1] * 140)
    text = "\r\n".join(" ".join(map(str, r)) for r in rows[:70]) + "\r\n\r\n" + \
        "\n".join(" ".join(map(str, r)) for r in rows[70:]) + "\n\n"
    p = tmp_path / "S02R01.txt"
    p.write_text(text)
    assert len(fd.read_recording(p).time_ms) == 140


@pytest.mark.parametrize("case, row, words", [
    ("cell", 4, "column 3: 'x1'"),
    ("float", 4, "'2.5' is not an integer"),
    ("short", 4, "10 cells, expected 11"),
    ("long", 4, "12 cells, expected 11"),
    ("label", 4, "label 3"),
    ("time", 4, "does not increase"),
])
def test_bad_rows_name_file_and_row(tmp_path, case, row, words):
    rows = [list(map(str, r)) for r in rows_for([1] * 10)]
    r = rows[row - 1]
    if case == "cell":
        r[2] = "x1"
    elif case == "float":
        r[5] = "2.5"
    elif case == "short":
        del r[4]
    elif case == "long":
        r.append("0")
    elif case == "label":
        r[10] = "3"
    elif case == "time":
        r[0] = rows[row - 2][0]
    for gz in (False, True):
        p = write(tmp_path / ("S01R01.txt.gz" if gz else "S01R01.txt"), rows, gz)
        with pytest.raises(InputError) as e:
            fd.read_recording(p)
        assert str(e.value).startswith(f"{p}: row {row}")
        assert words in str(e.value)


def test_bad_files(tmp_path):
    for name, data in (("empty.txt", b""), ("blank.txt", b"\n \n"), ("bad.txt.gz", b"\x1f\x8bxx")):
        p = tmp_path / name
        p.write_bytes(data)
        with pytest.raises(InputError, match=str(p)):
            fd.read_recording(p)
    with pytest.raises(InputError, match="no such file"):
        fd.read_recording(tmp_path / "missing.txt")
    (tmp_path / "nothing").mkdir()
    with pytest.raises(InputError, match="no .txt"):
        fd.find_recordings(tmp_path / "nothing")


def test_cli_exit_2_names_file_and_row(tmp_path, capsys):
    from sw.fog_baseline import main
    rows = [list(map(str, r)) for r in rows_for([1] * 10)]
    rows[6][3] = "oops"
    p = write(tmp_path / "S01R02.txt", rows)
    out = tmp_path / "res.json"
    assert main([str(p), "-o", str(out)]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and f"{p}: row 7" in err[0]
    assert not out.exists()


def test_fog_episodes(tmp_path):
    labels = [1] * 10 + [2] * 20 + [1] * 5 + [2] * 3 + [0] * 4 + [2] * 6 + [1] * 2
    rec = fd.read_recording(write(tmp_path / "S01R01.txt", rows_for(labels)))
    ep = fd.fog_episodes(rec)
    assert len(ep) == 3                                # the label-0 gap splits an episode
    assert ep[0][0] == pytest.approx(rec.time_ms[10] / 1000)
    assert ep[0][1] == pytest.approx(rec.time_ms[29] / 1000 + 1 / 64)


# --- windows ----------------------------------------------------------------------------

def test_window_label_majority_and_threshold(tmp_path):
    # one window of 128: 64 FoG samples (not a majority), then one of 65
    rec64 = fd.read_recording(write(tmp_path / "a.txt", rows_for([1] * 64 + [2] * 64)))
    rec65 = fd.read_recording(write(tmp_path / "b.txt", rows_for([1] * 63 + [2] * 65)))
    assert fd.make_windows(rec64).y.tolist() == [0]
    assert fd.make_windows(rec65).y.tolist() == [1]
    assert fd.make_windows(rec64, fog_threshold=0).y.tolist() == [1]
    w = fd.make_windows(rec64)
    assert w.fog_fraction[0] == 0.5 and w.start_s[0] == 0.015
    assert w.end_s[0] == pytest.approx(0.015 + 2.0)


def test_window_counts_hop_and_size(tmp_path):
    rec = fd.read_recording(write(tmp_path / "c.txt", rows_for([1] * 1000)))
    assert len(fd.make_windows(rec)) == (1000 - 128) // 64 + 1
    assert len(fd.make_windows(rec, size=256, hop=32)) == (1000 - 256) // 32 + 1
    assert len(fd.make_windows(rec, size=2000)) == 0
    w = fd.make_windows(rec, size=100, hop=100)
    assert w.X.shape == (10, 100, 9) and w.start.tolist() == list(range(0, 1000, 100))
    for bad in ({"size": 1}, {"hop": 0}, {"fog_threshold": 1.0}, {"size": 12.5}):
        with pytest.raises(ValueError):
            fd.make_windows(rec, **bad)


def test_windows_validate_and_concat(tmp_path):
    rec = fd.read_recording(write(tmp_path / "S02R01.txt", rows_for([1] * 300)))
    w = fd.make_windows(rec)
    both = fd.Windows.concat([w, w])
    assert len(both) == 2 * len(w)
    assert len(both.take(both.y == 0)) == len(both)
    with pytest.raises(ValueError, match="rows"):
        fd.Windows(**{**{k: getattr(w, k) for k in w.__dataclass_fields__},
                      "y": w.y[:-1]})
    assert len(fd.Windows.concat([])) == 0


def test_normalise_window_and_running(tmp_path):
    labels = [1] * 640
    rows = rows_for(labels)
    rng = np.random.default_rng(1)
    for k, r in enumerate(rows):
        r[1:4] = (rng.normal(0, 50 + k, 3)).astype(int).tolist()
        r[4:7] = [0, 0, 0]                              # dead thigh, as S03R03
    w = fd.make_windows(fd.read_recording(write(tmp_path / "S03R03.txt", rows)))
    z = fd.normalise(w)
    np.testing.assert_allclose(z[:, :, :3].mean(axis=1), 0, atol=1e-5)
    np.testing.assert_allclose(z[:, :, :3].std(axis=1), 1, atol=1e-4)
    assert np.all(z[:, :, 3:6] == 0) and np.isfinite(z).all()
    run = fd.normalise(w, "running", alpha=0.2)
    np.testing.assert_allclose(run[0], z[0], atol=1e-5)  # first window: its own statistics
    # causal: changing a later window leaves the earlier ones alone
    w2 = w.take(np.arange(len(w)))
    w2.X = w2.X.copy()
    w2.X[-1] *= 10
    np.testing.assert_array_equal(fd.normalise(w2, "running", alpha=0.2)[:-1], run[:-1])
    with pytest.raises(ValueError):
        fd.normalise(w, "global")


# --- the real recordings ----------------------------------------------------------------

@pytest.fixture(scope="module")
def real():
    assert DATA.is_dir(), f"{DATA} is missing (the Daphnet FoG recordings, see its README)"
    recs = [fd.read_recording(f) for f in fd.find_recordings(DATA)]
    return recs, fd.Windows.concat([fd.make_windows(r) for r in recs])


def test_real_recordings_and_quirks(real):
    recs, w = real
    by = {r.name: r for r in recs}
    assert sorted(by) == ["S01R02", "S02R01", "S02R02", "S03R02", "S03R03", "S06R02"]
    assert len(by["S06R02"].segments) == 2             # the label-0 gap in the middle
    assert all(len(r.segments) == 1 for n, r in by.items() if n != "S06R02")
    assert not by["S03R03"].acc[:, 3:6].any()          # thigh reads zeros
    for r in recs:
        steps = set(np.unique(np.diff(r.time_ms)).tolist())
        assert steps <= {15, 16} or (r.name == "S06R02" and max(steps) > 1000)
    assert {r.name for r in recs if (r.label == 2).any()} == {"S01R02", "S02R01", "S02R02",
                                                             "S03R02"}
    # no window spans more than its nominal 2 s in the file's clock (no gap inside)
    for r in recs:
        k = np.searchsorted(r.sample, w.start[w.file == r.name])
        span = r.time_ms[k + fd.WINDOW - 1] - r.time_ms[k]
        assert span.max() <= 127 * 16
    fog_s = sum(e - s for r in recs for s, e in fd.fog_episodes(r))
    assert 200 < fog_s < 280                           # README: about 4.4 min (4.0 here)


def test_real_loso_folds_never_leak(real):
    _, w = real
    folds = list(fd.loso_folds(w))
    assert [f.subject for f in folds] == [1, 2, 3]
    for f in folds:
        assert set(w.subject[f.test]) == {f.subject}
        assert f.subject not in set(w.subject[f.train])
        assert 6 in set(w.subject[f.train])            # negatives-only subject trains
        assert len(np.intersect1d(f.train, f.test)) == 0
        assert len(f.train) + len(f.test) == len(w)
        assert w.y[f.test].sum() > 0 and w.y[f.train].sum() > 0
    assert not any(w.y[w.subject == 6])
    with pytest.raises(InputError, match="subject 9"):
        list(fd.loso_folds(w, [9]))


def test_load_windows_and_duplicates(real, tmp_path):
    _, w = real
    again = fd.load_windows(DATA)
    assert len(again) == len(w) and again.file.tolist() == w.file.tolist()
    np.testing.assert_array_equal(again.X, w.X)
    one = sorted(DATA.iterdir())[0]
    with pytest.raises(InputError, match="given twice"):
        fd.load_recordings([one, DATA])
