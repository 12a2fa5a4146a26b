"""Tests of ``python -m sw.extract batch`` and its execution layer :mod:`sw.batch` (issue 19).

Small synthetic recordings (bursts every 1.1 s, a few seconds long) are written to ``tmp_path``
in the folder and manifest layouts. The serial run (``--workers 0``, no cluster) is the
reference; a two-worker :class:`distributed.LocalCluster` must give the same bytes, a rerun
must skip and touch nothing, a bad recording must end in ``failures.csv``, and a worker that
dies mid-task must neither lose nor duplicate an output.

Warnings: ``pyproject.toml`` turns them into errors and none is filtered here -- the local
clusters of these tests (logs silenced) raise none with dask 2026.8 and bokeh 3.
"""

import csv
import os
from pathlib import Path

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings

from spec.constants import SHARED_DATA
from sw import extract
from sw.cohort import load_user_features
from tests import test_fuzz_cli as fuzz
from tests.test_extract import synth, table, write

KILL_MARKER = "WOTRACK_TEST_KILL_MARKER"
SECONDS = 8


def _recording(path, seed):
    t, sig = synth(SECONDS, legs=("R",), seed=seed)
    return write(path, table(t, sig))


def _folder(tmp_path):
    """Three recordings named so subject/session come from the file names."""
    d = tmp_path / "recs"
    d.mkdir()
    for k, name in enumerate(("P01_pre_a.csv", "P01_post_a.csv", "P02_pre.csv",
                              "P02_post.csv")):
        _recording(d / name, k)
    (d / "notes.md").write_text("not a recording\n")
    return d


def _batch(*argv):
    return extract.main(["batch", *map(str, argv), "-q"])


def _files(folder):
    """{name: bytes} of every file in ``folder`` (the batch writes no sub-folders)."""
    return {p.name: p.read_bytes() for p in sorted(Path(folder).iterdir()) if p.is_file()}


def _mtimes(folder):
    return {p.name: p.stat().st_mtime_ns for p in Path(folder).iterdir()}


def _rows(path):
    with open(path, newline="") as f:
        return list(csv.DictReader(f))


@pytest.fixture(scope="module")
def serial(tmp_path_factory):
    """The reference: the folder layout, no cluster."""
    tmp = tmp_path_factory.mktemp("serial")
    recs = _folder(tmp)
    out = tmp / "out"
    assert _batch(recs, "--out", out, "--workers", 0) == 0
    return recs, out


def test_serial_outputs_are_the_single_file_commands(serial, tmp_path, capsys):
    recs, out = serial
    names = sorted(p.stem for p in recs.glob("*.csv"))
    assert sorted(_files(out)) == sorted(
        [f"{n}_strides.csv" for n in names] + [f"{n}_strides.json" for n in names]
        + [".wotrack-output", "features.csv", "failures.csv"])
    for n in names:            # LG mapped: --stride-ref auto is LG, the emg command's default
        single = ["emg", str(recs / f"{n}.csv"), "-q", "-o", str(tmp_path / "x.csv")]
        assert extract.main(single) == 0
        assert (tmp_path / "x.csv").read_bytes() == (out / f"{n}_strides.csv").read_bytes()
    rows = _rows(out / "features.csv")
    assert list(rows[0])[:5] == ["subject", "severity", "session", "walk", "recording"]
    assert {(r["recording"], r["subject"], r["session"]) for r in rows} == {
        ("P01_post_a", "P01", "post"), ("P01_pre_a", "P01", "pre"), ("P02_post", "P02", "post"),
        ("P02_pre", "P02", "pre")}
    assert [r["recording"] for r in rows] == sorted(r["recording"] for r in rows)
    assert _rows(out / "failures.csv") == []
    table_rows = load_user_features([str(out / "features.csv")])   # sw.train_dnn's reader
    assert len(table_rows) == len(rows) > 8


