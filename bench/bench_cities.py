"""Rows per second of classify-cities end to end, the bare ONNX session and PyTorch eager.

    python bench/bench_cities.py --model exported/cities-eu.onnx --rows 1000000
    python bench/bench_cities.py --model exported/cities-eu.onnx --big-gb 3   # peak memory

All three run on the same generated rows in this process (the CLI as a subprocess),
so the printed ratios compare like with like. PyTorch eager needs the train extra
and the <model>.pt saved beside the export.
"""

from __future__ import annotations

import argparse
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

from batch_classifier.inference.session import load_model

BATCH = 65536


def generate_rows(n: int, seed: int = 0) -> np.ndarray:
    """(lat, lon) uniformly over Europe's extent."""
    rng = np.random.default_rng(seed)
    return np.stack([rng.uniform(35, 70, n), rng.uniform(-10, 40, n)], 1).astype(np.float32)


def write_csv(path: Path, latlon: np.ndarray, padding: int = 0) -> None:
    """A CSV with id, lat, lon (and a filler column of `padding` characters)."""
    filler = "x" * padding
    with open(path, "w") as handle:
        handle.write("id,lat,lon" + (",note\n" if padding else "\n"))
        for start in range(0, len(latlon), BATCH):
            part = latlon[start:start + BATCH]
            handle.write("".join(
                f"{start + i},{lat:.5f},{lon:.5f}" + (f",{filler}\n" if padding else "\n")
                for i, (lat, lon) in enumerate(part.tolist())))


def time_cli(model: Path, csv_path: Path, output: Path | None) -> tuple[float, float]:
    """(seconds, peak RSS of the CLI process in MiB) for classify-cities on `csv_path`."""
    args = [sys.executable, "-m", "batch_classifier.inference.cities.cli", str(csv_path),
            "--model", str(model), "-q"]
    started = time.perf_counter()
    with open(output or "/dev/null", "w") as sink:
        subprocess.run(args, stdout=sink, check=False)
    seconds = time.perf_counter() - started
    peak_mib = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024
    return seconds, peak_mib


def time_onnx(model: Path, latlon: np.ndarray) -> float:
    """Seconds for the bare ONNX Runtime session over all rows, in CLI-sized batches."""
    loaded = load_model(model, device="cpu", task="cities")
    started = time.perf_counter()
    for start in range(0, len(latlon), BATCH):
        loaded.run(latlon[start:start + BATCH])
    return time.perf_counter() - started


def time_torch(model: Path, latlon: np.ndarray) -> float | None:
    """Seconds for the same trained MLP in PyTorch eager (None without torch or .pt)."""
    checkpoint = model.with_suffix(".pt")
    try:
        import torch

        from batch_classifier.trainer.cities.export import load_checkpoint
    except ImportError:
        return None
    if not checkpoint.is_file():
        return None
    net = load_checkpoint(checkpoint)
    tensor = torch.from_numpy(latlon)
    started = time.perf_counter()
    with torch.no_grad():
        for start in range(0, len(tensor), BATCH):
            net(tensor[start:start + BATCH])
    return time.perf_counter() - started


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--model", type=Path, default=Path("exported/cities-eu.onnx"))
    parser.add_argument("--rows", type=int, default=1_000_000)
    parser.add_argument("--big-gb", type=float, help="Instead: peak memory on a file this big.")
    parser.add_argument("--padding", type=int, default=1000,
                        help="Characters of filler per row of the big file.")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        csv_path = Path(tmp) / "rows.csv"
        if args.big_gb:
            rows = int(args.big_gb * 1e9 / (args.padding + 30))
            write_csv(csv_path, generate_rows(rows), padding=args.padding)
            size_gb = csv_path.stat().st_size / 1e9
            seconds, peak = time_cli(args.model, csv_path, None)
            print(f"classify-cities on a {size_gb:.2f} GB CSV ({rows:,} rows): "
                  f"{seconds:.0f} s, peak RSS {peak:.0f} MiB")
            return
        latlon = generate_rows(args.rows)
        write_csv(csv_path, latlon)
        cli_s, peak = time_cli(args.model, csv_path, Path(tmp) / "out.csv")
        onnx_s = time_onnx(args.model, latlon)
        torch_s = time_torch(args.model, latlon)
    n = args.rows
    print(f"model {args.model} ({args.model.stat().st_size / 1024:.0f} KiB), {n:,} rows, "
          f"batch {BATCH}, CPU")
    print("| path | seconds | rows/s | vs bare ONNX |\n|---|---:|---:|---:|")
    print(f"| classify-cities end to end (CSV in, CSV out) | {cli_s:.2f} | {n / cli_s:,.0f} "
          f"| {onnx_s / cli_s:.3f}x |")
    print(f"| bare ONNX Runtime session | {onnx_s:.2f} | {n / onnx_s:,.0f} | 1.000x |")
    if torch_s is not None:
        print(f"| PyTorch eager (same weights) | {torch_s:.2f} | {n / torch_s:,.0f} "
              f"| {onnx_s / torch_s:.3f}x |")
    print(f"classify-cities peak RSS: {peak:.0f} MiB")


if __name__ == "__main__":
    sys.exit(main())
