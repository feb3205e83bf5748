"""Images per second of classify-images end to end, the bare ONNX session and PyTorch eager.

    python bench/bench_images.py --model exported/deepfake.onnx --images ../shared/data/faces

All three run on the same files in this process (the CLI as a subprocess), so the printed
ratios compare like with like. The bare session and PyTorch get already decoded batches.
PyTorch eager (needs the train extra) runs the same architecture, input size and graph
options as the card records, with freshly initialised weights: the timing does not
depend on the weight values.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import time
from pathlib import Path

import numpy as np

from batch_classifier.inference.files.walk import walk_files
from batch_classifier.inference.images.decode import load_rgb
from batch_classifier.inference.images.walk import IMAGE_SUFFIXES
from batch_classifier.inference.session import load_model


def time_cli(model: Path, files: list[Path], batch: int) -> float:
    """Seconds for classify-images over `files` (CSV to /dev/null)."""
    script = Path(sys.executable).with_name("classify-images")
    args = [str(script if script.exists() else "classify-images"), "--model", str(model),
            "-q", "--batch-size", str(batch), *map(str, files)]
    started = time.perf_counter()
    with open(os.devnull, "w") as sink:
        subprocess.run(args, stdout=sink, check=False)
    return time.perf_counter() - started


def batches(images: np.ndarray, batch: int) -> list[np.ndarray]:
    return [images[i:i + batch] for i in range(0, len(images), batch)]


def time_onnx(model: Path, images: np.ndarray, batch: int) -> float:
    """Seconds for the bare ONNX Runtime session over decoded batches."""
    loaded = load_model(model, device="cpu", task="images")
    loaded.run(images[:1])  # warm up
    started = time.perf_counter()
    for part in batches(images, batch):
        loaded.run(part)
    return time.perf_counter() - started


def time_torch(card: dict, images: np.ndarray, batch: int) -> float | None:
    """Seconds for the same architecture in PyTorch eager (None without torch)."""
    try:
        import torch

        from batch_classifier.trainer.images.model import build_detector
    except ImportError:
        return None
    if "config" not in card:
        return None  # an ensemble: no single PyTorch architecture to time
    config = card["config"]
    net = build_detector(config["backbone"], imagenet=False, upsample=config["upsample"])
    net.flip_tta = bool(card["metrics"].get("flip_tta"))
    net.eval()
    with torch.no_grad():
        net(torch.from_numpy(images[:1]))
        started = time.perf_counter()
        for part in batches(images, batch):
            net(torch.from_numpy(part))
    return time.perf_counter() - started


def describe(card: dict) -> str:
    """Backbone, inputs and upsampling of a model (of each member of an ensemble)."""
    if "members" in card:
        return "ensemble of " + " + ".join(describe(member) for member in card["members"])
    config, metrics = card["config"], card.get("metrics", {})
    scoring = [name for name, on in (("flip TTA", metrics.get("flip_tta")),
                                     ("patch scoring", metrics.get("patch_scoring"))) if on]
    return (f"{config['backbone']} (inputs {config.get('inputs', 'rgb')}, {config['size']} px "
            f"upsampled x{config['upsample']:g} in the graph"
            + "".join(f", {name}" for name in scoring) + ")")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--model", type=Path, default=Path("exported/deepfake.onnx"))
    parser.add_argument("--images", type=Path, required=True, help="A folder of images.")
    parser.add_argument("--limit", type=int, default=512, help="Use the first N files.")
    parser.add_argument("--batch-size", type=int, default=32)
    args = parser.parse_args()
    found = walk_files([args.images], IMAGE_SUFFIXES)
    files = sorted(f.path for f in found if f.error is None)[:args.limit]
    card = json.loads(args.model.with_suffix(".json").read_text())
    size = card["input_contract"]["height"]
    images = np.stack([load_rgb(f, size) for f in files])
    n, batch = len(files), args.batch_size
    cli_s = time_cli(args.model, files, batch)
    onnx_s = time_onnx(args.model, images, batch)
    torch_s = time_torch(card, images, batch)
    print(f"model {args.model.name}: {describe(card)}, input {size}x{size} uint8; {n} images "
          f"from {args.images}, batch {batch}, CPU ({os.cpu_count()} cores)")
    print("| path | seconds | images/s | vs bare ONNX |\n|---|---:|---:|---:|")
    print(f"| classify-images end to end (JPEG files in, CSV out) | {cli_s:.2f} "
          f"| {n / cli_s:.1f} | {onnx_s / cli_s:.3f}x |")
    print(f"| bare ONNX Runtime session (decoded batches) | {onnx_s:.2f} | {n / onnx_s:.1f} "
          f"| 1.000x |")
    if torch_s is not None:
        print(f"| PyTorch eager (same architecture) | {torch_s:.2f} | {n / torch_s:.1f} "
              f"| {onnx_s / torch_s:.3f}x |")


if __name__ == "__main__":
    sys.exit(main())
