"""Nothing lost, nothing crashes: every writer refuses to replace what it did not write
(:func:`spec.outputs.check_output_file`, :class:`spec.outputs.OutputFolder`), and the data-loss
cases of issue #13 are refused with one line."""

import os
import select
import signal
import stat
import subprocess
import sys
import time
import tty
from pathlib import Path

import numpy as np
import pytest

from spec import cli, outputs

ROOT = Path(__file__).resolve().parents[1]


def _cli(*args, cwd=None):
    env = dict(os.environ, PYTHONPATH=str(ROOT))
    return subprocess.run([sys.executable, "-m", *map(str, args)], capture_output=True,
                          text=True, cwd=cwd, env=env)


def _one_line(text):
    lines = text.strip().splitlines()
    assert len(lines) == 1, text
    assert "Traceback" not in text
    return lines[0]


def _tree(folder):
    """{relative path: bytes} of every file under ``folder`` (symlinks by their target)."""
    out = {}
    for d, _, files in os.walk(folder):
        for fn in files:
            p = os.path.join(d, fn)
            rel = os.path.relpath(p, folder)
            if os.path.islink(p):
                out[rel] = ("link", os.readlink(p))
            elif stat.S_ISFIFO(os.lstat(p).st_mode):
                out[rel] = "fifo"
            else:
                out[rel] = Path(p).read_bytes()
    return out


# ------------------------------------------------------------------ spec.cli helpers

def test_check_output_file_refuses_special_files_inputs_and_missing_folders(tmp_path):
    rec = tmp_path / "rec.edf"
    rec.write_bytes(b"recording")
    (tmp_path / "link").symlink_to(rec)
    os.mkfifo(tmp_path / "fifo")
    (tmp_path / "d").mkdir()
    os.link(rec, tmp_path / "hard.edf")
    cases = {
        "": "empty",
        str(tmp_path / "link"): "symbolic link",
        str(tmp_path / "fifo"): "not a regular file",
        str(tmp_path / "d"): "is a directory",
        str(rec): "is the input file",
        str(tmp_path / "d" / ".." / "rec.edf"): "is the input file",
        str(tmp_path / "hard.edf"): "is the input file",
        str(tmp_path / "nowhere" / "o.csv"): "does not exist",
        str(rec / "o.csv"): "",                              # a path through a regular file
    }
    for path, words in cases.items():
        with pytest.raises(cli.InputError) as e:
            outputs.check_output_file(path, [rec])
        assert words in str(e.value) and "\n" not in str(e.value)
    assert outputs.check_output_file(tmp_path / "new.csv", [rec]) == str(tmp_path / "new.csv")
    assert (tmp_path / "link").is_symlink() and rec.read_bytes() == b"recording"


def test_atomic_writers_never_replace_a_symlink_or_fifo(tmp_path):
    target = tmp_path / "t.txt"
    target.write_text("keep")
    (tmp_path / "link").symlink_to(target)
    os.mkfifo(tmp_path / "fifo")
    for name in ("link", "fifo"):
        with pytest.raises(cli.InputError):
            outputs.write_text_atomic(tmp_path / name, "new")
    assert (tmp_path / "link").is_symlink() and target.read_text() == "keep"
    assert stat.S_ISFIFO(os.lstat(tmp_path / "fifo").st_mode)
    assert sorted(os.listdir(tmp_path)) == ["fifo", "link", "t.txt"]


def test_output_folder_refuses_what_the_tool_did_not_write(tmp_path):
    user = tmp_path / "user"
    (user / "keep").mkdir(parents=True)
    (user / "keep" / "f").write_text("d")
    for path, force in ((user, False), (user, True)):
        with pytest.raises(cli.InputError) as e:
            outputs.OutputFolder(path, "sw.example", force=force)
        assert "not empty and was not written by sw.example" in str(e.value)
    with pytest.raises(cli.InputError, match="empty folder name"):
        outputs.OutputFolder("", "sw.example")
    f = tmp_path / "file"
    f.write_text("x")
    for path in (f, f / "sub"):
        with pytest.raises(cli.InputError, match="not a folder"):
            outputs.OutputFolder(path, "sw.example")
    other = tmp_path / "other"
    with outputs.OutputFolder(other, "sw.other") as tmp:
        Path(tmp, "a.txt").write_text("a")
    with pytest.raises(cli.InputError, match="holds the output of sw.other"):
        outputs.OutputFolder(other, "sw.example", force=True)
    assert _tree(user) == {"keep/f": b"d"}


