"""Peak resident memory of classify-images on small poison images: 9000 x 9000 PNGs of a
few hundred KB that decode to 162 MB (16-bit grey) or 324 MB (RGBA) each.

    python bench/bench_poison_images.py                 # default threads, then 8
    python bench/bench_poison_images.py --copies 8 --workers 0 8 16

Each run classifies a folder of `--copies` poison PNGs of each kind and a few small
ones with the shipped model, in a fresh process that prints its own peak RSS (bar, from
issue 20: < 1 GiB with the default threads), next to the same command on the small
images alone.
"""

from __future__ import annotations

import argparse
import tempfile
from pathlib import Path

import numpy as np
from bench_memory import ROOT, peak_mib
from PIL import Image


def make_inputs(folder: Path, copies: int) -> tuple[Path, Path]:
    """(a folder with the poison PNGs and the small ones, a folder with the small ones)."""
    poisoned, small = folder / "poisoned", folder / "small"
    for where in (poisoned, small):
        where.mkdir()
        for i in range(4):
            Image.fromarray(np.full((64, 64, 3), 60 * i, np.uint8)).save(where / f"s{i}.png")
    kinds = {"grey16": Image.new("I;16", (9000, 9000)), "rgba": Image.new("RGBA", (9000, 9000))}
    for name, image in kinds.items():
        image.save(poisoned / f"{name}-0.png")
        print(f"{name} 9000x9000 PNG: {(poisoned / f'{name}-0.png').stat().st_size / 1024:.0f} KB")
        for i in range(1, copies):
            (poisoned / f"{name}-{i}.png").write_bytes((poisoned / f"{name}-0.png").read_bytes())
    return poisoned, small


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--model", default=str(ROOT / "exported/deepfake.onnx"))
    parser.add_argument("--copies", type=int, default=4, help="poison PNGs of each kind")
    parser.add_argument("--workers", type=int, nargs="+", default=[0, 8],
                        help="decoding threads to try (0: the default, min(8, cores))")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        poisoned, small = make_inputs(Path(tmp), args.copies)
        for workers in args.workers:
            common = ["--model", args.model, "-q", "--workers", str(workers)]
            base, _, _ = peak_mib("images", [str(small), *common, "-o", f"{tmp}/s.csv"])
            peak, seconds, cpu = peak_mib("images", [str(poisoned), *common,
                                                     "-o", f"{tmp}/p.csv"])
            rows = (Path(tmp) / "p.csv").read_text().count("\n") - 1
            print(f"--workers {workers or 'default'}: {rows} images, {2 * args.copies} "
                  f"poison: peak RSS {peak:.0f} MiB ({seconds:.1f} s, {cpu:.1f} CPU s); "
                  f"small images only {base:.0f} MiB")


if __name__ == "__main__":
    main()
