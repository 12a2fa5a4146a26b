"""Tests of the recording reader (sw/recording.py) on small files written here.

* the UCI lower-limb format variants of the full public archive
  (``../shared/data/README.md``, emg-lower-limb-uci): a sixth ``Digitals combined``
  column, channel names in other cases and wordings, header lines without a blank
  line before the data;
* CSV files with ``\\r`` (old Mac) and ``\\r\\n`` line endings;
* ``--map`` holding no pair and non-finite ``--full-scale`` values: one-line errors.
"""

import math

import numpy as np
import pytest

from sw.recording import (
    UCI_DIGITAL,
    InputError,
    mapped_matrix,
    parse_map,
    prepare_emg,
    read_recording,
    to_fabric,
    uci_role,
)

RNG = np.random.default_rng(13)
N = 1200                                  # 1.2 s at 1 kHz
DATA = np.round(RNG.normal(0, 0.05, (N, 4)), 4)
KNEE = np.round(30 + 25 * np.sin(np.arange(N) / 160), 1)


def uci_text(names, digital=False, blank=True, first="File Name: marcha.log", eol="\n",
             knee_hz="1000"):
    head = [first] if first else []
    for i, n in enumerate(names):
        unit = "deg" if i == 4 else "mV"
        extra = (", extrapolated from 50 to 1000 samples per second"
                 if i == 4 and knee_hz == "50" else "")
        head.append(f"Channel {i + 1}: '{n}', {N} values, engineering units: {unit}, "
                    f"no filters{extra}.")
    if digital:
        head.append(f"Digitals combined (event=16, d=8, c=4, b=2, a=1): {N} values")
    rows = []
    for k in range(N):
        cells = [f"{v:g}" for v in DATA[k]] + [f"{KNEE[k]:g}"]
        if digital:
            cells.append(str(16 * (k % 500 == 0)))
        rows.append("\t".join(cells))
    return eol.join(head + ([""] if blank else []) + rows) + eol


ENGLISH = ["RF", "BF", "VM", "ST", "FX"]
SPANISH = ["Recto Femoral", "Biceps Femoral", "Vasto Medial", "EMG Semitendinoso",
           "Flexo-Extension"]
VARIANTS = {
    "english": dict(names=ENGLISH),
    "spanish": dict(names=SPANISH),
    "digital column": dict(names=SPANISH, digital=True),
    "digital column, english": dict(names=ENGLISH, digital=True, knee_hz="50"),
    "lower case": dict(names=["recto femoral", "biceps femoral", "vasto medial",
                              "semitendinoso", "flexo"]),
    "other wording": dict(names=["Rectus Femoris", "Biceps femoris", "Vastus Medialis",
                                 "Semitendinosus", "Knee goniometer"]),
    "no blank line": dict(names=ENGLISH, blank=False),
    "no File Name line": dict(names=SPANISH, first=None),
    "CRLF": dict(names=ENGLISH, digital=True, eol="\r\n"),
    "CR only": dict(names=SPANISH, eol="\r"),
}
ROLES = ["RF", "BF", "VM", "ST", "FX"]


@pytest.mark.parametrize("variant", list(VARIANTS))
def test_uci_variants(variant, tmp_path):
    kw = VARIANTS[variant]
    path = tmp_path / "walk.txt"
    path.write_bytes(uci_text(**kw).encode())
    rec = read_recording(path)
    assert rec.names == kw["names"]                       # the digital column is left out
    assert UCI_DIGITAL not in rec.columns
    assert rec.fs is None
    assert list(rec.roles) == ROLES
    assert [rec.roles[r] for r in ROLES] == kw["names"]
    mat, trimmed = mapped_matrix(rec, {r: rec.roles[r] for r in ROLES})
    assert trimmed == 0
    assert np.array_equal(mat, np.column_stack([DATA, KNEE]))
    assert sorted(tmp_path.iterdir()) == [path]


def test_uci_digital_variant_same_samples_as_plain(tmp_path):
    plain, digital = tmp_path / "plain.txt", tmp_path / "digital.txt"
    plain.write_text(uci_text(SPANISH))
    digital.write_text(uci_text(SPANISH, digital=True))
    spec = "R_RF=Recto Femoral,R_BF=biceps femoral"        # column names match in any case
    a = prepare_emg(plain, fs=1000, map_spec=spec)
    b = prepare_emg(digital, fs=1000, map_spec=spec)
    assert np.array_equal(a[0], b[0]) and np.array_equal(a[1], b[1])
    assert a[2]["trimmed"] == b[2]["trimmed"] == 0


