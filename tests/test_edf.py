"""Tests of the EDF/EDF+ reader (sw/edf.py).

* Against pyedflib (``pip install pyedflib``; those tests skip without it) on the
  two PhysioNet files in ``../shared/data/eeg-motor-physionet`` (skip when the
  folder is absent) and on a hand-written EDF+ file: same labels (after
  cleaning), sample rates, units, physical signals (rtol 1e-9) and annotations.
* Synthetic files written by the small writer below, for exact values and for
  every rejected input (truncated, garbage header, empty, ...).
"""

from pathlib import Path

import numpy as np
import pytest

from spec.constants import SHARED_DATA
from sw.edf import clean_label, eeg_label_map, read_edf
from sw.recording import InputError

DATA = SHARED_DATA
EEG_DIR = DATA / "eeg-motor-physionet"
EEG_FILES = ["S001R03.edf", "S001R07.edf"]


# --------------------------------------------------------------------------
# a tiny EDF/EDF+ writer
# --------------------------------------------------------------------------

def _field(value, width):
    s = str(value).encode("latin-1")
    assert len(s) <= width, (value, width)
    return s.ljust(width)


def sig(label, data, n, unit="uV", pmin=-100, pmax=100, dmin=-2048, dmax=2047):
    """An ordinary signal: ``data`` = digital values, ``n`` samples per record."""
    return dict(label=label, data=np.asarray(data), n=n, unit=unit,
                pmin=pmin, pmax=pmax, dmin=dmin, dmax=dmax)


def write_edf(path, sigs, nrec, duration=1, tals=None, annot_n=30, reserved="EDF+C",
              nrec_field=None, ns_field=None, version=b"0       "):
    """Write an EDF(+) file; ``tals[r]`` = raw annotation bytes of record r."""
    allsig = list(sigs)
    if tals is not None:
        allsig.append(dict(label="EDF Annotations", unit="", pmin=-1, pmax=1,
                           dmin=-32768, dmax=32767, n=annot_n))
    ns = len(allsig)
    head = version + _field("X X X X", 80) + _field("Startdate 01-JAN-2000 X X X", 80)
    head += b"01.01.0000.00.00" + _field(256 * (ns + 1), 8) + _field(reserved, 44)
    head += _field(nrec if nrec_field is None else nrec_field, 8) + _field(duration, 8)
    head += _field(ns if ns_field is None else ns_field, 4)
    for key, width in (("label", 16), ("transducer", 80), ("unit", 8), ("pmin", 8),
                       ("pmax", 8), ("dmin", 8), ("dmax", 8), ("prefilter", 80), ("n", 8),
                       ("reserved", 32)):
        head += b"".join(_field(s.get(key, ""), width) for s in allsig)
    body = []
    for r in range(nrec):
        for s in sigs:
            body.append(s["data"][r * s["n"]:(r + 1) * s["n"]].astype("<i2").tobytes())
        if tals is not None:
            assert len(tals[r]) <= 2 * annot_n
            body.append(tals[r].ljust(2 * annot_n, b"\x00"))
    Path(path).write_bytes(head + b"".join(body))
    return Path(path)


RNG = np.random.default_rng(7)
NREC = 4
C3 = RNG.integers(-2048, 2048, 20 * NREC)
T7 = RNG.integers(-32768, 32768, 10 * NREC)
TALS = [b"+0.5\x14\x14\x00+0.75\x150.25\x14T1\x14\x00",      # records of 0.5 s
        b"+1\x14\x14\x00+1.9\x14B\x14C\x14\x00",
        b"+1.5\x14\x14\x00+2.5\x153\x14T0\x14\x00",
        b"+2\x14\x14\x00"]


def two_signals(nrec=NREC):
    return [sig("C3..", C3[:20 * nrec], 20),
            sig("T7  ", T7[:10 * nrec], 10, unit="mV", pmin=-3.2768, pmax=3.2767,
                dmin=-32768, dmax=32767)]


