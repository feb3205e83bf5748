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


def table_row(name: str, labels: np.ndarray, probabilities: np.ndarray,
              threshold: float) -> str:
    """One markdown row: n, accuracy, ROC AUC (when both classes), share of fakes caught."""
    called_fake = probabilities >= threshold
    accuracy = float(np.mean(called_fake == labels))
    both = len(set(labels.tolist())) == 2
    auc = f"{roc_auc(labels, probabilities):.3f}" if both else ""
    caught = f"{np.mean(called_fake[labels == 1]):.1%}" if (labels == 1).any() else ""
    return f"| {name} | {len(labels)} | {accuracy:.2%} | {auc} | {caught} |"


def dataset_rows(detector: FakeImageDetector, dataset: Path, split: str) -> list[str]:
    """The dataset's row, then one per source when it holds several of a class
    (e.g. `people-xl/fake/sdxl`: accuracy there is the share called right)."""
    files, labels, sources = labelled_files([dataset], split)
    probabilities = detector.predict(files).fake_probability
    rows = [table_row(f"{dataset.name}/{split}", labels, probabilities, detector.threshold)]
    if len(set(sources.tolist())) > len(set(labels.tolist())):
        for source in sorted(set(sources.tolist())):
            keep = sources == source
            rows.append(table_row(f"  {source}", labels[keep], probabilities[keep],
                                  detector.threshold))
    return rows


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
        print("\n".join(dataset_rows(detector, dataset, args.split)))


if __name__ == "__main__":
    main()
