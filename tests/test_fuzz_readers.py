"""Property tests of the recording readers: whatever the bytes of the file, the only
exception that escapes is :class:`InputError` (the tools turn it into one line, exit 2),
and nothing is written next to the input.

* CSV reader (:func:`sw.recording.read_recording`, then the mapping, resampling and
  scaling of :func:`sw.recording.prepare_emg`) on arbitrary text and bytes, and on
  tables of nasty cells;
* UCI reader (same function, ``Channel N: 'NAME'`` headers) on generated headers and rows;
* EDF reader (:func:`sw.edf.read_edf`, then :func:`sw.eeg_input.load_eeg`) on a tiny valid
  EDF+ file with mutated bytes and header fields.

Derandomized (``derandomize=True``): every run draws the same examples, so a failure is
reproducible as is; hypothesis prints the falsifying example.
"""

import tempfile
from pathlib import Path

import numpy as np
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from sw.edf import read_edf
from sw.eeg_input import load_eeg
from sw.recording import InputError, mapped_matrix, prepare_emg, read_recording
from tests.test_edf import C3, TALS, sig, write_edf

SETTINGS = settings(max_examples=150, deadline=None, derandomize=True,
                    suppress_health_check=[HealthCheck.too_slow,
                                           HealthCheck.function_scoped_fixture])


def only_input_errors(fn, *args, **kw):
    """Run ``fn``; InputError is fine (one line), anything else fails the test."""
    try:
        return fn(*args, **kw)
    except InputError as e:
        assert "\n" not in str(e), str(e)
        return None


def check_file(data, name, read):
    """Write ``data`` to a fresh folder, run ``read(path)``, check nothing else appeared."""
    with tempfile.TemporaryDirectory() as d:
        path = Path(d) / name
        path.write_bytes(data)
        only_input_errors(read, path)
        assert [p.name for p in Path(d).iterdir()] == [name]
        assert path.read_bytes() == data


def read_csv_deep(path):
    """Read, then map every column and run the whole EMG preparation."""
    rec = read_recording(path)
    for name in rec.names:
        only_input_errors(mapped_matrix, rec, {"x": name})
    if rec.names:
        spec = ",".join(f"{s}={c}" for s, c in zip(("R_LG", "R_TA", "R_BF", "R_RF"), rec.names)
                        if "," not in c and "=" not in c)
        for fs in (None, 1000.0):
            only_input_errors(prepare_emg, path, fs=fs, map_spec=spec or None)
            only_input_errors(prepare_emg, path, fs=fs, map_spec=spec or None, full_scale=1.0)
    return rec


# ------------------------------------------------------------------ CSV

CELLS = st.one_of(
    st.floats(allow_nan=True, allow_infinity=True).map(repr),
    st.integers(-10**400, 10**400).map(str),
    st.sampled_from(["", " ", "nan", "-inf", "1e309", "1e-320", "0x10", "1_000", "--1",
                     '"', '"a,b"', "time", "R_LG", "\t", ";", "\x00", "é", "1,5"]),
    st.text(max_size=6),
)


@st.composite
def csv_tables(draw):
    delim = draw(st.sampled_from([",", "\t", ";"]))
    eol = draw(st.sampled_from(["\n", "\r\n", "\r"]))
    ncol = draw(st.integers(1, 4))
    head = draw(st.lists(st.sampled_from(["time", "t", "R_LG", "R_TA", "L_BF", "R_RF", "x",
                                          "", "Time", "R_LG "]),
                         min_size=ncol, max_size=ncol))
    if draw(st.booleans()):           # a well-formed time column, so later stages are reached
        n = draw(st.integers(0, 700))
        step = draw(st.sampled_from([0.001, 0.002, 0.004, 1e-300, 1e300, 0.0]))
        rows = [[repr(k * step)] + [repr(float(np.sin(k * (j + 1)))) for j in range(ncol - 1)]
                for k in range(n)]
        head[0] = "time"
        for _ in range(draw(st.integers(0, 3))):     # then spoil a few cells
            if rows:
                r = draw(st.integers(0, len(rows) - 1))
                c = draw(st.integers(0, ncol))
                rows[r][c % ncol] = draw(CELLS)
    else:
        rows = draw(st.lists(st.lists(CELLS, max_size=ncol + 1), max_size=30))
    text = eol.join(delim.join(r) for r in [head] + rows) + draw(st.sampled_from(["", eol]))
    return text.encode("utf-8", errors="surrogatepass")


