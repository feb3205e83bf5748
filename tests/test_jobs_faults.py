"""Fault injection: really kill classify-cities mid-run, resume, and compare with a clean run."""

from __future__ import annotations

import random
import signal
import subprocess
import time
from pathlib import Path

import pytest

from tests.jobs_support import (
    CLASSIFY_CITIES,
    assert_same_rows,
    classify,
    file_size,
    read_rows,
    signal_when,
    write_cities_csv,
)

BATCH = "4"


@pytest.fixture(scope="module")
def job(tmp_path_factory, cities_model):
    """(input CSV, clean output, the command line) shared by the kill tests."""
    folder = tmp_path_factory.mktemp("faults")
    source = write_cities_csv(folder / "in.csv", rows=4000)
    clean = folder / "clean.csv"
    classify(source, "--model", cities_model, "-o", clean, "--batch-size", BATCH, "-q",
             expect=1)  # the input has bad rows on purpose
    return source, clean, [*CLASSIFY_CITIES, str(source), "--model", str(cities_model),
                           "--batch-size", BATCH, "--resume"]


def test_sigkill_at_random_points_then_resume_equals_a_clean_run(job, tmp_path):
    source, clean, command = job
    out = tmp_path / "out.csv"
    rng = random.Random(7)
    # Six kills once the output passed a random byte offset (mostly mid-batch), each
    # followed by one after a random delay (start-up, model load or the resume scan).
    offsets = sorted(rng.sample(range(100, int(file_size(clean) * 0.9)), 6))
    plan = [step for offset in offsets for step in ((offset, 0.0), (None, rng.uniform(0.1, 0.8)))]
    kills, torn, sizes = 0, 0, []
    for min_bytes, after_s in plan:
        proc = subprocess.Popen([*command, "-o", str(out)], stderr=subprocess.DEVNULL)
        if signal_when(proc, out, min_bytes, after_s) == -signal.SIGKILL:
            kills += 1
            torn += out.exists() and not out.read_bytes().endswith(b"\n")
            sizes.append(file_size(out))
    assert kills >= 6  # a run may finish before a late kill (a slow poll, a long delay)
    finish = classify(*command[3:], "-o", out)
    assert finish.returncode in (0, 1), finish.stderr  # 1: bad rows were left to classify
    assert_same_rows(read_rows(out), read_rows(clean))
    print(f"{kills} kills, output bytes at each: {sizes} of {file_size(clean)}; "
          f"{torn} left a torn last record")


def test_sigterm_stops_after_the_batch_exit_130_and_resume_completes(job, tmp_path):
    source, clean, command = job
    out = tmp_path / "out.csv"
    proc = subprocess.Popen([*command, "-o", str(out)], stderr=subprocess.PIPE, text=True)
    status = signal_when(proc, out, file_size(clean) // 3, 0, sig=signal.SIGTERM)
    stderr = proc.stderr.read()
    assert status == 130, stderr
    assert "interrupted by SIGTERM" in stderr
    assert out.read_bytes().endswith(b"\n")  # stopped between batches: nothing torn
    partial = read_rows(out)
    assert 1 < len(partial) < len(read_rows(clean))
    assert not Path(f"{out}.lock").exists()
    result = classify(*command[3:], "-o", out, expect=1)
    assert f"{len(partial) - 1} skipped (already done)" in result.stderr
    assert_same_rows(read_rows(out), read_rows(clean))


def test_sigterm_without_resume_publishes_the_rows_done_so_far(job, tmp_path):
    source, clean, command = job
    out = tmp_path / "out.csv"
    plain = [arg for arg in command if arg != "--resume"]
    proc = subprocess.Popen([*plain, "-o", str(out)], stderr=subprocess.PIPE, text=True)
    while proc.poll() is None and not list(tmp_path.glob(".out.csv.*")):
        time.sleep(0.001)  # wait for the temporary file: the job is under way
    proc.send_signal(signal.SIGTERM)
    assert proc.wait(timeout=60) == 130, proc.stderr.read()
    partial = read_rows(out)
    assert partial[0] == read_rows(clean)[0] and out.read_bytes().endswith(b"\n")
    assert_same_rows(partial, read_rows(clean)[:len(partial)])
    assert not list(tmp_path.glob(".out.csv.*"))  # no temporary file left behind
