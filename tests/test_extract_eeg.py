"""Tests of ``python -m sw.extract eeg`` (sw/extract.py, sw/eeg_input.py).

Everything runs in-process through :func:`sw.extract.main` inside ``tmp_path``
(the current directory is moved there too, so a default output name lands in it
and is seen by the "nothing written" checks). The shared PhysioNet files are
used when ``../shared/data/eeg-motor-physionet`` exists, else those tests skip.
"""

import csv
import math
import shutil
from pathlib import Path

import numpy as np
import pytest

from golden.eeg_mrp_model import DB_FLOOR
from golden.eeg_pipeline import MRP_CSV_COLUMNS as EEG_CSV_COLUMNS
from golden.eeg_pipeline import format_db_q
from spec.channels import EEG_CHANNELS, EMG_CHANNELS, FS
from spec.constants import SHARED_DATA
from sw.edf import read_edf
from sw.extract import main

ROOT = Path(__file__).resolve().parents[1]
EEG_DIR = SHARED_DATA / "eeg-motor-physionet"
EDF_FILES = ["S001R03.edf", "S001R07.edf"]
#: the PhysioNet cap's names of the paper's sites
MODERN = {"T3": "T7", "T4": "T8"}

needs_data = pytest.mark.skipif(not EEG_DIR.is_dir(),
                                reason=f"shared EEG data not found at {EEG_DIR}")
needs_iverilog = pytest.mark.skipif(
    shutil.which("iverilog") is None,
    reason="Icarus Verilog not found: `apt-get install iverilog` (or `make setup`) "
           "to run the --engine hdl tests")


@pytest.fixture(autouse=True)
def _in_tmp(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)


# --------------------------------------------------------------------------
# helpers
# --------------------------------------------------------------------------

def run(capsys, *argv):
    rc = main(["eeg", *map(str, argv)])
    out, err = capsys.readouterr()
    assert out == "", "sw.extract must not print on stdout"
    return rc, err


def read_out(path):
    with open(path, newline="") as f:
        rd = csv.reader(f)
        head = next(rd)
        return head, [dict(zip(head, r)) for r in rd]


def only_file(tmp_path, *names):
    """The folder holds exactly ``names`` (no output, no stray temporary file)."""
    assert sorted(p.name for p in tmp_path.iterdir()) == sorted(names)


def write_table(path, head, rows, delim=","):
    with open(path, "w", newline="") as f:
        f.write(delim.join(head) + "\n")
        for r in rows:
            f.write(delim.join(r) + "\n")
    return path


def edf_cut_csv(path, seconds, sites=EEG_CHANNELS):
    """The first ``seconds`` of S001R03 as a CSV (time + sites under their file
    names, µV) and its annotations in that span as a trigger CSV."""
    rec = read_edf(EEG_DIR / "S001R03.edf")
    fs = rec.fs["C3"]
    n = int(seconds * fs)
    labels = [MODERN.get(s, s) for s in sites]
    cols = [rec.signals[lab][:n] for lab in labels]
    rows = [[f"{i / fs:.5f}"] + [f"{c[i]:.4f}" for c in cols] for i in range(n)]
    write_table(path, ["time"] + labels, rows)
    ann = [(on, text) for on, _, text in rec.annotations if on < seconds]
    trig = path.with_name(path.stem + "_triggers.csv")
    write_table(trig, ["time_s", "event"], [[f"{on:g}", text] for on, text in ann])
    return path, trig, ann


def check_rows(rows, sites, n_triggers):
    assert len(rows) == n_triggers * len(sites)
    for k in range(n_triggers):
        block = rows[k * len(sites):(k + 1) * len(sites)]
        assert [r["site"] for r in block] == list(sites)
        assert len({r["index"] for r in block}) == 1
        idx = int(block[0]["index"])
        assert block[0]["trigger_s"] == f"{idx / FS:.3f}"
        for r in block:
            assert r["flags"] == ("partial" if idx < 255 else "")
    idx = [int(r["index"]) for r in rows[::len(sites)]]
    assert idx == sorted(set(idx))