@SETTINGS
@given(st.binary(max_size=400))
def test_csv_reader_arbitrary_bytes(data):
    check_file(data, "rec.csv", read_csv_deep)


@SETTINGS
@given(st.text(max_size=300))
def test_csv_reader_arbitrary_text(text):
    check_file(text.encode("utf-8", errors="surrogatepass"), "rec.csv", read_csv_deep)


@SETTINGS
@given(csv_tables())
def test_csv_reader_tables(data):
    check_file(data, "rec.csv", read_csv_deep)


# ------------------------------------------------------------------ UCI

HEADER_LINES = st.one_of(
    st.builds(lambda k, n, v: f"Channel {k}: '{n}', {v} values, engineering units: mV.",
              st.integers(0, 12), st.sampled_from(["RF", "BF", "Recto Femoral", "rf", "FX",
                                                   "Flexo-Extension", "", "Digitals combined",
                                                   "x'y", "time"]),
              st.integers(-1, 10**6)),
    st.builds(lambda v: f"Digitals combined (event=16, d=8, c=4, b=2, a=1): {v} values",
              st.integers(0, 100)),
    st.sampled_from(["File Name: marcha.log", "FILE NAME:", "Channel 3:", "Channel 1: RF, 5",
                     'Channel 2: "BF", 9 values', "", "   ", "comment", "Channel x: 'RF'"]),
    st.text(max_size=20).filter(lambda s: "\n" not in s and "\r" not in s),
)


@st.composite
def uci_files(draw):
    first = draw(st.sampled_from(["File Name: a.log", "Channel 1: 'RF', 3 values",
                                  "file name: b.log"]))
    ncol = draw(st.integers(1, 7))
    names = ["RF", "BF", "VM", "ST", "FX"] if draw(st.booleans()) else \
        ["Recto Femoral", "Biceps Femoral", "Vasto Medial", "EMG Semitendinoso", "Flexo"]
    head = [first] + [f"Channel {k + 1}: '{names[k % 5]}{k // 5 or ''}', 9 values"
                      for k in range(min(ncol, draw(st.integers(0, 7))))]
    if draw(st.booleans()):
        head.append("Digitals combined (event=16, d=8): 9 values")
    extra = draw(st.lists(HEADER_LINES, max_size=4))
    at = draw(st.integers(0, len(head)))
    head[at:at] = extra
    if draw(st.booleans()):
        n = draw(st.integers(0, 600))
        rows = ["\t".join(f"{np.sin(k + j):.4f}" for j in range(ncol)) for k in range(n)]
        for _ in range(draw(st.integers(0, 3))):
            if rows:
                r = draw(st.integers(0, len(rows) - 1))
                rows[r] = "\t".join(draw(st.lists(CELLS, max_size=ncol + 1)))
    else:
        rows = ["\t".join(r) for r in draw(st.lists(st.lists(CELLS, max_size=ncol + 1),
                                                    max_size=20))]
    blank = [""] if draw(st.booleans()) else []
    eol = draw(st.sampled_from(["\n", "\r\n", "\r"]))
    return (eol.join(head + blank + rows) + eol).encode("utf-8", errors="surrogatepass")


def read_uci_deep(path):
    rec = read_csv_deep(path)
    for fs in (1000.0, 250.0):
        for role, name in rec.roles.items():
            only_input_errors(prepare_emg, path, fs=fs, map_spec=f"R_RF={name}"
                              if "," not in name and "=" not in name else None)
    return rec


