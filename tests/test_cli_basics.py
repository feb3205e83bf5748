"""Both classify commands: --version, and an output named as compressed (-o x.csv.gz),
which is refused rather than written as plain text under that name."""

from __future__ import annotations

import pytest
from click.testing import CliRunner

import batch_classifier
from batch_classifier.inference.cities.cli import main as classify_cities
from batch_classifier.inference.images.cli import main as classify_images


@pytest.mark.parametrize(("command", "name"), [(classify_cities, "classify-cities"),
                                               (classify_images, "classify-images")])
def test_version(command, name):
    result = CliRunner().invoke(command, ["--version"])
    assert result.exit_code == 0
    assert result.stdout.strip() == f"{name}, version {batch_classifier.__version__}"


@pytest.mark.parametrize("suffix", [".csv.gz", ".jsonl.bz2", ".csv.xz", ".csv.zst", ".zip"])
def test_a_compressed_output_name_is_refused(tmp_path, cities_model, suffix):
    source = tmp_path / "in.csv"
    source.write_text("lat,lon\n48.85,2.35\n")
    out = tmp_path / f"out{suffix}"
    result = CliRunner().invoke(classify_cities, [str(source), "--model", str(cities_model),
                                                  "-o", str(out)])
    assert result.exit_code == 2, result.output
    assert "compressed" in result.stderr and "Traceback" not in result.output
    assert not out.exists()