def golden_vs_hdl(capsys, tmp_path, *args):
    rc, err = run(capsys, *args, "-q", "-o", tmp_path / "golden.csv")
    assert rc == 0, err
    rc, err = run(capsys, *args, "-q", "--engine", "hdl", "-o", tmp_path / "hdl.csv")
    assert rc == 0, err
    golden = (tmp_path / "golden.csv").read_bytes()
    assert (tmp_path / "hdl.csv").read_bytes() == golden
    return read_out(tmp_path / "golden.csv")


# --------------------------------------------------------------------------
# 1. the shared PhysioNet files, golden engine
# --------------------------------------------------------------------------

@needs_data
@pytest.mark.parametrize("name", EDF_FILES)
def test_physionet_edf_golden(name, tmp_path, capsys):
    rc, err = run(capsys, EEG_DIR / name)
    assert rc == 0, err
    out = tmp_path / (Path(name).stem + "_mrp.csv")          # default output name
    head, rows = read_out(out)
    assert tuple(head) == EEG_CSV_COLUMNS
    ann = [a for a in read_edf(EEG_DIR / name).annotations if a[2] in ("T1", "T2")]
    assert len(ann) == 15
    check_rows(rows, EEG_CHANNELS, len(ann))
    assert [int(r["index"]) for r in rows[::7]] == [round(on * FS) for on, _, _ in ann]
    for r in rows:
        for b in ("BP", "mu", "beta"):
            v = float(r[f"{b}_dBu"])
            assert math.isfinite(v) and 20 <= v <= 90, (r, b)
    # summary: duration, sites, triggers per event, band means
    assert "125.0 s" in err and "T3=T7" in err and "T4=T8" in err
    assert "15 from annotations T1 (8), T2 (7)" in err
    assert "mean dBuV" in err and "BP " in err and "beta " in err


@needs_data
def test_physionet_events_and_map(tmp_path, capsys):
    """--events T0 (starts at 0 s: partial), --map with three sites: the others absent."""
    rc, err = run(capsys, EEG_DIR / "S001R03.edf", "--events", "T0", "--map", "C3=C3..,Cz=cz,C4=C4",
                  "-o", tmp_path / "t0.csv")
    assert rc == 0, err
    _, rows = read_out(tmp_path / "t0.csv")
    check_rows(rows, ("C3", "C4", "Cz"), 15)
    assert rows[0]["flags"] == "partial" and rows[0]["index"] == "0"
    assert "absent (no rows): T3, T4, P3, P4" in err


def test_format_db_exact():
    assert format_db_q(DB_FLOOR) == "-inf"
    assert format_db_q(60 * 256) == "60.00"
    assert format_db_q(32767) == "127.99609375"
    assert format_db_q(-1) == "-0.00390625"
    for raw in (-32767, -300, 1, 12345, 15485):
        assert float(format_db_q(raw)) * 256 == raw


# --------------------------------------------------------------------------
# 2. golden vs simulated gateware (two short hdl runs in all)
# --------------------------------------------------------------------------

@needs_data
@needs_iverilog
def test_hdl_matches_golden_on_physionet_cut(tmp_path, capsys):
    """10 s of S001R03 at 160 Hz as CSV (5000 frames), P4 left out, triggers
    from its annotations T0/T2/T0 at 0, 4.2, 8.3 s (the first one partial)."""
    sites = EEG_CHANNELS[:-1]
    rec, trig, ann = edf_cut_csv(tmp_path / "r03_10s.csv", 10.0, sites)
    assert [t for _, t in ann] == ["T0", "T2", "T0"]
    _, rows = golden_vs_hdl(capsys, tmp_path, rec, "--triggers", trig)
    check_rows(rows, sites, 3)
    assert [int(r["index"]) for r in rows[::6]] == [0, 2100, 4150]
    # frame 0: one sample under the Hann window's tail -> tiny or no power (-inf)
    assert all(float(r["BP_dBu"]) < 0 for r in rows[:6])
    assert "-inf" in {r["BP_dBu"] for r in rows[:6]}
    assert all(20 <= float(r[f"{b}_dBu"]) <= 90 for r in rows[6:] for b in ("BP", "mu", "beta"))


