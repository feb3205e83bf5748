"""Tiny generated coordinate data: a few boxes on the map, one country each."""

from __future__ import annotations

import numpy as np

from batch_classifier.trainer.cities.data import CitiesData, CitySplit

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
