"""What --resume saves: a run killed part way, then resumed, against one clean run.

    python bench/bench_resume.py --model exported/cities-eu.onnx --rows 1000000 --kill-at 0.9

Generates the CSV, times a clean `classify-cities -o` run, then starts the same job with
`-o OUT --resume`, kills it with SIGKILL once OUT has reached the given fraction of the
clean output's size, resumes it, and checks that OUT ends with the clean run's rows.
Prints each run's summary, the resumed run's skip rate and its time as a ratio of the
clean run's (all in this process, on this machine).
"""

from __future__ import annotations

import argparse
import json
import signal
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from bench_cities import generate_rows, write_csv


def run(args: list[str], summary: Path) -> dict:
    """Run classify-cities to completion; return its --summary-json."""
    subprocess.run([sys.executable, "-m", "inference.cities.cli", *args, "-q",
                    "--summary-json", str(summary)], check=False)
    return json.loads(summary.read_text())


def kill_at(args: list[str], out: Path, size: int) -> None:
    """Start classify-cities and SIGKILL it once `out` has grown to `size` bytes."""
    proc = subprocess.Popen([sys.executable, "-m", "inference.cities.cli", *args, "-q"])
    while proc.poll() is None:
        if out.exists() and out.stat().st_size >= size:
            proc.send_signal(signal.SIGKILL)
            break
        time.sleep(0.001)
    proc.wait()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--model", required=True)
    parser.add_argument("--rows", type=int, default=1_000_000)
    parser.add_argument("--kill-at", type=float, default=0.9,
                        help="Fraction of the output written when the job is killed.")
    parser.add_argument("--batch-size", type=int, default=65536)
    options = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        source, clean, out = folder / "in.csv", folder / "clean.csv", folder / "out.csv"
        write_csv(source, generate_rows(options.rows))
        common = [str(source), "--model", options.model, "--batch-size",
                  str(options.batch_size)]
        full = run([*common, "-o", str(clean)], folder / "clean.json")
        kill_at([*common, "-o", str(out), "--resume"], out,
                int(clean.stat().st_size * options.kill_at))
        killed_bytes = out.stat().st_size
        resumed = run([*common, "-o", str(out), "--resume"], folder / "resumed.json")
        same = out.read_bytes().count(b"\n") == clean.read_bytes().count(b"\n")
    print(f"clean run:   {full['seen']} rows, {full['seconds']:.2f} s")
    print(f"killed at:   {killed_bytes} bytes of output ({options.kill_at:.0%} target)")
    print(f"resumed run: {resumed['seen']} rows seen, {resumed['skipped_already_done']} "
          f"skipped, {resumed['classified'] + resumed['failed']} classified, "
          f"{resumed['seconds']:.2f} s")
    print(f"skip rate {resumed['skipped_already_done'] / resumed['seen']:.1%}; resumed/clean "
          f"time {resumed['seconds'] / full['seconds']:.2f}; same row count as clean: {same}")


if __name__ == "__main__":
    main()
