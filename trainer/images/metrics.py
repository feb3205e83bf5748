"""Binary classification metrics from P(fake) scores."""

from __future__ import annotations

import numpy as np


def roc_auc(labels: np.ndarray, scores: np.ndarray) -> float:
    """Area under the ROC curve (Mann-Whitney, ties counted half); nan with one class."""
    labels = np.asarray(labels).astype(bool)
    positives, negatives = int(labels.sum()), int((~labels).sum())
    if positives == 0 or negatives == 0:
        return float("nan")
    order = np.argsort(scores, kind="mergesort")
    sorted_scores = np.asarray(scores)[order]
    ranks = np.empty(len(scores), dtype=np.float64)
    ranks[order] = np.arange(1, len(scores) + 1)
    for value in np.unique(sorted_scores):  # average ranks over ties
        tied = np.asarray(scores) == value
        ranks[tied] = ranks[tied].mean()
    return float((ranks[labels].sum() - positives * (positives + 1) / 2)
                 / (positives * negatives))


def binary_metrics(labels: np.ndarray, probabilities: np.ndarray,
                   threshold: float = 0.5) -> dict:
    """Accuracy, ROC AUC, log loss and the confusion matrix (rows true real/fake,
    columns predicted real/fake)."""
    labels = np.asarray(labels).astype(int)
    predicted = (np.asarray(probabilities) >= threshold).astype(int)
    p = np.clip(probabilities, 1e-7, 1 - 1e-7)
    confusion = [[int(((labels == t) & (predicted == q)).sum()) for q in (0, 1)] for t in (0, 1)]
    return {
        "acc": round(float((predicted == labels).mean()), 6),
        "auc": round(roc_auc(labels, probabilities), 6),
        "loss": round(float(-np.mean(labels * np.log(p) + (1 - labels) * np.log(1 - p))), 6),
        "confusion": confusion,
    }