def test_output_folder_replaces_only_its_own_files_with_force(tmp_path):
    out = tmp_path / "o"
    with outputs.OutputFolder(out, "sw.example") as tmp:
        Path(tmp, "a.txt").write_text("1")
        os.mkdir(Path(tmp, "c"))
        Path(tmp, "c", "x.c").write_text("1")
    (out / "notes.txt").write_text("mine")                 # the user's, beside the outputs
    (out / "c" / "mine.c").write_text("mine")
    with pytest.raises(cli.InputError, match="add --force"):
        outputs.OutputFolder(out, "sw.example")
    with pytest.raises(cli.InputError, match="input"):      # an input among the files replaced
        outputs.OutputFolder(out, "sw.example", force=True, inputs=[out / "a.txt"])
    with outputs.OutputFolder(out, "sw.example", force=True) as tmp:
        Path(tmp, "b.txt").write_text("2")
    assert _tree(out) == {"notes.txt": b"mine", "c/mine.c": b"mine", "b.txt": b"2",
                          outputs.MARKER: b"sw.example\nb.txt\n"}
    with pytest.raises(cli.InputError, match="notes.txt exists and was not written"):
        with outputs.OutputFolder(out, "sw.example", force=True) as tmp:
            Path(tmp, "notes.txt").write_text("new")
    assert (out / "notes.txt").read_text() == "mine" and (out / "b.txt").read_text() == "2"
    assert not [p for p in os.listdir(out) if p.startswith(".wotrack-partial")]


def test_shared_output_folder_leaves_other_tools_folders_alone(tmp_path):
    """make run's out/ after make fog: out/fog carries sw.train_fog's marker, so sw.demo
    (shared=True) may write beside it without --force and never touches it; an unmarked
    folder or file of the user's still makes out/ foreign."""
    out = tmp_path / "out"
    with outputs.OutputFolder(out / "fog", "sw.train_fog") as tmp:
        Path(tmp, "metrics.json").write_text("{}")
    (out / "har" / ".wotrack-partial-x1").mkdir(parents=True)   # sw.train_har writing now
    before = _tree(out)
    with pytest.raises(cli.InputError, match="not empty and was not written"):
        outputs.OutputFolder(out, "sw.demo")                  # not shared: refused
    with outputs.OutputFolder(out, "sw.demo", shared=True) as tmp:
        Path(tmp, "strides_S1_pre.csv").write_text("x")
    after = _tree(out)
    assert {k: v for k, v in after.items() if k.startswith(("fog/", "har/"))} == before
    assert after["strides_S1_pre.csv"] == b"x"
    user = tmp_path / "user"
    (user / "photos").mkdir(parents=True)
    (user / "photos" / "a.jpg").write_bytes(b"\xff")
    with pytest.raises(cli.InputError, match="not empty and was not written"):
        outputs.OutputFolder(user, "sw.demo", shared=True, force=True)


def test_output_folder_leaves_nothing_on_ctrl_c(tmp_path):
    out = tmp_path / "a" / "b"
    with pytest.raises(KeyboardInterrupt):
        with outputs.OutputFolder(out, "sw.example") as tmp:
            Path(tmp, "half.txt").write_text("x")
            raise KeyboardInterrupt
    assert os.listdir(tmp_path) == []                       # the folders it made are gone too


def test_output_folder_shared_by_a_tool_family_keeps_each_runs_files(tmp_path):
    """keep=True: bench.report and bench.validate share one folder, each replaces its own files."""
    out = tmp_path / "results"
    with outputs.OutputFolder(out, "bench", keep=True) as tmp:
        Path(tmp, "REPORT.md").write_text("r1")
    (out / "notes.txt").write_text("mine")
    with pytest.raises(cli.InputError, match="add --force"):
        outputs.OutputFolder(out, "bench", keep=True)
    with outputs.OutputFolder(out, "bench", force=True, keep=True) as tmp:
        Path(tmp, "VALIDATION.md").write_text("v1")
    with outputs.OutputFolder(out, "bench", force=True, keep=True) as tmp:
        Path(tmp, "REPORT.md").write_text("r2")
    assert _tree(out) == {"REPORT.md": b"r2", "VALIDATION.md": b"v1", "notes.txt": b"mine",
                          outputs.MARKER: b"bench\nREPORT.md\nVALIDATION.md\n"}
    with pytest.raises(cli.InputError, match="notes.txt exists and was not written by bench"):
        with outputs.OutputFolder(out, "bench", force=True, keep=True) as tmp:
            Path(tmp, "notes.txt").write_text("new")
    assert (out / "notes.txt").read_text() == "mine"


