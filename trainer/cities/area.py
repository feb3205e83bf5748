"""A regional model's area (see inference/cities/area.py): the grid cells within about
`km` of its training places."""

from __future__ import annotations

import numpy as np

from batch_classifier.inference.cities.area import ModelArea
from batch_classifier.inference.cities.grids import grid_shape
from batch_classifier.trainer.cities.landmask import NearestPlaces

AREA_KM = 100.0
AREA_STEP = 0.5
KM_PER_DEGREE = 111.2


def area_of(places: np.ndarray, km: float = AREA_KM, step: float = AREA_STEP) -> ModelArea:
    """The cells any point of which may lie within `km` of a place: those whose centre
    does, widened by half a cell's diagonal."""
    rows, columns = grid_shape(step)
    lat = 90.0 - step * (np.arange(rows) + 0.5)
    lon = -180.0 + step * (np.arange(columns) + 0.5)
    centres = np.stack(np.meshgrid(lat, lon, indexing="ij"), axis=-1).reshape(-1, 2)
    reach = km + step * KM_PER_DEGREE * np.sqrt(2.0) / 2
    inside = NearestPlaces(places).query(centres.astype(np.float32))[0] <= reach
    return ModelArea(step, km, inside)
