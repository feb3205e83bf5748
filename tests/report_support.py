"""Helpers for the report tests: generated runs with hostile names and values, and what
a report page holds (its counts by element id, its links, its event handlers)."""

from __future__ import annotations

import csv
import json
from collections import Counter
from html.parser import HTMLParser
from pathlib import Path

import numpy as np
from click.testing import CliRunner
from PIL import Image

from batch_classifier.inference.cities.cli import main as classify_cities
from batch_classifier.inference.images.cli import main as classify_images
from tests.jobs_support import brightness_model, finished, write_cities_csv, write_images

HOSTILE_NAME = "<img src=x onerror=alert(1)>.jpg"
HOSTILE_VALUE = "<script>alert(2)</script>"


class ReportPage(HTMLParser):
    """A report's text by element id, every src/href, every on* attribute, and tags."""

    def __init__(self, text: str):
        super().__init__()
        self.by_id: dict[str, str] = {}
        self.links: list[str] = []
        self.handlers: list[str] = []
        self.tags: Counter[str] = Counter()
        self.text: list[str] = []
        self._open: list[str | None] = []
        self.feed(text)

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.tags[tag] += 1
        values = dict(attrs)
        self.links += [value or "" for name, value in attrs if name in ("src", "href")]
        self.handlers += [name for name, _ in attrs if name.startswith("on")]
        if tag not in ("img", "meta", "rect", "line", "circle", "path", "br"):
            self._open.append(values.get("id"))

    def handle_endtag(self, tag: str) -> None:
        if tag not in ("img", "meta", "rect", "line", "circle", "path", "br") and self._open:
            self._open.pop()

    def handle_data(self, data: str) -> None:
        self.text.append(data)
        for name in self._open:
            if name:
                self.by_id[name] = self.by_id.get(name, "") + data

    def count(self, name: str) -> int:
        """The number shown in the element `name` (1,234 -> 1234)."""
        return int(self.by_id[name].replace(",", ""))


def read_page(path: Path) -> ReportPage:
    return ReportPage(path.read_text(encoding="utf-8"))


def images_folder(folder: Path) -> Path:
    """A dozen PNGs, a JPEG with a hostile name and a file that is not an image."""
    write_images(folder, 12)
    rng = np.random.default_rng(1)
    Image.fromarray(rng.integers(0, 256, (40, 30, 3), dtype=np.uint8)).save(
        folder / HOSTILE_NAME, "JPEG")
    (folder / "broken.jpg").write_bytes(b"not an image at all")
    return folder


def images_run(root: Path) -> tuple[Path, Path]:
    """(output CSV, report) of classify-images over `images_folder` (a tiny brightness
    model, an uncertain band) in `root`."""
    model = brightness_model(root / "brightness.onnx")
    folder = images_folder(root / "photos")
    out, report = root / "out.csv", root / "report.html"
    result = CliRunner().invoke(classify_images, [
        str(folder), "--model", str(model), "-o", str(out), "--report", str(report),
        "--uncertain", "0.45,0.55", "-q"])
    finished(result, 1)
    return out, report


def cities_run(root: Path, model: Path) -> tuple[Path, Path]:
    """(output CSV, report) of classify-cities over `cities_csv` in `root`."""
    places, out, report = cities_csv(root / "places.csv"), root / "out.csv", root / "r.html"
    result = CliRunner().invoke(classify_cities, [
        str(places), "--model", str(model), "-o", str(out), "--report", str(report), "-q"])
    finished(result, 1)
    return out, report


def cities_csv(path: Path, rows: int = 300) -> Path:
    """`write_cities_csv` with a hostile name and a hostile coordinate appended."""
    write_cities_csv(path, rows)
    with open(path, "a", encoding="utf-8", newline="") as handle:
        writer = csv.writer(handle, lineterminator="\n")
        writer.writerow([rows, HOSTILE_VALUE, "45.0", "10.0"])
        writer.writerow([rows + 1, "bad", HOSTILE_VALUE, "10.0"])
    return path


def output_rows(path: Path) -> list[dict[str, str]]:
    """An output's rows as dicts, from CSV or JSON Lines (None read as empty)."""
    with open(path, encoding="utf-8", newline="") as handle:
        if path.suffix == ".jsonl":
            return [{k: "" if v is None else str(v) for k, v in json.loads(line).items()}
                    for line in handle]
        return list(csv.DictReader(handle))


def assert_cities_counts(page: ReportPage, rows: list[dict[str, str]]) -> None:
    """The report's rows, classified, failed and per-country counts are the output's."""
    classified = [row for row in rows if row["country_code"] and not row["error"]]
    assert page.count("count-rows") == len(rows)
    assert page.count("count-classified") == len(classified)
    assert page.count("count-failed") == sum(1 for row in rows if row["error"])
    for code, count in Counter(row["country_code"] for row in classified).items():
        assert page.count(f"country-{code}") == count