def test_scratch_folder_claims_only_new_empty_or_its_own(tmp_path):
    work = outputs.scratch_folder(tmp_path / "w", "bench.report")
    assert _tree(work) == {outputs.MARKER: b"bench.report\n"}
    (work / "cache.json").write_text("{}")
    assert outputs.scratch_folder(work, "bench.report") == work      # its own: reused
    with pytest.raises(cli.InputError, match="--work .* holds the output of bench.report"):
        outputs.scratch_folder(work, "sw.other")
    user = tmp_path / "user"
    user.mkdir()
    (user / "f").write_text("d")
    with pytest.raises(cli.InputError, match="not a bench.report working folder"):
        outputs.scratch_folder(user, "bench.report")
    assert _tree(user) == {"f": b"d"}
    for bad, msg in (("", "empty folder name"), (str(user / "f"), "not a folder")):
        with pytest.raises(cli.InputError, match=msg):
            outputs.scratch_folder(bad, "bench.report")


# ------------------------------------------------------------- 1. boards.de10_nano --out

def test_de10_nano_build_never_deletes_a_user_folder(tmp_path, capsys, monkeypatch):
    from boards import de10_nano
    user = tmp_path / "x"
    (user / "keep").mkdir(parents=True)
    (user / "keep" / "f").write_text("d\n")
    for out in (str(user), ".", ""):
        monkeypatch.chdir(user if out == "." else tmp_path)
        rc = de10_nano.main(["build", "--out", out])
        err = _one_line(capsys.readouterr().err)
        assert rc == 2 and err.startswith("boards.de10_nano: error: --out"), err
    assert _tree(tmp_path) == {"x/keep/f": b"d\n"}


# ----------------------------------------------------- 2. sw.train_dnn --out holding inputs

@pytest.mark.parametrize("tool", ["train_dnn", "train_all"])
def test_training_refuses_a_folder_holding_its_input(small_cohort, tmp_path, capsys, tool):
    import importlib

    from sw.cohort import MUSCULAR_COLUMNS, read_cohort
    mod = importlib.import_module(f"sw.{tool}")
    u = tmp_path / "u"
    u.mkdir()
    df = read_cohort(str(small_cohort))
    paths = []
    for sid, g in df.groupby("subject"):                 # valid per-stride CSVs of the user's
        paths.append(str(u / f"{sid}.csv"))
        g[["subject", "session", "leg", "start_s", *MUSCULAR_COLUMNS]].to_csv(paths[-1],
                                                                                index=False)
    before = _tree(u)
    for extra in ([], ["--force"]):
        rc = mod.main(["--features", *paths, "--out", str(u), *extra])
        err = capsys.readouterr().err                   # a progress line, then the error
        assert "Traceback" not in err
        err = err.strip().splitlines()[-1]
        assert rc == 2 and "not empty and was not written" in err
    assert _tree(u) == before


def test_cohort_never_replaces_foreign_files(tmp_path, capsys):
    from sw import cohort
    out = tmp_path / "c"
    out.mkdir()
    (out / "cohort.csv").write_text("my own table\n")         # not a cohort's (no cohort.json)
    assert cohort.main(["--out", str(out), "--walks", "1", "--steps", "2"]) == 2
    assert "did not write" in _one_line(capsys.readouterr().err)
    assert cohort.main(["--out", "", "--walks", "1", "--steps", "2"]) == 2
    _one_line(capsys.readouterr().err)
    assert _tree(out) == {"cohort.csv": b"my own table\n"}
    (out / "cohort.json").write_text('{"my": "json"}')      # JSON, but not a cohort's
    (out / "notes.txt").write_text("n\n")
    before = _tree(out)
    assert cohort.main(["--out", str(out), "--walks", "1", "--steps", "2"]) == 2
    assert "did not write" in _one_line(capsys.readouterr().err)
    assert _tree(out) == before


def test_feature_select_never_replaces_a_users_table(tmp_path, capsys):
    """sw.feature_select writes table1.csv/.md into the cohort folder: in a folder sw.cohort
    did not write, files of those names are the user's -- refused, one line, exit 2."""
    from sw import feature_select
    d = tmp_path / "mine"
    d.mkdir()
    (d / "cohort.csv").write_text("subject\n")
    (d / "table1.md").write_text("my notes\n")
    before = _tree(d)
    assert feature_select.main(["--cohort", str(d)]) == 2
    assert "not one sw.cohort wrote" in _one_line(capsys.readouterr().err)
    assert _tree(d) == before


# ---------------------------------------------- 3. -o onto the input, a symlink or a FIFO

