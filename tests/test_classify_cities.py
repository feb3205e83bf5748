"""classify-cities through the CLI: columns, formats, detection, bad input, exit codes."""

from __future__ import annotations

import csv
import io
import json

import pytest
from click.testing import CliRunner

from batch_classifier.inference.cities.cli import main as classify

PARIS, WARSAW, MADRID = "48.85,2.35", "52.23,21.01", "40.4,-3.7"


def run(args, input_text=None):
    return CliRunner().invoke(classify, args, input=input_text)


def write(tmp_path, text, name="in.csv"):
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    return str(path)


def read_csv(text):
    return list(csv.DictReader(io.StringIO(text)))


def test_adds_country_columns_and_keeps_input(tmp_path, cities_model):
    path = write(tmp_path, f"name,lat,lon\nParis,{PARIS}\nWarsaw,{WARSAW}\n")
    result = run([path, "--model", str(cities_model), "-q"])
    assert result.exit_code == 0, result.output
    rows = read_csv(result.stdout)
    assert [r["name"] for r in rows] == ["Paris", "Warsaw"]
    assert [r["country_code"] for r in rows] == ["FR", "PL"]
    assert [r["country"] for r in rows] == ["France", "Poland"]
    assert all(0.5 < float(r["confidence"]) <= 1.0 and r["error"] == "" for r in rows)


@pytest.mark.parametrize("header", ["LAT,LNG", "Latitude,Longitude", "lat,long", " lat , lon "])
def test_detects_usual_column_names_in_any_case(tmp_path, cities_model, header):
    path = write(tmp_path, f"{header}\n{MADRID}\n")
    result = run([path, "--model", str(cities_model), "-q"])
    assert result.exit_code == 0, result.output
    assert read_csv(result.stdout)[0]["country_code"] == "ES"


def test_explicit_column_names(tmp_path, cities_model):
    path = write(tmp_path, f"y,x\n{WARSAW}\n")
    result = run([path, "--model", str(cities_model), "--lat-col", "y", "--lon-col", "X", "-q"])
    assert result.exit_code == 0, result.output
    assert read_csv(result.stdout)[0]["country_code"] == "PL"


def test_top_k_adds_runners_up_in_order(tmp_path, cities_model):
    path = write(tmp_path, f"lat,lon\n{PARIS}\n")
    result = run([path, "--model", str(cities_model), "--top-k", "3", "-q"])
    row = read_csv(result.stdout)[0]
    confidences = [float(row[c]) for c in ("confidence", "confidence_2", "confidence_3")]
    assert confidences == sorted(confidences, reverse=True)
    assert len({row["country_code"], row["country_code_2"], row["country_code_3"]}) == 3


def test_bad_rows_get_an_error_and_the_batch_goes_on(tmp_path, cities_model):
    text = (f"id,lat,lon\n1,{PARIS}\n2,,2.0\n3,abc,2.0\n4,95,2.0\n5,48,200\n6,nan,1\n"
            f"7,48.1,2.3,extra\n8,{WARSAW}\n")
    result = run([write(tmp_path, text), "--model", str(cities_model), "-q"])
    assert result.exit_code == 1
    rows = read_csv(result.stdout)
    assert [r["id"] for r in rows] == [str(i) for i in range(1, 9)]
    errors = {r["id"]: r["error"] for r in rows}
    assert errors["1"] == "" and errors["8"] == ""
    assert "line 3" in errors["2"] and "missing latitude" in errors["2"]
    assert "not a number" in errors["3"]
    assert "latitude 95 is outside" in errors["4"]
    assert "longitude 200 is outside" in errors["5"]
    assert "not a finite number" in errors["6"]
    assert "4 fields but the header has 3" in errors["7"]
    assert all(r["country"] == "" for r in rows if r["error"])


def test_missing_file_is_one_clear_line(tmp_path, cities_model):
    result = run([str(tmp_path / "nope.csv"), "--model", str(cities_model), "-q"])
    assert result.exit_code == 2
    assert result.stderr.strip().splitlines() == [f"error: {tmp_path / 'nope.csv'}: no such file"]
    assert "Traceback" not in result.output


