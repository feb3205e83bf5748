"""The inference core for cities: (lat, lon) batches in, country columns out."""

from __future__ import annotations

from typing import Any

import numpy as np

from batch_classifier.inference.contract import ModelContract
from batch_classifier.inference.session import LoadedModel

# Rows per ONNX Runtime call: the graph's float64 Fourier features cost ~2 KiB a row, so
# larger calls only grow the session's memory arena.
MODEL_BATCH = 4096
# One ONNX Runtime thread: the other core reads and writes the CSV meanwhile, and on a
# shared machine extra spinning threads slow the model down (bench/bench_vs_pandas.py).
MODEL_THREADS = 1
LOW_CONFIDENCE = "low confidence"  # the error kind of a row below --min-confidence


def prediction_columns(top_k: int) -> list[str]:
    """Columns added to each row: the best country, then numbered runners-up."""
    columns = ["country", "country_code", "confidence"]
    for rank in range(2, top_k + 1):
        columns += [f"country_{rank}", f"country_code_{rank}", f"confidence_{rank}"]
    return columns


def predict_countries(model: LoadedModel, latlon: np.ndarray, top_k: int = 1,
                      min_confidence: float = 0.0) -> list[dict[str, Any]]:
    """Predict the top-k countries for each (lat, lon) row; one dict of columns per row.

    A row whose best probability is below `min_confidence` gets no country and an error.
    """
    return prediction_dicts(model.contract, *top_predictions(model, latlon, top_k),
                            min_confidence)


def prediction_dicts(contract: ModelContract, best: np.ndarray, best_probs: np.ndarray,
                     min_confidence: float) -> list[dict[str, Any]]:
    """One dict of the added columns per row from `top_predictions`' arrays."""
    names, codes = contract.labels, contract.label_codes
    columns = prediction_columns(best.shape[1])
    rows = []
    for indices, probs in zip(best.tolist(), best_probs.tolist(), strict=True):
        if probs[0] < min_confidence:
            rows.append({"error": low_confidence(probs[0], codes[indices[0]], min_confidence)})
            continue
        values: list[Any] = []
        for index, prob in zip(indices, probs, strict=True):
            values += [names[index], codes[index], round(prob, 6)]
        rows.append(dict(zip(columns, values, strict=True)))
    return rows


def top_predictions(model: LoadedModel, latlon: np.ndarray,
                    top_k: int) -> tuple[np.ndarray, np.ndarray]:
    """(label indices, probabilities) of the top-k countries of each row, best first
    (fewer than k when the model has fewer countries)."""
    k = min(top_k, len(model.contract.labels))
    if len(latlon) == 0:
        return np.zeros((0, k), np.int64), np.zeros((0, k), np.float32)
    latlon = np.ascontiguousarray(latlon, dtype=np.float32)
    probabilities = np.concatenate([model.run(latlon[start:start + MODEL_BATCH])
                                    for start in range(0, len(latlon), MODEL_BATCH)])
    k = min(k, probabilities.shape[1])
    if k == 1:  # the common case, at a fraction of argpartition's cost
        best = probabilities.argmax(axis=1)[:, None]
        return best, np.take_along_axis(probabilities, best, axis=1)
    best = np.argpartition(-probabilities, k - 1, axis=1)[:, :k]
    best_probs = np.take_along_axis(probabilities, best, axis=1)
    order = np.argsort(-best_probs, axis=1)
    return np.take_along_axis(best, order, axis=1), np.take_along_axis(best_probs, order, axis=1)


def low_confidence(best_prob: float, best_code: str, min_confidence: float) -> str:
    """The error of a row whose best probability is below --min-confidence."""
    return (f"confidence {best_prob:.3f} below --min-confidence {min_confidence:g} "
            f"(best guess {best_code})")
