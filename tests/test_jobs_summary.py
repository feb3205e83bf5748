"""The run summary: counts by kind of error, timing and the model, on stderr and as JSON."""

from __future__ import annotations

import json

from tests.jobs_support import run_cli

INPUT = """lat,lon,note
48.85,2.35,ok
52.23,21.01,ok
40.4,-3.7,ok
,2.35,missing
abc,2.35,not a number
48.85,999,out of range
48.85,2.35,too,many
"""


def test_summary_counts_and_json(tmp_path, cities_model):
    source = tmp_path / "in.csv"
    source.write_text(INPUT)
    out, summary_file = tmp_path / "out.csv", tmp_path / "summary.json"
    result = run_cli(source, "--model", cities_model, "-o", out, "--summary-json", summary_file)
    assert result.exit_code == 1
    summary = json.loads(summary_file.read_text())
    assert summary["seen"] == 7 and summary["classified"] == 3
    assert summary["skipped_already_done"] == 0 and summary["failed"] == 4
    assert summary["failed_by_kind"] == {"missing coordinate": 1, "not a number": 1,
                                         "out of range": 1, "too many fields": 1}
    assert summary["interrupted"] is None and summary["seconds"] >= 0
    assert summary["rows_per_second"] > 0
    assert summary["model"] == {"file": str(cities_model), "name": "tiny-cities",
                                "trainer_version": summary["model"]["trainer_version"],
                                "data_fingerprint": "sha256:test"}
    line = result.stderr.strip().splitlines()[-1]
    assert line.startswith("classify-cities: 7 rows seen, 3 classified, 0 skipped "
                           "(already done), 4 failed (")
    assert "model tiny-cities.onnx (tiny-cities, trainer " in line


def test_quiet_prints_nothing_but_still_writes_the_json(tmp_path, cities_model):
    source = tmp_path / "in.csv"
    source.write_text("lat,lon\n48.85,2.35\n")
    result = run_cli(source, "--model", cities_model, "-q", "--summary-json",
                     tmp_path / "s.json")
    assert result.exit_code == 0 and result.stderr == ""
    assert json.loads((tmp_path / "s.json").read_text())["classified"] == 1


def test_summary_json_in_a_missing_folder_is_a_usage_error(tmp_path, cities_model):
    source = tmp_path / "in.csv"
    source.write_text("lat,lon\n48.85,2.35\n")
    result = run_cli(source, "--model", cities_model, "--summary-json", tmp_path / "no/s.json")
    assert result.exit_code == 2 and "folder does not exist" in result.stderr
