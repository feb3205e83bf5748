"""Per-source accuracy and ROC AUC of an images model on re-encoded copies of labelled data.

    python bench/robustness_images.py --model exported/deepfake.onnx --split val \
        --data ../shared/data/faces --data ../shared/data/faces-sd --data ../shared/data/faces-utk

Each --data folder is a source in the ImageFolder layout (<split>/real, <split>/fake, either
may be absent). Variants: the files as they are, re-saved as PNG, re-compressed as JPEG
quality 75 and 50, resized to 512 px (bicubic, PNG; the loader resizes back), and shrunk to
160 px and saved as JPEG 90 (softer, like small originals upscaled by the loader). Prints
a markdown table: per-source accuracy at the model's threshold, the mean of those (macro),
pooled ROC AUC, and the mean macro accuracy over all variants.
"""

from __future__ import annotations

import argparse
import sys
import tempfile
from collections.abc import Callable
from pathlib import Path

import numpy as np
from PIL import Image

from batch_classifier.inference.files.walk import FoundFile
from batch_classifier.inference.images.pipeline import decoded_batches
from batch_classifier.inference.images.predict import fake_probabilities, input_size
from batch_classifier.inference.session import load_model
from batch_classifier.trainer.images.data import class_files
from batch_classifier.trainer.images.metrics import (  # numpy only
    macro_accuracy,
    roc_auc,
    source_metrics,
)


def as_png(image: Image.Image, stem: Path) -> Path:
    image.save(stem.with_suffix(".png"))
    return stem.with_suffix(".png")


def as_jpeg(quality: int) -> Callable[[Image.Image, Path], Path]:
    def convert(image: Image.Image, stem: Path) -> Path:
        image.save(stem.with_suffix(".jpg"), quality=quality)
        return stem.with_suffix(".jpg")
    return convert


def resized(side: int, quality: int | None) -> Callable[[Image.Image, Path], Path]:
    def convert(image: Image.Image, stem: Path) -> Path:
        small = image.resize((side, side), Image.BICUBIC)
        return as_png(small, stem) if quality is None else as_jpeg(quality)(small, stem)
    return convert


VARIANTS: dict[str, Callable[[Image.Image, Path], Path] | None] = {
    "original files": None, "re-saved as PNG": as_png, "JPEG quality 75": as_jpeg(75),
    "JPEG quality 50": as_jpeg(50), "resized to 512 px (PNG)": resized(512, None),
    "shrunk to 160 px (JPEG 90)": resized(160, 90),
}


def labelled_files(roots: list[Path], split: str) -> tuple[list[Path], np.ndarray, np.ndarray]:
    """(files, labels, source names) of `split` of every source, named as the trainer
    names them (`people-xl/fake/sdxl`)."""
    found = [item for root in roots for item in class_files(root / split, root.resolve().name)]
    return ([item.path for item in found], np.array([item.label for item in found]),
            np.array([item.source for item in found], dtype=object))


def scores(model, files: list[Path]) -> np.ndarray:
    size = input_size(model)
    return np.concatenate([fake_probabilities(model, b.images)
                           for b in decoded_batches(map(FoundFile, files), size, 32)])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--model", type=Path, default=Path("exported/deepfake.onnx"))
    parser.add_argument("--data", type=Path, action="append", required=True,
                        help="A source folder with <split>/real and/or <split>/fake.")
    parser.add_argument("--split", default="test", help="Which split (default test).")
    args = parser.parse_args()
    model = load_model(args.model, device="cpu", task="images")
    originals, labels, sources = labelled_files(args.data, args.split)
    threshold = model.contract.threshold
    names = sorted(set(sources.tolist()))
    print(f"model {args.model} on the {args.split} split of "
          f"{', '.join(str(d) for d in args.data)} ({len(originals)} images, threshold "
          f"{threshold:g})\n")
    print("| variant | " + " | ".join(names) + " | macro | AUC |")
    print("|---|" + "---:|" * (len(names) + 2))
    macros = []
    with tempfile.TemporaryDirectory() as tmp:
        for variant, convert in VARIANTS.items():
            files = originals
            if convert is not None:
                files = [convert(Image.open(p).convert("RGB"), Path(tmp) / f"{k}")
                         for k, p in enumerate(originals)]
            probs = scores(model, files)
            table = source_metrics(labels, probs, sources, threshold)
            macros.append(macro_accuracy(labels, probs, sources, threshold))
            cells = " | ".join(f"{table[name]['acc']:.1%}" for name in names)
            print(f"| {variant} | {cells} | {macros[-1]:.1%} | {roc_auc(labels, probs):.4f} |")
            for f in files if convert is not None else []:
                f.unlink()
    print(f"\nmean macro accuracy over the variants: {np.mean(macros):.2%}")


if __name__ == "__main__":
    sys.exit(main())
