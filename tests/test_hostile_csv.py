"""Hostile CSVs: each gets the right answer or a clear per-row error; no crash, no hang,
no unbounded memory."""

from __future__ import annotations

import csv
import io

import pytest

from batch_classifier.inference.cities.reader import MAX_LINE_CHARS
from tests.jobs_support import cities_peak_mib, run_cli

BIG = 20 * MAX_LINE_CHARS  # ~20 MB: stands in for a 2 GB line, read the same way

CASES = {
    # name: (file bytes, expected (country_code, error contains) per output row)
    "bom": ("\ufefflat,lon\n48.85,2.35\n".encode(), [("FR", "")]),
    "semicolons and decimal commas": (b"lat;lon\n48,85;2,35\n52.23;21.01\n",
                                      [("FR", ""), ("PL", "")]),
    "quoted newlines": (b'name,lat,lon\n"two\nlines, and ""quotes""",48.85,2.35\n'
                       b"after,52.23,21.01\n", [("FR", ""), ("PL", "")]),
    "empty lines": (b"lat,lon\n\n48.85,2.35\n\n\n52.23,21.01\n\n", [("FR", ""), ("PL", "")]),
    "header only": (b"lat,lon\n", []),
    "header only, no newline": (b"lat,lon", []),
    "crlf": (b"lat,lon\r\n48.85,2.35\r\n", [("FR", "")]),
    "short and long rows": (b"lat,lon,name\n48.85\n48.85,2.35,a,b\n",
                            [("", "line 2: missing longitude"),
                             ("", "line 3: row has 4 fields")]),
    "unclosed quote": (b'lat,lon\n48.85,2.35\n"52.23,21.01\n', [("FR", ""), ("", "")]),
    "nul bytes": (b"lat,lon\n48.85,2\x00.35\n48.85,2.35\n", [("", "not a number"), ("FR", "")]),
    "long data line": (b"lat,lon\n48.85,2.35\n" + b"9" * BIG + b"\n52.23,21.01\n",
                       [("FR", ""), ("", "line 3: line longer than"), ("PL", "")]),
    "long last line, no newline": (b"lat,lon\n48.85,2.35\n" + b"1," * (BIG // 2),
                                   [("FR", ""), ("", "line 3: line longer than")]),
}


@pytest.mark.parametrize("name", CASES)
def test_hostile_csv(tmp_path, cities_model, name):
    data, expected = CASES[name]
    source = tmp_path / "in.csv"
    source.write_bytes(data)
    result = run_cli(source, "--model", cities_model, "--batch-size", "2", "-q")
    assert result.exit_code == (1 if any(code == "" for code, _ in expected) else 0), result.output
    rows = list(csv.DictReader(io.StringIO(result.stdout)))
    assert len(rows) == len(expected)
    for row, (code, error) in zip(rows, expected, strict=True):
        assert row["country_code"] == code
        assert error in row["error"] and bool(row["error"]) == (code == "")


@pytest.mark.parametrize("data, message", [
    (b"", "empty file"),
    (b"9" * BIG, "header line is longer than"),
    (b"l\xffat,lon\n48.85,2.35\n", "UTF-8"),  # a bad byte later is a bad row
    (b"name,x\nParis,1\n", "no latitude column"),
])
def test_a_file_that_is_no_csv_of_coordinates_is_one_clear_error(tmp_path, cities_model,
                                                                   data, message):
    source = tmp_path / "in.csv"
    source.write_bytes(data)
    result = run_cli(source, "--model", cities_model, "-q")
    assert result.exit_code == 2
    assert message in result.stderr and "Traceback" not in result.output


def test_a_huge_single_line_is_never_loaded_whole(tmp_path, cities_model):
    small, huge = tmp_path / "small.csv", tmp_path / "huge.csv"
    small.write_bytes(b"lat,lon\n48.85,2.35\n")
    huge.write_bytes(b"lat,lon\n48.85,2.35\n" + b"7" * (4 * BIG) + b"\n")  # ~80 MB, one line
    growth = cities_peak_mib(huge, cities_model) - cities_peak_mib(small, cities_model)
    assert growth < 24, f"peak memory grew by {growth:.0f} MiB on an 80 MB line"
