"""Regular lat/lon grids carried in a cities model's metadata: which cell a point falls
in, and arrays packed as text (zlib-compressed, base64-encoded)."""

from __future__ import annotations

import base64
import json
import zlib
from collections.abc import Callable
from typing import Any, TypeVar

import numpy as np

from batch_classifier.inference.errors import ModelContractError
from batch_classifier.inference.session import LoadedModel

T = TypeVar("T")


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


def from_metadata(model: LoadedModel, key: str, what: str,
                  decode: Callable[[dict[str, Any]], T]) -> T | None:
    """`decode` applied to the model's JSON metadata entry `key` (None when it has none);
    anything wrong in it is a ModelContractError saying it is not a valid `what`."""
    raw = model.contract.extra.get(key)
    if raw is None:
        return None
    try:
        return decode(json.loads(raw))
    except (ValueError, KeyError, TypeError, ArithmeticError, zlib.error) as exc:
        raise ModelContractError(f"{model.path}: model metadata '{key}' is not a valid "
                                 f"{what} ({exc})") from None
