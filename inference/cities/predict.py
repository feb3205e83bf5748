"""The inference core for cities: (lat, lon) batches in, the top countries and each row's
reason for having none (open sea, low confidence) out."""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

import numpy as np

from batch_classifier.inference.cities.area import OUTSIDE_AREA, ModelArea
from batch_classifier.inference.cities.lookup import CellLookup
from batch_classifier.inference.errors import ModelContractError, RowError
from batch_classifier.inference.session import LoadedModel

# Rows per ONNX Runtime call: larger calls only grow the session's memory arena.
MODEL_BATCH = 4096
# Every call holds a multiple of this many rows (the last row repeated): ONNX Runtime's
# vectorised kernels compute the tail of a tensor that fills no whole vector another way,
# so without it a row's probabilities would depend on the rows around it (and a resumed
# or distributed run could differ from a single one in the last digits).
ROW_MULTIPLE = 16
# One ONNX Runtime thread: the other core reads and writes the CSV meanwhile, and on a
# shared machine extra spinning threads slow the model down (bench/bench_vs_pandas.py).
MODEL_THREADS = 1
SEA_CHOICES = ("none", "nearest")  # --sea: what a point at open sea gets
LOW_CONFIDENCE, OPEN_SEA = "low confidence", "open sea"  # error kinds
# No open water lies south of this (the southernmost ever seen, in the Bay of Whales, was
# at about 78.7S): farther from land there is an ice shelf, which the land raster behind
# a model's distance grid counts as sea (the Ross Ice Shelf at 81.5S, 175W: ~289 km).
ICE_SHELF_LATITUDE = -78.75


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


def prediction_columns(top_k: int) -> list[str]:
    """Columns added to each row: the best country, then numbered runners-up."""
    columns = ["country", "country_code", "confidence"]
    for rank in range(2, top_k + 1):
        columns += [f"country_{rank}", f"country_code_{rank}", f"confidence_{rank}"]
    return columns


@dataclass
class TopCountries:
    """The answer for a batch of points: label indices and probabilities of the top-k
    countries of each row (best first), and per row None or why it gets no country."""

    best: np.ndarray
    probabilities: np.ndarray
    errors: list[RowError | None]

    def __len__(self) -> int:
        return len(self.errors)

    def part(self, start: int, stop: int) -> TopCountries:
        """Rows start..stop-1."""
        return TopCountries(self.best[start:stop], self.probabilities[start:stop],
                            self.errors[start:stop])


def run_model(model: LoadedModel, latlon: np.ndarray) -> tuple[np.ndarray, np.ndarray | None]:
    """(probabilities [N, C], km to the nearest land [N] or None), in MODEL_BATCH calls."""
    latlon = np.ascontiguousarray(latlon, dtype=np.float32)
    rule = sea_rule(model)
    probabilities, land_km = [], []
    for start in range(0, len(latlon), MODEL_BATCH):
        rows = latlon[start:start + MODEL_BATCH]
        padding = -len(rows) % ROW_MULTIPLE
        if padding:
            rows = np.concatenate([rows, np.repeat(rows[-1:], padding, axis=0)])
        outputs = model.run_outputs(rows)
        probabilities.append(outputs[0][:len(rows) - padding])
        if rule is not None:
            land_km.append(outputs[rule.output].reshape(-1)[:len(rows) - padding])
    if not probabilities:
        return np.zeros((0, len(model.contract.labels)), np.float32), None
    return np.concatenate(probabilities), np.concatenate(land_km) if rule else None


def open_sea(model: LoadedModel, land_km: np.ndarray | None,
             latlon: np.ndarray) -> np.ndarray | None:
    """True where a point (lat, lon) lies beyond every country's waters and north of the
    ice shelves (None: the model knows no sea)."""
    rule = sea_rule(model)
    if land_km is None or rule is None:
        return None
    return (land_km > rule.open_sea_km) & (latlon[:, 0] >= ICE_SHELF_LATITUDE)


