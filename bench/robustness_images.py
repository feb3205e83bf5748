"""Accuracy and ROC AUC of an images model on re-encoded copies of a labelled test set.

    python bench/robustness_images.py --model exported/deepfake.onnx \
        --data ../shared/data/faces/test

Variants: the files as they are, re-saved as PNG, re-compressed as JPEG quality 75,
resized to 512 px (bicubic; the loader resizes back to the model's input). Prints a
markdown table.
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
from batch_classifier.trainer.images.metrics import binary_metrics  # numpy only

LABELS = ("real", "fake")


def as_png(image: Image.Image, stem: Path) -> Path:
    image.save(stem.with_suffix(".png"))
    return stem.with_suffix(".png")


def as_jpeg75(image: Image.Image, stem: Path) -> Path:
    image.save(stem.with_suffix(".jpg"), quality=75)
    return stem.with_suffix(".jpg")


def resized_512(image: Image.Image, stem: Path) -> Path:
    image.resize((512, 512), Image.BICUBIC).save(stem.with_suffix(".png"))
    return stem.with_suffix(".png")


VARIANTS: dict[str, Callable[[Image.Image, Path], Path] | None] = {
    "original files": None, "re-saved as PNG": as_png, "JPEG quality 75": as_jpeg75,
    "resized to 512 px (PNG)": resized_512,
}


def scores(model, files: list[Path]) -> np.ndarray:
    size = input_size(model)
    return np.concatenate([fake_probabilities(model, b.images)
                           for b in decoded_batches(map(FoundFile, files), size, 32)])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--model", type=Path, default=Path("exported/deepfake.onnx"))
    parser.add_argument("--data", type=Path, required=True, help="Folder with real/, fake/.")
    args = parser.parse_args()
    model = load_model(args.model, device="cpu", task="images")
    originals = [(p, i) for i, name in enumerate(LABELS)
                 for p in sorted((args.data / name).iterdir()) if p.is_file()]
    labels = np.array([label for _, label in originals])
    threshold = model.contract.threshold
    print(f"model {args.model.name} on {args.data} ({len(originals)} images)\n")
    print("| variant | accuracy | ROC AUC |\n|---|---:|---:|")
    with tempfile.TemporaryDirectory() as tmp:
        for name, convert in VARIANTS.items():
            files = [p for p, _ in originals]
            if convert is not None:
                files = [convert(Image.open(p).convert("RGB"), Path(tmp) / f"{k}")
                         for k, p in enumerate(files)]
            probs = scores(model, files)
            m = binary_metrics(labels, probs, threshold)
            print(f"| {name} | {m['acc']:.4f} | {m['auc']:.4f} |")
            for f in files if convert is not None else []:
                f.unlink()


if __name__ == "__main__":
    sys.exit(main())