@SETTINGS
@given(uci_files())
def test_uci_reader(data):
    check_file(data, "walk.txt", read_uci_deep)


# ------------------------------------------------------------------ EDF

def tiny_edf():
    with tempfile.TemporaryDirectory() as d:
        wave = np.resize(C3, 320)           # 4 records of 0.5 s at 160 Hz
        p = write_edf(Path(d) / "x.edf", [sig("C3..", wave, 80),
                                          sig("Cz", wave[::-1], 80, unit="mV",
                                              pmin=-3.2768, pmax=3.2767,
                                              dmin=-32768, dmax=32767)],
                      4, duration=0.5, tals=TALS, annot_n=30)
        return p.read_bytes()


EDF = tiny_edf()
NS = 3
# (offset, width) of each header field: main header, then ns x each signal field
FIELDS = [(0, 8), (8, 80), (88, 80), (168, 8), (176, 8), (184, 8), (192, 44), (236, 8),
          (244, 8), (252, 4)]
_pos = 256
for _w in (16, 80, 8, 8, 8, 8, 8, 80, 8, 32):
    FIELDS += [(_pos + i * _w, _w) for i in range(NS)]
    _pos += NS * _w
HEADER = 256 * (NS + 1)

FIELD_VALUES = st.one_of(
    st.sampled_from(["", "0", "-1", "1", "-0", "+0", "1e308", "-1e308", "1e-320", "inf", "nan",
                     "-32768", "32767", "99999999", "1_0", "0x10", "EDF+C", "EDF+D", "EDF",
                     "EDF Annotations", "C3", "Cz..", " ", "\xff", "1e16", "4", "3", "2"]),
    st.integers(-10**9, 10**9).map(str),
    st.floats().map(repr),
    st.text(alphabet=st.characters(max_codepoint=255), max_size=8),
)


@st.composite
def mutated_edf(draw):
    data = bytearray(EDF)
    for _ in range(draw(st.integers(0, 4))):        # header fields replaced
        off, width = draw(st.sampled_from(FIELDS))
        value = draw(FIELD_VALUES).encode("latin-1")[:width].ljust(width)
        data[off:off + width] = value
    for _ in range(draw(st.integers(0, 6))):        # single bytes anywhere
        i = draw(st.integers(0, len(data) - 1))
        data[i] = draw(st.integers(0, 255))
    for _ in range(draw(st.integers(0, 3))):        # annotation bytes (TALs): text or NULs
        i = draw(st.integers(HEADER, len(data) - 1))
        data[i] = draw(st.sampled_from([0, 0x14, 0x15, ord("+"), ord("-"), ord("."),
                                        ord("1"), ord("e"), ord("x")]))
    cut = draw(st.sampled_from([None, None, None, 0, 100, 256, HEADER - 1, HEADER,
                                len(data) - 1, len(data) + 7]))
    if cut is not None:
        data = data[:cut] if cut <= len(data) else data + b"\x00" * (cut - len(data))
    return bytes(data)


def read_edf_deep(path):
    rec = read_edf(path)
    for fs in (None, 160.0):
        only_input_errors(load_eeg, path, fs=fs)
        only_input_errors(load_eeg, path, fs=fs, map_spec="C3=C3,Cz=Cz", unit="uV")
    return rec


def test_tiny_edf_is_valid(tmp_path):
    (tmp_path / "x.edf").write_bytes(EDF)
    rec = read_edf(tmp_path / "x.edf")
    assert rec.labels == ["C3", "Cz"] and rec.fs == {"C3": 160.0, "Cz": 160.0}
    assert load_eeg(tmp_path / "x.edf").n_in == 320


@SETTINGS
@given(mutated_edf())
def test_edf_reader_mutated(data):
    check_file(data, "rec.edf", read_edf_deep)


@SETTINGS
@given(st.binary(max_size=1200))
def test_edf_reader_arbitrary_bytes(data):
    check_file(b"0       " + data, "rec.edf", read_edf_deep)
