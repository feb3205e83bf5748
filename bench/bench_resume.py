"""What --resume saves: a run killed part way, then resumed, against one clean run.

    python bench/bench_resume.py --model exported/cities-eu.onnx --rows 1000000 --kill-at 0.9
    python bench/bench_resume.py --model exported/deepfake.onnx --images 100000

Generates the CSV (or a folder of small PNGs), times a clean `classify-cities -o` (or
`classify-images -o`) run, then starts the same job with
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

import numpy as np
from bench_cities import generate_rows, write_csv
from PIL import Image


def run(command: list[str], summary: Path) -> dict:
    """Run a classify command to completion; return its --summary-json."""
    subprocess.run([*command, "-q", "--summary-json", str(summary)], check=False)
    return json.loads(summary.read_text())


def kill_at(command: list[str], out: Path, size: int) -> None:
    """Start a classify command and SIGKILL it once `out` has grown to `size` bytes."""
    proc = subprocess.Popen([*command, "-q"])
    while proc.poll() is None:
        if out.exists() and out.stat().st_size >= size:
            proc.send_signal(signal.SIGKILL)
            break
        time.sleep(0.001)
    proc.wait()


def write_images(folder: Path, count: int) -> None:
    """`count` 8x8 PNGs of random colours, 1000 to a subfolder."""
    rng = np.random.default_rng(0)
    for i in range(count):
        path = folder / f"{i // 1000:03d}" / f"{i:06d}.png"
        path.parent.mkdir(parents=True, exist_ok=True)
        Image.fromarray(rng.integers(0, 256, (8, 8, 3), dtype=np.uint8)).save(path)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--model", required=True)
    parser.add_argument("--rows", type=int, default=1_000_000)
    parser.add_argument("--kill-at", type=float, default=0.9,
                        help="Fraction of the output written when the job is killed.")
    parser.add_argument("--images", type=int, metavar="N",
                        help="Bench classify-images on N small PNGs instead of cities.")
    options = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        clean, out = folder / "clean.csv", folder / "out.csv"
        if options.images:
            write_images(folder / "in", options.images)
            command = [sys.executable, "-m", "batch_classifier.inference.images.cli",
                       str(folder / "in")]
        else:
            write_csv(folder / "in.csv", generate_rows(options.rows))
            command = [sys.executable, "-m", "batch_classifier.inference.cities.cli",
                       str(folder / "in.csv")]
        command += ["--model", options.model, "--resume"]
        full = run([*command, "-o", str(clean)], folder / "clean.json")
        kill_at([*command, "-o", str(out)], out, int(clean.stat().st_size * options.kill_at))
        killed_bytes = out.stat().st_size
        resumed = run([*command, "-o", str(out)], folder / "resumed.json")
        same = out.read_bytes().count(b"\n") == clean.read_bytes().count(b"\n")
    unit = full["unit"]
    print(f"clean run:   {full['seen']} {unit}, {full['seconds']:.2f} s")
    print(f"killed at:   {killed_bytes} bytes of output ({options.kill_at:.0%} target)")
    print(f"resumed run: {resumed['seen']} {unit} seen, {resumed['skipped_already_done']} "
          f"skipped, {resumed['classified'] + resumed['failed']} classified, "
          f"{resumed['seconds']:.2f} s")
    print(f"skip rate {resumed['skipped_already_done'] / resumed['seen']:.1%}; resumed/clean "
          f"time {resumed['seconds'] / full['seconds']:.2f}; same row count as clean: {same}")


if __name__ == "__main__":
    main()
