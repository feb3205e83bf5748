"""Evaluate an exported cities model (through ONNX Runtime) on any labelled split."""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from batch_classifier.inference.cities.classifier import CountryClassifier
from batch_classifier.trainer.cities.splits import CitySplit

EARTH_RADIUS_KM = 6371.0


@dataclass
class Evaluation:
    """Accuracy by ISO code overall and for the points near the antimeridian."""

    n: int
    accuracy: float
    antimeridian: dict[float, tuple[int, float]]  # band in km -> (points, accuracy)
    codes_unknown_to_model: list[str]


def antimeridian_distance_km(latlon: np.ndarray) -> np.ndarray:
    """Great-circle distance from each point to the ±180° meridian (pole to pole)."""
    lat = np.radians(latlon[:, 0].astype(np.float64))
    gap = np.radians(180.0 - np.abs(latlon[:, 1].astype(np.float64)))
    to_meridian = np.arcsin(np.clip(np.cos(lat) * np.sin(gap), 0.0, 1.0))
    to_pole = np.pi / 2 - np.abs(lat)  # past 90° of longitude the nearest point is a pole
    return EARTH_RADIUS_KM * np.where(gap < np.pi / 2, to_meridian, to_pole)


def evaluate_model(model_path: str, split: CitySplit, codes: list[str],
                   aliases: dict[str, str], antimeridian_km: tuple[float, ...] = (20.0,),
                   lookup: bool = True) -> Evaluation:
    """Compare the model's best ISO codes (after `aliases`, e.g. XK->RS) with the
    split's, as the inference core gives them (from the model's cell lookup where it
    has one, unless `lookup` is False)."""
    classifier = CountryClassifier(model_path, device="cpu", lookup=lookup)
    predicted_codes = np.array([aliases.get(c, c) for c in classifier.model.contract.label_codes])
    predicted = np.concatenate([np.zeros(0, predicted_codes.dtype)] + [
        predicted_codes[classifier.top(split.latlon[i:i + 65536]).best[:, 0]]
        for i in range(0, len(split), 65536)])
    truth = np.array(codes)[split.labels]
    correct = predicted == truth
    distance = antimeridian_distance_km(split.latlon)
    bands = {}
    for km in antimeridian_km:
        near = distance <= km
        bands[km] = (int(near.sum()), float(correct[near].mean()) if near.any() else math.nan)
    return Evaluation(n=len(split), accuracy=float(correct.mean()), antimeridian=bands,
                      codes_unknown_to_model=sorted(set(codes) - set(predicted_codes)))
