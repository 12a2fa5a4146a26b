"""Tests of the command line ``python -m sw.extract emg`` (sw/extract.py, sw/recording.py).

Everything runs in-process through :func:`sw.extract.main` inside ``tmp_path``
(the current directory is moved there too, so a default output name would land
in it and be seen by the "nothing written" checks).
"""

import csv
import re
import shutil
from pathlib import Path

import numpy as np
import pytest

from golden.stride_indexes_model import CSV_COLUMNS
from spec.channels import MUSCLES
from spec.constants import SHARED_DATA
from sw.extract import main

ROOT = Path(__file__).resolve().parents[1]
UCI_DIR = SHARED_DATA / "emg-lower-limb-uci"
UCI_FILES = [f"{i}{g}mar.txt" for g in "NA" for i in range(1, 9)]

FS_IN = 1000
PERIOD = 1.1          # s, stride period of the synthetic bursts
BURST = 0.3           # s, burst length
#: onset phase (s) of each muscle's burst inside the period, and its noise level
PHASE = {"LG": 0.30, "TA": 0.55, "BF": 0.80, "RF": 0.95}
NOISE = {"LG": 0.010, "TA": 0.004, "BF": 0.020, "RF": 0.007}   # electrode gains differ


@pytest.fixture(autouse=True)
def _in_tmp(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)


# --------------------------------------------------------------------------
# helpers
# --------------------------------------------------------------------------

def run(capsys, *argv):
    rc = main(["emg", *map(str, argv)])
    out, err = capsys.readouterr()
    assert out == "", "sw.extract must not print on stdout"
    return rc, err


def synth(seconds, legs=("R",), seed=0, fs=FS_IN):
    """Gaussian noise with bursts ~10x the noise every PERIOD s, per muscle slot."""
    rng = np.random.default_rng(seed)
    n = int(round(seconds * fs))
    t = np.arange(n) / fs
    sig = {}
    for leg in legs:
        shift = 0.0 if leg == "R" else PERIOD / 2
        for m in MUSCLES:
            gain = np.ones(n)
            for s in np.arange(PHASE[m] + shift, seconds, PERIOD):
                gain[(t >= s) & (t < s + BURST)] = 10.0
            sig[f"{leg}_{m}"] = NOISE[m] * gain * rng.standard_normal(n)
    return t, sig


def table(t, sig, names=None, time_name="time"):
    """Header + rows of strings; ``names`` renames the signal columns."""
    keys = list(sig)
    names = names or keys
    head = ([time_name] if time_name else []) + list(names)
    rows = []
    for i in range(len(t)):
        r = [f"{t[i]:.3f}"] if time_name else []
        rows.append(r + [f"{sig[k][i]:.6f}" for k in keys])
    return [head] + rows


def write(path, tab, delim=",", newline="\n", encoding="utf-8"):
    with open(path, "w", encoding=encoding, newline="") as f:
        f.write(newline.join(delim.join(r) for r in tab) + newline)
    return path


def read_out(path):
    with open(path, newline="") as f:
        rd = csv.reader(f)
        head = next(rd)
        return head, [dict(zip(head, r)) for r in rd]


def only_file(tmp_path, *names):
    """The folder holds exactly ``names`` (no output, no stray temporary file)."""
    assert sorted(p.name for p in tmp_path.iterdir()) == sorted(names)


