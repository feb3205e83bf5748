"""What a world model does away from the places it learnt: coasts, open sea, Antarctica,
and its calibration on points spread uniformly over land.

Every figure runs the exported file through the inference core (`classify-cities`'s own
open-sea rule, and its cell lookup when given one). The sampled points depend only on
the split's seed (validation 1, test 2; training land points use other streams), so
validation figures can select a model and test figures are reported once.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import torch

from batch_classifier.inference.cities.lookup import CellLookup
from batch_classifier.inference.cities.predict import ICE_SHELF_LATITUDE, top_countries
from batch_classifier.inference.session import LoadedModel
from batch_classifier.trainer.calibration import calibration_error
from batch_classifier.trainer.cities.land_points import ANTARCTICA
from batch_classifier.trainer.cities.landmask import (
    ANTARCTIC_LATITUDE,
    LandRaster,
    NearestPlaces,
    sample_surface,
)
from batch_classifier.trainer.cities.splits import CitiesData, CitySplit

SPLIT_SEEDS = {"train": 0, "val": 1, "test": 2}
COAST_KM = 5.0  # a place this close to the raster's coastline is coastal
# open-sea sample: sea points this far from every reference place, north of the ice shelves
OPEN_SEA_MIN_KM = 200.0
DATA_DISTANCE_BANDS_KM = (0.0, 10.0, 50.0, 200.0, float("inf"))
CALL_POINTS = 1 << 16  # points per call of the inference core


@dataclass
class GlobeReference:
    """The land raster, its coastline, and every reference place (all splits) with its code."""

    raster: LandRaster
    coast: NearestPlaces
    places: NearestPlaces
    place_codes: np.ndarray
    training_places: NearestPlaces

    @classmethod
    def build(cls, raster: LandRaster, reference: CitiesData,
              training: CitySplit) -> GlobeReference:
        """From a raster, a labelled place set (all its splits) and the training places."""
        splits = [reference.train, reference.val, reference.test]
        latlon = np.concatenate([s.latlon for s in splits])
        codes = np.array(reference.codes)[np.concatenate([s.labels for s in splits])]
        return cls(raster, NearestPlaces(raster.coast_cells()), NearestPlaces(latlon), codes,
                   NearestPlaces(training.latlon))


def predicted_codes(model: LoadedModel, latlon: np.ndarray, aliases: dict[str, str],
                    lookup: CellLookup | None = None,
                    ) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(code classify-cities shows, '' at open sea; best code regardless of sea; its
    confidence) for every point."""
    codes = np.array([aliases.get(c, c) for c in model.contract.label_codes])
    shown, best, confidence = [], [], []
    for start in range(0, len(latlon), CALL_POINTS):
        top = top_countries(model, latlon[start:start + CALL_POINTS], lookup=lookup)
        best.append(codes[top.best[:, 0]])
        shown.append(np.where([error is None for error in top.errors], best[-1], ""))
        confidence.append(top.probabilities[:, 0])
    if not best:
        return np.zeros(0, str), np.zeros(0, str), np.zeros(0, np.float32)
    return np.concatenate(shown), np.concatenate(best), np.concatenate(confidence)


def globe_metrics(model: LoadedModel, split: CitySplit, split_codes: list[str],
                  reference: GlobeReference, split_name: str, n_points: int = 20000,
                  aliases: dict[str, str] | None = None,
                  lookup: CellLookup | None = None) -> dict[str, float]:
    """Coastal accuracy on `split`, open sea, Antarctica and uniform-land calibration
    (and the split's own calibration as served)."""
    aliases = aliases or {}
    rng = np.random.default_rng([SPLIT_SEEDS[split_name], 7])
    truth = np.array(split_codes)[split.labels]
    shown, best, confidence = predicted_codes(model, split.latlon, aliases, lookup)
    coastal = reference.coast.query(split.latlon)[0] <= COAST_KM
    metrics = {"acc_as_shown": float((shown == truth).mean()),
               "ece_as_served": ece_of(confidence, best == truth),
               "coastal_places": int(coastal.sum())}
    if coastal.any():
        metrics["coastal_acc"] = float((shown[coastal] == truth[coastal]).mean())
    if lookup is not None:
        metrics.update(by_route(split.latlon, confidence, best == truth, lookup, "places"))
    sea = sample_surface(reference.raster, n_points, rng, land=False)
    sea = sea[reference.places.query(sea)[0] > OPEN_SEA_MIN_KM]
    sea = sea[sea[:, 0] >= ICE_SHELF_LATITUDE]  # the raster's "sea" there is ice shelf
    metrics["open_sea_no_country"] = float(
        (predicted_codes(model, sea, aliases, lookup)[0] == "").mean())
    metrics["open_sea_points"] = len(sea)
    land = sample_surface(reference.raster, n_points, rng)
    metrics.update(land_metrics(model, land, reference, aliases, lookup))
    return {f"{split_name}_{key}": value for key, value in metrics.items()}


def land_metrics(model: LoadedModel, land: np.ndarray, reference: GlobeReference,
                 aliases: dict[str, str], lookup: CellLookup | None = None,
                 ) -> dict[str, float]:
    """On uniform land points: AQ south of 60S, and accuracy and ECE against the nearest
    reference place's country (AQ in Antarctica), with confidence by distance to data."""
    south = land[:, 0] < ANTARCTIC_LATITUDE
    truth = reference.place_codes[reference.places.query(land)[1]]
    truth[south] = ANTARCTICA[1]
    shown, best, confidence = predicted_codes(model, land, aliases, lookup)
    correct = best == truth
    metrics = {"antarctica_aq": float((shown[south] == ANTARCTICA[1]).mean()),
               "antarctica_points": int(south.sum()),
               "land_acc": float(correct.mean()),
               "land_ece": ece_of(confidence, correct)}
    if lookup is not None:
        metrics.update(by_route(land, confidence, correct, lookup, "land"))
    north = ~south
    metrics["land_ece_north_of_60s"] = ece_of(confidence[north], correct[north])
    to_data = reference.training_places.query(land)[0]
    bands = DATA_DISTANCE_BANDS_KM
    for low, high in zip(bands[:-1], bands[1:], strict=True):
        inside = north & (to_data >= low) & (to_data < high)
        if not inside.any():
            continue
        name = f"land_{low:g}_{high:g}km" if high < float("inf") else f"land_over_{low:g}km"
        metrics[f"{name}_confidence"] = float(confidence[inside].mean())
        metrics[f"{name}_acc"] = float(correct[inside].mean())
    return metrics


def by_route(latlon: np.ndarray, confidence: np.ndarray, correct: np.ndarray,
             lookup: CellLookup, prefix: str) -> dict[str, float]:
    """The share of points the cell lookup answers, and accuracy, mean confidence and ECE
    of the points answered by the lookup and of those answered by the network."""
    looked_up = lookup.answer(latlon)[0] >= 0
    metrics = {f"{prefix}_looked_up_share": float(looked_up.mean())}
    for route, rows in (("looked_up", looked_up), ("network", ~looked_up)):
        if rows.any():
            metrics[f"{prefix}_{route}_acc"] = float(correct[rows].mean())
            metrics[f"{prefix}_{route}_confidence"] = float(confidence[rows].mean())
            metrics[f"{prefix}_{route}_ece"] = ece_of(confidence[rows], correct[rows])
    return metrics


def ece_of(confidence: np.ndarray, correct: np.ndarray) -> float:
    """ECE of stated confidences against whether each answer is right."""
    return calibration_error(torch.from_numpy(confidence.astype(np.float32)),
                             torch.from_numpy(correct))
