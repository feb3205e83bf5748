"""Accuracy, ROC AUC and fakes caught of an images model on each dataset's split, apart.

    python bench/images_by_dataset.py --model exported/deepfake.onnx --split test \
        --data ../shared/data/faces --data ../shared/data/faces-sd --data ../shared/data/faces-utk

Each --data folder is one dataset in the ImageFolder layout (<split>/real, <split>/fake,
either may be absent). Unlike the pooled figures of the card, the ROC AUC here compares
a dataset's fakes with that dataset's reals only, at the threshold stored in the model.
The last column is the share `classify-images --uncertain LOW,HIGH` sends to review
(LOW <= P(fake) < HIGH; --uncertain, default 0.3,0.7).
"""

from __future__ import annotations

import argparse
from pathlib import Path

import numpy as np
from robustness_images import labelled_files  # bench/, beside this script

from batch_classifier import FakeImageDetector
from batch_classifier.trainer.images.metrics import roc_auc


def table_row(name: str, labels: np.ndarray, probabilities: np.ndarray,
              threshold: float, band: tuple[float, float]) -> str:
    """One markdown row: n, accuracy, ROC AUC (when both classes), share of fakes caught,
    share inside the uncertain band."""
    called_fake = probabilities >= threshold
    accuracy = float(np.mean(called_fake == labels))
    both = len(set(labels.tolist())) == 2
    auc = f"{roc_auc(labels, probabilities):.3f}" if both else ""
    caught = f"{np.mean(called_fake[labels == 1]):.1%}" if (labels == 1).any() else ""
    review = np.mean((probabilities >= band[0]) & (probabilities < band[1]))
    return f"| {name} | {len(labels)} | {accuracy:.2%} | {auc} | {caught} | {review:.1%} |"


def dataset_rows(detector: FakeImageDetector, dataset: Path, split: str,
                 band: tuple[float, float]) -> list[str]:
    """The dataset's row, then one per source when it holds several (e.g.
    `people-xl/fake/sdxl`: accuracy there is the share called right)."""
    files, labels, sources = labelled_files([dataset], split)
    probabilities = detector.predict(files).fake_probability
    rows = [table_row(f"{dataset.name}/{split}", labels, probabilities, detector.threshold,
                      band)]
    if len(set(sources.tolist())) > 1:
        for source in sorted(set(sources.tolist())):
            keep = sources == source
            rows.append(table_row(f"  {source}", labels[keep], probabilities[keep],
                                  detector.threshold, band))
    return rows


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--model", default="deepfake")
    parser.add_argument("--data", action="append", required=True, type=Path)
    parser.add_argument("--split", default="test")
    parser.add_argument("--uncertain", default="0.3,0.7", metavar="LOW,HIGH")
    args = parser.parse_args()
    band = tuple(float(value) for value in args.uncertain.split(","))
    detector = FakeImageDetector(args.model, device="cpu", uncertain=band)  # checks the band
    low, high = detector.uncertain
    print(f"model {args.model}, threshold {detector.threshold:.4f}\n")
    print("| dataset | n | accuracy | ROC AUC (its fakes vs its reals) | fakes caught "
          f"| in {low:g}-{high:g} (review) |")
    print("|---|---:|---:|---:|---:|---:|")
    for dataset in args.data:
        print("\n".join(dataset_rows(detector, dataset, args.split, detector.uncertain)))


if __name__ == "__main__":
    main()
