"""--resume refuses to mix two runs in one output: an input edited anywhere before the
last done row, another model, other options, or an output without its run record."""

from __future__ import annotations

import csv
from pathlib import Path

import pytest
from click.testing import CliRunner

from batch_classifier.inference.images.cli import main as classify_images
from tests.jobs_support import brightness_model, run_cli, write_cities_csv, write_images


def other_model(model: Path, folder: Path) -> Path:
    """The same network in another file (one more metadata entry): another fingerprint."""
    import onnx

    graph = onnx.load(model)
    entry = graph.metadata_props.add()
    entry.key, entry.value = "note", "retrained"
    onnx.save(graph, folder / "other.onnx")
    return folder / "other.onnx"


@pytest.fixture
def done(tmp_path, cities_model):
    """(input, output, model) after a run over 300 rows."""
    places = write_cities_csv(tmp_path / "in.csv", rows=300)
    out = tmp_path / "out.csv"
    result = run_cli(places, "--model", cities_model, "-o", out, "--resume")
    assert result.exit_code == 1, result.output  # the generated input has bad rows
    return places, out, cities_model


def edit_row(path: Path, number: int) -> None:
    with open(path, encoding="utf-8", newline="") as handle:
        rows = list(csv.reader(handle))
    rows[number][1] = "edited"
    with open(path, "w", encoding="utf-8", newline="") as handle:
        csv.writer(handle, lineterminator="\n").writerows(rows)


@pytest.mark.parametrize("row", [1, 150, 299])
def test_an_input_edited_before_the_last_done_row_is_refused(done, row):
    places, out, model = done
    before = out.read_bytes()
    edit_row(places, row)
    result = run_cli(places, "--model", model, "-o", out, "--resume")
    assert result.exit_code == 2 and "the input changed since" in result.stderr, result.output
    assert out.read_bytes() == before


def test_a_grown_input_still_resumes(done):
    places, out, model = done
    with open(places, "a", encoding="utf-8") as handle:
        handle.write("300,new place,48.85,2.35\n")
    result = run_cli(places, "--model", model, "-o", out, "--resume")
    assert result.exit_code == 0, result.output
    assert "301 rows seen, 1 classified, 300 skipped" in result.stderr


@pytest.mark.parametrize("option", [["--min-confidence", "0.5"], "model"])
def test_other_settings_are_refused(done, tmp_path, option):
    places, out, model = done
    if option == "model":
        option = ["--model", other_model(model, tmp_path)]
    before = out.read_bytes()
    result = run_cli(places, "--model", model, "-o", out, "--resume", *option)
    assert result.exit_code == 2 and "written with other settings" in result.stderr, \
        result.output
    assert out.read_bytes() == before


def test_other_coordinate_columns_are_refused(tmp_path, cities_model):
    places, out = tmp_path / "in.csv", tmp_path / "out.csv"
    places.write_text("lat,lon,y,x\n48.85,2.35,52.23,21.01\n")
    assert run_cli(places, "--model", cities_model, "-o", out, "--resume").exit_code == 0
    result = run_cli(places, "--model", cities_model, "-o", out, "--resume",
                     "--lat-col", "y", "--lon-col", "x")
    assert result.exit_code == 2 and "--lat-col: 'lat' in the output, 'y' now" in result.stderr


def test_an_output_without_its_run_record_is_refused(done):
    places, out, model = done
    Path(f"{out}.run.json").unlink()
    result = run_cli(places, "--model", model, "-o", out, "--resume")
    assert result.exit_code == 2 and "has no run record" in result.stderr


def test_the_run_record_follows_an_atomic_output(done):
    places, out, model = done
    assert run_cli(places, "--model", model, "-o", out, "--min-confidence", "0.5").exit_code
    result = run_cli(places, "--model", model, "-o", out, "--resume", "--min-confidence", "0.5")
    assert result.exit_code == 0 and "300 skipped" in result.stderr, result.output


def test_images_refuse_another_model_threshold_or_uncertain_band(tmp_path):
    write_images(tmp_path / "in", 6)
    model = brightness_model(tmp_path / "bright.onnx")
    out = tmp_path / "out.csv"

    def run(*args):
        return CliRunner().invoke(classify_images, [str(tmp_path / "in"), "-o", str(out),
                                                    "--resume", *map(str, args)])

    assert run("--model", model).exit_code == 0
    for args in (["--model", brightness_model(tmp_path / "small.onnx", size=8)],
                 ["--model", model, "--threshold", "0.9"],
                 ["--model", model, "--uncertain", "0.1,0.9"]):
        result = run(*args)
        assert result.exit_code == 2 and "written with other settings" in result.stderr, \
            result.output
    assert run("--model", model).exit_code == 0