@pytest.fixture
def synth(tmp_path):
    return write_edf(tmp_path / "synth.edf", two_signals(), NREC, duration=0.5, tals=TALS)


# --------------------------------------------------------------------------
# against pyedflib
# --------------------------------------------------------------------------

def _pyedflib():
    return pytest.importorskip("pyedflib", reason="pyedflib not installed "
                               "(pip install pyedflib) - needed to cross-check sw/edf.py")


def _compare_with_pyedflib(path):
    pyedflib = _pyedflib()
    rec = read_edf(path)
    with pyedflib.EdfReader(str(path)) as ref:
        assert rec.labels == [clean_label(lab) for lab in ref.getSignalLabels()]
        for i, label in enumerate(rec.labels):
            assert rec.fs[label] == ref.getSampleFrequency(i)
            assert rec.units[label] == ref.getPhysicalDimension(i).strip()
            expected = ref.readSignal(i)
            got = rec.signals[label]
            assert got.dtype == np.float64 and got.shape == expected.shape
            np.testing.assert_allclose(got, expected, rtol=1e-9, atol=0, err_msg=label)
        onsets, durations, texts = ref.readAnnotations()
    assert [a[2] for a in rec.annotations] == list(texts)
    np.testing.assert_allclose([a[0] for a in rec.annotations], onsets, rtol=0, atol=1e-9)
    # pyedflib reports a missing duration as -1, the reader as 0
    np.testing.assert_allclose([a[1] for a in rec.annotations],
                               np.where(durations == -1, 0.0, durations), rtol=0, atol=1e-9)
    return rec


@pytest.mark.parametrize("name", EEG_FILES)
def test_physionet_matches_pyedflib(name):
    path = EEG_DIR / name
    if not path.is_file():
        pytest.skip(f"{path} absent (shared data folder not available)")
    rec = _compare_with_pyedflib(path)
    assert len(rec.labels) == 64 and "EDF Annotations" not in rec.labels
    assert {"C3", "C4", "Cz", "T7", "T8", "P3", "P4"} <= set(rec.labels)
    assert all(fs == 160.0 for fs in rec.fs.values())
    assert all(len(x) == 125 * 160 for x in rec.signals.values())
    assert set(rec.units.values()) == {"uV"}
    assert {a[2] for a in rec.annotations} == {"T0", "T1", "T2"}
    onsets = [a[0] for a in rec.annotations]
    assert onsets == sorted(onsets) and onsets[0] == 0.0
    assert eeg_label_map(rec.labels) == {"T3": "T7", "T4": "T8", "C3": "C3", "C4": "C4",
                                         "Cz": "Cz", "P3": "P3", "P4": "P4"}


def test_synthetic_matches_pyedflib(synth):
    """Checks the test writer too: pyedflib accepts what it writes."""
    _compare_with_pyedflib(synth)


# --------------------------------------------------------------------------
# exact values on synthetic files
# --------------------------------------------------------------------------

def test_synthetic_values(synth):
    rec = read_edf(synth)
    assert rec.path == str(synth)
    assert rec.labels == ["C3", "T7"]
    assert rec.fs == {"C3": 40.0, "T7": 20.0}
    assert rec.units == {"C3": "uV", "T7": "mV"}
    np.testing.assert_allclose(rec.signals["C3"], -100 + (C3 + 2048) * 200 / 4095, rtol=1e-12)
    np.testing.assert_allclose(rec.signals["T7"], T7 * 1e-4, rtol=1e-12)
    # onsets relative to sample 0 (first record's time-keeping onset 0.5 subtracted),
    # time-keeping TALs skipped, a two-text TAL split, missing duration -> 0
    assert rec.annotations == [(0.25, 0.25, "T1"), (1.4, 0.0, "B"), (1.4, 0.0, "C"),
                               (2.0, 3.0, "T0")]


