"""Regular lat/lon grids carried in a cities model's metadata: which cell a point falls
in, and arrays packed as text (zlib-compressed, base64-encoded)."""

from __future__ import annotations

import base64
import zlib

import numpy as np


def grid_shape(step: float) -> tuple[int, int]:
    """(rows, columns) of a grid of `step`-degree cells covering the globe."""
    return round(180.0 / step), round(360.0 / step)


def cell_position(latlon: np.ndarray, step: float) -> tuple[np.ndarray, np.ndarray, np.ndarray,
                                                            np.ndarray]:
    """(flat cell index, row, and where in its cell each point lies from the north and
    from the west edge, in [0, 1]) of (lat, lon) rows; row 0 lies below 90N, column 0
    east of 180W, and longitude wraps."""
    rows, columns = grid_shape(step)
    y = (90.0 - latlon[:, 0].astype(np.float64)) / step
    x = (latlon[:, 1].astype(np.float64) + 180.0) / step
    row = np.clip(np.floor(y), 0, rows - 1).astype(np.int64)
    column = np.floor(x)
    index = row * columns + column.astype(np.int64) % columns
    return index, row, y - row, x - column


def pack(values: np.ndarray, dtype: type) -> str:
    """An array as text for the metadata."""
    raw = np.ascontiguousarray(values, dtype=dtype).tobytes()
    return base64.b64encode(zlib.compress(raw, 9)).decode("ascii")


def unpack(text: str, dtype: type) -> np.ndarray:
    """The array `pack` gave `text` for (raises ValueError or zlib.error if it is not)."""
    return np.frombuffer(zlib.decompress(base64.b64decode(text, validate=True)), dtype)
