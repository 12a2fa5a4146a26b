"""The documentation a newcomer reads: the README stays short (<= 10 KB) and links only to
files that exist, every Markdown page's relative links resolve, and the figure blocks of
docs/wearable-models.md are the ones `make bench` wrote from the committed report.json (the
training commands' blocks: each model's markers are there exactly once)."""

import json
import re

import pytest

from bench import report
from spec.constants import ROOT
from sw import train_fog, train_har, train_stress

README = ROOT / "README.md"
MODELS_DOC = ROOT / "docs" / "wearable-models.md"
PAGES = [README, *sorted((ROOT / "docs").glob("*.md"))]
LINK = re.compile(r"\]\(([^)#\s]+)(?:#[^)]*)?\)")


def test_readme_is_short():
    size = len(README.read_bytes())
    assert size <= 10_000, f"README.md is {size} bytes; move detail into docs/"


@pytest.mark.parametrize("page", PAGES, ids=lambda p: p.name)
def test_relative_links_resolve(page):
    links = [u for u in LINK.findall(page.read_text()) if "://" not in u]
    missing = [u for u in links if not (page.parent / u).exists()]
    assert not missing, f"{page.name}: links to missing files {missing}"


def test_readme_links_every_docs_page():
    text = README.read_text()
    for page in PAGES[1:]:
        assert f"(docs/{page.name})" in text, page.name


def _block(text, start, end):
    assert text.count(start) == 1 and text.count(end) == 1, start
    return text[text.index(start) + len(start) + 1:text.index(end)]


def test_model_figure_blocks_come_from_the_committed_report():
    res = json.loads((report.BENCH_DIR / "report.json").read_text())
    doc = MODELS_DOC.read_text()
    assert "har" in res and "stress" in res
    assert _block(doc, report.HAR_README_START, report.HAR_README_END) == \
        report.har_readme_md(res["har"], res["meta"])
    assert _block(doc, report.STRESS_README_START, report.STRESS_README_END) == \
        report.stress_readme_md(res["stress"], res["meta"])
    for start, end in [train_fog.readme_markers("logspec"), train_fog.readme_markers("yi_hwang"),
                       train_har.README_MARKERS, train_stress.README_MARKERS]:
        assert "| " in _block(doc, start, end), start
    readme = README.read_text()
    for marker in (report.HAR_README_START, report.STRESS_README_START, *train_har.README_MARKERS):
        assert marker not in readme, marker


@pytest.mark.parametrize("markers, prog", [
    (train_fog.summary_markers("logspec"), "sw.train_fog"),
    (train_fog.summary_markers("yi_hwang"), "sw.train_fog --model yi_hwang"),
    (train_har.SUMMARY_MARKERS, "sw.train_har"),
    (train_stress.SUMMARY_MARKERS, "sw.train_stress")],
    ids=["fog-logspec", "fog-yi_hwang", "har", "stress"])
def test_readme_model_summaries_are_written_by_their_commands(markers, prog):
    """The README's model section: one line per model, written by the training command it
    ends with (--readme README.md), saying how it was evaluated."""
    line = _block(README.read_text(), *markers)
    assert line.startswith("- **") and line.count("\n") == 1, line
    assert f"`python -m {prog} " in line and "--readme" not in line, line
    assert any(w in line for w in ("leave-one-subject-out", "subject-wise",
                                   "leave-subjects-out")), line
