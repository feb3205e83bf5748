"""A bad row costs that row, reported at its own line: stray quotes, bytes that are not
UTF-8, numbers Python would accept but a data file does not mean; and column options
that cannot be right are refused."""

from __future__ import annotations

import csv
import io
import subprocess
import sys

import pytest

from batch_classifier.inference.cities.records import MAX_RECORD_LINES
from tests.jobs_support import cities_peak_mib, read_rows, run_cli

GOOD = "48.85,2.35"


def classify_text(tmp_path, cities_model, data: bytes, *args):
    source = tmp_path / "in.csv"
    source.write_bytes(data)
    result = run_cli(source, "--model", cities_model, "-q", "--batch-size", "7", *args)
    return result, list(csv.DictReader(io.StringIO(result.stdout)))


def good_rows(count: int, first: int = 0) -> bytes:
    return "".join(f"{first + i},p{first + i},{GOOD}\n" for i in range(count)).encode()


@pytest.mark.parametrize("stray, first_bad", [
    (b'5,"p5,48.85,2.35\n', 7),  # a quote that never closes
    (b'5,p5",48.85,2.35\n6,"p6,48.85,2.35\n', 8),  # mid-field (a plain character), opening
    (b'5,"p5,48.85,2.35\n6,"p6",48.85,2.35\n', 7),  # closed by the next row's opening quote
    (b'5,"p5\n6,p6,48.85\n7,"p7,48.85,2.35\n', 7),  # closed two rows on, fields add up
])
def test_a_stray_quote_costs_a_few_rows_each_reported(tmp_path, cities_model, stray,
                                                      first_bad):
    before, after = good_rows(5), good_rows(40_000 // 40, first=100)
    data = b"id,name,lat,lon\n" + before + stray + after
    result, rows = classify_text(tmp_path, cities_model, data)
    assert result.exit_code == 1, result.output
    ids = [row["id"] for row in rows if not row["error"]]
    assert ids[:5] == [str(i) for i in range(5)]
    assert ids[-1000:] == [str(i) for i in range(100, 1100)]  # every row after it is back
    bad = [row for row in rows if row["error"]]
    assert 1 <= len(bad) <= 3 and all(row["error"].startswith("line ") for row in bad)
    assert bad[0]["error"].startswith(f"line {first_bad}: ")  # the stray quote's own line


def test_a_quoted_field_may_span_lines_within_the_limit(tmp_path, cities_model):
    note = "\n".join(f"line {i}" for i in range(MAX_RECORD_LINES - 1))
    data = f'note,lat,lon\n"{note}",{GOOD}\nafter,{GOOD}\n'.encode()
    result, rows = classify_text(tmp_path, cities_model, data)
    assert result.exit_code == 0, result.output
    assert [row["note"] for row in rows] == [note, "after"]


def test_errors_point_at_the_first_line_of_a_multiline_record(tmp_path, cities_model):
    data = b'name,lat,lon\n"two\nlines",95,2\n'
    result, rows = classify_text(tmp_path, cities_model, data)
    assert rows[0]["error"].startswith("line 2: latitude 95")


@pytest.mark.parametrize("bad", [b"\xff", b"\xc3", b"\xed\xa0\x80", b"\xf8\x88\x80\x80\x80"])
def test_bytes_that_are_not_utf8_are_a_row_error_and_resume_gets_past_them(
        tmp_path, cities_model, bad):
    data = (b"name,lat,lon\nParis," + GOOD.encode() + b"\nCaf" + bad + b"," + GOOD.encode()
            + b"\nWarsaw,52.23,21.01\n")
    out = tmp_path / "out.csv"
    result, _ = classify_text(tmp_path, cities_model, data, "-o", out, "--resume")
    assert result.exit_code == 1, result.output
    rows = read_rows(out)
    assert [row[0][:3] for row in rows[1:]] == ["Par", "Caf", "War"]
    assert rows[2][-1].startswith("line 3: not UTF-8 text (byte 0x")
    assert "\ufffd" in rows[2][0] and rows[3][4] == "PL"
    again, _ = classify_text(tmp_path, cities_model, data, "-o", out, "--resume")
    assert again.exit_code == 0, again.output
    assert read_rows(out) == rows


def test_a_bad_byte_on_stdin_does_not_stop_the_stream(cities_model):
    data = b"lat,lon\n" + GOOD.encode() + b"\n\xff," + GOOD.encode() + b"\n52.23,21.01\n"
    result = subprocess.run([sys.executable, "-m", "batch_classifier.inference.cities.cli",
                             "-", "--model", str(cities_model), "-q"], input=data,
                            capture_output=True, timeout=60)
    assert result.returncode == 1, result.stderr
    lines = result.stdout.decode().splitlines()
    assert len(lines) == 4 and lines[3].startswith("52.23,21.01,Poland")


@pytest.mark.parametrize("text", ["4_5", "\u0664\u0665", "\uff14\uff15", "45\u00a0", "0x2d",
                                  "١٢", "4 5", "--45", "45.", "+.5e1"])
def test_only_ascii_decimal_numbers_are_coordinates(tmp_path, cities_model, text):
    data = f"lat,lon\n{text},2.35\n".encode()
    result, rows = classify_text(tmp_path, cities_model, data)
    if text in ("45.", "+.5e1"):  # ASCII decimal: fine
        assert rows[0]["error"] == "" and rows[0]["country_code"]
    else:
        assert "is not a number" in rows[0]["error"], rows[0]
        assert rows[0]["country_code"] == ""


@pytest.mark.parametrize("args, header, message", [
    (["--lat-col", "lat", "--lon-col", "lat"], "lat,lon", "both be column"),
    (["--lon-col", "LAT"], "lat,lon", "both be column"),
    ([], "lat,LAT,lon", "2 columns are named 'lat'"),
    (["--lon-col", "x"], "lat,x,X", "2 columns are named 'x'"),
])
def test_coordinate_columns_that_cannot_be_right_are_refused(tmp_path, cities_model, args,
                                                            header, message):
    data = f"{header}\n48.85,2.35,2.35\n".encode()
    result, _ = classify_text(tmp_path, cities_model, data, *args)
    assert result.exit_code == 2 and message in result.stderr, result.output


def test_top_k_larger_than_the_model_is_refused(tmp_path, cities_model):
    result, _ = classify_text(tmp_path, cities_model, f"lat,lon\n{GOOD}\n".encode(),
                              "--top-k", "5")
    assert result.exit_code == 2 and "--top-k 5: the model knows only 4" in result.stderr


def test_wide_rows_of_many_fields_keep_memory_flat(tmp_path, cities_model):
    """40 rows of 1 MiB, each ~350,000 short fields: the chunk is bounded by bytes too."""
    width = (1 << 20) // 3
    small, wide = tmp_path / "small.csv", tmp_path / "wide.csv"
    header = "lat,lon," + ",".join(f"c{i % 100:02d}" for i in range(width // 2)) + "\n"
    small.write_text(header + "48.85,2.35\n")
    with open(wide, "w") as handle:
        handle.write(header)
        for _ in range(40):
            handle.write("48.85,2.35," + ",".join(["ab"] * (width - 3)) + "\n")  # too many too
    growth = cities_peak_mib(wide, cities_model) - cities_peak_mib(small, cities_model)
    print(f"peak memory growth on 40 rows of 1 MiB: {growth:.0f} MiB")
    assert growth < 200, f"peak memory grew by {growth:.0f} MiB on 40 rows of 1 MiB"
