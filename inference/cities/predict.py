"""The inference core for cities: (lat, lon) batches in, country columns out."""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

import numpy as np

from batch_classifier.inference.errors import ModelContractError
from batch_classifier.inference.session import LoadedModel

# Rows per ONNX Runtime call: larger calls only grow the session's memory arena.
MODEL_BATCH = 4096
SEA_CHOICES = ("none", "nearest")  # --sea: what a point at open sea gets


@dataclass(frozen=True)
class SeaRule:
    """How a model says a point is at open sea: an output of km to the nearest land,
    and the distance beyond which no country's waters reach."""

    output: int
    open_sea_km: float


def sea_rule(model: LoadedModel) -> SeaRule | None:
    """The model's open-sea rule, from its metadata (None: the model knows no sea)."""
    raw = model.contract.extra.get("land_distance")
    if raw is None:
        return None
    try:
        spec = json.loads(raw)
        return SeaRule(model.output_index(spec["output"]), float(spec["open_sea_km"]))
    except (ValueError, KeyError, TypeError):
        raise ModelContractError(f"{model.path}: model metadata 'land_distance' is not "
                                 '{"output": NAME, "open_sea_km": KM}') from None


def run_model(model: LoadedModel, latlon: np.ndarray) -> tuple[np.ndarray, np.ndarray | None]:
    """(probabilities [N, C], km to the nearest land [N] or None), in MODEL_BATCH calls."""
    latlon = np.ascontiguousarray(latlon, dtype=np.float32)
    rule = sea_rule(model)
    probabilities, land_km = [], []
    for start in range(0, len(latlon), MODEL_BATCH):
        outputs = model.run_outputs(latlon[start:start + MODEL_BATCH])
        probabilities.append(outputs[0])
        if rule is not None:
            land_km.append(outputs[rule.output].reshape(-1))
    if not probabilities:
        return np.zeros((0, len(model.contract.labels)), np.float32), None
    return np.concatenate(probabilities), np.concatenate(land_km) if rule else None


def open_sea(model: LoadedModel, land_km: np.ndarray | None) -> np.ndarray | None:
    """True where a point lies beyond every country's waters (None: the model knows no sea)."""
    rule = sea_rule(model)
    return None if land_km is None or rule is None else land_km > rule.open_sea_km


def prediction_columns(top_k: int) -> list[str]:
    """Columns added to each row: the best country, then numbered runners-up."""
    columns = ["country", "country_code", "confidence"]
    for rank in range(2, top_k + 1):
        columns += [f"country_{rank}", f"country_code_{rank}", f"confidence_{rank}"]
    return columns


def predict_countries(model: LoadedModel, latlon: np.ndarray, top_k: int = 1,
                      min_confidence: float = 0.0, sea: str = "none") -> list[dict[str, Any]]:
    """Predict the top-k countries for each (lat, lon) row; one dict of columns per row.

    A row the model places at open sea (with `sea="none"`), or whose best probability is
    below `min_confidence`, gets no country, an `error` and its `error_kind`.
    """
    if len(latlon) == 0:
        return []
    probabilities, land_km = run_model(model, latlon)
    at_sea = open_sea(model, land_km) if sea == "none" else None
    k = min(top_k, probabilities.shape[1])
    best = np.argpartition(-probabilities, k - 1, axis=1)[:, :k]
    best_probs = np.take_along_axis(probabilities, best, axis=1)
    order = np.argsort(-best_probs, axis=1)
    best = np.take_along_axis(best, order, axis=1)
    best_probs = np.take_along_axis(best_probs, order, axis=1)
    names, codes = model.contract.labels, model.contract.label_codes
    columns = prediction_columns(k)
    rows = []
    for i, (indices, probs) in enumerate(zip(best.tolist(), best_probs.tolist(), strict=True)):
        if at_sea is not None and at_sea[i]:
            rows.append({"error": f"open sea: nearest land ~{land_km[i]:.0f} km",
                         "error_kind": "open sea"})
            continue
        if probs[0] < min_confidence:
            rows.append({"error": f"confidence {probs[0]:.3f} below --min-confidence "
                                  f"{min_confidence:g} (best guess {codes[indices[0]]})",
                         "error_kind": "low confidence"})
            continue
        values: list[Any] = []
        for index, prob in zip(indices, probs, strict=True):
            values += [names[index], codes[index], round(prob, 6)]
        rows.append(dict(zip(columns, values, strict=True)))
    return rows