def check_rows(rows, present):
    """Internal consistency of the per-stride rows of one recording."""
    absent = [m for m in MUSCLES if m not in present]
    by_leg = {}
    for r in rows:
        st = int(r["stride_time_ms"])
        assert st > 0 and st % 2 == 0
        assert r["flags"] == ""
        for m in present:
            c, rel = int(r[f"{m}_contraction_ms"]), int(r[f"{m}_relaxation_ms"])
            assert 0 <= c <= st and c + rel == st
            d = round(float(r[f"{m}_duty_pct"]) * 100)
            assert d == (c // 2) * 10000 // (st // 2)
        for m in absent:   # absent muscles: empty, never 0
            for q in ("contraction_ms", "relaxation_ms", "duty_pct"):
                assert r[f"{m}_{q}"] == ""
        for a, b in (("LG", "TA"), ("BF", "RF")):
            v = r[f"cocon_{a}_{b}_ms"]
            if a in present and b in present:
                assert 0 <= int(v) <= min(int(r[f"{a}_contraction_ms"]),
                                          int(r[f"{b}_contraction_ms"]))
            else:
                assert v == ""
        by_leg.setdefault(r["leg"], []).append(r)
    for leg, lr in by_leg.items():   # strides of a leg are back to back
        for r0, r1 in zip(lr, lr[1:]):
            end = float(r0["start_s"]) + int(r0["stride_time_ms"]) / 1000
            assert abs(end - float(r1["start_s"])) < 1e-6


# --------------------------------------------------------------------------
# 1. bad input: exit 2, one line on stderr, nothing written
# --------------------------------------------------------------------------

HEAD = ["time", "R_LG", "R_TA", "R_BF", "R_RF"]


def _small(n=2000):
    t, sig = synth(n / FS_IN, seed=1)
    return table(t, sig)


def _edit(row, col, value):
    def f(tab):
        tab[row][HEAD.index(col)] = value
        return tab
    return f


def _case_nonmonotonic(tab):
    tab[500][0], tab[501][0] = tab[501][0], tab[500][0]
    return tab


def _case_nonuniform(tab):
    for r in tab[1000:]:
        r[0] = f"{float(r[0]) + 0.0005:.4f}"
    return tab


def _case_truncated_last(tab):
    tab[-1] = tab[-1][:3]          # file cut mid-row: R_BF, R_RF missing
    return tab


def _case_truncated_middle(tab):
    tab[1200] = tab[1200][:2]
    return tab


def _case_blank_row_middle(tab):
    tab.insert(700, ["", "", "", ""])
    return [r[1:] for r in tab]    # no time column: a lost row would go unnoticed


def _case_too_many_cells(tab):
    tab[10].append("0.5")
    return tab


def _case_no_slot_names(tab):
    tab[0] = ["time", "a", "b", "c", "d"]
    return tab


def _case_no_time(tab):
    return [r[1:] for r in tab]


# name -> (text of the input file or function editing the small table, extra args,
#          substring expected in the message)
BAD = {
    "empty file": ("", [], "empty"),
    "blank lines only": ("\n\n  \n", [], "empty"),
    "separators only": (",,,\n,,,\n", ["--fs", 1000], "empty"),
    "header only": (",".join(HEAD) + "\n", [], "no data rows"),
    "uci header only": ("File Name: x.log\nChannel 1: 'RF', 0 values\n\n", ["--fs", 1000,
                        "--map", "R_RF=RF"], "no data rows"),
    "nan cell": (_edit(900, "R_TA", "nan"), [], "data row 900"),
    "inf cell": (_edit(900, "R_TA", "-inf"), [], "not a finite number"),
    "text cell": (_edit(901, "R_LG", "1.2.3"), [], "non-numeric"),
    "empty cell": (_edit(902, "R_BF", ""), [], "data row 902: empty cell"),
    "blank row in the middle": (_case_blank_row_middle, ["--fs", 1000], "empty cell"),
    "unknown column in --map": (None, ["--map", "R_LG=GL,R_TA=R_TA"], "no column 'GL'"),
    "unknown slot in --map": (None, ["--map", "X_LG=R_LG"], "unknown muscle slot 'X_LG'"),
    "slot twice in --map": (None, ["--map", "R_LG=R_LG,R_LG=R_TA"], "given twice"),
    "--map without =": (None, ["--map", "R_LG"], "not SLOT=COLUMN"),
    "no slot-named column": (_case_no_slot_names, [], "--map"),
    "non-monotonic time": (_case_nonmonotonic, [], "not strictly increasing"),
    "non-uniform time": (_case_nonuniform, [], "not uniformly sampled"),
    "nan in time": (_edit(300, "time", "nan"), [], "column 'time'"),
    "no time column, no --fs": (_case_no_time, [], "--fs"),
    "sample rate too low": (_case_no_time, ["--fs", 100], "too low"),
    "sample rate not positive": (_case_no_time, ["--fs", 0], "positive"),
    "--fs disagrees with time": (None, ["--fs", 2000], "disagrees"),
    "truncated last row": (_case_truncated_last, [], "data row 2000: empty cell"),
    "truncated row in the middle": (_case_truncated_middle, [], "data row 1200: empty cell"),
    "row with too many cells": (_case_too_many_cells, [], "data row 10 has 6 cells"),
    "--full-scale not positive": (None, ["--full-scale", -1], "positive"),
}


@pytest.mark.parametrize("case", list(BAD))
def test_bad_input(case, tmp_path, capsys):
    content, extra, expect = BAD[case]
    name = "rec.txt" if case.startswith("uci") else "rec.csv"
    path = tmp_path / name
    if isinstance(content, str):
        path.write_text(content)
    else:
        tab = _small()
        write(path, content(tab) if content else tab)
    rc, err = run(capsys, path, *extra, "-o", tmp_path / "out.csv")
    assert rc == 2
    lines = err.splitlines()
    assert len(lines) == 1 and err.endswith("\n"), err
    assert lines[0].startswith("sw.extract: error: ")
    assert expect in lines[0], lines[0]
    only_file(tmp_path, name)


def test_missing_file(tmp_path, capsys):
    rc, err = run(capsys, tmp_path / "nope.csv", "-o", tmp_path / "out.csv")
    assert rc == 2
    assert err.startswith("sw.extract: error: ") and len(err.splitlines()) == 1
    assert "no such file" in err
    only_file(tmp_path)


def test_recording_is_a_directory(tmp_path, capsys):
    (tmp_path / "d").mkdir()
    rc, err = run(capsys, tmp_path / "d")
    assert rc == 2 and len(err.splitlines()) == 1 and "is a directory" in err
    only_file(tmp_path, "d")
    assert not any((tmp_path / "d").iterdir())


def test_output_folder_missing(tmp_path, capsys):
    write(tmp_path / "rec.csv", _small())
    rc, err = run(capsys, tmp_path / "rec.csv", "-o", tmp_path / "nowhere" / "out.csv")
    assert rc == 2 and len(err.splitlines()) == 1
    assert err.startswith("sw.extract: error: ") and "does not exist" in err
    only_file(tmp_path, "rec.csv")


def test_output_is_a_directory(tmp_path, capsys):
    write(tmp_path / "rec.csv", _small())
    (tmp_path / "outdir").mkdir()
    rc, err = run(capsys, tmp_path / "rec.csv", "-o", tmp_path / "outdir")
    assert rc == 2 and len(err.splitlines()) == 1
    assert err.startswith("sw.extract: error: ") and "is a directory" in err
    only_file(tmp_path, "rec.csv", "outdir")
    assert not any((tmp_path / "outdir").iterdir())


# --------------------------------------------------------------------------
# 2. a good CSV named like the slots
# --------------------------------------------------------------------------

@pytest.fixture(scope="module")
def good(tmp_path_factory):
    """12 s at 1 kHz: time, R_LG, R_TA, R_BF, R_RF, plus L_TA and an unmapped knee column."""
    t, sig = synth(12.0, seed=3)
    sig["L_TA"] = synth(12.0, legs=("L",), seed=4)[1]["L_TA"]
    tab = table(t, sig)
    tab[0].append("knee")
    for i, r in enumerate(tab[1:]):
        r.append("" if i % 7 == 0 else f"{30 * np.sin(i / 200):.1f}")  # gaps: not mapped
    d = tmp_path_factory.mktemp("good")
    return tab, write(d / "walk.csv", tab)


@pytest.fixture(scope="module")
def good_ref(good, tmp_path_factory):
    """Output bytes of the good CSV, for comparisons."""
    out = tmp_path_factory.mktemp("good_ref") / "ref.csv"
    assert main(["emg", str(good[1]), "-q", "-o", str(out)]) == 0
    return out.read_bytes()


def test_good_csv(good, tmp_path, capsys):
    _, path = good
    rc, err = run(capsys, path, "-o", tmp_path / "out.csv")
    assert rc == 0, err
    head, rows = read_out(tmp_path / "out.csv")
    assert tuple(head) == CSV_COLUMNS
    assert "6000 samples at 500 Hz (12.0 s) from 1000 Hz" in err
    assert re.search(r"leg L: absent \(no L_LG .*TA ignored", err), err
    assert "leg R: LG, TA, BF, RF\n" in err
    assert {r["leg"] for r in rows} == {"R"}
    check_rows(rows, MUSCLES)
    # a stride per burst after the warm-up, starting at the LG onsets
    assert len(rows) >= 9
    st = np.array([int(r["stride_time_ms"]) for r in rows])
    assert np.all(np.abs(st - 1000 * PERIOD) <= 30), st
    start = np.array([float(r["start_s"]) for r in rows])
    phase = (start - PHASE["LG"]) % PERIOD
    assert np.all((phase < 0.04) | (phase > PERIOD - 0.01)), start
    for m in MUSCLES:   # the trigger releases ~30-120 ms after the burst (32 ms envelope)
        c = np.array([int(r[f"{m}_contraction_ms"]) for r in rows])
        assert np.all((c >= 1000 * BURST - 20) & (c <= 1000 * BURST + 130)), (m, c)
    co = np.array([int(r["cocon_LG_TA_ms"]) for r in rows])   # bursts overlap 50 ms
    assert np.all((co >= 30) & (co <= 200)), co
    assert f"wrote {len(rows)} strides to" in err


def test_default_output_name_and_quiet(good, tmp_path, capsys):
    _, path = good
    rc, err = run(capsys, path, "-q")
    assert rc == 0 and err == ""
    only_file(tmp_path, "walk_strides.csv")
    rc, _ = run(capsys, path, "-o", tmp_path / "explicit.csv")
    assert (tmp_path / "walk_strides.csv").read_bytes() == (tmp_path / "explicit.csv").read_bytes()


def _variant(name, tab):
    tab = [list(r) for r in tab]
    if name == "tab":
        return tab, dict(delim="\t"), []
    if name == "semicolon":
        return tab, dict(delim=";"), []
    if name == "bom+crlf":        # Excel's "CSV UTF-8"
        return tab, dict(encoding="utf-8-sig", newline="\r\n"), []
    if name == "Time":
        tab[0][0] = "Time"
        return tab, {}, []
    if name == "no time, --fs":
        return [r[1:] for r in tab], {}, ["--fs", 1000]
    if name == "trailing time-only rows":
        n = len(tab)
        tab += [[f"{(n - 1 + k) / FS_IN:.3f}"] for k in range(3)]
        tab.append([""] * len(tab[0]))
        return tab, {}, []
    raise KeyError(name)


@pytest.mark.parametrize("variant", ["tab", "semicolon", "bom+crlf", "Time", "no time, --fs",
                                     "trailing time-only rows"])
def test_format_variants_same_output(variant, good, good_ref, tmp_path, capsys):
    tab, path = good
    vtab, kw, extra = _variant(variant, tab)
    write(tmp_path / "v.csv", vtab, **kw)
    rc, err = run(capsys, tmp_path / "v.csv", *extra, "-o", tmp_path / "v_out.csv")
    assert rc == 0, err
    if variant == "trailing time-only rows":
        assert "3 trailing rows without EMG trimmed" in err
    assert (tmp_path / "v_out.csv").read_bytes() == good_ref


def test_clipping_is_reported(good, tmp_path, capsys):
    _, path = good
    rc, err = run(capsys, path, "--full-scale", 0.05, "-o", tmp_path / "out.csv")
    assert rc == 0
    # BF bursts reach ~10 x 0.02 x 4 sigma = 0.8 >> 0.05 full scale
    assert re.search(r"R_BF: \d+ samples clipped at the 16-bit rails", err), err


# --------------------------------------------------------------------------
# 3. --map with other names, a missing muscle, --stride-ref
# --------------------------------------------------------------------------

@pytest.fixture(scope="module")
def renamed(tmp_path_factory):
    t, sig = synth(12.0, seed=5)
    del sig["R_RF"]
    tab = table(t, sig, names=["gastro lat", "tib_ant", "biceps"], time_name="t")
    return write(tmp_path_factory.mktemp("renamed") / "walk.tsv", tab, delim="\t")


@pytest.mark.parametrize("ref", ["LG", "BF"])
def test_map_missing_muscle_and_stride_ref(ref, renamed, tmp_path, capsys):
    rc, err = run(capsys, renamed, "--map", "R_LG=gastro lat, R_TA=tib_ant ,R_BF=biceps",
                  "--stride-ref", ref, "-o", tmp_path / "out.csv")
    assert rc == 0, err
    head, rows = read_out(tmp_path / "out.csv")
    assert tuple(head) == CSV_COLUMNS
    assert "leg R: LG, TA, BF (absent: RF)" in err
    assert f"leg L: absent (no L_{ref} to mark strides)" in err
    assert len(rows) >= 9 and {r["leg"] for r in rows} == {"R"}
    check_rows(rows, ("LG", "TA", "BF"))
    assert all(r["RF_contraction_ms"] == "" and r["cocon_BF_RF_ms"] == "" for r in rows)
    st = np.array([int(r["stride_time_ms"]) for r in rows])
    assert np.all(np.abs(st - 1000 * PERIOD) <= 30), st
    start = np.array([float(r["start_s"]) for r in rows])
    phase = (start - PHASE[ref]) % PERIOD       # strides start at the reference's onsets
    assert np.all((phase < 0.04) | (phase > PERIOD - 0.01)), (ref, start)


def test_stride_ref_not_mapped_gives_no_rows(renamed, tmp_path, capsys):
    rc, err = run(capsys, renamed, "--map", "R_TA=tib_ant,R_BF=biceps",
                  "-o", tmp_path / "out.csv")
    assert rc == 0
    assert "leg R: absent (no R_LG to mark strides); TA, BF ignored" in err
    head, rows = read_out(tmp_path / "out.csv")
    assert tuple(head) == CSV_COLUMNS and rows == []


def test_map_both_legs(tmp_path, capsys):
    t, sig = synth(8.0, legs=("L", "R"), seed=6)
    write(tmp_path / "rec.csv", table(t, sig))
    rc, err = run(capsys, tmp_path / "rec.csv", "-o", tmp_path / "out.csv")
    assert rc == 0, err
    _, rows = read_out(tmp_path / "out.csv")
    check_rows(rows, MUSCLES)
    legs = [r["leg"] for r in rows]
    assert legs.count("L") >= 5 and legs.count("R") >= 5
    ends = [float(r["start_s"]) + int(r["stride_time_ms"]) / 1000 for r in rows]
    assert ends == sorted(ends)         # records in order of completion


# --------------------------------------------------------------------------
# 4. the shared UCI recordings
# --------------------------------------------------------------------------

def uci(name):
    path = UCI_DIR / name
    if not path.exists():
        pytest.skip(f"shared UCI recordings not found at {UCI_DIR} (see ../shared/data/README.md)")
    return path


def uci_map(path):
    """--map for RF and BF by the names the file carries (English or Spanish)."""
    names = re.findall(r"^\s*Channel\s+\d+\s*:\s*'([^']*)'", path.read_text(), re.M)
    assert len(names) == 5
    assert names[0] in ("RF", "Recto Femoral") and names[1] in ("BF", "Biceps Femoral"), names
    return f"R_RF={names[0]},R_BF={names[1]}", names


def uci_trailing_knee_only(path):
    """Rows at the end with knee angle but no EMG (fully blank lines ignored)."""
    rows = [ln.split("\t") for ln in path.read_text().split("\n\n", 1)[1].splitlines()
            if ln.strip()]
    k = 0
    while rows[-1 - k][0].strip() == "" and rows[-1 - k][1].strip() == "":
        k += 1
    return len(rows), k


@pytest.mark.parametrize("name", UCI_FILES)
def test_uci_file(name, tmp_path, capsys):
    path = uci(name)
    spec, names = uci_map(path)
    rc, err = run(capsys, path, "--fs", 1000, "--map", spec, "--stride-ref", "BF",
                  "-o", tmp_path / "out.csv")
    assert rc == 0, err
    n_rows, knee_only = uci_trailing_knee_only(path)
    if knee_only:
        assert f", {knee_only} trailing rows without EMG trimmed" in err
    else:
        assert "trimmed" not in err
    n = n_rows - knee_only
    assert f": {(n + 1) // 2} samples at 500 Hz" in err
    assert "leg R: BF, RF (absent: LG, TA)" in err and "leg L: absent" in err
    head, rows = read_out(tmp_path / "out.csv")
    assert tuple(head) == CSV_COLUMNS
    assert f"wrote {len(rows)} strides" in err
    assert {r["leg"] for r in rows} <= {"R"}
    check_rows(rows, ("BF", "RF"))
    if name[1] == "N":
        assert len(rows) > 0


def test_uci_role_codes_find_the_spanish_columns(tmp_path, capsys):
    """The A files name the channels in Spanish: the UCI role codes of --map (RF, BF) find
    them, with the same strides as the Spanish names; a name that is neither a column nor a
    role code is an error that lists the real column names."""
    path = uci("1Amar.txt")
    rc, err = run(capsys, path, "--fs", 1000, "--map", "R_RF=RF,R_BF=BF", "--stride-ref", "BF",
                  "-o", tmp_path / "codes.csv")
    assert rc == 0, err
    rc, err = run(capsys, path, "--fs", 1000, "--map",
                  "R_RF=Recto Femoral,R_BF=Biceps Femoral", "--stride-ref", "BF",
                  "-o", tmp_path / "names.csv")
    assert rc == 0, err
    assert (tmp_path / "codes.csv").read_bytes() == (tmp_path / "names.csv").read_bytes()
    assert len(read_out(tmp_path / "codes.csv")[1]) > 0
    rc, err = run(capsys, path, "--fs", 1000, "--map", "R_RF=XX,R_BF=BF",
                  "-o", tmp_path / "out.csv")
    assert rc == 2 and len(err.splitlines()) == 1
    assert "no column 'XX'" in err and "Recto Femoral, Biceps Femoral" in err
    assert not (tmp_path / "out.csv").exists()


def uci_cut(name, n_rows, dest):
    """Header and the first ``n_rows`` data rows of a UCI file."""
    text = uci(name).read_text()
    head, body = text.split("\n\n", 1)
    rows = body.splitlines()[:n_rows]
    dest.write_text(head + "\n\n" + "\n".join(rows) + "\n")
    return dest, head, rows


@pytest.mark.parametrize("defect", ["blank line", "knee-only row"])
def test_uci_gap_in_the_middle_is_an_error(defect, tmp_path, capsys):
    path, head, rows = uci_cut("1Nmar.txt", 3000, tmp_path / "cut.txt")
    rows[1500] = "\t\t\t\t" if defect == "blank line" else "\t\t\t\t12.5"
    path.write_text(head + "\n\n" + "\n".join(rows) + "\n")
    rc, err = run(capsys, path, "--fs", 1000, "--map", "R_RF=RF,R_BF=BF",
                  "--stride-ref", "BF", "-o", tmp_path / "out.csv")
    assert rc == 2 and len(err.splitlines()) == 1
    assert "data row 1501: empty cell" in err
    only_file(tmp_path, "cut.txt")


# --------------------------------------------------------------------------
# golden vs simulated gateware (two short hdl runs in all)
# --------------------------------------------------------------------------

needs_iverilog = pytest.mark.skipif(
    shutil.which("iverilog") is None,
    reason="Icarus Verilog not found: `apt-get install iverilog` (or `make setup`) "
           "to run the --engine hdl tests")


def golden_vs_hdl(capsys, tmp_path, path, *args):
    rc, err = run(capsys, path, *args, "-q", "-o", tmp_path / "golden.csv")
    assert rc == 0, err
    rc, err = run(capsys, path, *args, "-q", "--engine", "hdl", "-o", tmp_path / "hdl.csv")
    assert rc == 0, err
    golden = (tmp_path / "golden.csv").read_bytes()
    assert (tmp_path / "hdl.csv").read_bytes() == golden
    return read_out(tmp_path / "golden.csv")[1]


@needs_iverilog
def test_hdl_matches_golden_on_uci(tmp_path, capsys):
    """1Nmar.txt cut to 5000 rows at 1 kHz -> 2500 fabric samples."""
    path, _, _ = uci_cut("1Nmar.txt", 5000, tmp_path / "1N_cut.txt")
    rows = golden_vs_hdl(capsys, tmp_path, path, "--fs", 1000, "--map", "R_RF=RF,R_BF=BF",
                         "--stride-ref", "BF")
    assert len(rows) > 0


@needs_iverilog
def test_hdl_matches_golden_both_legs_missing_muscle(tmp_path, capsys):
    """Both legs, left RF missing: 6 s at 1 kHz -> 3000 fabric samples."""
    t, sig = synth(6.0, legs=("L", "R"), seed=7)
    del sig["L_RF"]
    write(tmp_path / "rec.csv", table(t, sig))
    rows = golden_vs_hdl(capsys, tmp_path, tmp_path / "rec.csv")
    legs = [r["leg"] for r in rows]
    assert legs.count("L") >= 2 and legs.count("R") >= 2
    assert all((r["RF_duty_pct"] == "") == (r["leg"] == "L") for r in rows)


@pytest.mark.parametrize("extra, expect", [
    (["--map", ",,,"], "--map is empty"),
    (["--map", ""], "--map is empty"),
    (["--full-scale", "inf"], "--full-scale must be a positive finite number"),
    (["--full-scale", "nan"], "--full-scale must be a positive finite number"),
])
def test_empty_map_and_non_finite_full_scale(extra, expect, tmp_path, capsys):
    write(tmp_path / "rec.csv", _small())
    rc, err = run(capsys, tmp_path / "rec.csv", *extra, "-o", tmp_path / "out.csv")
    assert rc == 2 and len(err.splitlines()) == 1 and expect in err, err
    only_file(tmp_path, "rec.csv")


def test_cr_only_line_endings_read_like_lf(tmp_path, capsys):
    write(tmp_path / "lf.csv", _small())
    text = (tmp_path / "lf.csv").read_text()
    (tmp_path / "cr.csv").write_bytes(text.replace("\n", "\r").encode())
    for name in ("lf", "cr"):
        rc, err = run(capsys, tmp_path / f"{name}.csv", "-q", "-o", tmp_path / f"{name}.out")
        assert rc == 0, err
    assert (tmp_path / "cr.out").read_bytes() == (tmp_path / "lf.out").read_bytes()
