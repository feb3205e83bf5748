"""A model's cell lookup: grid cells where its answer is known without running it.

The trainer (`train-cities lookup`) checks the model densely inside every cell of a
regular lat/lon grid (and of a finer grid inside the cells that are not one country) and
keeps, for each cell where every check point gets the same country with at least the
lookup's minimum confidence and none is at open sea, that country and the mean of the
model's top probability over the cell's check points. Inference answers the points of
those cells from the table and runs the model for the rest. The table travels in the
model file's metadata (`cell_lookup`, JSON; arrays zlib-compressed, base64-encoded).
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field

import numpy as np

from batch_classifier.inference.cities.grids import (
    cell_position,
    from_metadata,
    grid_shape,
    pack,
    unpack,
)
from batch_classifier.inference.session import LoadedModel

METADATA_KEY = "cell_lookup"
SPLIT, MODEL = 254, 255  # cell codes beside label indices: finer cells inside; ask the model
ARRAYS = {"cells": np.uint8, "micros": np.uint32, "sub_cells": np.uint8,
          "sub_micros": np.uint32}  # micros: round((1 - confidence) * 10**6)


@dataclass
class CellLookup:
    """Cells of `step` degrees (row 0 from 90N, column 0 from 180W), each a label index,
    MODEL, or SPLIT into split x split sub-cells (in the order of the SPLIT cells)."""

    step: float
    split: int
    cells: np.ndarray
    confidence: np.ndarray
    sub_cells: np.ndarray
    sub_confidence: np.ndarray
    split_cells: np.ndarray = field(init=False)  # index of each SPLIT cell, ascending

    def __post_init__(self) -> None:
        self.split_cells = np.flatnonzero(self.cells == SPLIT)

    def answer(self, latlon: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """(label index or -1 where the model must run, confidence) of valid (lat, lon)
        rows; each row's answer depends on that row alone."""
        index, _, down, across = cell_position(latlon, self.step)
        labels = self.cells[index].astype(np.int64)
        confidence = self.confidence[index]
        inside = np.flatnonzero(labels == SPLIT)
        if len(inside):
            block = np.searchsorted(self.split_cells, index[inside])
            sub_row = np.clip(np.floor(down[inside] * self.split), 0, self.split - 1)
            sub_column = np.clip(np.floor(across[inside] * self.split), 0, self.split - 1)
            sub = (block * self.split + sub_row.astype(np.int64)) * self.split \
                + sub_column.astype(np.int64)
            labels[inside] = self.sub_cells[sub]
            confidence[inside] = self.sub_confidence[sub]
        return np.where(labels < SPLIT, labels, -1), confidence

    def coverage(self) -> float:
        """Share of the grid's cells (by count, sub-cells pro rata) answered by lookup."""
        whole = np.count_nonzero(self.cells < SPLIT)
        sub = np.count_nonzero(self.sub_cells < SPLIT) / self.split ** 2
        return float((whole + sub) / len(self.cells))


def encode_lookup(lookup: CellLookup, about: dict) -> str:
    """The metadata value of `lookup`, with `about` (how it was made and measured)."""
    arrays = {"cells": lookup.cells, "micros": _micros(lookup.confidence),
              "sub_cells": lookup.sub_cells, "sub_micros": _micros(lookup.sub_confidence)}
    packed = {name: pack(values, ARRAYS[name]) for name, values in arrays.items()}
    return json.dumps({"step": lookup.step, "split": lookup.split, "about": about, **packed},
                      sort_keys=True)


def cell_lookup(model: LoadedModel) -> CellLookup | None:
    """The model's lookup, from its metadata (None: it has none)."""
    labels = len(model.contract.labels)
    return from_metadata(model, METADATA_KEY, "cell lookup", lambda spec: _decode(spec, labels))


def _decode(spec: dict, labels: int) -> CellLookup:
    arrays = {name: unpack(spec[name], dtype) for name, dtype in ARRAYS.items()}
    lookup = CellLookup(float(spec["step"]), int(spec["split"]), arrays["cells"],
                        _confidence(arrays["micros"]), arrays["sub_cells"],
                        _confidence(arrays["sub_micros"]))
    _check(lookup, labels)
    return lookup


def _micros(confidence: np.ndarray) -> np.ndarray:
    return np.rint((1.0 - confidence.astype(np.float64)) * 1e6).astype(np.uint32)


def _confidence(micros: np.ndarray) -> np.ndarray:
    return (1.0 - micros.astype(np.float64) / 1e6).astype(np.float32)


def _check(lookup: CellLookup, labels: int) -> None:
    """Refuse a table whose shapes or labels do not fit together."""
    if not 0 < lookup.step <= 180 or lookup.split < 1:
        raise ValueError(f"step {lookup.step}, split {lookup.split}")
    sub_count = len(lookup.split_cells) * lookup.split ** 2
    rows, columns = grid_shape(lookup.step)
    if len(lookup.cells) != rows * columns or len(lookup.confidence) != \
            len(lookup.cells) or len(lookup.sub_cells) != sub_count \
            or len(lookup.sub_confidence) != sub_count:
        raise ValueError("array sizes do not match the grid")
    for cells in (lookup.cells, lookup.sub_cells):
        used = cells[cells < SPLIT]
        if len(used) and int(used.max()) >= labels:
            raise ValueError(f"a cell names label {int(used.max())} of {labels}")
    if np.count_nonzero(lookup.sub_cells == SPLIT):
        raise ValueError("sub-cells are not split further")
