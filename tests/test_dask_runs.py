"""--dask on a real Dask cluster (a LocalCluster of two worker processes, shared by the
tests of this module): the parts equal a local run, a worker or the client killed mid
job loses and duplicates nothing, bad rows and files spread over several parts."""

from __future__ import annotations

import json
import logging
import os
import signal
import subprocess
import time
from collections.abc import Callable
from pathlib import Path

import pytest
from click.testing import CliRunner

from batch_classifier.inference.images.cli import main as classify_images
from tests.jobs_support import (
    CLASSIFY_CITIES,
    brightness_model,
    finished,
    run_cli,
    write_images,
)

distributed = pytest.importorskip("distributed")


@pytest.fixture(scope="module")
def cluster():
    """A client of a LocalCluster with two worker processes."""
    with distributed.LocalCluster(n_workers=2, threads_per_worker=1, processes=True,
                                  dashboard_address=None, silence_logs=logging.ERROR) as local, \
            distributed.Client(local) as client:
        yield client


@pytest.fixture(scope="module")
def places(tmp_path_factory) -> Path:
    """A CSV of 6,000 rows (no quotes, so it is cut into many parts) with bad rows of
    every kind throughout, and blank lines."""
    path = tmp_path_factory.mktemp("places") / "places.csv"
    lines = ["id,name,lat,lon"]
    for i in range(6000):
        lat, lon = f"{37 + (i * 7919 % 1700) / 100:.2f}", f"{-6 + (i * 104729 % 2900) / 100:.2f}"
        bad = {5: ("", lon), 13: ("abc", lon), 29: (lat, "999"), 31: (lat, "nan")}
        lat, lon = bad.get(i % 40, (lat, lon))
        lines.append(f"{i},place {i},{lat},{lon}" + (",extra" if i % 333 == 7 else ""))
        if i % 500 == 3:
            lines.append("")
    path.write_text("\n".join(lines) + "\n")
    return path


def parts_text(folder: Path) -> str:
    """The CSV parts of `folder`, concatenated under the first part's header."""
    parts = sorted(folder.glob("part-*.csv"))
    texts = [part.read_text() for part in parts]
    return texts[0] + "".join(text.split("\n", 1)[1] for text in texts[1:])


def local_run(places: Path, model: Path, out: Path) -> str:
    finished(run_cli(places, "--model", model, "-o", out, "-q"))
    return out.read_text()


def test_cities_parts_equal_the_local_run(tmp_path, cluster, places, cities_model):
    want = local_run(places, cities_model, tmp_path / "one.csv")
    folder = tmp_path / "parts"
    result = run_cli(places, "--model", cities_model, "--dask", cluster.scheduler.address,
                     "-o", folder, "--blocksize", "16KB", "--summary-json", tmp_path / "s.json")
    finished(result)
    assert parts_text(folder) == want
    success = json.loads((folder / "_SUCCESS").read_text())
    summary = json.loads((tmp_path / "s.json").read_text())
    assert success["parts"] == len(list(folder.glob("part-*.csv"))) >= 8
    assert success["rows"] == summary["seen"] == 6000
    assert success["failed_by_kind"] == summary["failed_by_kind"]
    assert set(success["failed_by_kind"]) == {"missing coordinate", "not a number",
                                             "out of range", "too many fields"}
    with_errors = [r for r in success["part_list"] if r["failed"]]
    assert len(with_errors) == success["parts"]  # bad rows in every part
    assert "rows seen" in result.stderr and "_SUCCESS written" in result.stderr


def check_parquet_parts(tmp_path: Path, places: Path, model: Path, scheduler: str,
                        named: Callable[[Path], str] = str) -> None:
    """`places` as Parquet (row groups of 500 rows) classified on Dask into several
    parts, the input and folder given as `named(path)`: the parts equal a local run."""
    pd = pytest.importorskip("pandas")
    data = tmp_path / "places.parquet"
    pd.read_csv(places, dtype=str, keep_default_na=False, on_bad_lines="skip").to_parquet(
        data, row_group_size=500)
    finished(run_cli(data, "--model", model, "-o", tmp_path / "one.parquet", "-q"))
    folder = tmp_path / "parts.parquet"
    finished(run_cli(named(data), "--model", model, "--dask", scheduler, "-o", named(folder),
                     "--blocksize", "16KB", "-q"))
    parts = sorted(folder.glob("part-*.parquet"))
    assert len(parts) > 3
    got = pd.concat([pd.read_parquet(part) for part in parts], ignore_index=True)
    pd.testing.assert_frame_equal(got, pd.read_parquet(tmp_path / "one.parquet"))


