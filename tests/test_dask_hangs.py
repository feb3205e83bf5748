"""--dask never waits forever: a FIFO among the inputs (named as a file, found in a
file:// folder, or a process substitution) and a scheduler without workers each end in
a row error or one line and exit code 2; a local cluster listens on loopback only."""

from __future__ import annotations

import ipaddress
import os
import subprocess
import sys

import pytest

from tests.jobs_support import CLASSIFY_CITIES, brightness_model, write_images
from tests.test_dask_runs import cluster, places  # noqa: F401 - fixtures

distributed = pytest.importorskip("distributed")

CLASSIFY_IMAGES = [sys.executable, "-m", "batch_classifier.inference.images.cli"]


def run(command: list[str], **kwargs) -> subprocess.CompletedProcess:
    """Run a command that must end by itself within a minute and a half."""
    return subprocess.run([str(a) for a in command], capture_output=True, text=True,
                          timeout=90, **kwargs)


def test_a_fifo_named_png_under_a_file_url_is_a_row(tmp_path, cluster):  # noqa: F811
    model = brightness_model(tmp_path / "bright.onnx")
    write_images(tmp_path / "in", 2)
    os.mkfifo(tmp_path / "in" / "pipe.png")
    result = run([*CLASSIFY_IMAGES, f"file://{tmp_path}/in", "--model", model, "--dask",
                  cluster.scheduler.address, "-o", f"file://{tmp_path}/out"])
    assert result.returncode == 1, result.stderr
    rows = "".join(path.read_text() for path in (tmp_path / "out").glob("part-*.csv"))
    assert any(line.startswith(f"file://{tmp_path}/in/pipe.png,")
               and line.endswith(",not a regular file") for line in rows.splitlines())


def test_a_fifo_input_is_refused(tmp_path, cluster, cities_model):  # noqa: F811
    os.mkfifo(tmp_path / "places.csv")
    result = run([*CLASSIFY_CITIES, tmp_path / "places.csv", "--model", cities_model,
                  "--dask", cluster.scheduler.address, "-o", tmp_path / "out"])
    assert result.returncode == 2
    assert "not a regular file" in result.stderr and "Traceback" not in result.stderr


def test_a_process_substitution_is_refused_as_a_pipe(tmp_path, cluster, places,  # noqa: F811
                                                     cities_model):
    read, write = os.pipe()
    os.write(write, places.read_bytes()[:4096])
    os.close(write)
    result = run([*CLASSIFY_CITIES, f"/dev/fd/{read}", "--model", cities_model, "--dask",
                  cluster.scheduler.address, "-o", tmp_path / "out"], pass_fds=[read])
    os.close(read)
    assert result.returncode == 2
    assert "not a regular file" in result.stderr
    assert "no line ending" not in result.stderr


def test_a_scheduler_without_workers_is_a_bounded_wait(tmp_path, places,  # noqa: F811
                                                       cities_model):
    code = ("import sys\n"
            "from batch_classifier.inference.distributed import cluster\n"
            "cluster.WORKERS_TIMEOUT_S = 2\n"
            "from batch_classifier.inference.cities.cli import main\n"
            "main(sys.argv[1:])\n")
    with distributed.LocalCluster(n_workers=0, processes=True, dashboard_address=None) as empty:
        result = run([sys.executable, "-c", code, places, "--model", cities_model, "--dask",
                      empty.scheduler_address, "-o", tmp_path / "out"])
    assert result.returncode == 2
    assert "no worker" in result.stderr and "Traceback" not in result.stderr
    assert not (tmp_path / "out").exists()


def listening(process) -> set[str]:
    """The addresses `process` listens on (TCP)."""
    return {connection.laddr.ip for connection in process.net_connections(kind="tcp")
            if connection.status == "LISTEN"}


def test_a_local_cluster_listens_on_loopback_only():
    psutil = pytest.importorskip("psutil")
    from batch_classifier.inference.distributed.cluster import dask_client

    with dask_client("local:1", quiet=True) as client:
        me = psutil.Process()
        addresses = listening(me) | {ip for child in me.children(recursive=True)
                                     for ip in listening(child)}
        assert client.dashboard_link
    assert addresses
    assert all(ipaddress.ip_address(ip).is_loopback for ip in addresses), addresses