def test_extract_and_samples_file_never_replace_the_input_or_a_node(tmp_path):
    rec = tmp_path / "rec.edf"
    rec.write_bytes(b"0       recording that must survive")
    (tmp_path / "link").symlink_to(rec)
    os.mkfifo(tmp_path / "fifo")
    before = _tree(tmp_path)
    runs = []
    for o in ("rec.edf", "./rec.edf", "link", "fifo"):
        runs.append((("sw.extract", "eeg", "rec.edf", "-o", o), o))
        runs.append((("sw.extract", "emg", "rec.edf", "--fs", "1000", "-o", o), o))
        runs.append((("sw.samples_file", "--eeg", "rec.edf", "--eeg-fs", "500", "-o", o), o))
    runs.append((("sw.samples_file", "--synthetic", "2", "-o", "link"), "link"))
    runs.append((("sw.samples_file", "--synthetic", "2", "-o", "fifo"), "fifo"))
    for args, o in runs:
        r = _cli(*args, cwd=tmp_path)
        err = _one_line(r.stderr)
        assert r.returncode == 2, (args, err)
        assert err.startswith(f"{args[0]}: error: -o {o}"), (args, err)
        assert _tree(tmp_path) == before, args


# ---------------------------------------------- 6. samples_file -o errors leave nothing

def test_samples_file_output_errors_are_one_line_and_leave_nothing(tmp_path):
    (tmp_path / "d").mkdir()
    (tmp_path / "f").write_text("x")
    for o, words, status in (("nowhere/o.bin", "does not exist", 2),
                             ("d", "is a directory", 2),
                             ("f/o.bin", "Not a directory", 2),
                             ("", "empty file name", 2),
                             ("/proc/self/o.bin", "cannot write there", 1)):
        r = _cli("sw.samples_file", "--synthetic", "2", "-o", o, cwd=tmp_path)
        err = _one_line(r.stderr)
        assert r.returncode == status and words in err, (o, err)
        assert _tree(tmp_path) == {"f": b"x"} and os.listdir(tmp_path / "d") == []
    for value in ("inf", "nan", "1", "1e12"):
        r = _cli("sw.samples_file", "--synthetic", value, "-o", "o.bin", cwd=tmp_path)
        err = _one_line(r.stderr)
        assert r.returncode == 2 and "--synthetic needs at least 2 seconds" in err
    assert _tree(tmp_path) == {"f": b"x"}


# ------------------------------------------------------- 7. samples_file options honoured

def _write_csv(path, header, rows):
    with open(path, "w") as f:
        f.write(",".join(header) + "\n")
        for r in rows:
            f.write(",".join(f"{v:.3f}" for v in r) + "\n")


def test_samples_file_option_combinations_are_usage_errors(tmp_path):
    _write_csv(tmp_path / "emg.csv", ["R_LG", "R_TA"], np.ones((600, 2)))
    for args, words in ((["--synthetic", "2", "--emg", "emg.csv"], "--emg cannot be used"),
                        (["--synthetic", "2", "--fs", "500"], "--fs cannot be used"),
                        (["--eeg", "emg.csv", "--fs", "500"], "--fs needs --emg"),
                        (["--emg", "emg.csv", "--fs", "500", "--eeg-fs", "500"],
                         "--eeg-fs needs --eeg")):
        r = _cli("sw.samples_file", *args, "-o", "o.bin", cwd=tmp_path)
        err = _one_line(r.stderr)
        assert r.returncode == 2 and words in err and "--help" in err, (args, err)
    assert sorted(os.listdir(tmp_path)) == ["emg.csv"]


def test_samples_file_says_when_it_cuts_a_modality(tmp_path):
    seed = 5
    print("seed", seed)
    rng = np.random.default_rng(seed)
    _write_csv(tmp_path / "emg.csv", ["R_LG", "R_TA"], rng.normal(0, 100, (1500, 2)))
    _write_csv(tmp_path / "eeg.csv", ["C3", "C4"], rng.normal(0, 10, (1000, 2)))
    r = _cli("sw.samples_file", "--emg", "emg.csv", "--fs", "500", "--eeg", "eeg.csv",
             "--eeg-fs", "500", "-o", "o.bin", cwd=tmp_path)
    assert r.returncode == 0, r.stderr
    warn = _one_line(r.stderr)
    assert "warning: EMG cut from 3.0 s to the other's 2.0 s (500 samples dropped)" in warn
    assert (tmp_path / "o.bin").stat().st_size == 1000 * 40
    assert (tmp_path / "o.bin").stat().st_mode & 0o777 == 0o666 & ~_umask()


