"""Bare ONNX Runtime rows/s of several cities models side by side (e.g. old vs new).

    git show 86c7ddc:exported/cities-world.onnx > /tmp/old-world.onnx
    python bench/bench_world_models.py /tmp/old-world.onnx exported/cities-world.onnx
    python bench/bench_world_models.py old.onnx new.onnx --threads 1 --threads 2

Every model runs on the same generated points (uniform over the globe), in calls of
--call-rows rows as classify-cities makes them, in this process; the models take turns
for --repeats rounds and each one's best round counts, so a busy neighbour on a shared
machine slows all of them alike. Ratios are against the first model.
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

import numpy as np

from batch_classifier.inference.cities.predict import MODEL_BATCH
from batch_classifier.inference.session import LoadedModel, load_model


def sphere_points(n: int, seed: int = 0) -> np.ndarray:
    """`n` (lat, lon) points uniform over the sphere."""
    rng = np.random.default_rng(seed)
    lat = np.degrees(np.arcsin(rng.uniform(-1, 1, n)))
    return np.stack([lat, rng.uniform(-180, 180, n)], 1).astype(np.float32)


def seconds_for(model: LoadedModel, latlon: np.ndarray, call_rows: int) -> float:
    """Seconds for one pass over `latlon` through the bare session (all outputs)."""
    started = time.perf_counter()
    for start in range(0, len(latlon), call_rows):
        model.run_outputs(latlon[start:start + call_rows])
    return time.perf_counter() - started


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("models", nargs="+", type=Path)
    parser.add_argument("--rows", type=int, default=500_000)
    parser.add_argument("--call-rows", type=int, default=MODEL_BATCH)
    parser.add_argument("--threads", type=int, action="append",
                        help="ONNX Runtime intra-op threads (repeatable; default: 0, one "
                             "per core)")
    parser.add_argument("--no-spinning", action="store_true",
                        help="Also run every model with idle ONNX Runtime threads sleeping "
                             "instead of spinning.")
    parser.add_argument("--repeats", type=int, default=3)
    args = parser.parse_args()
    latlon = sphere_points(args.rows)
    spinning = [True, False] if args.no_spinning else [True]
    runs = [(path, threads, spin) for spin in spinning for threads in (args.threads or [0])
            for path in args.models]
    loaded = [load_model(path, device="cpu", task="cities", threads=threads, spinning=spin)
              for path, threads, spin in runs]
    for model in loaded:  # warm-up: arenas, first-call allocations
        seconds_for(model, latlon[:args.call_rows * 4], args.call_rows)
    best = [float("inf")] * len(runs)
    for _ in range(args.repeats):
        for i, model in enumerate(loaded):
            best[i] = min(best[i], seconds_for(model, latlon, args.call_rows))
    print(f"{args.rows:,} points uniform over the globe, calls of {args.call_rows:,} rows, "
          f"best of {args.repeats} interleaved rounds, CPU")
    print("| model | size | intra-op threads | spinning | rows/s | vs first |\n"
          "|---|---:|---:|---|---:|---:|")
    for (path, threads, spin), seconds in zip(runs, best, strict=True):
        print(f"| {path} | {path.stat().st_size / 1e6:.1f} MB | "
              f"{threads or 'one per core'} | {'yes' if spin else 'no'} | "
              f"{args.rows / seconds:,.0f} | {best[0] / seconds:.2f}x |")


if __name__ == "__main__":
    sys.exit(main())