def test_plain_edf_without_annotations(tmp_path):
    path = write_edf(tmp_path / "plain.edf", two_signals(), NREC, reserved="")
    rec = read_edf(path)
    assert rec.labels == ["C3", "T7"] and rec.annotations == []
    assert rec.fs == {"C3": 20.0, "T7": 10.0}


def test_unknown_record_count_is_computed(tmp_path):
    path = write_edf(tmp_path / "m1.edf", two_signals(), NREC, duration=0.5, tals=TALS,
                     nrec_field=-1)
    rec = read_edf(path)
    assert len(rec.signals["C3"]) == 20 * NREC and len(rec.annotations) == 4


def test_trailing_bytes_ignored(tmp_path):
    path = write_edf(tmp_path / "extra.edf", two_signals(), NREC, duration=0.5, tals=TALS)
    path.write_bytes(path.read_bytes() + b"\x00" * 7)
    assert len(read_edf(path).signals["T7"]) == 10 * NREC


# --------------------------------------------------------------------------
# rejected input
# --------------------------------------------------------------------------

def _error(path):
    with pytest.raises(InputError) as exc:
        read_edf(path)
    msg = str(exc.value)
    assert str(path) in msg and "\n" not in msg
    return msg


def test_truncated_file(synth):
    data = synth.read_bytes()
    synth.write_bytes(data[:-100])           # record size 2*(20+10+30) = 120 bytes
    msg = _error(synth)
    assert "truncated" in msg and "declares 4 data records" in msg and "holds 3 complete" in msg


def test_truncated_inside_first_record(synth):
    synth.write_bytes(synth.read_bytes()[:256 * 4 + 10])
    assert "holds 0 complete" in _error(synth)


def test_unknown_record_count_with_partial_record(tmp_path):
    path = write_edf(tmp_path / "m1.edf", two_signals(), NREC, duration=0.5, tals=TALS,
                     nrec_field=-1)
    path.write_bytes(path.read_bytes()[:-1])
    msg = _error(path)
    assert "truncated" in msg and "3 complete records" in msg


def test_garbage_header(tmp_path):
    path = tmp_path / "garbage.edf"
    path.write_bytes(bytes(RNG.integers(0, 256, 4000, dtype=np.uint8)))
    assert "not an EDF file" in _error(path)


def test_text_file_is_not_edf(tmp_path):
    path = tmp_path / "rec.csv"
    path.write_text("time,C3\n" + "\n".join(f"{i / 160},{i}" for i in range(100)))
    assert "not an EDF file" in _error(path)


def test_empty_file(tmp_path):
    path = tmp_path / "empty.edf"
    path.write_bytes(b"")
    assert "empty" in _error(path)


def test_header_too_short(tmp_path, synth):
    path = tmp_path / "short.edf"
    path.write_bytes(synth.read_bytes()[:100])
    assert "header too short" in _error(path)


def test_signal_headers_missing(tmp_path, synth):
    path = tmp_path / "short.edf"
    path.write_bytes(synth.read_bytes()[:600])
    assert "header truncated" in _error(path)


def test_missing_file(tmp_path):
    assert "no such file" in _error(tmp_path / "nope.edf")


def test_directory(tmp_path):
    assert "directory" in _error(tmp_path)


def test_zero_signals(tmp_path):
    path = write_edf(tmp_path / "none.edf", [], 3)
    assert "0 signals" in _error(path)


def test_zero_records(tmp_path):
    path = write_edf(tmp_path / "norec.edf", two_signals(), 0)
    assert "no data records" in _error(path)


def test_non_numeric_header_field(tmp_path):
    path = write_edf(tmp_path / "bad.edf", two_signals(), NREC, nrec_field="four")
    assert "number of data records" in _error(path)


def test_bdf_rejected(tmp_path):
    path = write_edf(tmp_path / "x.bdf", two_signals(), NREC, version=b"\xffBIOSEMI")
    assert "BDF" in _error(path)


