"""--dask --resume as a nightly job: a part whose bytes changed is computed again even
when the file kept its size and mtime; a CSV that grew and a glob that gained a file
resume (new parts for the new data, the old parts kept); images partitions do not move
when new files arrive."""

from __future__ import annotations

import json
import os
import shutil
from pathlib import Path

import pytest
from click.testing import CliRunner

from batch_classifier.inference.images.cli import main as classify_images
from tests.jobs_support import brightness_model, finished, run_cli, write_images
from tests.test_dask_runs import cluster, local_run, parts_text, places  # noqa: F401

pytest.importorskip("distributed")


def dask_run(source: str | Path, model: Path, scheduler: str, folder: Path, *extra):
    return run_cli(source, "--model", model, "--dask", scheduler, "-o", folder,
                   "--blocksize", "16KB", *extra)


def test_an_edit_that_keeps_size_and_mtime_is_computed_again(tmp_path, cluster, places,  # noqa: F811
                                                              cities_model):
    source = tmp_path / "places.csv"
    shutil.copy2(places, source)
    folder = tmp_path / "parts"
    finished(dask_run(source, cities_model, cluster.scheduler.address, folder))
    info = source.stat()
    data = source.read_bytes()
    at = data.index(b"place 3000,")
    source.write_bytes(data[:at] + b"PLACE 3000," + data[at + len(b"place 3000,"):])
    os.utime(source, ns=(info.st_atime_ns, info.st_mtime_ns))  # as cp -p, rsync -t keep it
    assert source.stat().st_size == info.st_size
    result = dask_run(source, cities_model, cluster.scheduler.address, folder, "--resume")
    finished(result)
    assert "already done" in result.stderr  # the other parts were kept
    assert parts_text(folder) == local_run(source, cities_model, tmp_path / "one.csv")
    assert "PLACE 3000" in parts_text(folder)


def test_a_csv_that_grew_resumes_with_new_parts(tmp_path, cluster, places, cities_model):  # noqa: F811
    source = tmp_path / "places.csv"
    lines = places.read_text().splitlines(keepends=True)
    source.write_text("".join(lines[:4000]))
    folder = tmp_path / "parts"
    finished(dask_run(source, cities_model, cluster.scheduler.address, folder))
    before = json.loads((folder / "_SUCCESS").read_text())["parts"]
    with open(source, "a") as handle:
        handle.write("".join(lines[4000:]))
    result = dask_run(source, cities_model, cluster.scheduler.address, folder, "--resume",
                      "--summary-json", tmp_path / "s.json")
    finished(result)
    summary = json.loads((tmp_path / "s.json").read_text())
    assert summary["skipped_already_done"] > 0
    assert summary["seen"] - summary["skipped_already_done"] < 6000 / 2  # the new rows, and
    assert json.loads((folder / "_SUCCESS").read_text())["parts"] > before  # some around them
    assert parts_text(folder) == local_run(source, cities_model, tmp_path / "one.csv")


def test_a_glob_that_gained_a_file_resumes(tmp_path, cluster, places, cities_model):  # noqa: F811
    lines = places.read_text().splitlines(keepends=True)
    (tmp_path / "in").mkdir()
    for day, rows in (("2026-01", lines[1:2000]), ("2026-02", lines[2000:4000])):
        (tmp_path / "in" / f"{day}.csv").write_text(lines[0] + "".join(rows))
    folder = tmp_path / "parts"
    pattern = f"{tmp_path}/in/*.csv"
    finished(dask_run(pattern, cities_model, cluster.scheduler.address, folder))
    (tmp_path / "in" / "2026-03.csv").write_text(lines[0] + "".join(lines[4000:]))
    result = dask_run(pattern, cities_model, cluster.scheduler.address, folder, "--resume")
    finished(result)
    assert "already done" in result.stderr
    success = json.loads((folder / "_SUCCESS").read_text())
    assert success["rows"] == len(lines) - 1 - lines.count("\n")


def test_a_header_only_csv_is_the_same_answer_with_and_without_dask(tmp_path, cluster,  # noqa: F811
                                                                    cities_model):
    source = tmp_path / "empty.csv"
    source.write_text("id,lat,lon")  # no line ending
    local = run_cli(source, "--model", cities_model, "-o", tmp_path / "one.csv")
    result = dask_run(source, cities_model, cluster.scheduler.address, tmp_path / "parts")
    assert local.exit_code == result.exit_code == 0, result.output
    assert (tmp_path / "parts" / "part-00000.csv").read_text() == (tmp_path / "one.csv").read_text()


def test_new_images_do_not_move_the_old_ones_into_other_parts(tmp_path, cluster):  # noqa: F811
    model = brightness_model(tmp_path / "bright.onnx")
    folder = tmp_path / "in"
    write_images(folder, 120)
    out = tmp_path / "parts"
    args = [str(folder), "--model", str(model), "--dask", cluster.scheduler.address,
            "--files-per-task", "10", "-o", str(out), "-q"]
    runner = CliRunner()
    finished(runner.invoke(classify_images, args), 0)
    for i in (5, 37, 61, 88, 110):  # new files spread over the listing
        shutil.copy(folder / ("sub" if i % 3 == 0 else "") / f"img {i:04d}.png",
                    folder / ("sub" if i % 3 == 0 else "") / f"img {i:04d}b.png")
    result = runner.invoke(classify_images, [*args, "--resume", "--summary-json",
                                             str(tmp_path / "s.json")])
    finished(result, 0)
    summary = json.loads((tmp_path / "s.json").read_text())
    assert summary["seen"] == 125
    assert summary["classified"] <= 5 * 10 + 5  # only the parts the new files joined
    rows = sorted(line for path in out.glob("part-*.csv")
                  for line in path.read_text().splitlines()[1:])
    finished(runner.invoke(classify_images, [str(folder), "--model", str(model), "-o",
                                             str(tmp_path / "one.csv"), "-q"]), 0)
    assert rows == sorted((tmp_path / "one.csv").read_text().splitlines()[1:])
