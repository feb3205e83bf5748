"""--dask and yesterday's output folder: a run that fails before any work leaves it as
it was; --summary-json and inputs reached by another route never destroy a part, an
input, the journal or the lock; a file:// folder is locked as a local one; a folder the
client cannot read back is never declared a success."""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest
from click.testing import CliRunner

from batch_classifier.inference.distributed import cluster as cluster_module
from batch_classifier.inference.images.cli import main as classify_images
from batch_classifier.inference.jobs.lock import OutputLock
from tests.jobs_support import brightness_model, finished, run_cli, write_images
from tests.test_dask_runs import cluster, places  # noqa: F401 - fixtures

pytest.importorskip("distributed")


def snapshot(folder: Path) -> dict[str, bytes]:
    """Every file of `folder` (and the lock beside it, if any) by name."""
    files = {path.name: path.read_bytes() for path in folder.iterdir()}
    lock = Path(f"{folder}.lock")
    if lock.exists():
        files["(lock)"] = lock.read_bytes()
    return files


@pytest.fixture
def complete(tmp_path, cluster, places, cities_model):  # noqa: F811
    """A folder a complete --dask run wrote, and the arguments that wrote it (its input
    a copy of `places`, which a failing test may destroy)."""
    folder = tmp_path / "out"
    source = tmp_path / "places.csv"
    source.write_bytes(places.read_bytes())
    args = [source, "--model", cities_model, "--dask", cluster.scheduler.address, "-o", folder,
            "--blocksize", "64KB", "-q"]
    finished(run_cli(*args))
    assert (folder / "_SUCCESS").exists()
    return folder, args


@pytest.mark.parametrize("scheduler", ["locl:2", "tcp://127.0.0.1:9", "cuda"])
@pytest.mark.parametrize("as_url", [False, True])
def test_a_run_failing_before_any_work_leaves_the_folder_as_it_was(
        complete, cluster, places, cities_model, monkeypatch, scheduler, as_url):  # noqa: F811
    folder, _ = complete
    before = snapshot(folder)
    monkeypatch.setattr(cluster_module, "CONNECT_TIMEOUT_S", 2)
    device = ["--device", "cuda"] if scheduler == "cuda" else []
    address = cluster.scheduler.address if scheduler == "cuda" else scheduler
    output = f"file://{folder}" if as_url else folder
    result = run_cli(places, "--model", cities_model, "--dask", address, "-o", output, *device)
    assert result.exit_code == 2, result.output
    assert "Traceback" not in result.output
    assert snapshot(folder) == before


def test_images_failing_before_any_work_leave_the_folder_as_it_was(tmp_path, cluster):  # noqa: F811
    model = brightness_model(tmp_path / "bright.onnx")
    write_images(tmp_path / "in", 6)
    out = tmp_path / "out"
    runner = CliRunner()
    args = [str(tmp_path / "in"), "--model", str(model), "-o", str(out), "-q"]
    finished(runner.invoke(classify_images, [*args, "--dask", cluster.scheduler.address]), 0)
    before = snapshot(out)
    for extra in (["--dask", "locl:2"], ["--dask", cluster.scheduler.address, "--device", "cuda"]):
        result = runner.invoke(classify_images, [*args, *extra])
        assert result.exit_code == 2, result.output
        assert snapshot(out) == before


@pytest.mark.parametrize("where", ["part", "journal", "success", "lock", "input"])
def test_summary_json_never_overwrites_a_file_of_the_run(complete, where):
    folder, args = complete
    before, before_input = snapshot(folder), args[0].read_bytes()
    target = {"part": folder / "part-00000.csv", "journal": folder / "_progress.jsonl",
              "success": folder / "_SUCCESS", "lock": Path(f"{folder}.lock"),
              "input": args[0]}[where]
    result = run_cli(*args, "--summary-json", target)
    assert result.exit_code == 2, result.output
    assert "--summary-json" in result.stderr
    assert snapshot(folder) == before
    assert args[0].read_bytes() == before_input


def test_summary_json_named_like_an_image_is_refused_with_dask(tmp_path, cluster):  # noqa: F811
    model = brightness_model(tmp_path / "bright.onnx")
    images = write_images(tmp_path / "in", 3)
    original = images[0].read_bytes()
    result = CliRunner().invoke(classify_images, [
        str(tmp_path / "in"), "--model", str(model), "--dask", cluster.scheduler.address,
        "-o", str(tmp_path / "out"), "--summary-json", str(images[0])])
    assert result.exit_code == 2, result.output
    assert images[0].read_bytes() == original