@needs_iverilog
def test_hdl_matches_golden_with_emg_triggers(tmp_path, capsys):
    """Synthetic walk: EMG (8 muscles, 500 Hz, no time column) and EEG of equal
    length (2576 frames); triggers = LG onsets of both legs (6)."""
    from synthetic.eeg_gen import generate_eeg
    from synthetic.emg_gen import generate_walk
    walk = generate_walk(0, n_strides=2)
    n = len(walk.emg)
    uv = walk.to_uv()
    write_table(tmp_path / "emg.csv", list(EMG_CHANNELS),
                [[f"{v:.4f}" for v in row] for row in uv])
    lg = np.concatenate([walk.onsets[EMG_CHANNELS.index("L_LG")],
                         walk.onsets[EMG_CHANNELS.index("R_LG")]])
    eeg = generate_eeg(0, n_samples=n, movement_onsets=lg)
    assert eeg.uv_per_lsb == 0.1
    write_table(tmp_path / "eeg.tsv", ["time"] + list(EEG_CHANNELS),
                [[f"{i / FS:.3f}"] + [f"{c / 10:.1f}" for c in row]
                 for i, row in enumerate(eeg.eeg)], delim="\t")
    _, rows = golden_vs_hdl(capsys, tmp_path, tmp_path / "eeg.tsv", "--emg", tmp_path / "emg.csv",
                            "--emg-fs", 500)
    idx = sorted({int(r["index"]) for r in rows})
    assert 4 <= len(idx) <= 6
    check_rows(rows, EEG_CHANNELS, len(idx))
    for i in idx:                       # each trigger close after a true LG onset
        assert np.min(np.abs(lg - i)) <= 25
    # the counts went in unchanged: the golden model on the generator's own counts
    from golden.eeg_pipeline import run_golden_eeg
    trig = np.zeros(n, np.uint8)
    trig[idx] = 1
    ref = run_golden_eeg(eeg.eeg, trig)
    assert [format_db_q(r["BP"]) for r in ref] == [r["BP_dBu"] for r in rows]


# --------------------------------------------------------------------------
# 3. bad input: exit 2, one line on stderr, nothing written
# --------------------------------------------------------------------------

def _small_csv(path, seconds=2.0, sites=EEG_CHANNELS, fs=250, nan_at=None):
    rng = np.random.default_rng(3)
    n = int(seconds * fs)
    x = 20 * rng.standard_normal((n, len(sites)))
    rows = [[f"{i / fs:.4f}"] + [f"{v:.3f}" for v in r] for i, r in enumerate(x)]
    if nan_at is not None:
        rows[nan_at][2] = "nan"
    return write_table(path, ["time"] + list(sites), rows)


def _trig(path, text):
    path.write_text(text)
    return path


