"""Records as text: every control character in a field keeps one record per row in CSV
and JSON Lines (read back by csv, json and --resume), and no two columns share a name."""

from __future__ import annotations

import csv
import io
import json

import pytest
from click.testing import CliRunner
from PIL import Image

from batch_classifier.inference.formats import added_names, unique_names
from batch_classifier.inference.images.cli import main as classify_images
from batch_classifier.inference.jobs.resume import read_done
from batch_classifier.inference.output import ResultWriter
from tests.jobs_support import brightness_model, run_cli

CONTROLS = [chr(code) for code in [*range(32), 0x7F, *range(0x80, 0xA0), 0x2028, 0x2029]]
COLUMNS = ["id", "text", "score"]


@pytest.mark.parametrize("fmt", ["csv", "jsonl"])
def test_every_control_character_keeps_one_record_per_row(tmp_path, fmt):
    out = tmp_path / f"out.{fmt}"
    rows = [[str(i), f"a{char}b{char}", 0.5] for i, char in enumerate(CONTROLS)]
    writer = ResultWriter(out, fmt, COLUMNS, append=True)
    writer.write_rows(rows)
    writer.close()
    text = out.read_bytes().decode("utf-8")
    if fmt == "csv":
        records = list(csv.reader(io.StringIO(text, newline="")))
        assert records[0] == COLUMNS
        assert [r[:2] for r in records[1:]] == [r[:2] for r in rows]
    else:
        lines = text.splitlines()  # splits at \x0b, \x1c, \x85, \u2028 ... too
        assert [json.loads(line)["text"] for line in lines] == [r[1] for r in rows]
    done = read_done(out, fmt, COLUMNS)
    assert done.count == len(rows) and done.repaired_bytes == 0


def test_a_carriage_return_in_a_csv_field_survives_resume(tmp_path, cities_model):
    source = tmp_path / "in.csv"
    source.write_bytes(b'name,lat,lon\n"a\rb",48.85,2.35\n"c\r",52.23,21.01\n')
    out = tmp_path / "out.csv"
    for _ in range(2):
        result = run_cli(source, "--model", cities_model, "-o", out, "--resume", "-q")
        assert result.exit_code == 0, result.output
    with open(out, encoding="utf-8", newline="") as handle:
        assert [r[0] for r in csv.reader(handle)] == ["name", "a\rb", "c\r"]


def test_a_carriage_return_in_a_file_name_survives_resume(tmp_path):
    model = brightness_model(tmp_path / "bright.onnx")
    (tmp_path / "in").mkdir()
    for name in ("a\rb.png", "c.png\r.png", "plain.png"):
        Image.new("RGB", (8, 8)).save(tmp_path / "in" / name)
    out = tmp_path / "out.csv"
    args = [str(tmp_path / "in"), "--model", str(model), "-o", str(out), "--resume", "-q"]
    for _ in range(2):
        result = CliRunner().invoke(classify_images, args)
        assert result.exit_code == 0, result.output
    with open(out, encoding="utf-8", newline="") as handle:
        assert len(list(csv.reader(handle))) == 4


@pytest.mark.parametrize("columns", [["a", "a", "a_2"], ["a", "a_2", "a", "a", "a_3"],
                                     ["x", "x", "x_2", "x_2"]])
def test_unique_names_never_collide(columns):
    names = unique_names(columns)
    assert len(set(names)) == len(names) == len(columns)
    assert names[0] == columns[0]


def test_added_names_never_collide_with_the_input():
    header = ["confidence", "predicted_confidence", "Country", "predicted_country_2"]
    added = ["country", "country_code", "confidence", "country_2", "error"]
    names = added_names(header, added)
    folded = [name.lower() for name in header + names]
    assert len(set(folded)) == len(folded)
    assert names == ["predicted_country", "country_code", "predicted_confidence_2",
                     "country_2", "error"]


def test_jsonl_keeps_every_value_of_colliding_input_columns(tmp_path, cities_model):
    source = tmp_path / "in.csv"
    source.write_text("a,a,a_2,lat,lon,confidence,predicted_confidence\n"
                      "1,2,3,48.85,2.35,x,y\n")
    out = tmp_path / "out.jsonl"
    assert run_cli(source, "--model", cities_model, "-o", out).exit_code == 0
    record = json.loads(out.read_text())
    assert sorted(v for v in record.values() if v in ("1", "2", "3", "x", "y")) == [
        "1", "2", "3", "x", "y"]
    csv_out = tmp_path / "out.csv"
    assert run_cli(source, "--model", cities_model, "-o", csv_out).exit_code == 0
    header = csv_out.read_text().splitlines()[0].split(",")
    added = header[7:]
    assert len(set(added)) == len(added) and not set(added) & set(header[:7])
