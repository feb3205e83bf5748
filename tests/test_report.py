"""--report and batch-report: the counts equal the output's, everything is escaped and
inline, and the report covers resumed outputs, JSON Lines, Parquet and --dask parts."""

from __future__ import annotations

import base64
import io
from collections import Counter
from pathlib import Path

import numpy as np
import pytest
from click.testing import CliRunner
from PIL import Image

from batch_classifier.inference.cities.cli import main as classify_cities
from batch_classifier.inference.report.cli import main as batch_report
from batch_classifier.inference.report.land import land_path
from batch_classifier.inference.report.stream import (
    OTHER_KINDS,
    ErrorKinds,
    Extremes,
    Histogram,
    Sample,
    error_kind,
    numbers,
)
from tests.jobs_support import finished
from tests.report_support import (
    HOSTILE_NAME,
    HOSTILE_VALUE,
    assert_cities_counts,
    cities_csv,
    cities_run,
    output_rows,
    read_page,
)
from tests.report_support import images_run as make_images_run

pytest.importorskip("onnx")  # the tiny images model is built with it


@pytest.fixture(scope="module")
def images_run(tmp_path_factory) -> tuple[Path, Path]:
    return make_images_run(tmp_path_factory.mktemp("images-report"))


def test_images_report_counts_are_the_outputs(images_run):
    out, report = images_run
    rows = output_rows(out)
    page = read_page(report)
    labels = Counter(row["label"] for row in rows)
    for label in ("real", "fake", "uncertain"):
        assert page.count(f"count-{label}") == labels[label]
    assert page.count("count-no") == labels[""] == 1
    assert page.count("count-total") == len(rows) == 14
    assert page.count("error-0") == 1


def test_images_report_is_one_safe_file(images_run):
    _, report = images_run
    text = report.read_text(encoding="utf-8")
    page = read_page(report)
    assert all(link.startswith(("data:", "#")) for link in page.links), page.links
    assert page.handlers == [] and page.tags["script"] == 0
    assert "&lt;img src=x onerror=alert(1)&gt;.jpg" in text
    assert any(HOSTILE_NAME in piece for piece in page.text)
    assert "Content-Security-Policy" in text and report.stat().st_size < 5 * 10**6


def test_thumbnails_are_jpegs_of_the_decoded_pixels(images_run):
    page = read_page(images_run[1])
    thumbs = [link for link in page.links if link.startswith("data:image/jpeg;base64,")]
    assert len(thumbs) >= 12  # the fakest grid alone shows every classified image
    picture = Image.open(io.BytesIO(base64.b64decode(thumbs[0].split(",", 1)[1])))
    assert picture.format == "JPEG" and picture.size == (128, 128)


def test_batch_report_makes_the_same_report_again(images_run, tmp_path):
    out, report = images_run
    again = tmp_path / "again.html"
    result = CliRunner().invoke(batch_report, [str(out), "-o", str(again)])
    finished(result, 0)
    first, second = read_page(report), read_page(again)
    for name in ("count-real", "count-fake", "count-uncertain", "count-total"):
        assert first.count(name) == second.count(name)
    assert "option --uncertain" in again.read_text()  # read back from the run record


@pytest.fixture
def places(tmp_path) -> Path:
    return cities_csv(tmp_path / "places.csv")


def test_cities_report_counts_and_escaping(tmp_path, cities_model):
    out, report = cities_run(tmp_path, cities_model)
    page = read_page(report)
    assert_cities_counts(page, output_rows(out))
    text = report.read_text(encoding="utf-8")
    assert HOSTILE_VALUE not in text and "&lt;script&gt;alert(2)&lt;/script&gt;" in text
    assert page.tags["script"] == 0 and page.handlers == []
    assert page.tags["circle"] > 250  # the map shows the valid points


@pytest.mark.parametrize("suffix", [".jsonl", ".parquet"])
def test_batch_report_reads_jsonl_and_parquet(tmp_path, places, cities_model, suffix):
    out, csv_out = tmp_path / f"out{suffix}", tmp_path / "out.csv"
    for target in (out, csv_out):
        finished(CliRunner().invoke(classify_cities, [
            str(places), "--model", str(cities_model), "-o", str(target), "-q"]), 1)
    report = tmp_path / "r.html"
    finished(CliRunner().invoke(batch_report, [str(out), "-o", str(report)]), 0)
    assert_cities_counts(read_page(report), output_rows(csv_out))


def test_report_of_a_resumed_output_covers_all_its_rows(tmp_path, cities_model):
    places, out = cities_csv(tmp_path / "places.csv", 100), tmp_path / "out.csv"
    args = [str(places), "--model", str(cities_model), "-o", str(out), "-q"]
    finished(CliRunner().invoke(classify_cities, args), 1)
    with open(places, "a", encoding="utf-8") as handle:
        handle.writelines(f"{i},more {i},45.5,{i % 20}.5\n" for i in range(50))
    report = tmp_path / "r.html"
    result = CliRunner().invoke(classify_cities, [*args, "--resume", "--report", str(report)])
    finished(result, 0)  # this run's rows were all good; the report still shows them all
    rows = output_rows(out)
    assert len(rows) == 152
    assert_cities_counts(read_page(report), rows)