@pytest.mark.parametrize("name, want", [("P01_pre_walk2.csv", ("P01", "pre")),
                                        ("sub-03_ses-OFF_emg.txt", ("sub-03", "off")),
                                        ("on_x.csv", ("", "on")), ("1Nmar.txt", ("1N", "")),
                                        ("12Apie.txt.gz", ("12A", "")), ("walk.csv", ("", "")),
                                        ("preston.csv", ("", ""))])
def test_subject_and_session_from_the_file_name(name, want):
    assert extract.names_from_file(name) == want


def test_two_workers_give_the_same_bytes(serial, tmp_path):
    recs, ref = serial
    out = tmp_path / "out"
    assert _batch(recs, "--out", out, "--workers", 2) == 0
    assert _files(out) == _files(ref) or _same_but_sidecars(out, ref)


def _same_but_sidecars(a, b):
    fa, fb = _files(a), _files(b)
    assert fa.keys() == fb.keys()
    for k in fa:
        if not k.endswith(".json"):          # sidecars name the input path only
            assert fa[k] == fb[k], k
    return True


def test_rerun_skips_and_a_changed_input_reruns_only_it(tmp_path, capsys):
    recs = _folder(tmp_path)
    out = tmp_path / "out"
    assert _batch(recs, "--out", out, "--workers", 0) == 0
    before, stamps = _files(out), _mtimes(out)
    capsys.readouterr()
    assert _batch(recs, "--out", out, "--workers", 0) == 0
    assert "0 extracted, 4 unchanged and skipped" in capsys.readouterr().err
    assert _mtimes(out) == stamps and _files(out) == before          # touched nothing
    _recording(recs / "P02_pre.csv", 99)                              # a new recording there
    assert _batch(recs, "--out", out, "--workers", 0) == 0
    assert "1 extracted, 3 unchanged and skipped" in capsys.readouterr().err
    now = _mtimes(out)
    changed = sorted(k for k in now if now[k] != stamps[k])
    assert changed == ["P02_pre_strides.csv", "P02_pre_strides.json", "features.csv"]
    (out / "P01_pre_a_strides.csv").write_text("edited\n")           # a damaged output: redone
    assert _batch(recs, "--out", out, "--workers", 0) == 0
    assert "1 extracted, 3 unchanged" in capsys.readouterr().err
    assert (out / "P01_pre_a_strides.csv").read_bytes() == before["P01_pre_a_strides.csv"]


def test_a_bad_recording_is_reported_and_the_others_complete(tmp_path, capsys):
    recs = _folder(tmp_path)
    (recs / "P03_pre.csv").write_text("time,R_LG\n0.000,1\n0.001,nan\n")
    out = tmp_path / "out"
    capsys.readouterr()
    assert _batch(recs, "--out", out, "--workers", 0) == 1
    err = capsys.readouterr().err
    assert "1 failed" in err and "failed: " in err and "P03_pre.csv" in err
    fail = _rows(out / "failures.csv")
    assert len(fail) == 1 and fail[0]["recording"] == "P03_pre"
    assert fail[0]["file"].endswith("P03_pre.csv") and "\n" not in fail[0]["reason"]
    assert not (out / "P03_pre_strides.csv").exists()
    assert {r["recording"] for r in _rows(out / "features.csv")} == {
        "P01_post_a", "P01_pre_a", "P02_post", "P02_pre"}


def kill_once(job):
    """A batch task whose worker process dies the first time it meets ``P01_pre_a`` (a marker
    file remembers it), then runs :func:`sw.extract.extract_recording`."""
    marker = os.environ[KILL_MARKER]
    if job["name"] == "P01_pre_a" and not os.path.exists(marker):
        Path(marker).write_text(str(os.getpid()))
        os._exit(1)
    return extract.extract_recording(job)


def test_a_killed_worker_loses_and_duplicates_nothing(serial, tmp_path, monkeypatch):
    recs, ref = serial
    marker = tmp_path / "killed"
    monkeypatch.setenv(KILL_MARKER, str(marker))
    out = tmp_path / "out"
    args = extract.build_parser().parse_args(["batch", str(recs), "--out", str(out),
                                              "--workers", "2", "-q"])
    assert extract.run_batch(args, task=kill_once) == 0
    assert marker.exists()                                   # a worker did die
    assert _same_but_sidecars(out, ref)                      # every output once, same bytes
    assert not [p for p in os.listdir(out) if p.startswith(".tmp")]


