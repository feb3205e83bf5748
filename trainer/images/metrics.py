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


def source_metrics(labels: np.ndarray, probabilities: np.ndarray, sources: np.ndarray,
                   threshold: float) -> dict[str, dict]:
    """Per source: its size, class, accuracy at `threshold`, the quantiles of P(fake),
    and the ROC AUC of this source against every image of the other class."""
    labels, probabilities = np.asarray(labels), np.asarray(probabilities)
    table = {}
    for source in sorted(set(sources.tolist())):
        mine = sources == source
        label = int(labels[mine][0])
        others = labels != label
        scores = np.concatenate([probabilities[mine], probabilities[others]])
        truth = np.concatenate([np.full(mine.sum(), label), labels[others]])
        quantiles = np.quantile(probabilities[mine], [0.05, 0.25, 0.5, 0.75, 0.95])
        table[source] = {
            "n": int(mine.sum()), "label": label,
            "acc": round(float(((probabilities[mine] >= threshold) == label).mean()), 6),
            "auc_vs_other_class": round(roc_auc(truth, scores), 6),
            "p_fake_quantiles": [round(float(q), 4) for q in quantiles],
        }
    return table


def macro_accuracy(labels: np.ndarray, probabilities: np.ndarray, sources: np.ndarray,
                   threshold: float) -> float:
    """The mean of the per-source accuracies: every source counts the same."""
    right = (np.asarray(probabilities) >= threshold) == np.asarray(labels).astype(bool)
    return float(np.mean([right[sources == s].mean() for s in set(sources.tolist())]))


def best_threshold(labels: np.ndarray, probabilities: np.ndarray,
                   sources: np.ndarray) -> float:
    """The threshold on P(fake) with the best macro accuracy over sources (ties: the one
    nearest 0.5), from the midpoints between consecutive distinct scores."""
    values = np.unique(np.asarray(probabilities, dtype=np.float64))
    candidates = np.concatenate([[0.5], (values[:-1] + values[1:]) / 2])
    scored = [(macro_accuracy(labels, probabilities, sources, t), -abs(t - 0.5), t)
              for t in candidates]
    return round(float(max(scored)[2]), 6)