@pytest.mark.parametrize("name, role", [
    ("RF", "RF"), ("rf", "RF"), ("Recto Femoral", "RF"), ("Recto femoral", "RF"),
    ("rectus femoris", "RF"), ("Rectus Femoris", "RF"), ("BF", "BF"), ("Biceps Femoral", "BF"),
    ("Biceps femoris", "BF"), ("VM", "VM"), ("Vasto Medial", "VM"), ("Vastus Medialis", "VM"),
    ("ST", "ST"), ("EMG Semitendinoso", "ST"), ("Semitendinosus", "ST"), ("FX", "FX"),
    ("Flexo-Extension", "FX"), ("Flexo", "FX"), ("flexo-extensión", "FX"),
    ("Knee goniometer", "FX"), ("Goniometro", "FX"), ("EMG", None), ("Digitals combined", None),
    ("", None), ("T7", None),
])
def test_uci_role(name, role):
    assert uci_role(name) == role


def test_uci_ambiguous_role_left_out(tmp_path):
    path = tmp_path / "walk.txt"
    path.write_text(uci_text(["RF", "Rectus femoris", "VM", "ST", "FX"]))
    rec = read_recording(path)
    assert "RF" not in rec.roles and rec.roles["FX"] == "FX"


def test_uci_duplicate_names_rejected(tmp_path):
    path = tmp_path / "walk.txt"
    path.write_text(uci_text(["RF", "RF", "VM", "ST", "FX"]))
    with pytest.raises(InputError, match="duplicate column names"):
        read_recording(path)


def test_uci_trailing_knee_only_rows_still_trimmed(tmp_path):
    text = uci_text(ENGLISH, digital=True)
    path = tmp_path / "walk.txt"
    path.write_text(text + "\t\t\t\t12.5\t0\n\t\t\t\t12.4\t0\n")
    rec = read_recording(path)
    mat, trimmed = mapped_matrix(rec, {"R_RF": "RF", "R_BF": "bf"})
    assert trimmed == 2 and len(mat) == N


def csv_text(eol):
    t = np.arange(600) / 1000
    rows = ["time,R_LG,R_TA"] + [f"{a:.4f},{b:.4f},{c:.4f}" for a, b, c in
                                 zip(t, DATA[:600, 0], DATA[:600, 1])]
    return eol.join(rows) + eol


@pytest.mark.parametrize("eol", ["\n", "\r\n", "\r"])
def test_csv_line_endings(eol, tmp_path):
    path = tmp_path / "rec.csv"
    path.write_bytes(csv_text(eol).encode())
    rec = read_recording(path)
    assert rec.names == ["R_LG", "R_TA"] and math.isclose(rec.fs, 1000)
    mat, _ = mapped_matrix(rec, {"R_LG": "R_LG", "R_TA": "R_TA"})
    assert np.array_equal(mat, np.round(DATA[:600, :2], 4))


@pytest.mark.parametrize("spec", [",,,", "", " , ", ","])
def test_map_without_pairs(spec):
    with pytest.raises(InputError, match="--map is empty"):
        parse_map(spec, ("R_LG", "R_TA"))


@pytest.mark.parametrize("spec", [",,,", ""])
def test_prepare_emg_map_without_pairs(spec, tmp_path):
    path = tmp_path / "rec.csv"
    path.write_text(csv_text("\n"))
    with pytest.raises(InputError, match="--map is empty"):
        prepare_emg(path, map_spec=spec)


@pytest.mark.parametrize("value", [math.inf, -math.inf, math.nan, 0.0, -1.0, 5e-324])
def test_full_scale_not_positive_finite(value, tmp_path):
    path = tmp_path / "rec.csv"
    path.write_text(csv_text("\n"))
    with pytest.raises(InputError, match="--full-scale"):
        prepare_emg(path, full_scale=value)
    with pytest.raises(InputError, match="--full-scale"):
        to_fabric(np.zeros((4, 1)), value)


def test_column_names_case_insensitive_but_unambiguous(tmp_path):
    path = tmp_path / "rec.csv"
    path.write_text("a,A,b\n" + "1,2,3\n" * 3)
    rec = read_recording(path)
    assert mapped_matrix(rec, {"x": "B"})[0][:, 0].tolist() == [3, 3, 3]
    with pytest.raises(InputError, match="no column 'a '"):
        mapped_matrix(rec, {"x": "a "})                  # 'a' and 'A': ambiguous
