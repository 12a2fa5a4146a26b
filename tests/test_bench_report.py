"""``python -m bench.report``: figures in REPORT.md are the measured ones in report.json."""

import json
import re

import pytest

from bench import report
from sim.hdl_build import simulator_missing


def test_unknown_section_is_refused(tmp_path, capsys):
    assert report.main(["--skip", "trigger,nonsense", "--out", str(tmp_path)]) == 2
    assert "unknown section 'nonsense'" in capsys.readouterr().err
    assert not (tmp_path / "REPORT.md").exists()


@pytest.mark.skipif(simulator_missing() is not None, reason=simulator_missing() or "")
def test_trigger_and_latency_sections(tmp_path):
    rc = report.main(["--skip", "resources,simspeed,classifiers,dnn,validation",
                      "--out", str(tmp_path), "--work", str(tmp_path / "work")])
    assert rc == 0
    res = json.loads((tmp_path / "report.json").read_text())
    md = (tmp_path / "REPORT.md").read_text()
    t, lat = res["trigger"], res["latency"]
    assert (f"| onset delay median / p95 | {t['onset_delay_median_ms']:.0f} / "
            f"{t['onset_delay_p95_ms']:.0f} ms" in md)
    assert 0 < t["onset_delay_median_ms"] < 40 and t["missed_pct"] < 10
    # stride record: 63 cycles after the frame that ends the stride (hdl/stride_indexes.py)
    assert lat["stride_cycles_min"] == lat["stride_cycles_max"] == 63
    assert f"{lat['stride_us']:.2f}" in md and lat["eeg_cycles_max"] > 10000
    assert res["meta"]["date"] in md and res["meta"]["failed"] == {}
    assert re.search(r"## Headline\n", md) and "SYNTHETIC" in md
    assert "Fabric resources" not in md    # skipped sections are left out, not faked


def test_readme_quotes_the_committed_report():
    """The README's headline block is the one `make bench` wrote from bench/results/report.json."""
    res = json.loads((report.BENCH_DIR / "report.json").read_text())
    readme = (report.ROOT / "README.md").read_text()
    block = readme[readme.index(report.README_START) + len(report.README_START) + 1:
                   readme.index(report.README_END)]
    assert block == report.headline_md(res["headline"], res["meta"])
    assert len(res["headline"]) >= 6 and not res["meta"]["failed"]
    for name in ("REPORT.md", "VALIDATION.md", "uci_trigger_overlay.png",
                 "uci_stride_agreement.png", "roc_classifiers.png"):
        assert (report.BENCH_DIR / name).is_file(), name


def test_update_readme_replaces_only_the_block(tmp_path):
    p = tmp_path / "README.md"
    p.write_text(f"intro\n{report.README_START}\nold\n{report.README_END}\noutro\n")
    meta = dict(date="2026-01-01 00:00 UTC", cpu="cpu", cores=2)
    assert report.update_readme(p, {"a": "1 ms"}, meta)
    text = p.read_text()
    assert text.startswith("intro\n") and text.endswith(f"{report.README_END}\noutro\n")
    assert "| a | 1 ms |" in text and "old" not in text
    q = tmp_path / "other.md"
    q.write_text("no markers\n")
    assert not report.update_readme(q, {"a": "1"}, meta) and q.read_text() == "no markers\n"


def test_validation_mismatch_fails_the_run(tmp_path, monkeypatch, capsys):
    """Gateware differing from golden on real data makes ``make bench`` fail (exit 1), keeps
    the section's text and leaves the README alone."""
    from bench import validate
    monkeypatch.setattr(validate, "best_sim", lambda sim: "icarus")
    monkeypatch.setattr(validate, "run", lambda data, out, sim: (
        {"uci": None, "physionet": None, "mismatches": ["S001R03.edf: 1 record DIFFERENT"]},
        "Gateware vs golden on S001R03.edf: 1 record DIFFERENT.\n"))
    readme = tmp_path / "README.md"
    readme.write_text("x\n<!-- bench:headline:start -->\nold\n<!-- bench:headline:end -->\n")
    data = tmp_path / "data"
    data.mkdir()
    rc = report.main(["--skip", "resources,trigger,latency,simspeed,classifiers,dnn",
                      "--out", str(tmp_path / "o"), "--work", str(tmp_path / "w"),
                      "--data", str(data), "--readme", str(readme)])
    assert rc == 1
    res = json.loads((tmp_path / "o" / "report.json").read_text())
    assert res["meta"]["failed"] == {
        "validation": "gateware and golden differ: S001R03.edf: 1 record DIFFERENT"}
    assert "1 record DIFFERENT" in (tmp_path / "o" / "REPORT.md").read_text()
    assert "old" in readme.read_text()
    assert "FAILED sections: validation" in capsys.readouterr().err
