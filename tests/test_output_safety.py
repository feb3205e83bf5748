"""What a run writes: never through a planted link, never over an input, a device kept a
device, problems found before any work, temp files of its own only, modes as umask says."""

from __future__ import annotations

import os
import stat
import subprocess
import sys
import threading
from pathlib import Path

import pytest
from click.testing import CliRunner
from PIL import Image

from batch_classifier.inference.errors import UsageError
from batch_classifier.inference.images.cli import main as classify_images
from batch_classifier.inference.jobs.fileops import create_temp, remove_stale_temps
from batch_classifier.inference.jobs.lock import OutputLock
from tests.jobs_support import brightness_model, run_cli

PLACES = "lat,lon\n48.85,2.35\n52.23,21.01\n"


@pytest.fixture
def places(tmp_path):
    path = tmp_path / "in.csv"
    path.write_text(PLACES)
    return path


@pytest.fixture(scope="module")
def images_model(tmp_path_factory):
    return brightness_model(tmp_path_factory.mktemp("model") / "bright.onnx")


def classify_images_cli(*args):
    return CliRunner().invoke(classify_images, [str(a) for a in args])


def victim(tmp_path) -> Path:
    path = tmp_path / "victim.txt"
    path.write_text("precious\n")
    return path


@pytest.mark.parametrize("plant", ["symlink", "hard link", "fifo", "folder"])
def test_a_lock_file_that_is_not_a_plain_file_of_ours_is_refused(tmp_path, places,
                                                                 cities_model, plant):
    precious = victim(tmp_path)
    lock = tmp_path / "out.csv.lock"
    {"symlink": lambda: lock.symlink_to(precious), "hard link": lambda: os.link(precious, lock),
     "fifo": lambda: os.mkfifo(lock), "folder": lock.mkdir}[plant]()
    result = run_cli(places, "--model", cities_model, "-o", tmp_path / "out.csv")
    assert result.exit_code == 2, result.output
    assert "lock file" in result.stderr and "Traceback" not in result.output
    assert precious.read_text() == "precious\n"
    assert os.path.lexists(lock) and not (tmp_path / "out.csv").exists()


def test_the_lock_is_not_removed_when_someone_replaced_it(tmp_path):
    out = tmp_path / "out.csv"
    with OutputLock(out) as lock:
        lock.path.unlink()
        lock.path.write_text("someone else's\n")
    assert lock.path.read_text() == "someone else's\n"


@pytest.mark.parametrize("link_to", ["file", "missing"])
def test_an_output_that_is_a_symlink_is_refused(tmp_path, places, cities_model, link_to):
    precious = victim(tmp_path) if link_to == "file" else tmp_path / "missing.txt"
    out = tmp_path / "out.csv"
    out.symlink_to(precious)
    for resume in ([], ["--resume"]):
        result = run_cli(places, "--model", cities_model, "-o", out, *resume)
        assert result.exit_code == 2 and "symbolic link" in result.stderr, result.output
    assert out.is_symlink() and os.readlink(out) == str(precious)
    assert link_to == "missing" or precious.read_text() == "precious\n"


def test_an_output_that_is_an_input_is_refused_before_any_work(tmp_path, places, cities_model):
    os.link(places, tmp_path / "same.csv")
    for out in (places, tmp_path / "same.csv"):
        for resume in ([], ["--resume"]):
            result = run_cli(places, "--model", cities_model, "-o", out, *resume)
            assert result.exit_code == 2 and "is also an input" in result.stderr, result.output
    assert places.read_text() == PLACES
    lock_named_like_input = tmp_path / "out.csv.lock"
    lock_named_like_input.write_text(PLACES)
    result = run_cli(lock_named_like_input, "--model", cities_model, "-o", tmp_path / "out.csv")
    assert result.exit_code == 2 and "lock file" in result.stderr
    assert lock_named_like_input.read_text() == PLACES


def test_an_output_read_from_stdin_is_refused(tmp_path, places, cities_model):
    with open(places, "rb") as stdin:
        result = subprocess.run([sys.executable, "-m", "batch_classifier.inference.cities.cli",
                                 "-", "--model", str(cities_model), "-o", str(places)],
                                stdin=stdin, capture_output=True, text=True, timeout=60)
    assert result.returncode == 2 and "is also an input" in result.stderr
    assert places.read_text() == PLACES


