"""classify-cities on one machine vs `--dask local:2` on the same file, in this process.

    python bench/bench_dask.py                         # 1,000,000 rows, the default model
    python bench/bench_dask.py --blocksize 8MB --runs 3

Generates the CSV (bench_cities' rows), then times, alternately, `classify-cities FILE
-o one.csv` and `classify-cities FILE --dask local:2 -o parts/` (each a fresh process:
imports, model loading and, for Dask, starting the two worker processes count), checks
that the parts put together are the local output byte for byte, and prints both times
and their ratio (dask / local; the median of the runs each).
"""

from __future__ import annotations

import argparse
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from bench_cities import generate_rows, write_csv

CLI = [sys.executable, "-m", "batch_classifier.inference.cities.cli"]


def timed(args: list[str]) -> float:
    """Seconds for a classify-cities run; exit code 1 (some rows failed, e.g. points at
    open sea among the generated ones) is a finished run, anything else is not."""
    started = time.perf_counter()
    code = subprocess.run([*CLI, *args, "-q"]).returncode
    if code not in (0, 1):
        raise SystemExit(f"classify-cities {' '.join(args)}: exit code {code}")
    return time.perf_counter() - started


def joined_parts(folder: Path) -> bytes:
    """The CSV parts of `folder` as one CSV (the first part's header only)."""
    texts = [part.read_bytes() for part in sorted(folder.glob("part-*.csv"))]
    return texts[0] + b"".join(text.split(b"\n", 1)[1] for text in texts[1:])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=1_000_000)
    parser.add_argument("--model", default=None, help="--model for both runs")
    parser.add_argument("--blocksize", default="64MB", help="--blocksize of the Dask run")
    parser.add_argument("--workers", type=int, default=2, help="--dask local:N")
    parser.add_argument("--runs", type=int, default=1)
    args = parser.parse_args()
    model = ["--model", args.model] if args.model else []
    with tempfile.TemporaryDirectory() as scratch:
        data, one, parts = Path(scratch, "in.csv"), Path(scratch, "one.csv"), Path(scratch, "parts")
        write_csv(data, generate_rows(args.rows))
        print(f"{args.rows} rows, {data.stat().st_size / 1e6:.1f} MB; --dask local:"
              f"{args.workers} --blocksize {args.blocksize}")
        local, dask = [], []
        for run in range(args.runs):
            local.append(timed([str(data), *model, "-o", str(one)]))
            shutil.rmtree(parts, ignore_errors=True)
            dask.append(timed([str(data), *model, "--dask", f"local:{args.workers}", "-o",
                               str(parts), "--blocksize", args.blocksize]))
            same = joined_parts(parts) == one.read_bytes()
            print(f"run {run + 1}: local {local[-1]:.1f} s, dask {dask[-1]:.1f} s "
                  f"({len(list(parts.glob('part-*')))} parts), parts == local output: {same}")
        ratio = statistics.median(dask) / statistics.median(local)
        print(f"local {statistics.median(local):.1f} s, dask {statistics.median(dask):.1f} s, "
              f"dask / local = {ratio:.2f}")


if __name__ == "__main__":
    main()
