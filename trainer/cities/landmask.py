"""Land and sea: a global land/sea raster, points sampled on it, distances to land."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

EARTH_RADIUS_KM = 6371.0
TERRITORIAL_SEA_KM = 22.224  # 12 nautical miles
ANTARCTIC_LATITUDE = -60.0  # land south of it is Antarctica (AQ), as in the Antarctic Treaty


@dataclass
class LandRaster:
    """A land/sea raster covering the globe: row 0 at 90N, column 0 at 180W, equal steps."""

    land: np.ndarray  # bool [rows, columns]
    source: str

    @property
    def rows(self) -> int:
        return self.land.shape[0]

    @property
    def columns(self) -> int:
        return self.land.shape[1]

    def cells_of(self, latlon: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """(row, column) of the cell holding each (lat, lon) point."""
        lat, lon = latlon[:, 0].astype(np.float64), latlon[:, 1].astype(np.float64)
        row = np.floor((90.0 - lat) / 180.0 * self.rows).astype(np.int64)
        column = np.floor((lon + 180.0) / 360.0 * self.columns).astype(np.int64)
        return np.clip(row, 0, self.rows - 1), column % self.columns

    def is_land(self, latlon: np.ndarray) -> np.ndarray:
        """True for every point whose cell is land."""
        return self.land[self.cells_of(latlon)]

    def coast_cells(self, chunk_rows: int = 1024) -> np.ndarray:
        """(lat, lon) of the centre of every land cell with a sea cell among its 4
        neighbours (longitude wraps), scanned in row chunks to bound memory."""
        found = []
        for start in range(0, self.rows, chunk_rows):
            rows = np.arange(start, min(start + chunk_rows, self.rows))
            land = self.land[rows]
            above = self.land[np.clip(rows - 1, 0, self.rows - 1)]
            below = self.land[np.clip(rows + 1, 0, self.rows - 1)]
            sea_near = ~above | ~below | ~np.roll(land, 1, axis=1) | ~np.roll(land, -1, axis=1)
            hit_rows, hit_columns = np.nonzero(land & sea_near)
            found.append(self.centres(hit_rows + start, hit_columns))
        return np.concatenate(found)

    def centres(self, rows: np.ndarray, columns: np.ndarray) -> np.ndarray:
        """(lat, lon) of cell centres."""
        lat = 90.0 - (rows + 0.5) * 180.0 / self.rows
        lon = -180.0 + (columns + 0.5) * 360.0 / self.columns
        return np.stack([lat, lon], axis=1).astype(np.float32)


def load_land_raster() -> LandRaster:
    """The 1 km GLOBE land mask of the `global-land-mask` package (train extra)."""
    from importlib.metadata import version

    from global_land_mask import globe

    # The package stores an ocean mask (True = sea), rows from 90N, columns from 180W.
    return LandRaster(~globe._mask, source=f"global-land-mask {version('global-land-mask')} "
                                           "(GLOBE, 30 arc-seconds)")


def unit_vectors(latlon: np.ndarray) -> np.ndarray:
    """Points on the unit sphere (x, y, z) for (lat, lon) in degrees."""
    lat, lon = np.radians(latlon[:, 0].astype(np.float64)), np.radians(latlon[:, 1])
    return np.stack([np.cos(lat) * np.cos(lon), np.cos(lat) * np.sin(lon), np.sin(lat)], 1)


def chord_to_km(chord: np.ndarray) -> np.ndarray:
    """Great-circle distance in km for a chord length on the unit sphere."""
    return 2 * EARTH_RADIUS_KM * np.arcsin(np.clip(chord / 2, 0.0, 1.0))


class NearestPlaces:
    """Nearest-neighbour look-ups among points on the sphere (a k-d tree over x, y, z)."""

    def __init__(self, latlon: np.ndarray):
        from scipy.spatial import cKDTree

        self.tree = cKDTree(unit_vectors(latlon))

    def query(self, latlon: np.ndarray, k: int = 1) -> tuple[np.ndarray, np.ndarray]:
        """(distances in km, indices) of the k nearest points to each query point."""
        chord, index = self.tree.query(unit_vectors(latlon), k=k, workers=-1)
        return chord_to_km(chord), index


def sample_sphere(n: int, rng: np.random.Generator) -> np.ndarray:
    """`n` points uniformly distributed over the sphere's area, (lat, lon) in degrees."""
    lat = np.degrees(np.arcsin(rng.uniform(-1.0, 1.0, n)))
    return np.stack([lat, rng.uniform(-180.0, 180.0, n)], axis=1).astype(np.float32)


def sample_surface(raster: LandRaster, n: int, rng: np.random.Generator,
                   land: bool = True) -> np.ndarray:
    """`n` points uniformly distributed over the raster's land (or, `land=False`, sea)."""
    found, count = [], 0
    while count < n:
        points = sample_sphere(max(4 * (n - count), 1024), rng)
        points = points[raster.is_land(points) == land]
        found.append(points)
        count += len(points)
    return np.concatenate(found)[:n]
