"""--resume: reading back an output, repairing a torn tail, and continuing a run."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from batch_classifier.inference.errors import UsageError
from batch_classifier.inference.jobs.resume import RowsDigest, read_done
from batch_classifier.inference.output import ResultWriter
from tests.jobs_support import assert_same_rows, read_rows, run_cli, write_cities_csv

COLUMNS = ["id", "name", "country", "confidence", "error"]
ROWS = [[str(i), name, "France", 0.5, None] for i, name in
        enumerate(["plain", "with, comma", "two\nlines", 'quote "q"', "crlf\r\nend", "é ü"])]


def _digest(rows):
    digest = RowsDigest()
    for row in rows:
        digest.add(row)
    return digest.hexdigest()


def _written(path, fmt):
    """Write ROWS one batch each; return the file size after the header and each row."""
    writer = ResultWriter(str(path), fmt, COLUMNS, append=True)
    ends = [path.stat().st_size]
    for row in ROWS:
        writer.write_rows([row])
        ends.append(path.stat().st_size)
    writer.close()
    return ends


@pytest.mark.parametrize("fmt", ["csv", "jsonl"])
def test_a_torn_tail_is_cut_back_to_the_last_whole_record_at_every_byte(tmp_path, fmt):
    full = tmp_path / f"full.{fmt}"
    ends = _written(full, fmt)
    data = full.read_bytes()
    for cut in range(len(data) + 1):
        part = tmp_path / f"part.{fmt}"
        part.write_bytes(data[:cut])
        done = read_done(part, fmt, COLUMNS, prefix_width=2)
        whole = max(i for i, end in enumerate(ends) if end <= cut) if cut >= ends[0] else 0
        want_end = ends[whole] if cut >= ends[0] else (0 if fmt == "csv" else cut)
        assert done.count == whole, cut
        assert part.stat().st_size == want_end, cut
        assert done.repaired_bytes == cut - want_end
        assert done.prefix_digest == _digest([row[:2] for row in ROWS[:whole]])


def test_keys_are_read_back_from_the_named_columns(tmp_path):
    out = tmp_path / "out.jsonl"
    _written(out, "jsonl")
    done = read_done(out, "jsonl", COLUMNS, key_columns=["id", "confidence"])
    assert done.keys == {(str(i), "0.5") for i in range(len(ROWS))}


@pytest.mark.parametrize("fmt", ["csv", "jsonl"])
def test_an_output_with_other_columns_is_refused(tmp_path, fmt):
    out = tmp_path / f"out.{fmt}"
    _written(out, fmt)
    with pytest.raises(UsageError, match="columns"):
        read_done(out, fmt, COLUMNS + ["country_2"])


def test_a_file_that_is_not_an_output_is_refused(tmp_path):
    out = tmp_path / "out.jsonl"
    out.write_text("[1, 2]\n")
    with pytest.raises(UsageError, match="not an output"):
        read_done(out, "jsonl", COLUMNS)


@pytest.fixture
def places(tmp_path):
    return write_cities_csv(tmp_path / "in.csv", rows=300)


@pytest.mark.parametrize("suffix", ["csv", "jsonl"])
def test_resume_classifies_only_what_a_growing_input_added(tmp_path, cities_model, suffix):
    first = write_cities_csv(tmp_path / "first.csv", rows=120)
    grown = write_cities_csv(tmp_path / "grown.csv", rows=300)  # same seed: a longer file
    out, clean = tmp_path / f"out.{suffix}", tmp_path / f"clean.{suffix}"
    model = ["--model", cities_model, "--batch-size", "50"]
    run_cli(first, *model, "-o", out, "--resume")
    result = run_cli(grown, *model, "-o", out, "--resume", "--summary-json", tmp_path / "s.json")
    assert result.exit_code == 1, result.output  # the generated input has bad rows
    summary = json.loads((tmp_path / "s.json").read_text())
    assert (summary["seen"], summary["skipped_already_done"]) == (300, 120)
    assert summary["classified"] + summary["failed"] == 180
    run_cli(grown, *model, "-o", clean)
    assert out.read_text() == clean.read_text()


def test_resume_of_a_finished_output_classifies_nothing(tmp_path, cities_model, places):
    out = tmp_path / "out.csv"
    run_cli(places, "--model", cities_model, "-o", out)
    before = out.read_bytes()
    result = run_cli(places, "--model", cities_model, "-o", out, "--resume")
    assert result.exit_code == 0, result.output
    assert "300 rows seen, 0 classified, 300 skipped (already done), 0 failed" in result.stderr
    assert out.read_bytes() == before


def test_resume_after_a_torn_write_completes_the_output(tmp_path, cities_model, places):
    out, clean = tmp_path / "out.csv", tmp_path / "clean.csv"
    run_cli(places, "--model", cities_model, "-o", clean)
    out.write_bytes(clean.read_bytes()[: len(clean.read_bytes()) // 2])  # cut mid-record
    Path(f"{out}.run.json").write_bytes(Path(f"{clean}.run.json").read_bytes())  # its record
    result = run_cli(places, "--model", cities_model, "-o", out, "--resume")
    assert "cut off a torn last record" in result.stderr
    assert_same_rows(read_rows(out), read_rows(clean))


def test_resume_refuses_an_input_that_changed(tmp_path, cities_model, places):
    out = tmp_path / "out.csv"
    run_cli(places, "--model", cities_model, "-o", out)
    other = write_cities_csv(tmp_path / "other.csv", rows=400, seed=1)
    result = run_cli(other, "--model", cities_model, "-o", out, "--resume")
    assert result.exit_code == 2
    assert "input changed" in result.stderr
    shorter = write_cities_csv(tmp_path / "short.csv", rows=10)
    result = run_cli(shorter, "--model", cities_model, "-o", out, "--resume")
    assert result.exit_code == 2
    assert "has 10 rows but the output already holds 300" in result.stderr


def test_resume_refuses_other_options_and_needs_an_output(tmp_path, cities_model, places):
    out = tmp_path / "out.csv"
    run_cli(places, "--model", cities_model, "-o", out)
    result = run_cli(places, "--model", cities_model, "-o", out, "--resume", "--top-k", "2")
    assert result.exit_code == 2 and "same options" in result.stderr
    result = run_cli(places, "--model", cities_model, "--resume")
    assert result.exit_code == 2 and "--resume needs -o FILE" in result.stderr
