"""--dask with fsspec URLs, tested through file:// (the local disk seen through fsspec):
inputs and -o as URLs give the rows of a local run, --resume finds the parts through
fsspec; a protocol whose package is missing, and a URL without --dask, are one line and
exit code 2."""

from __future__ import annotations

import importlib.util
import json

import pytest
from click.testing import CliRunner

from batch_classifier.inference.images.cli import main as classify_images
from tests.jobs_support import brightness_model, finished, run_cli, write_images
from tests.test_dask_runs import (  # noqa: F401 - cluster and places are fixtures
    check_parquet_parts,
    cluster,
    local_run,
    parts_text,
    places,
)

pytest.importorskip("distributed")


def test_cities_urls_give_the_rows_of_the_local_run(tmp_path, cluster, places,  # noqa: F811
                                                    cities_model):
    want = local_run(places, cities_model, tmp_path / "one.csv")
    folder = tmp_path / "parts"
    args = [f"file://{places.parent}/pl*.csv", "--model", cities_model, "--dask",
            cluster.scheduler.address, "-o", f"file://{folder}", "--blocksize", "16KB"]
    finished(run_cli(*args, "-q"))
    assert parts_text(folder) == want
    parts = sorted(folder.glob("part-*.csv"))
    assert len(parts) >= 8 and not list(folder.glob(".*"))  # no temporary file left
    assert json.loads((folder / "_SUCCESS").read_text())["rows"] == 6000
    parts[3].unlink()
    result = run_cli(*args, "--resume")
    finished(result)
    assert f"({len(parts) - 1} already done)" in result.stderr
    assert parts_text(folder) == want


def test_a_parquet_url_gives_the_rows_of_the_local_run(tmp_path, cluster, places,  # noqa: F811
                                                       cities_model):
    check_parquet_parts(tmp_path, places, cities_model, cluster.scheduler.address,
                        named=lambda path: f"file://{path}")


def test_an_images_url_gives_the_rows_of_the_local_run(tmp_path, cluster):  # noqa: F811
    model = brightness_model(tmp_path / "bright.onnx")
    folder = tmp_path / "in"
    write_images(folder, 12)
    (folder / "text.jpg").write_bytes(b"not an image")
    (folder / ".hidden.png").write_bytes((folder / "img 0001.png").read_bytes())
    runner = CliRunner()
    finished(runner.invoke(classify_images, [str(folder), "--model", str(model), "-o",
                                             str(tmp_path / "one.csv"), "-q"]))
    out = tmp_path / "parts"
    finished(runner.invoke(classify_images, [
        f"file://{folder}", "--model", str(model), "--dask", cluster.scheduler.address,
        "--files-per-task", "5", "-o", f"file://{out}", "-q"]))
    header, *rows = (tmp_path / "one.csv").read_text().splitlines()
    part_rows = [path.read_text().splitlines() for path in sorted(out.glob("part-*.csv"))]
    assert len(part_rows) == 3 and all(lines[0] == header for lines in part_rows)
    assert (sorted(row for lines in part_rows for row in lines[1:])
            == sorted(f"file://{row}" for row in rows))


def _missing_protocol() -> tuple[str, str]:
    """A protocol fsspec knows whose package is not installed here."""
    for protocol, package in (("s3", "s3fs"), ("gcs", "gcsfs"), ("abfs", "adlfs")):
        if importlib.util.find_spec(package) is None:
            return protocol, package
    pytest.skip("s3fs, gcsfs and adlfs are all installed")


def test_a_url_without_its_package_is_one_line_naming_it(tmp_path):
    protocol, package = _missing_protocol()
    result = run_cli(f"{protocol}://bucket/places.csv", "--dask", "local:1", "-o",
                     tmp_path / "out")
    assert result.exit_code == 2
    assert f"pip install {package}" in result.stderr
    assert len(result.stderr.splitlines()) == 1
    images = CliRunner().invoke(classify_images, [str(tmp_path), "--dask", "local:1", "-o",
                                                  f"{protocol}://bucket/out/"])
    assert images.exit_code == 2 and f"pip install {package}" in images.stderr
    assert not (tmp_path / "out").exists()


def test_a_url_without_dask_is_one_line_and_exit_2(tmp_path):
    result = run_cli("file:///data/places.csv", "-o", tmp_path / "out.csv")
    assert result.exit_code == 2
    assert result.stderr.startswith("error: file:///data/places.csv: URLs need --dask")
    assert len(result.stderr.splitlines()) == 1
    images = CliRunner().invoke(classify_images, [str(tmp_path), "-o", "file:///out.csv"])
    assert images.exit_code == 2 and "URLs need --dask" in images.stderr
