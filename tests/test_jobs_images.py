"""classify-images as a scheduled job: resume by size+mtime or hash, kills, SIGTERM."""

from __future__ import annotations

import csv
import json
import os
import random
import signal
import subprocess
import sys
import time

import pytest
from click.testing import CliRunner
from PIL import Image

from batch_classifier.inference.images.cli import main as classify_images
from tests.jobs_support import brightness_model, signal_when, write_images

CLASSIFY_IMAGES = [sys.executable, "-m", "batch_classifier.inference.images.cli"]


@pytest.fixture(scope="module")
def model(tmp_path_factory):
    return brightness_model(tmp_path_factory.mktemp("model") / "bright.onnx")


def run(*args):
    return CliRunner().invoke(classify_images, [str(a) for a in args])


def rows(path):
    with open(path, encoding="utf-8", newline="") as handle:
        return sorted(tuple(row) for row in csv.reader(handle))


def test_resume_skips_done_files_and_replaces_rows_of_changed_ones(tmp_path, model):
    images = write_images(tmp_path / "in", 30)
    out, clean = tmp_path / "out.csv", tmp_path / "clean.csv"
    assert run(tmp_path / "in", "--model", model, "-o", out, "--resume").exit_code == 0
    before = out.read_bytes()
    again = run(tmp_path / "in", "--model", model, "-o", out, "--resume")
    assert "30 images seen, 0 classified, 30 skipped (already done)" in again.stderr
    assert out.read_bytes() == before
    images[4].write_bytes(images[5].read_bytes() + b"\0")  # changed: other size
    write_images(tmp_path / "in" / "new", 2, seed=1)
    result = run(tmp_path / "in", "--model", model, "-o", out, "--resume",
                 "--summary-json", tmp_path / "s.json")
    summary = json.loads((tmp_path / "s.json").read_text())
    assert (summary["seen"], summary["classified"], summary["skipped_already_done"]) == (32, 3, 29)
    assert "dropped 1 older row" in result.stderr
    run(tmp_path / "in", "--model", model, "-o", clean, "--resume")
    assert rows(out) == rows(clean)  # one row per file, as a clean run has


def test_hash_catches_a_change_that_keeps_size_and_mtime(tmp_path, model):
    (tmp_path / "in").mkdir()
    bmps = [tmp_path / "in" / f"{i}.bmp" for i in range(6)]  # BMP size depends on shape only
    for i, path in enumerate(bmps):
        Image.new("RGB", (8, 8), (i * 40, 0, 0)).save(path)
    out = tmp_path / "out.jsonl"
    assert run(tmp_path / "in", "--model", model, "-o", out, "--resume", "--hash").exit_code == 0
    assert all(len(json.loads(line)["sha256"]) == 64 for line in out.read_text().splitlines())
    by_stat = tmp_path / "by-stat.csv"
    assert run(tmp_path / "in", "--model", model, "-o", by_stat, "--resume").exit_code == 0
    info = bmps[2].stat()
    Image.new("RGB", (8, 8), (255, 255, 255)).save(bmps[2])
    os.utime(bmps[2], ns=(info.st_atime_ns, info.st_mtime_ns))
    assert bmps[2].stat().st_size == info.st_size
    unseen = run(tmp_path / "in", "--model", model, "-o", by_stat, "--resume")
    assert "6 images seen, 0 classified, 6 skipped" in unseen.stderr  # size+mtime: fooled
    result = run(tmp_path / "in", "--model", model, "-o", out, "--resume", "--hash")
    assert "6 images seen, 1 classified, 5 skipped (already done)" in result.stderr
    records = [json.loads(line) for line in out.read_text().splitlines()]
    assert len(records) == 6  # the changed file's old row was replaced
    assert [r["label"] for r in records if r["path"] == str(bmps[2])] == ["fake"]
    assert run(tmp_path / "in", "--model", model, "--hash").exit_code == 2


def _signal_at(command, out, size, sig=signal.SIGKILL):
    proc = subprocess.Popen(command, stderr=subprocess.PIPE, text=True)
    return signal_when(proc, out, size, sig=sig), proc.stderr.read()


def test_sigkill_at_random_points_then_resume_equals_a_clean_run(tmp_path, model):
    write_images(tmp_path / "in", 400)
    out, clean = tmp_path / "out.csv", tmp_path / "clean.csv"
    command = [*CLASSIFY_IMAGES, str(tmp_path / "in"), "--model", str(model), "-q",
               "--batch-size", "4", "--workers", "1", "--resume"]
    subprocess.run([*command, "-o", str(clean)], check=True)
    rng = random.Random(3)
    kills = 0
    for size in sorted(rng.sample(range(50, int(clean.stat().st_size * 0.9)), 5)):
        status, _ = _signal_at([*command, "-o", str(out)], out, size)
        kills += status == -signal.SIGKILL
    assert kills >= 3  # a run may finish before a late kill on a busy machine
    subprocess.run([*command, "-o", str(out)], check=True)
    assert rows(out) == rows(clean)


def test_sigterm_stops_after_the_batch_with_exit_130(tmp_path, model):
    write_images(tmp_path / "in", 300)
    out = tmp_path / "out.csv"
    command = [*CLASSIFY_IMAGES, str(tmp_path / "in"), "--model", str(model), "-o", str(out),
               "--batch-size", "4", "--workers", "1", "--resume"]
    status, stderr = _signal_at(command, out, 2000, sig=signal.SIGTERM)
    assert status == 130, stderr
    assert "interrupted by SIGTERM" in stderr
    done = len(rows(out)) - 1
    assert 0 < done < 300
    finish = subprocess.run(command, capture_output=True, text=True)
    assert f"{done} skipped (already done)" in finish.stderr
    assert len(rows(out)) == 301


def test_sigterm_without_resume_keeps_the_complete_output(tmp_path, model):
    write_images(tmp_path / "in", 300)
    out = tmp_path / "out.csv"
    command = [*CLASSIFY_IMAGES, str(tmp_path / "in"), "--model", str(model), "-o", str(out),
               "--batch-size", "4", "--workers", "1"]
    subprocess.run(command, check=True, capture_output=True)
    complete = out.read_bytes()
    temps = tmp_path.glob(".out.csv.batch-classifier.*.tmp")
    proc = subprocess.Popen(command, stderr=subprocess.PIPE, text=True)
    deadline = time.monotonic() + 60
    while not any(path.stat().st_size > 2000 for path in temps):  # the new output grows
        assert proc.poll() is None and time.monotonic() < deadline
        temps = tmp_path.glob(".out.csv.batch-classifier.*.tmp")
        time.sleep(0.001)
    proc.send_signal(signal.SIGTERM)
    assert proc.wait(timeout=60) == 130
    stderr = proc.stderr.read()
    assert "interrupted by SIGTERM" in stderr and "left as it was" in stderr
    assert out.read_bytes() == complete
    assert not list(tmp_path.glob(".out.csv.*"))