# name -> (setup(tmp_path) -> list of args, substring expected in the message)
BAD = {
    "missing recording": (lambda d: [d / "nope.edf"], "no such file"),
    "empty EDF": (lambda d: [_touch(d / "e.edf")], "empty"),
    "truncated EDF": (lambda d: [_truncated_edf(d)], "truncated"),
    "nan in CSV": (
        lambda d: [
            _small_csv(d / "r.csv", nan_at=100),
            "--triggers",
            _trig(d / "t.csv", "time_s\n1.0\n"),
        ],
        "not a finite number",
    ),
    "unknown site in --map": (
        lambda d: [
            _small_csv(d / "r.csv"),
            "--map",
            "X9=C3",
            "--triggers",
            _trig(d / "t.csv", "time_s\n1.0\n"),
        ],
        "unknown EEG site 'X9'",
    ),
    "unknown column in --map": (
        lambda d: [
            _small_csv(d / "r.csv"),
            "--map",
            "C3=C5",
            "--triggers",
            _trig(d / "t.csv", "time_s\n1.0\n"),
        ],
        "no column 'C5'",
    ),
    "nothing maps": (
        lambda d: [
            _small_csv(d / "r.csv", sites=("a", "b")),
            "--triggers",
            _trig(d / "t.csv", "time_s\n1.0\n"),
        ],
        "named like an EEG site",
    ),
    "CSV without trigger source": (lambda d: [_small_csv(d / "r.csv")], "no trigger source"),
    "annotations from CSV": (
        lambda d: [_small_csv(d / "r.csv"), "--triggers-from", "annotations"],
        "no annotations",
    ),
    "two trigger sources": (
        lambda d: [
            _small_csv(d / "r.csv"),
            "--triggers",
            _trig(d / "t.csv", "time_s\n1.0\n"),
            "--emg",
            d / "emg.csv",
        ],
        "one trigger source",
    ),
    "trigger file missing": (
        lambda d: [_small_csv(d / "r.csv"), "--triggers", d / "no.csv"],
        "no such file",
    ),
    "trigger file without time column": (
        lambda d: [
            _small_csv(d / "r.csv"),
            "--triggers",
            _trig(d / "t.csv", "onset,event\n1.0,T1\n"),
        ],
        "needs a column time_s or time",
    ),
    "trigger file header only": (
        lambda d: [_small_csv(d / "r.csv"), "--triggers", _trig(d / "t.csv", "time_s\n")],
        "no triggers found",
    ),
    "trigger file empty": (
        lambda d: [_small_csv(d / "r.csv"), "--triggers", _trig(d / "t.csv", "")],
        "empty",
    ),
    "trigger time not a number": (
        lambda d: [_small_csv(d / "r.csv"), "--triggers", _trig(d / "t.csv", "time\n0.5\nx\n")],
        "data row 2",
    ),
    "trigger after the end": (
        lambda d: [_small_csv(d / "r.csv"), "--triggers", _trig(d / "t.csv", "time_s\n0.5\n2.0\n")],
        "outside the recording",
    ),
    "trigger sample out of range": (
        lambda d: [_small_csv(d / "r.csv"), "--triggers", _trig(d / "t.csv", "sample\n1000\n")],
        "outside the recording",
    ),
    "trigger sample not whole": (
        lambda d: [_small_csv(d / "r.csv"), "--triggers", _trig(d / "t.csv", "sample\n10.5\n")],
        "whole frame",
    ),
    "bad unit": (
        lambda d: [
            _small_csv(d / "r.csv"),
            "--unit",
            "kV",
            "--triggers",
            _trig(d / "t.csv", "time_s\n1.0\n"),
        ],
        "--unit 'kV'",
    ),
    "bad --uv-per-lsb": (
        lambda d: [
            _small_csv(d / "r.csv"),
            "--uv-per-lsb",
            "0",
            "--triggers",
            _trig(d / "t.csv", "time_s\n1.0\n"),
        ],
        "--uv-per-lsb",
    ),
    "sample rate too low": (
        lambda d: [
            _small_csv(d / "r.csv", fs=50),
            "--triggers",
            _trig(d / "t.csv", "time_s\n1.0\n"),
        ],
        "too low",
    ),
    "EMG length differs": (
        lambda d: [_small_csv(d / "r.csv"), "--emg", _emg_csv(d, 4.0)],
        "must match to 1 s",
    ),
    "EMG without LG": (
        lambda d: [_small_csv(d / "r.csv"), "--emg", _emg_csv(d, 2.0), "--emg-map", "R_TA=R_TA"],
        "no LG muscle",
    ),
    "EMG option without --emg": (
        lambda d: [
            _small_csv(d / "r.csv"),
            "--emg-fs",
            "500",
            "--triggers",
            _trig(d / "t.csv", "time_s\n1.0\n"),
        ],
        "only apply with --emg",
    ),
    "unknown option": (lambda d: [_small_csv(d / "r.csv"), "--bogus"], "unrecognized arguments"),
    "unknown option value": (
        lambda d: [_small_csv(d / "r.csv"), "--engine", "fpga"],
        "invalid choice",
    ),
}


def _touch(path):
    path.write_bytes(b"")
    return path


