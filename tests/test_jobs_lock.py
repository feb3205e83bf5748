"""One job per output: the lock file, across processes, and a stale lock taken over."""

from __future__ import annotations

import os
import subprocess
import time

import pytest

from batch_classifier.inference.jobs.lock import LockHeld, OutputLock
from tests.jobs_support import CLASSIFY_CITIES, classify


def test_a_second_holder_is_refused_with_the_holders_pid(tmp_path):
    out = tmp_path / "out.csv"
    with OutputLock(out) as lock:
        assert lock.path.read_text().strip() == str(os.getpid())
        with pytest.raises(LockHeld, match=f"pid {os.getpid()}"):
            OutputLock(out).acquire()
    assert not lock.path.exists()
    with OutputLock(out):
        pass


def test_a_lock_left_by_a_dead_process_is_taken_over(tmp_path):
    dead = subprocess.Popen(["true"])
    dead.wait()
    lock_file = tmp_path / "out.csv.lock"
    lock_file.write_text(f"{dead.pid}\n")
    with OutputLock(tmp_path / "out.csv") as lock:
        assert lock.path.read_text().strip() == str(os.getpid())


def test_two_processes_on_one_output(tmp_path, cities_model):
    out = tmp_path / "out.csv"
    lock_file = tmp_path / "out.csv.lock"
    # The first job reads stdin, so it holds the lock for as long as the test likes.
    first = subprocess.Popen([*CLASSIFY_CITIES, "-", "--model", str(cities_model), "-o",
                              str(out), "-q"], stdin=subprocess.PIPE, stderr=subprocess.PIPE)
    first.stdin.write(b"lat,lon\n")
    first.stdin.flush()
    deadline = time.monotonic() + 30
    while not (lock_file.exists() and lock_file.read_text().strip()):
        assert time.monotonic() < deadline and first.poll() is None
        time.sleep(0.01)
    started = time.monotonic()
    places = tmp_path / "in.csv"
    places.write_text("lat,lon\n52.23,21.01\n")
    second = classify(places, "--model", cities_model, "-o", out, expect=2)
    assert time.monotonic() - started < 10  # at once, not after waiting for the first
    assert f"another job (pid {first.pid}) is writing {out}" in second.stderr
    first.communicate(b"48.85,2.35\n", timeout=30)
    assert first.returncode == 0
    assert out.read_text().splitlines()[1].startswith("48.85,2.35,France")
    assert not lock_file.exists()