def test_manifest_paths_resolve_against_its_folder(tmp_path, capsys):
    recs = _folder(tmp_path)
    m = tmp_path / "study"
    (m / "more").mkdir(parents=True)
    _recording(m / "more" / "walk.csv", 5)
    (m / "manifest.csv").write_text(
        "path,subject,session,kind,map,recording\n"
        "../recs/P01_pre_a.csv,A,off,emg,,a_off\n"
        "more/walk.csv,A,on,,\"R_LG=R_LG,R_TA=R_TA\",a_on\n"
        f"{recs / 'P02_pre.csv'},B,pre,emg,,b_pre\n")
    out = tmp_path / "out"
    assert _batch(m / "manifest.csv", "--out", out, "--workers", 0) == 0
    rows = _rows(out / "features.csv")
    assert [(r["recording"], r["subject"], r["session"]) for r in rows
            if r["stride"] == "0" and r["leg"] == "R"] == [
        ("a_off", "A", "off"), ("a_on", "A", "on"), ("b_pre", "B", "pre")]
    on = [r for r in rows if r["recording"] == "a_on"]
    assert on and all(r["BF_duty_pct"] == "" and r["LG_duty_pct"] for r in on)   # its own map


@pytest.mark.parametrize("argv, words", [
    (["--workers", "-1"], "--workers must be"),
    (["--workers", "2", "--scheduler", "tcp://localhost:8786"], "not both"),
    (["--scheduler", "http://x"], "--scheduler"),
    (["--map", ",,,"], "--map is empty"),
    (["--fs", "nan"], "--fs must be"),
    (["--retries", "-2"], "--retries"),
    (["--full-scale", "inf"], "full-scale"),
    (["--stride-ref", "XX"], "invalid choice"),
])
def test_bad_options_exit_2_and_write_nothing(tmp_path, capsys, argv, words):
    recs = _folder(tmp_path)
    before = _files(recs)
    out = tmp_path / "out"
    try:
        rc = _batch(recs, "--out", out, *argv)
    except SystemExit as e:
        rc = e.code
    err = capsys.readouterr().err
    assert rc == 2 and len(err.strip().splitlines()) == 1 and words in err, err
    assert not out.exists() and _files(recs) == before


def test_bad_inputs_exit_2_and_write_nothing(tmp_path, capsys):
    recs = _folder(tmp_path)
    out = tmp_path / "out"
    empty = tmp_path / "empty"
    empty.mkdir()
    man = tmp_path / "m.csv"
    cases = {"no such": [tmp_path / "none"], "no recordings": [empty]}
    for text, words in (("file,subject\nx.csv,A\n", "unknown column 'file'"),
                        ("path,kind\nx.csv,ecg\n", "kind 'ecg'"),
                        ("path,map\nx.csv,R_XX=a\n", "unknown muscle slot"),
                        (f"path\n{recs / 'P02_pre.csv'}\n{recs / 'P02_pre.csv'}\n",
                         "would both write")):
        man.write_text(text)
        assert _batch(man, "--out", out) == 2
        err = capsys.readouterr().err
        assert words in err and len(err.strip().splitlines()) == 1, err
    for words, argv in cases.items():
        assert _batch(*argv, "--out", out) == 2
        assert words in capsys.readouterr().err
    assert not out.exists()
    mine = tmp_path / "mine"                                   # a folder of the user's
    mine.mkdir()
    (mine / "keep.txt").write_text("mine\n")
    assert _batch(recs, "--out", mine, "--workers", 0) == 2
    assert "not empty" in capsys.readouterr().err
    assert _files(mine) == {"keep.txt": b"mine\n"}