def test_discontinuous_rejected(tmp_path):
    path = write_edf(tmp_path / "d.edf", two_signals(), NREC, tals=TALS, reserved="EDF+D")
    assert "EDF+D" in _error(path)


def test_flat_digital_range_rejected(tmp_path):
    path = write_edf(tmp_path / "flat.edf", [sig("Cz", C3, 20, dmin=5, dmax=5)], NREC)
    assert "digital min equals digital max" in _error(path)


def test_duplicate_labels_rejected(tmp_path):
    path = write_edf(tmp_path / "dup.edf", [sig("Cz..", C3, 20), sig("Cz", C3, 20)], NREC)
    assert "two signals are labelled 'Cz'" in _error(path)


def test_gap_in_edf_plus_c_rejected(tmp_path):
    tals = [b"+0\x14\x14\x00", b"+1\x14\x14\x00", b"+5\x14\x14\x00", b"+6\x14\x14\x00"]
    path = write_edf(tmp_path / "gap.edf", two_signals(), NREC, tals=tals)
    assert "record 3 starts at 5 s, expected 2 s" in _error(path)


def test_malformed_tal(tmp_path):
    tals = [b"+0\x14\x14\x00", b"1.0\x14oops\x14\x00", b"+2\x14\x14\x00", b"+3\x14\x14\x00"]
    path = write_edf(tmp_path / "tal.edf", two_signals(), NREC, tals=tals)
    assert "record 2: malformed TAL" in _error(path)


# --------------------------------------------------------------------------
# eeg_label_map
# --------------------------------------------------------------------------

def test_label_map_modern_and_old_names():
    modern = ["Fc5.", "C3..", "Cz..", "C4..", "T7..", "T8..", "P3..", "P4.."]
    assert eeg_label_map(modern) == {"T3": "T7..", "T4": "T8..", "C3": "C3..", "C4": "C4..",
                                     "Cz": "Cz..", "P3": "P3..", "P4": "P4.."}
    old = ["EEG C3", "c4", "CZ", "T3", "T4", "P3", "P4"]
    with pytest.raises(InputError):          # "EEG C3" is not C3
        eeg_label_map(old)
    assert eeg_label_map(["C3", "c4", "CZ", "T3", "T4", "P3", "P4"])["Cz"] == "CZ"
    assert eeg_label_map(["C3", "c4", "CZ", "T3", "T4", "P3", "P4"])["T3"] == "T3"


def test_label_map_missing_sites():
    with pytest.raises(InputError, match=r"not found: T4 \(T8\), P4; labels are C3, C4"):
        eeg_label_map(["C3", "C4", "Cz", "T7", "P3"])


@pytest.mark.parametrize("field, value, expect", [
    ("pmax", "1e308", "absurd"),
    ("pmin", "-1e300", "absurd"),
    ("pmax", "1e16", "absurd"),
    ("pmax", "inf", "not a finite number"),
    ("pmin", "nan", "not a finite number"),
    ("dmax", "99999", "not a 16-bit integer"),
    ("dmin", "-40000", "not a 16-bit integer"),
    ("dmin", "-2047.5", "not a 16-bit integer"),
])
def test_absurd_or_non_finite_range_rejected(tmp_path, field, value, expect):
    """Such a range gave -inf/inf rows before; now one line naming the file and signal."""
    s = sig("C3..", C3, 20)
    s[field] = value
    msg = _error(write_edf(tmp_path / "x.edf", [s], NREC))
    assert expect in msg and "C3" in msg and str(tmp_path / "x.edf") in msg, msg


def test_large_but_sane_range_is_finite(tmp_path):
    rec = read_edf(write_edf(tmp_path / "x.edf", [sig("C3", C3, 20, pmin="-1e12", pmax="1e12",
                                                      dmin=-32768, dmax=32767)], NREC))
    assert np.all(np.isfinite(rec.signals["C3"]))
