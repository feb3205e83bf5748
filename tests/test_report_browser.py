"""The reports in a real browser: headless Chromium (Debian's `chromium` package) loads
them with no console message at all (no script error, no blocked resource, no policy
violation), shows the output's counts, and shows hostile names as text even with the
page's Content-Security-Policy taken out. Skipped where Chromium is not installed."""

from __future__ import annotations

import shutil
import subprocess
from collections import Counter
from pathlib import Path

import pytest

from batch_classifier.inference.report.page import POLICY, POLICY_META
from tests.report_support import (
    HOSTILE_NAME,
    ReportPage,
    assert_cities_counts,
    cities_run,
    images_run,
    output_rows,
)

CHROMIUM = next(filter(None, map(shutil.which, ("chromium", "chromium-browser",
                                                "google-chrome"))), None)
pytestmark = pytest.mark.skipif(CHROMIUM is None,
                                reason="no Chromium (apt-get install chromium)")
pytest.importorskip("onnx")  # the tiny images model is built with it


def render(page: Path, profile: Path) -> tuple[ReportPage, list[str]]:
    """The DOM Chromium built from `page`, and its console messages."""
    result = subprocess.run(
        [CHROMIUM, "--headless", "--no-sandbox", "--disable-gpu", "--no-first-run",
         f"--user-data-dir={profile}", "--enable-logging=stderr", "--v=0",
         "--virtual-time-budget=2000", "--dump-dom", page.as_uri()],
        capture_output=True, text=True, timeout=120)
    assert result.returncode == 0 and "</html>" in result.stdout, result.stderr[-2000:]
    return ReportPage(result.stdout), [line for line in result.stderr.splitlines()
                                       if ":CONSOLE" in line]


def without_policy(report: Path) -> Path:
    """A copy of the report without its Content-Security-Policy: what escaping alone
    must hold."""
    text, meta = report.read_text(encoding="utf-8"), POLICY_META.format(policy=POLICY)
    assert meta in text
    bare = report.with_name("bare-" + report.name)
    bare.write_text(text.replace(meta, ""), encoding="utf-8")
    return bare


def test_images_report_in_chromium(tmp_path):
    out, report = images_run(tmp_path)
    rows = output_rows(out)
    for page_file in (report, without_policy(report)):
        dom, console = render(page_file, tmp_path / "profile")
        assert console == []
        labels = Counter(row["label"] for row in rows)
        for label in ("real", "fake", "uncertain"):
            assert dom.count(f"count-{label}") == labels[label]
        assert dom.count("count-total") == len(rows)
        assert dom.handlers == [] and dom.tags["script"] == 0
        assert all(link.startswith(("data:", "#")) for link in dom.links)
        assert any(HOSTILE_NAME in piece for piece in dom.text)


def test_cities_report_in_chromium(tmp_path, cities_model):
    out, report = cities_run(tmp_path, cities_model)
    for page_file in (report, without_policy(report)):
        dom, console = render(page_file, tmp_path / "profile")
        assert console == []
        assert_cities_counts(dom, output_rows(out))
        assert dom.handlers == [] and dom.tags["script"] == 0
        assert any("<script>alert(2)</script>" in piece for piece in dom.text)
