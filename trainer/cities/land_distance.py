"""Distance to the nearest land, looked up inside the exported graph.

The trainer measures, at every node of a regular lat/lon grid, the great-circle distance
to the nearest land (the land raster's coast cells and the training places, so an islet
the raster misses still counts); the graph interpolates those distances bilinearly.
Distances are stored as one byte per node, `round(sqrt(km) * CODES_PER_SQRT_KM)`: about
1 km steps near the coast, 15 km at 1,000 km, up to 4,000 km.
"""

from __future__ import annotations

import numpy as np
import torch
from torch import nn

from batch_classifier.trainer.cities.landmask import LandRaster, NearestPlaces

CODES_PER_SQRT_KM = 4.0


def grid_nodes(step: float) -> tuple[int, int]:
    """(rows, columns) of a grid of `step` degrees: rows from 90N to 90S inclusive,
    columns from 180W eastwards (the last column wraps onto the first)."""
    rows, columns = round(180.0 / step) + 1, round(360.0 / step)
    if abs((rows - 1) * step - 180.0) > 1e-9 or abs(columns * step - 360.0) > 1e-9:
        raise ValueError(f"grid step {step} does not divide 180 degrees")
    return rows, columns


def distance_codes(raster: LandRaster, land_places: np.ndarray, step: float) -> np.ndarray:
    """Byte codes [rows, columns] of the distance from each node to the nearest land.

    Distances run to the centres of the raster's coast cells, so they read up to half a
    cell long (0.5 km on the 1 km raster).
    """
    rows, columns = grid_nodes(step)
    lat = 90.0 - step * np.arange(rows)
    lon = -180.0 + step * np.arange(columns)
    nodes = np.stack(np.meshgrid(lat, lon, indexing="ij"), axis=-1).reshape(-1, 2)
    km = np.zeros(len(nodes))
    sea = ~raster.is_land(nodes)
    land = np.concatenate([raster.coast_cells(), land_places.astype(np.float32)])
    km[sea] = NearestPlaces(land).query(nodes[sea])[0]
    codes = np.round(np.sqrt(km) * CODES_PER_SQRT_KM)
    return np.clip(codes, 0, 255).astype(np.uint8).reshape(rows, columns)


class LandDistance(nn.Module):
    """(lat, lon) in degrees -> km to the nearest land, bilinear between grid nodes."""

    def __init__(self, codes: np.ndarray, step: float):
        super().__init__()
        self.rows, self.columns = grid_nodes(step)
        if codes.shape != (self.rows, self.columns):
            raise ValueError(f"codes of shape {codes.shape}, expected {self.rows, self.columns}")
        self.step = step
        self.register_buffer("codes", torch.from_numpy(codes.astype(np.uint8).ravel()))

    def forward(self, latlon: torch.Tensor) -> torch.Tensor:
        row = ((90.0 - latlon[:, 0]) / self.step).clamp(0.0, self.rows - 1.0)
        column = (latlon[:, 1] + 180.0) / self.step
        row0 = row.floor().clamp(max=self.rows - 2.0)
        column0 = column.floor()
        row_weight, column_weight = row - row0, column - column0
        column0 = column0 - self.columns * (column0 / self.columns).floor()  # wrap at 180
        column1 = column0 + 1.0
        column1 = column1 - self.columns * (column1 / self.columns).floor()
        top, bottom = row0 * self.columns, (row0 + 1.0) * self.columns

        def km_at(index: torch.Tensor) -> torch.Tensor:
            code = self.codes[index.long()].float()
            return (code / CODES_PER_SQRT_KM) ** 2

        north = km_at(top + column0) * (1 - column_weight) + km_at(top + column1) * column_weight
        south = (km_at(bottom + column0) * (1 - column_weight)
                 + km_at(bottom + column1) * column_weight)
        return north * (1 - row_weight) + south * row_weight
