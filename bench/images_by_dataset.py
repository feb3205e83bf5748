"""Accuracy, ROC AUC and fakes caught of an images model on each dataset's split, apart.

    python bench/images_by_dataset.py --model exported/deepfake.onnx --split test \
        --data ../shared/data/faces --data ../shared/data/faces-sd --data ../shared/data/faces-utk

Each --data folder is one dataset in the ImageFolder layout (<split>/real, <split>/fake,
either may be absent). Unlike the pooled figures of the card, the ROC AUC here compares
a dataset's fakes with that dataset's reals only, at the threshold stored in the model.
"""

from __future__ import annotations

import argparse
from pathlib import Path

import numpy as np
from robustness_images import labelled_files  # bench/, beside this script

from batch_classifier import FakeImageDetector
from batch_classifier.trainer.images.metrics import roc_auc


def dataset_line(detector: FakeImageDetector, dataset: Path, split: str) -> str:
    """One markdown row: n, accuracy, within-dataset ROC AUC, share of fakes caught."""
    files, labels, _ = labelled_files([dataset], split)
    probabilities = detector.predict(files).fake_probability
    called_fake = probabilities >= detector.threshold
    accuracy = float(np.mean(called_fake == labels))
    both = len(set(labels.tolist())) == 2
    auc = f"{roc_auc(labels, probabilities):.3f}" if both else ""
    caught = f"{np.mean(called_fake[labels == 1]):.1%}" if (labels == 1).any() else ""
    return f"| {dataset.name}/{split} | {len(files)} | {accuracy:.2%} | {auc} | {caught} |"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--model", default="deepfake")
    parser.add_argument("--data", action="append", required=True, type=Path)
    parser.add_argument("--split", default="test")
    args = parser.parse_args()
    detector = FakeImageDetector(args.model, device="cpu")
    print(f"model {args.model}, threshold {detector.threshold:.4f}\n")
    print("| dataset | n | accuracy | ROC AUC (its fakes vs its reals) | fakes caught |")
    print("|---|---:|---:|---:|---:|")
    for dataset in args.data:
        print(dataset_line(detector, dataset, args.split))


if __name__ == "__main__":
    main()
