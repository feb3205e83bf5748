"""Training points spread uniformly over land, so the model learns where it has no places.

North of 60S a land point's label is drawn each epoch from the countries of its nearest
training places, weighted by how much farther each is than the nearest one: inside a
country every candidate agrees and the label is certain; between sparse places of two
countries (deserts, ice caps, jungle borders) it is split, so the model's confidence
falls there instead of extrapolating. South of 60S land is Antarctica (AQ).
"""

from __future__ import annotations

import numpy as np

from batch_classifier.trainer.cities.landmask import (
    ANTARCTIC_LATITUDE,
    LandRaster,
    NearestPlaces,
    sample_surface,
)
from batch_classifier.trainer.cities.splits import CitiesData, CitySplit, SoftLabels

ANTARCTICA = ("Antarctica", "AQ")
NEIGHBOURS = 16


def with_antarctica(data: CitiesData) -> tuple[CitiesData, int]:
    """`data` with an Antarctica class (appended when missing), and that class's index."""
    if ANTARCTICA[1] in data.codes:
        return data, data.codes.index(ANTARCTICA[1])
    names, codes = data.names + [ANTARCTICA[0]], data.codes + [ANTARCTICA[1]]
    return CitiesData(data.train, data.val, data.test, names, codes, data.fingerprint,
                      data.source, data.provenance, data.soft_labels), len(codes) - 1


def neighbour_labels(places: CitySplit, points: np.ndarray,
                     scale_km: float) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(candidates, weights) [points, NEIGHBOURS]: the countries of each point's nearest
    places, weighted exp(-(d - d_nearest) / scale_km) and normalised; and d_nearest."""
    k = min(NEIGHBOURS, len(places))
    km, index = NearestPlaces(places.latlon).query(points, k=k)
    km, index = km.reshape(len(points), k), index.reshape(len(points), k)
    weights = np.exp(-(km - km[:, :1]) / scale_km)
    return places.labels[index], weights / weights.sum(1, keepdims=True), km[:, 0]


def add_land_points(data: CitiesData, raster: LandRaster, n: int, scale_km: float,
                    seed: int, min_km: float = 0.0) -> CitiesData:
    """`data` with `n` uniform land points appended to its training split (soft labels),
    less those within `min_km` of a training place (the places there say enough)."""
    data, antarctica = with_antarctica(data)
    points = sample_surface(raster, n, np.random.default_rng([seed, 1]))
    candidates, weights, nearest_km = neighbour_labels(data.train, points, scale_km)
    south = points[:, 0] < ANTARCTIC_LATITUDE
    candidates[south], weights[south] = antarctica, 1.0 / candidates.shape[1]
    keep = south | (nearest_km >= min_km)
    points, candidates, weights, south = points[keep], candidates[keep], weights[keep], south[keep]
    rows = np.arange(len(data.train), len(data.train) + len(points))
    train = CitySplit(np.concatenate([data.train.latlon, points]),
                      np.concatenate([data.train.labels, candidates[:, 0]]))
    provenance = {**data.provenance,
                  "land_points": f"{len(points)} points uniform over {raster.source} land "
                                 f"({n} drawn, those within {min_km:g} km of a training "
                                 f"place left out), {int(south.sum())} of them south of 60S "
                                 "labelled "
                                 f"Antarctica; the others labelled by their {NEIGHBOURS} "
                                 f"nearest training places, weights exp(-extra km / "
                                 f"{scale_km:g})"}
    return CitiesData(train, data.val, data.test, data.names, data.codes, data.fingerprint,
                      data.source, provenance, SoftLabels(rows, candidates, weights))