def top_countries(model: LoadedModel, latlon: np.ndarray, top_k: int = 1,
                  min_confidence: float = 0.0, sea: str = "none",
                  lookup: CellLookup | None = None, area: ModelArea | None = None,
                  ) -> TopCountries:
    """The top-k countries of each (lat, lon) row (fewer when the model has fewer). A row
    the model places at open sea (with `sea="none"`), outside its `area`, or whose best
    probability is below `min_confidence` gets an error instead of a country. With a
    `lookup` and top_k 1, rows in its cells take its answer and the model runs for the
    rest (see lookup.py)."""
    latlon = np.ascontiguousarray(latlon, dtype=np.float32).reshape(-1, 2)
    k = min(top_k, len(model.contract.labels))
    asked = np.arange(len(latlon))
    if lookup is not None and k == 1:
        known_labels, known_confidence = lookup.answer(latlon)
        asked = np.flatnonzero(known_labels < 0)
    probabilities, land_km = run_model(model, latlon[asked])
    best, best_probs = _top_k(probabilities, k)
    if len(asked) < len(latlon):  # the looked-up rows, and the model's answers among them
        best_asked, probs_asked = best, best_probs
        best, best_probs = known_labels[:, None], known_confidence[:, None]
        best[asked], best_probs[asked] = best_asked, probs_asked
    errors: list[RowError | None] = [None] * len(best)
    codes = model.contract.label_codes
    unsure = np.flatnonzero(best_probs[:, 0].astype(np.float64) < min_confidence)
    for i in unsure.tolist():
        errors[i] = RowError(LOW_CONFIDENCE, low_confidence(
            float(best_probs[i, 0]), codes[best[i, 0]], min_confidence))
    at_sea = open_sea(model, land_km, latlon[asked]) if sea == "none" else None
    for j in np.flatnonzero(at_sea).tolist() if at_sea is not None else ():
        errors[int(asked[j])] = RowError(OPEN_SEA, f"open sea: nearest land ~{land_km[j]:.0f} km")
    if area is not None:
        message = area.message(model.contract.model_name)
        for i in np.flatnonzero(~area.contains(latlon)).tolist():
            errors[i] = RowError(OUTSIDE_AREA, message)
    return TopCountries(best, best_probs, errors)


def _top_k(probabilities: np.ndarray, k: int) -> tuple[np.ndarray, np.ndarray]:
    if k == 1:  # the common case, at a fraction of argpartition's cost
        best = probabilities.argmax(axis=1)[:, None]
        return best, np.take_along_axis(probabilities, best, axis=1)
    best = np.argpartition(-probabilities, k - 1, axis=1)[:, :k]
    best_probs = np.take_along_axis(probabilities, best, axis=1)
    order = np.argsort(-best_probs, axis=1)
    return np.take_along_axis(best, order, axis=1), np.take_along_axis(best_probs, order, axis=1)


def prediction_dicts(model: LoadedModel, top: TopCountries) -> list[dict[str, Any]]:
    """One dict of the added columns per row; a row with an error gets only `error`
    (its RowError)."""
    names, codes = model.contract.labels, model.contract.label_codes
    columns = prediction_columns(top.best.shape[1])
    rows: list[dict[str, Any]] = []
    for indices, probs, error in zip(top.best.tolist(), top.probabilities.tolist(),
                                     top.errors, strict=True):
        if error is not None:
            rows.append({"error": error})
            continue
        values: list[Any] = []
        for index, prob in zip(indices, probs, strict=True):
            values += [names[index], codes[index], round(prob, 6)]
        rows.append(dict(zip(columns, values, strict=True)))
    return rows


def low_confidence(best_prob: float, best_code: str, min_confidence: float) -> str:
    """The error of a row whose best probability is below --min-confidence."""
    return (f"confidence {best_prob:.3f} below --min-confidence {min_confidence:g} "
            f"(best guess {best_code})")