def _umask():
    m = os.umask(0o022)
    os.umask(m)
    return m


def test_samples_file_reports_the_frames_sent_before_ctrl_c():
    master, slave = os.openpty()
    tty.setraw(slave)
    env = dict(os.environ, PYTHONPATH=str(ROOT))
    p = subprocess.Popen([sys.executable, "-m", "sw.samples_file", "--synthetic", "6",
                          "--port", os.ttyname(slave)],
                         stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=env)
    got = bytearray()
    name = os.ttyname(slave)
    t0 = time.monotonic()
    try:
        while len(got) < 800 * 40:                          # ~1.6 s of the 6 s stream
            if select.select([master], [], [], 0.2)[0]:
                got += os.read(master, 65536)
            assert p.poll() is None and time.monotonic() - t0 < 60
        p.send_signal(signal.SIGINT)
        while p.poll() is None or select.select([master], [], [], 0.2)[0]:
            if select.select([master], [], [], 0.2)[0]:
                got += os.read(master, 65536)
            assert time.monotonic() - t0 < 60
        err = p.stderr.read()
    finally:
        p.stdout.close()
        p.stderr.close()
        os.close(master)
        os.close(slave)
    assert p.returncode == 130, err
    last = err.strip().splitlines()[-1]
    assert last == f"interrupted: sent {len(got) // 40} of 3000 SAMPLES frames to {name}"
    assert 800 <= len(got) // 40 < 3000 and len(got) % 40 == 0
    assert "Traceback" not in err


# ------------------------------------------------- bench.report / bench.validate --out, --work

def _fake_validation(monkeypatch):
    from bench import validate

    def run(data, out, sim):
        Path(out, "uci_trigger_overlay.png").write_bytes(b"png")
        return {"mismatches": []}, "measured\n"
    monkeypatch.setattr(validate, "run", run)
    return validate


def test_bench_tools_share_their_folder_and_never_touch_the_users(tmp_path, capsys, monkeypatch):
    from bench import report
    validate = _fake_validation(monkeypatch)
    data = tmp_path / "data"
    data.mkdir()
    user = tmp_path / "user"
    user.mkdir()
    (user / "REPORT.md").write_text("my own report")
    nothing = ",".join(report.SECTIONS)
    args = ["--skip", nothing, "--work", str(tmp_path / "w")]
    assert report.main(args + ["--out", str(user), "--force"]) == 2
    assert validate.main(["--data", str(data), "--out", str(user), "--force"]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 2 and all("is not empty and was not written by bench" in e for e in err)
    assert _tree(user) == {"REPORT.md": b"my own report"}
    assert not (tmp_path / "w").exists()                    # nothing made before refusing

    out = tmp_path / "results"
    assert report.main(args + ["--out", str(out)]) == 0
    (out / "notes.txt").write_text("mine")
    assert validate.main(["--data", str(data), "--out", str(out)]) == 2     # needs --force
    assert "add --force" in capsys.readouterr().err
    assert validate.main(["--data", str(data), "--out", str(out), "--force"]) == 0
    first = (out / "REPORT.md").read_text()
    assert report.main(args + ["--out", str(out), "--force"]) == 0
    assert sorted(os.listdir(out)) == sorted([outputs.MARKER, "REPORT.md", "report.json",
                                              "VALIDATION.md", "validation.json",
                                              "uci_trigger_overlay.png", "notes.txt"])
    assert (out / "notes.txt").read_text() == "mine"
    assert (out / "VALIDATION.md").read_text().endswith("measured\n")
    assert "# Benchmark report" in first
    assert (out / outputs.MARKER).read_text().splitlines()[0] == "bench"


def test_bench_report_refuses_a_user_work_folder_and_a_special_readme(tmp_path, capsys):
    from bench import report
    work = tmp_path / "work"
    work.mkdir()
    (work / "thesis.tex").write_text("x")
    out = tmp_path / "o"
    nothing = ",".join(report.SECTIONS)
    assert report.main(["--skip", nothing, "--out", str(out), "--work", str(work)]) == 2
    assert "--work" in capsys.readouterr().err and not out.exists()
    os.symlink(tmp_path / "README.md", tmp_path / "link.md")
    assert report.main(["--skip", nothing, "--out", str(out), "--work", str(tmp_path / "w"),
                        "--readme", str(tmp_path / "link.md")]) == 2
    assert "symbolic link" in capsys.readouterr().err and not out.exists()
    assert _tree(work) == {"thesis.tex": b"x"}