def test_run_tasks_keeps_the_item_order_and_reports_a_failure():
    from sw.batch import Failed, run_tasks
    got = run_tasks(_half, [4, 1, 6], workers=0, say=lambda m: None)
    assert got[0] == 2 and got[2] == 3
    assert isinstance(got[1], Failed) and "odd" in got[1].reason
    assert np.isfinite(got[0])


def _half(x):
    if x % 2:
        raise ValueError(f"{x} is odd")
    return x // 2


UCI = SHARED_DATA / "emg-lower-limb-uci"


@pytest.mark.skipif(not UCI.is_dir(), reason=f"shared UCI data not found at {UCI}")
def test_uci_walks_as_the_single_file_command(tmp_path, capsys):
    """The issue's command on two shared UCI walks (a manifest): the A file's Spanish header
    is found by role, BF marks the strides (auto), and each output is the single-file
    command's with the real column names."""
    man = tmp_path / "m.csv"
    man.write_text(f"path\n{UCI / '1Nmar.txt'}\n{UCI / '1Amar.txt'}\n")
    out = tmp_path / "out"
    assert _batch(man, "--out", out, "--workers", 0, "--fs", 1000,
                  "--map", "R_RF=RF,R_BF=BF") == 0
    for name, spec in (("1Nmar", "R_RF=RF,R_BF=BF"),
                       ("1Amar", "R_RF=Recto Femoral,R_BF=Biceps Femoral")):
        single = tmp_path / f"{name}.csv"
        assert extract.main(["emg", str(UCI / f"{name}.txt"), "--fs", "1000", "--map", spec,
                             "--stride-ref", "BF", "-q", "-o", str(single)]) == 0
        assert single.read_bytes() == (out / f"{name}_strides.csv").read_bytes()
    assert {r["recording"] for r in _rows(out / "features.csv")} == {"1Nmar", "1Amar"}


def test_distributed_tuning_environment():
    from spec.cli import InputError
    from sw.dnn_tune import distributed_role
    assert distributed_role({}) is None
    env = {"KERASTUNER_TUNER_ID": "chief", "KERASTUNER_ORACLE_IP": "127.0.0.1",
           "KERASTUNER_ORACLE_PORT": "8000"}
    assert distributed_role(env) == "chief"
    assert distributed_role({**env, "KERASTUNER_TUNER_ID": "tuner1"}) == "tuner1"
    with pytest.raises(InputError, match="not KERASTUNER_ORACLE_PORT"):
        distributed_role({k: v for k, v in env.items() if k != "KERASTUNER_ORACLE_PORT"})
    with pytest.raises(InputError, match="not a port"):
        distributed_role({**env, "KERASTUNER_ORACLE_PORT": "http"})


def test_train_dnn_refuses_half_a_distributed_setup(monkeypatch, tmp_path, capsys):
    from sw import train_dnn
    monkeypatch.setenv("KERASTUNER_TUNER_ID", "tuner0")
    monkeypatch.delenv("KERASTUNER_ORACLE_IP", raising=False)
    monkeypatch.delenv("KERASTUNER_ORACLE_PORT", raising=False)
    out = tmp_path / "t"
    assert train_dnn.main(["--tune", "--features", str(tmp_path / "none.csv"),
                           "--out", str(out)]) == 2
    err = capsys.readouterr().err
    assert len(err.strip().splitlines()) == 1 and "KERASTUNER_ORACLE_IP" in err
    assert not out.exists()


EDF = SHARED_DATA / "eeg-motor-physionet" / "S001R03.edf"


@pytest.mark.skipif(not EDF.is_file(), reason=f"shared PhysioNet EDF not found at {EDF}")
def test_an_eeg_recording_is_the_eeg_commands_output(tmp_path):
    man = tmp_path / "m.csv"
    man.write_text(f"path,subject,recording\n{EDF},S001,r03\nnone.txt,S001,gone\n")
    out = tmp_path / "out"
    assert _batch(man, "--out", out, "--workers", 0) == 1              # none.txt is missing
    assert extract.main(["eeg", str(EDF), "-q", "-o", str(tmp_path / "single.csv")]) == 0
    assert (out / "r03_mrp.csv").read_bytes() == (tmp_path / "single.csv").read_bytes()
    assert _rows(out / "features.csv") == []                           # EMG strides only
    fail = _rows(out / "failures.csv")
    assert [(r["recording"], r["reason"]) for r in fail] == [
        ("gone", f"no such file ({tmp_path / 'none.txt'})")]


