"""Tiny generated coordinate data: a few boxes on the map, one country each, and a
coarse land raster where the boxes (and Antarctica) are the only land."""

from __future__ import annotations

import numpy as np

from batch_classifier.trainer.cities.landmask import LandRaster
from batch_classifier.trainer.cities.splits import CitiesData, CitySplit

# (name, ISO code, lat range, lon range); the last box straddles the antimeridian.
BOXES = [
    ("France", "FR", (44.0, 49.0), (0.0, 5.0)),
    ("Poland", "PL", (50.0, 54.0), (16.0, 23.0)),
    ("Spain", "ES", (37.0, 42.0), (-6.0, -1.0)),
    ("Fiji", "FJ", (-19.0, -16.0), (177.0, 183.0)),
]


def wrap(lon: np.ndarray) -> np.ndarray:
    """Longitudes into [-180, 180)."""
    return (lon + 180.0) % 360.0 - 180.0


def make_split(n_per_box: int, seed: int) -> CitySplit:
    """Uniform points in each box (lat, lon), labelled by box."""
    rng = np.random.default_rng(seed)
    latlon, labels = [], []
    for label, (_, _, (lat0, lat1), (lon0, lon1)) in enumerate(BOXES):
        lat = rng.uniform(lat0, lat1, n_per_box)
        lon = wrap(rng.uniform(lon0, lon1, n_per_box))
        latlon.append(np.stack([lat, lon], axis=1))
        labels.append(np.full(n_per_box, label))
    return CitySplit(np.concatenate(latlon).astype(np.float32),
                     np.concatenate(labels).astype(np.int64))


def make_data() -> CitiesData:
    """A few hundred training points in four boxes, with validation and test splits."""
    return CitiesData(train=make_split(80, 0), val=make_split(20, 1), test=make_split(20, 2),
                      names=[b[0] for b in BOXES], codes=[b[1] for b in BOXES],
                      fingerprint="sha256:test", source="generated")


def make_raster(cells_per_degree: int = 1) -> LandRaster:
    """A coarse land raster: the four boxes are land, and everything south of 70S."""
    rows, columns = 180 * cells_per_degree, 360 * cells_per_degree
    lat = 90.0 - (np.arange(rows) + 0.5) / cells_per_degree
    lon = -180.0 + (np.arange(columns) + 0.5) / cells_per_degree
    land = np.zeros((rows, columns), dtype=bool)
    land[lat < -70.0] = True
    for _, _, (lat0, lat1), (lon0, lon1) in BOXES:
        inside_lat = (lat > lat0) & (lat < lat1)
        inside_lon = (wrap(lon - lon0) >= 0) & (wrap(lon - lon0) < lon1 - lon0)
        land[np.ix_(inside_lat, inside_lon)] = True
    return LandRaster(land, source="generated raster")
