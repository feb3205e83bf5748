"""A grid of test images with their predictions, the misclassified first."""

from __future__ import annotations

from pathlib import Path

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402

from batch_classifier.trainer.images.data import LABELS, ImageSplit  # noqa: E402


def plot_prediction_grid(split: ImageSplit, probabilities: np.ndarray, threshold: float,
                         path: Path, columns: int = 8, rows: int = 4) -> None:
    """Up to rows x columns images titled 'true -> predicted (P fake)': red when wrong."""
    predicted = (probabilities >= threshold).astype(int)
    wrong = predicted != split.labels
    order = np.argsort(~wrong, kind="stable")[:columns * rows]
    rows = max(1, -(-len(order) // columns))
    fig, axes = plt.subplots(rows, columns, figsize=(columns * 1.6, rows * 1.8))
    for axis in np.atleast_1d(axes).ravel():
        axis.axis("off")
    for axis, index in zip(np.atleast_1d(axes).ravel(), order, strict=False):
        axis.imshow(split.images[index])
        axis.set_title(f"{LABELS[split.labels[index]]}->{LABELS[predicted[index]]} "
                       f"{probabilities[index]:.2f}", fontsize=7,
                       color="red" if wrong[index] else "green")
    fig.suptitle(f"test predictions (P fake), misclassified first: {int(wrong.sum())} of "
                 f"{len(wrong)} wrong", fontsize=9)
    fig.tight_layout()
    fig.savefig(path, dpi=100)
    plt.close(fig)