def test_parquet_parts_equal_the_local_parquet(tmp_path, cluster, places, cities_model):
    check_parquet_parts(tmp_path, places, cities_model, cluster.scheduler.address)


def start_job(places: Path, model: Path, scheduler: str, folder: Path) -> subprocess.Popen:
    """classify-cities --dask in a subprocess, cut into small slow parts."""
    return subprocess.Popen([*CLASSIFY_CITIES, str(places), "--model", str(model), "--dask",
                             scheduler, "-o", str(folder), "--blocksize", "4KB",
                             "--batch-size", "10", "-q"], stderr=subprocess.PIPE, text=True)


def wait_for_parts(folder: Path, count: int, job: subprocess.Popen) -> None:
    """Wait until the journal records `count` finished parts."""
    journal = folder / "_progress.jsonl"
    deadline = time.monotonic() + 60
    while not journal.exists() or journal.read_text().count('"part"') < count:
        assert job.poll() is None and time.monotonic() < deadline, job.stderr.read()
        time.sleep(0.01)


def test_a_worker_killed_mid_job_loses_and_duplicates_nothing(tmp_path, cluster, places,
                                                              cities_model):
    want = local_run(places, cities_model, tmp_path / "one.csv")
    folder = tmp_path / "parts"
    job = start_job(places, cities_model, cluster.scheduler.address, folder)
    wait_for_parts(folder, 2, job)
    victim = next(iter(cluster.run(os.getpid).values()))
    os.kill(victim, signal.SIGKILL)
    assert not (folder / "_SUCCESS").exists()  # the kill came mid-job
    assert job.wait(timeout=120) == 1
    assert "Traceback" not in job.stderr.read()  # exit code 1 from rows that failed
    assert parts_text(folder) == want
    journal = (folder / "_progress.jsonl").read_text().splitlines()
    numbers = [json.loads(line)["part"] for line in journal[1:]]
    assert sorted(numbers) == list(range(len(numbers)))  # every part recorded once
    cluster.wait_for_workers(2, timeout=60)
    assert victim not in cluster.run(os.getpid).values()


def test_a_killed_client_is_finished_by_resume(tmp_path, cluster, places, cities_model):
    want = local_run(places, cities_model, tmp_path / "one.csv")
    folder = tmp_path / "parts"
    job = start_job(places, cities_model, cluster.scheduler.address, folder)
    wait_for_parts(folder, 3, job)
    job.kill()
    job.wait(timeout=60)
    assert not (folder / "_SUCCESS").exists()
    result = run_cli(places, "--model", cities_model, "--dask", cluster.scheduler.address,
                     "-o", folder, "--blocksize", "4KB", "--batch-size", "10", "--resume")
    finished(result)
    assert parts_text(folder) == want
    assert " 0 skipped" not in result.stderr and "already done" in result.stderr
    assert (folder / "_SUCCESS").exists()


def test_images_parts_equal_the_local_run(tmp_path, cities_model):
    model = brightness_model(tmp_path / "bright.onnx")
    folder = tmp_path / "in"
    write_images(folder, 30)
    for name, data in (("text.jpg", b"not an image"), ("sub/empty.png", b""),
                       ("late.png", (folder / "img 0001.png").read_bytes()[:40])):
        (folder / name).write_bytes(data)
    runner = CliRunner()
    one = runner.invoke(classify_images, [str(folder), "--model", str(model), "-o",
                                          str(tmp_path / "one.csv"), "-q"])
    finished(one)
    out = tmp_path / "parts"
    result = runner.invoke(classify_images, [str(folder), "--model", str(model), "--dask",
                                             "local:2", "--files-per-task", "7", "-o", str(out),
                                             "-q"])
    finished(result)
    one_rows = (tmp_path / "one.csv").read_text().splitlines()
    part_rows = [text.splitlines() for text in map(Path.read_text, sorted(out.glob("part-*")))]
    assert all(rows[0] == one_rows[0] for rows in part_rows)
    assert sorted(row for rows in part_rows for row in rows[1:]) == sorted(one_rows[1:])
    success = json.loads((out / "_SUCCESS").read_text())
    assert success["parts"] == 5 and success["images"] == 33 and success["failed"] == 3