def test_an_unreachable_scheduler_is_one_line_and_writes_nothing(tmp_path, capsys,
                                                                  monkeypatch):
    from sw import batch
    monkeypatch.setattr(batch, "CONNECT_TIMEOUT", 1)
    recs = _folder(tmp_path)
    out = tmp_path / "out"
    assert _batch(recs, "--out", out, "--scheduler", "tcp://127.0.0.1:9") == 1
    err = [ln for ln in capsys.readouterr().err.splitlines() if "error" in ln]
    assert len(err) == 1 and "cannot reach the Dask scheduler" in err[0]
    assert not out.exists()


BATCH_OPTIONS = ["--out", "--fs", "--map", "--full-scale", "--stride-ref", "--retries",
                 "--scheduler", "--workers", "--engine"]


@settings(max_examples=40, deadline=None, derandomize=True,
          suppress_health_check=[HealthCheck.too_slow])
@given(fuzz._argv(BATCH_OPTIONS, [".", "rec.csv", "sub"]))
def test_hostile_batch_command_lines(argv):
    """Whatever the command line: status 0, 1 (a recording failed: reported, the others'
    outputs written) or 2 (bad option: one error line, nothing written), never a traceback
    (as tests/test_fuzz_cli.py for the single-file commands). Runs in this process:
    ``--workers 0``, the golden engine, and no scheduler to wait for."""
    for opt, value in (("--engine", "golden"), ("--scheduler", None), ("--workers", "0")):
        while opt in argv:
            i = argv.index(opt)
            del argv[i:i + 2]
        if value is not None:
            argv += [opt, value]
    status, err, written = fuzz._run(extract.main, ["batch"] + argv)
    assert status in (0, 1, 2) and "Traceback" not in err, (argv, status, err)
    if status == 2:
        assert len([ln for ln in err.splitlines() if "error" in ln]) == 1, (argv, err)
        assert not written, (argv, written)
    elif status == 1:
        assert "failed: " in err or "error" in err, (argv, err)


def test_a_local_cluster_reports_its_dashboard_and_a_scheduler_its_workers():
    """Progress names where the work runs: a local cluster with its dashboard address (bokeh
    is a dependency), and an existing cluster reached by its address with its worker count."""
    from distributed import LocalCluster

    from sw.batch import open_client
    with open_client(workers=1) as (client, where):
        assert where.startswith("local cluster, 1 worker process, dashboard http://"), where
        assert client.submit(sum, [1, 2]).result() == 3
    with LocalCluster(n_workers=1, threads_per_worker=1, processes=False,
                      dashboard_address=None) as cluster:
        with open_client(scheduler=cluster.scheduler_address) as (client, where):
            assert where.startswith(f"cluster {cluster.scheduler_address} (1 worker)"), where
            assert client.submit(sum, [3, 4]).result() == 7


def test_a_changed_pipeline_reruns_every_recording(tmp_path, monkeypatch, capsys):
    """The resume key includes the pipeline's digest (its sources and library versions): when
    the code that computes the outputs changes, nothing is skipped."""
    recs = _folder(tmp_path)
    out = tmp_path / "out"
    assert _batch(recs, "--out", out, "--workers", 0) == 0
    capsys.readouterr()
    real = extract._pipeline
    monkeypatch.setattr(extract, "_pipeline", lambda kind, engine: real(kind, engine) + "-new")
    assert _batch(recs, "--out", out, "--workers", 0) == 0
    assert "4 extracted, 0 unchanged" in capsys.readouterr().err
    monkeypatch.setattr(extract, "_pipeline", real)
    assert _batch(recs, "--out", out, "--workers", 0) == 0
    assert "4 extracted, 0 unchanged" in capsys.readouterr().err      # back: the sidecars differ
