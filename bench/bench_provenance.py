"""What reading provenance costs: classify-images end to end with --provenance on vs off.

    python bench/bench_provenance.py --data ../shared/data/faces --rounds 3

Runs `classify-images DATA -o OUT -q --provenance on|off` as a subprocess, alternating
on and off for --rounds rounds (so that a load that comes and goes on a shared machine
falls on both), and prints each run's wall time (process start to exit: model load,
walk, decoding, provenance, model, output) and images/s, then the medians and their
ratio on/off. Also checks that both modes give the same labels where no file carries a
mark. Then, in this process, one thread: reading every file's provenance against
decoding its pixels (what the decoder threads do per file), alternated, as ms per file.
"""

from __future__ import annotations

import argparse
import csv
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from batch_classifier.inference.images.decode import decode_file
from batch_classifier.inference.images.provenance.reader import read_provenance
from batch_classifier.inference.images.walk import IMAGE_SUFFIXES


def one_run(data: Path, mode: str, out: Path, extra: list[str]) -> float:
    """Seconds of one classify-images run, process start to exit."""
    started = time.perf_counter()
    subprocess.run([sys.executable, "-m", "batch_classifier.inference.images.cli", str(data),
                    "-o", str(out), "-q", "--provenance", mode, *extra], check=False)
    return time.perf_counter() - started


def per_file_ms(work, files: list[Path]) -> float:
    started = time.perf_counter()
    for path in files:
        work(path)
    return (time.perf_counter() - started) * 1000 / len(files)


def reading_alone(data: Path, rounds: int) -> None:
    """Median ms per file of read_provenance and of decode_file, alternated."""
    files = sorted(p for p in data.rglob("*") if p.suffix.lower() in IMAGE_SUFFIXES)
    ms: dict[str, list[float]] = {"provenance": [], "decode": []}
    for _ in range(rounds):
        ms["provenance"].append(per_file_ms(read_provenance, files))
        ms["decode"].append(per_file_ms(lambda path: decode_file(path, 256), files))
    read, decode = (statistics.median(ms[k]) for k in ("provenance", "decode"))
    print(f"one thread, {len(files)} files: read_provenance {read:.3f} ms/file, decode_file "
          f"{decode:.3f} ms/file; provenance/decode = {read / decode:.3f}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--data", type=Path, default=Path("../shared/data/faces"))
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--model", default=None)
    args = parser.parse_args()
    extra = ["--model", args.model] if args.model else []
    times: dict[str, list[float]] = {"on": [], "off": []}
    with tempfile.TemporaryDirectory() as temp:
        outs = {mode: Path(temp, f"{mode}.csv") for mode in times}
        for round_number in range(args.rounds):
            order = ("on", "off") if round_number % 2 == 0 else ("off", "on")
            for mode in order:
                seconds = one_run(args.data, mode, outs[mode], extra)
                times[mode].append(seconds)
                rows = sum(1 for _ in csv.DictReader(outs[mode].open()))
                print(f"round {round_number + 1} provenance {mode:3}: {seconds:7.2f} s, "
                      f"{rows / seconds:6.1f} images/s ({rows} images)", flush=True)
        on, off = (list(csv.DictReader(outs[mode].open())) for mode in ("on", "off"))
        unmarked = [(a["label"], b["label"]) for a, b in zip(on, off, strict=True)
                    if not a["provenance"]]
        same = sum(a == b for a, b in unmarked)
        marked = len(on) - len(unmarked)
    median_on, median_off = statistics.median(times["on"]), statistics.median(times["off"])
    print(f"median: on {median_on:.2f} s, off {median_off:.2f} s; on/off = "
          f"{median_on / median_off:.3f}")
    print(f"files with a mark: {marked}; unmarked files labelled alike: {same}/{len(unmarked)}")
    reading_alone(args.data, args.rounds)


if __name__ == "__main__":
    main()