def test_images_never_overwrite_an_input_or_an_image(tmp_path, images_model):
    folder = tmp_path / "in"
    folder.mkdir()
    pictures = []
    for name in ("a.jpg", "b.jpg", "c.png"):
        Image.new("RGB", (8, 8), (200, 0, 0)).save(folder / name)
        pictures.append((folder / name, (folder / name).read_bytes()))
    data = folder / "data.bin"
    data.write_bytes(b"x")
    cases = [["-o", folder / "a.jpg", folder / "b.jpg", folder / "c.png"],  # -o *.jpg
             [folder, "-o", folder / "new.png"], [data, "-o", data],
             [folder, "-o", tmp_path / "out.csv", "--summary-json", folder / "b.jpg"]]
    for args in cases:
        result = classify_images_cli(*args, "--model", images_model, "-q")
        assert result.exit_code == 2, (args, result.output)
    assert all(path.read_bytes() == content for path, content in pictures)
    assert not (folder / "new.png").exists() and not (tmp_path / "out.csv").exists()


def test_a_fifo_output_is_written_as_a_stream(tmp_path, places, cities_model):
    fifo = tmp_path / "out.csv"
    os.mkfifo(fifo)
    received = []
    reader = threading.Thread(target=lambda: received.append(fifo.read_text()), daemon=True)
    reader.start()
    result = run_cli(places, "--model", cities_model, "-o", fifo, "-q")
    reader.join(timeout=30)
    assert result.exit_code == 0, result.output
    assert stat.S_ISFIFO(os.lstat(fifo).st_mode)
    assert received[0].splitlines()[0].startswith("lat,lon,country")
    assert not list(tmp_path.glob(".out.csv.*"))
    result = run_cli(places, "--model", cities_model, "-o", fifo, "--resume")
    assert result.exit_code == 2 and "--resume needs -o FILE" in result.stderr


def device(path: Path, minor: int) -> Path:
    """A copy of /dev/null (minor 3) or /dev/full (minor 7) in a test folder: a test that
    fails must never replace the system's own."""
    if os.geteuid() != 0:
        pytest.skip("making a device node needs root")
    os.mknod(path, 0o666 | stat.S_IFCHR, os.makedev(1, minor))
    return path


def test_a_device_output_stays_a_device(tmp_path, places, cities_model):
    null = device(tmp_path / "null", 3)
    result = run_cli(places, "--model", cities_model, "-o", null, "-q")
    assert result.exit_code == 0, result.output
    assert stat.S_ISCHR(os.lstat(null).st_mode)
    assert not (tmp_path / "null.lock").exists()


def test_a_link_to_stdout_is_written_as_a_stream(tmp_path, places, cities_model):
    stdout = tmp_path / "stdout"
    stdout.symlink_to("/proc/self/fd/1")  # what /dev/stdout is
    result = subprocess.run([sys.executable, "-m", "batch_classifier.inference.cities.cli",
                             str(places), "--model", str(cities_model), "-o", str(stdout), "-q"],
                            capture_output=True, text=True, timeout=60)
    assert result.returncode == 0, result.stderr
    assert result.stdout.startswith("lat,lon,country") and stdout.is_symlink()


@pytest.mark.parametrize("make, message", [
    (lambda p: p.mkdir(), "is a folder"),
    (lambda p: None, "folder does not exist"),
])
def test_a_bad_output_path_fails_before_any_work(tmp_path, places, cities_model, make, message):
    out = tmp_path / "out.csv" if message == "is a folder" else tmp_path / "nodir" / "out.csv"
    make(out)
    result = run_cli(places, "--model", cities_model, "-o", out)
    assert result.exit_code == 2 and message in result.stderr, result.output
    assert "lock" not in result.stderr and "classified" not in result.stderr
    assert sorted(p.name for p in tmp_path.iterdir()) == sorted(
        ["in.csv", *(["out.csv"] if message == "is a folder" else [])])


@pytest.mark.parametrize("where, message", [
    ("output", "same file"), ("input", "is also an input"), ("folder", "is a folder"),
    ("proc", "cannot"), ("link", "symbolic link"),
])
def test_summary_json_is_checked_before_any_work(tmp_path, places, cities_model, where, message):
    out = tmp_path / "out.csv"
    summary = {"output": out, "input": places, "folder": tmp_path,
               "proc": Path("/proc/summary.json"), "link": tmp_path / "s.json"}[where]
    if where == "link":
        summary.symlink_to(victim(tmp_path))
    result = run_cli(places, "--model", cities_model, "-o", out, "--summary-json", summary)
    assert result.exit_code == 2 and message in result.stderr, result.output
    assert not out.exists() and places.read_text() == PLACES
    assert "Traceback" not in result.output