def _truncated_edf(d):
    src = EEG_DIR / "S001R03.edf"
    if not src.exists():
        pytest.skip(f"shared EEG data not found at {EEG_DIR}")
    data = src.read_bytes()
    path = d / "cut.edf"
    path.write_bytes(data[:len(data) // 3])
    return path


def _emg_csv(d, seconds):
    rng = np.random.default_rng(5)
    n = int(seconds * FS)
    rows = [[f"{i / FS:.3f}", f"{v:.2f}"] for i, v in enumerate(rng.standard_normal(n))]
    return write_table(d / "emg.csv", ["time", "R_LG" if seconds > 3 else "R_TA"], rows)


@pytest.mark.parametrize("case", list(BAD))
def test_bad_input(case, tmp_path, capsys):
    setup, expect = BAD[case]
    args = setup(tmp_path)
    before = sorted(p.name for p in tmp_path.iterdir())
    with_exit = None
    try:
        rc, err = run(capsys, *args, "-o", tmp_path / "out.csv")
    except SystemExit as e:          # argparse usage errors
        with_exit = e.code
        rc, err = with_exit, capsys.readouterr().err
    assert rc == 2
    lines = err.splitlines()
    assert len(lines) == 1 and err.endswith("\n"), err
    assert lines[0].startswith("sw.extract: error: ")
    assert expect in lines[0], lines[0]
    only_file(tmp_path, *before)


def test_default_output_not_written_on_error(tmp_path, capsys):
    rec = _small_csv(tmp_path / "r.csv")
    rc, err = run(capsys, rec, "--triggers", _trig(tmp_path / "t.csv", "time_s\n9\n"))
    assert rc == 2 and len(err.splitlines()) == 1
    only_file(tmp_path, "r.csv", "t.csv")


def test_hdl_without_iverilog(tmp_path, capsys, monkeypatch):
    rec = _small_csv(tmp_path / "r.csv")
    trig = _trig(tmp_path / "t.csv", "time_s\n1.0\n")
    monkeypatch.setattr(shutil, "which", lambda name, *a, **k: None)
    rc, err = run(capsys, rec, "--triggers", trig, "--engine", "hdl", "-o", tmp_path / "out.csv")
    assert rc == 2 and len(err.splitlines()) == 1
    assert "apt-get install iverilog" in err
    only_file(tmp_path, "r.csv", "t.csv")


# --------------------------------------------------------------------------
# 4. smaller behaviours
# --------------------------------------------------------------------------

def test_csv_units_samples_and_duplicates(tmp_path, capsys):
    """mV input equals µV input x 1000; sample and time triggers agree; duplicates merge."""
    rec = _small_csv(tmp_path / "uv.csv", seconds=3.0, sites=("C3", "Cz"))
    head, *rows = [ln.split(",") for ln in rec.read_text().splitlines()]
    write_table(tmp_path / "mv.csv", head,
                [[r[0]] + [repr(float(v) / 1000) for v in r[1:]] for r in rows])
    t1 = _trig(tmp_path / "t1.csv", "time_s,event\n0.3,a\n1.2,b\n1.2008,c\n2.9,d\n")
    t2 = _trig(tmp_path / "t2.csv", "sample\n150\n600\n1450\n")
    rc, err = run(capsys, rec, "--triggers", t1, "-o", "a.csv")
    assert rc == 0, err
    assert "1 on an already triggered frame merged" in err
    assert "absent (no rows): T3, T4, C4, P3, P4" in err
    rc, err = run(
        capsys, tmp_path / "mv.csv", "--unit", "mV", "--triggers", t2, "-q", "-o", "b.csv"
    )
    assert rc == 0 and err == ""
    a, b = (tmp_path / "a.csv").read_bytes(), (tmp_path / "b.csv").read_bytes()
    assert a == b
    _, rows = read_out(tmp_path / "a.csv")
    check_rows(rows, ("C3", "Cz"), 3)
    assert rows[0]["flags"] == "partial"


def test_clipping_reported(tmp_path, capsys):
    rec = _small_csv(tmp_path / "r.csv", sites=("C3",))
    trig = _trig(tmp_path / "t.csv", "time_s\n1.5\n")
    rc, err = run(capsys, rec, "--triggers", trig, "--uv-per-lsb", "0.0005", "-o", "o.csv")
    assert rc == 0, err
    assert "C3:" in err and "clipped" in err