def test_report_of_dask_parts(tmp_path, cities_model):
    pytest.importorskip("distributed")
    places = tmp_path / "plain.csv"  # no quotes, so that it is cut into several parts
    places.write_text("id,lat,lon\n" + "".join(
        f"{i},{37 + i % 17}.25,{i % 29 - 6}.5\n" if i % 50 else f"{i},,1\n"
        for i in range(3000)))
    parts, report = tmp_path / "parts", tmp_path / "r.html"
    result = CliRunner().invoke(classify_cities, [
        str(places), "--model", str(cities_model), "-o", str(parts), "--dask", "local:1",
        "--blocksize", "16KB", "--report", str(report), "-q"])
    finished(result, 1)
    assert len(list(parts.glob("part-*.csv"))) > 1
    rows = [row for part in sorted(parts.glob("part-*.csv")) for row in output_rows(part)]
    assert_cities_counts(read_page(report), rows)
    assert "all parts written (_SUCCESS)</td><td>yes" in report.read_text()


@pytest.mark.parametrize("args, message", [
    ([], "--report needs -o FILE"),
    (["-o", "{out}"], "is the -o output itself"),
])
def test_report_refused_before_any_work(tmp_path, places, cities_model, args, message):
    out = tmp_path / "same.html"
    result = CliRunner().invoke(classify_cities, [
        str(places), "--model", str(cities_model), "--report", str(out),
        *[arg.format(out=out) for arg in args]])
    assert result.exit_code == 2 and message in result.output
    assert not out.exists()


def test_batch_report_on_a_file_that_is_no_output(tmp_path):
    other = tmp_path / "other.csv"
    other.write_text("a,b\n1,2\n")
    result = CliRunner().invoke(batch_report, [str(other), "-o", str(tmp_path / "r.html")])
    assert result.exit_code == 2 and "not an output of classify-images" in result.output
    missing = CliRunner().invoke(batch_report, [str(tmp_path / "nope"), "-o", "r.html"])
    assert missing.exit_code == 2 and "no such output" in missing.output


def test_extremes_keep_the_k_largest_in_bounded_memory():
    rng = np.random.default_rng(0)
    keys = rng.random(10_000)
    keys[::7] = np.nan
    top, low = Extremes(5), Extremes(5, largest=False)
    for start in range(0, len(keys), 999):
        part = keys[start:start + 999]
        top.add(part, list(range(start, start + len(part))))
        low.add(part, list(range(start, start + len(part))))
        assert len(top.items()) <= 5
    finite = np.flatnonzero(np.isfinite(keys))
    assert [i for _, i in top.items()] == finite[np.argsort(-keys[finite])][:5].tolist()
    assert [i for _, i in low.items()] == finite[np.argsort(keys[finite])][:5].tolist()


def test_sample_is_bounded_and_spread_over_the_stream():
    sample = Sample(100, seed=1)
    for start in range(0, 100_000, 4096):
        rows = np.arange(start, min(start + 4096, 100_000))
        chosen = sample.candidates(len(rows))
        sample.add(chosen, rows[chosen].tolist())
    items = sample.items()
    assert len(items) == len(set(items)) == 100
    assert 30_000 < np.mean(items) < 70_000 and min(items) < 10_000 and max(items) > 90_000


def test_histogram_error_kinds_and_numbers():
    histogram = Histogram(10)
    histogram.add(numbers(["0.05", "", None, 0.95, "1", "x"]))
    assert histogram.counts.sum() == 3 and histogram.counts[0] == 1 and histogram.counts[9] == 2
    assert error_kind("line 12: open sea: nearest land ~576 km") == \
        "open sea: nearest land ~N km"
    assert error_kind("latitude 'abc' is not a number") == "latitude '…' is not a number"
    kinds = ErrorKinds(limit=2, row_prefixed=True)
    kinds.add(["line 1: open sea: nearest land ~5 km", "", None, "line 2: missing latitude",
               "row 3: line longer than 10 characters", "line 4: open sea: nearest land ~9 km"])
    assert kinds.counts == {"open sea: nearest land ~N km": 2, "missing latitude": 1,
                            OTHER_KINDS: 1}


def test_shipped_world_outline():
    path = land_path()
    assert path.count("M") > 1000 and path.startswith("M")


def test_cities_report_finds_the_added_columns_among_input_ones(tmp_path, cities_model):
    places = tmp_path / "places.csv"
    places.write_text("country,confidence,lat,lon\n" + "".join(
        f"xx,{i},{37 + i % 17}.5,{i % 29 - 6}.5\n" for i in range(200)))
    out, report = tmp_path / "out.csv", tmp_path / "r.html"
    finished(CliRunner().invoke(classify_cities, [
        str(places), "--model", str(cities_model), "-o", str(out), "--top-k", "2",
        "--report", str(report), "-q"]), 0)
    rows = output_rows(out)
    assert "predicted_country" in rows[0] and "country_2" in rows[0]
    page = read_page(report)
    assert page.count("count-rows") == page.count("count-classified") == 200
    for code, count in Counter(row["country_code"] for row in rows).items():
        assert page.count(f"country-{code}") == count


def test_batch_report_shows_a_saved_summary_and_never_overwrites_the_output(tmp_path,
                                                                            cities_model):
    places, out = cities_csv(tmp_path / "places.csv", 50), tmp_path / "out.csv"
    summary = tmp_path / "summary.json"
    finished(CliRunner().invoke(classify_cities, [
        str(places), "--model", str(cities_model), "-o", str(out), "-q",
        "--summary-json", str(summary)]), 1)
    report = tmp_path / "r.html"
    finished(CliRunner().invoke(batch_report, [str(out), "-o", str(report), "--summary-json",
                                               str(summary)]), 0)
    assert "this run: seconds" in report.read_text() and "tiny-cities" in report.read_text()
    before = out.read_bytes()
    refused = CliRunner().invoke(batch_report, [str(out), "-o", str(out)])
    assert refused.exit_code == 2 and "is the output" in refused.output
    assert out.read_bytes() == before