@pytest.mark.parametrize("content, message", [
    ("name,population\nParis,2000000\n", "no latitude column"),
    ("", "empty file"),
    (b"\xff\xfel\x00a\x00t\x00,\x00l\x00o\x00n\x00\n\x00", "UTF-8"),  # UTF-16
])
def test_unusable_files_exit_2(tmp_path, cities_model, content, message):
    path = tmp_path / "bad.csv"
    path.write_bytes(content if isinstance(content, bytes) else content.encode())
    result = run([str(path), "--model", str(cities_model)])
    assert result.exit_code == 2
    assert message in result.stderr and "Traceback" not in result.output


def test_folder_instead_of_file(tmp_path, cities_model):
    result = run([str(tmp_path), "--model", str(cities_model)])
    assert result.exit_code == 2 and "is a folder" in result.stderr


def test_jsonl_output_to_file(tmp_path, cities_model):
    path = write(tmp_path, f"lat,lon\n{PARIS}\nx,1\n")
    out = tmp_path / "out.jsonl"
    result = run([path, "--model", str(cities_model), "-o", str(out), "-q"])
    assert result.exit_code == 1
    rows = [json.loads(line) for line in out.read_text().splitlines()]
    assert rows[0]["country_code"] == "FR" and isinstance(rows[0]["confidence"], float)
    assert rows[1]["country"] is None and "not a number" in rows[1]["error"]
    assert not [p for p in tmp_path.iterdir() if p.name.startswith(".out.jsonl")]


def test_semicolon_separated_with_decimal_commas_and_bom(tmp_path, cities_model):
    path = tmp_path / "eu.csv"
    path.write_bytes("\ufeffname;lat;lon\nParis;48,85;2,35\n".encode())
    result = run([str(path), "--model", str(cities_model), "-q"])
    assert result.exit_code == 0, result.output
    assert read_csv(result.stdout)[0]["country_code"] == "FR"


def test_input_country_column_is_kept_and_prediction_renamed(tmp_path, cities_model):
    path = write(tmp_path, f"lat,lon,country\n{PARIS},7\n")
    row = read_csv(run([path, "--model", str(cities_model), "-q"]).stdout)[0]
    assert row["country"] == "7" and row["predicted_country"] == "France"
    assert row["country_code"] == "FR"


def test_reads_stdin_in_small_batches(cities_model):
    text = "lat,lon\n" + f"{PARIS}\n" * 7
    result = run(["-", "--model", str(cities_model), "--batch-size", "3", "-q"], text)
    assert result.exit_code == 0
    assert [r["country_code"] for r in read_csv(result.stdout)] == ["FR"] * 7


def test_min_confidence_leaves_unsure_rows_empty(tmp_path, cities_model):
    line = [(46.5 + 5 * t / 199, 2.5 + 17 * t / 199) for t in range(200)]  # Paris -> Warsaw
    path = write(tmp_path, "lat,lon\n" + "".join(f"{lat},{lon}\n" for lat, lon in line))
    result = run([path, "--model", str(cities_model), "--min-confidence", "0.9", "-q"])
    rows = read_csv(result.stdout)
    unsure = [r for r in rows if r["error"]]
    assert unsure and result.exit_code == 1
    assert all(r["country"] == "" and "below --min-confidence 0.9" in r["error"] for r in unsure)
    assert all(float(r["confidence"]) >= 0.9 for r in rows if not r["error"])


def test_model_for_another_task_or_not_a_model(tmp_path, cities_model):
    fake = tmp_path / "fake.onnx"
    fake.write_bytes(b"not onnx")
    path = write(tmp_path, "lat,lon\n1,1\n")
    result = run([path, "--model", str(fake)])
    assert result.exit_code == 2 and "not a readable ONNX model" in result.stderr


def test_reports_provider_on_stderr(tmp_path, cities_model):
    path = write(tmp_path, f"lat,lon\n{PARIS}\n")
    result = run([path, "--model", str(cities_model), "--device", "cpu"])
    assert "CPUExecutionProvider" in result.stderr


def test_help_documents_exit_codes():
    result = run(["--help"])
    assert "Exit codes" in result.output and "130" in result.output