def test_summary_json_on_a_full_device_is_one_clear_error(tmp_path, places, cities_model):
    out, full = tmp_path / "out.csv", device(tmp_path / "full", 7)
    result = run_cli(places, "--model", cities_model, "-o", out, "--summary-json", full)
    assert result.exit_code == 2, result.output
    assert f"--summary-json {full}: cannot write (No space left on device)" in result.stderr
    assert "Traceback" not in result.output and out.exists()  # the results are kept
    assert stat.S_ISCHR(os.lstat(full).st_mode)


def test_summary_json_space_is_taken_at_the_start(tmp_path, places, cities_model,
                                                  monkeypatch):
    from batch_classifier.inference.jobs.job import BatchJob

    summary, seen = tmp_path / "s.json", []
    real_write = BatchJob.write

    def write(job, *args):  # while the job runs, the summary's temp file is there already
        seen.extend((p, p.stat().st_blocks * 512) for p in tmp_path.iterdir()
                    if p.name.startswith(".s.json."))
        return real_write(job, *args)

    monkeypatch.setattr(BatchJob, "write", write)
    result = run_cli(places, "--model", cities_model, "-o", tmp_path / "o.csv",
                     "--summary-json", summary)
    assert result.exit_code == 0, result.output
    assert seen and seen[0][1] >= 1 << 16
    assert not seen[0][0].exists() and summary.read_text().startswith("{")


def test_only_this_tools_stale_temps_of_this_output_are_removed(tmp_path, places, cities_model):
    out = tmp_path / "out.csv"
    users = [tmp_path / name for name in (".out.csv.abcd_123", ".out.csv.keep-me-please",
                                          ".out.csv.batch-classifier.notours.tmp",
                                          ".other.csv.batch-classifier.0123456789abcdef.tmp")]
    for path in users:
        path.write_text("mine")
    stale = tmp_path / ".out.csv.batch-classifier.0123456789abcdef.tmp"
    stale.write_text("half")
    live_fd, live = create_temp(out)  # a live run's: locked while open
    try:
        result = run_cli(places, "--model", cities_model, "-o", out)
    finally:
        os.close(live_fd)
    assert result.exit_code == 0, result.output
    assert not stale.exists() and live.exists()
    assert all(path.read_text() == "mine" for path in users)
    assert remove_stale_temps(out) == 1 and not live.exists()  # its run is gone now


def test_outputs_follow_the_umask_and_keep_an_existing_mode(tmp_path, places, cities_model):
    old = os.umask(0o022)
    try:
        fresh, resumed, kept = tmp_path / "a.csv", tmp_path / "b.csv", tmp_path / "c.csv"
        summary = tmp_path / "s.json"
        kept.write_text("old\n")
        kept.chmod(0o640)
        summary.write_text("{}")
        summary.chmod(0o604)
        assert run_cli(places, "--model", cities_model, "-o", fresh).exit_code == 0
        assert run_cli(places, "--model", cities_model, "-o", resumed, "--resume").exit_code == 0
        assert run_cli(places, "--model", cities_model, "-o", kept,
                       "--summary-json", summary).exit_code == 0
    finally:
        os.umask(old)
    assert stat.S_IMODE(fresh.stat().st_mode) == 0o644
    assert stat.S_IMODE(resumed.stat().st_mode) == 0o644
    assert stat.S_IMODE(kept.stat().st_mode) == 0o640 and kept.read_text() != "old\n"
    assert stat.S_IMODE(summary.stat().st_mode) == 0o604


def test_temp_names_are_recognisable_and_need_the_folder(tmp_path):
    fd, temp = create_temp(tmp_path / "out.csv")
    os.close(fd)
    assert temp.name.startswith(".out.csv.batch-classifier.") and temp.name.endswith(".tmp")
    long_name = tmp_path / ("\U0001f600" * 60 + ".csv")  # 244 bytes
    fd, temp = create_temp(long_name)
    os.close(fd)
    assert remove_stale_temps(long_name) == 1
    with pytest.raises(UsageError, match="cannot create"):
        create_temp(tmp_path / "nodir" / "out.csv")