def test_a_summary_inside_the_folder_works_every_night(complete):
    folder, args = complete
    for night in range(3):
        finished(run_cli(*args, "--summary-json", folder / "summary.json"))
        assert json.loads((folder / "summary.json").read_text())["seen"] == 6000, night
        assert (folder / "_SUCCESS").exists()
    finished(run_cli(*args, "--resume", "--summary-json", folder / "summary.json"), 0)
    first = folder.parent / "first-night"
    finished(run_cli(*args[:6], first, *args[7:], "--summary-json", first / "summary.json"))
    assert json.loads((first / "summary.json").read_text())["seen"] == 6000


@pytest.mark.parametrize("route", ["url", "symlink", "dotdot"])
def test_an_input_inside_the_folder_by_another_route_is_refused(complete, tmp_path, route):
    folder, args = complete
    before = snapshot(folder)
    (tmp_path / "sub").mkdir()
    os.symlink(folder.parent, tmp_path / "sub" / "up")  # sub/up/.. is tmp_path's parent
    os.symlink(folder, tmp_path / "link")
    name = {"url": f"file://{folder}/part-00001.csv",
            "symlink": str(tmp_path / "link" / "part-00001.csv"),
            "dotdot": str(tmp_path / "sub" / "up" / ".." / folder.parent.name / folder.name
                          / "part-00001.csv")}[route]
    result = run_cli(name, *args[1:])
    assert result.exit_code == 2, result.output
    assert "inside the output folder" in result.stderr
    assert "Traceback" not in result.output
    assert snapshot(folder) == before


def test_an_images_input_inside_the_folder_is_refused(complete, tmp_path, cluster):  # noqa: F811
    folder, _ = complete
    before = snapshot(folder)
    model = brightness_model(tmp_path / "bright.onnx")
    os.symlink(folder, tmp_path / "link")
    result = CliRunner().invoke(classify_images, [
        str(tmp_path / "link" / "part-00000.csv"), "--model",
        str(model), "--dask", cluster.scheduler.address, "-o", str(folder)])
    assert result.exit_code == 2, result.output
    assert snapshot(folder) == before


def test_a_file_url_folder_is_locked_as_a_local_one(complete):
    folder, args = complete
    before = snapshot(folder)
    with OutputLock(folder):  # a local run (or another job) holds the folder
        result = run_cli(f"{args[0]}", *args[1:5], "-o", f"file://{folder}", *args[7:])
    assert result.exit_code == 2, result.output
    assert "another job" in result.stderr
    assert {k: v for k, v in snapshot(folder).items() if k != "(lock)"} == \
        {k: v for k, v in before.items() if k != "(lock)"}


def test_an_output_the_client_cannot_read_back_is_not_a_success(cluster, places,  # noqa: F811
                                                                 cities_model):
    fsspec = pytest.importorskip("fsspec")
    result = run_cli(places, "--model", cities_model, "--dask", cluster.scheduler.address,
                     "-o", "memory://nightly/out", "--blocksize", "64KB")
    assert result.exit_code == 2, result.output
    assert "where the client can read them" in result.stderr
    assert not fsspec.filesystem("memory").exists("/nightly/out/_SUCCESS")


def test_a_folder_named_like_a_part_is_refused(complete):
    folder, args = complete
    (folder / "part-00000.csv").unlink()
    (folder / "part-00000.csv").mkdir()
    result = run_cli(*args)
    assert result.exit_code == 2, result.output
    assert "part-00000.csv" in result.stderr and "Traceback" not in result.output
    assert (folder / "part-00000.csv").is_dir() and (folder / "_SUCCESS").exists()


def test_a_scheduler_lost_mid_run_is_one_line(tmp_path, places, cities_model):  # noqa: F811
    import logging
    import subprocess

    from tests.test_dask_runs import start_job, wait_for_parts

    distributed = pytest.importorskip("distributed")
    folder = tmp_path / "parts"
    local = distributed.LocalCluster(n_workers=1, threads_per_worker=1, processes=True,
                                     dashboard_address=None, silence_logs=logging.CRITICAL)
    try:
        job = start_job(places, cities_model, local.scheduler_address, folder)
        wait_for_parts(folder, 1, job)
    finally:
        local.close()
    try:
        status = job.wait(timeout=120)
    except subprocess.TimeoutExpired:
        job.kill()
        raise
    stderr = job.stderr.read()
    assert status == 2, stderr
    assert "Traceback" not in stderr and len(stderr.strip().splitlines()) == 1, stderr
    assert "--resume" in stderr
