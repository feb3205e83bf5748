"""A regional model's area: the grid cells near its training places. A point outside
them gets no country (the model would name one of its countries, however far away the
point is). The trainer writes it into the model's metadata (`area`, JSON)."""

from __future__ import annotations

import json
from dataclasses import dataclass

import numpy as np

from batch_classifier.inference.cities.grids import (
    cell_position,
    from_metadata,
    grid_shape,
    pack,
    unpack,
)
from batch_classifier.inference.session import LoadedModel

METADATA_KEY = "area"
OUTSIDE_AREA = "outside area"  # error kind


@dataclass(frozen=True)
class ModelArea:
    """Cells of `step` degrees (row 0 from 90N, column 0 from 180W) that hold a training
    place or lie within about `km` of one."""

    step: float
    km: float
    inside: np.ndarray  # bool per cell

    def contains(self, latlon: np.ndarray) -> np.ndarray:
        """True for each (lat, lon) row inside the area."""
        return self.inside[cell_position(latlon, self.step)[0]]

    def message(self, model_name: str) -> str:
        """The error of a row outside the area."""
        return (f"outside the area of model {model_name} (more than ~{self.km:g} km from "
                "its training places)")


def encode_area(area: ModelArea, about: str) -> str:
    """The metadata value of `area`."""
    return json.dumps({"step": area.step, "km": area.km, "about": about,
                       "cells": pack(np.packbits(area.inside), np.uint8)}, sort_keys=True)


def model_area(model: LoadedModel) -> ModelArea | None:
    """The model's area, from its metadata (None: the model answers everywhere)."""
    return from_metadata(model, METADATA_KEY, "area", _decode)


def _decode(spec: dict) -> ModelArea:
    step = float(spec["step"])
    count = int(np.prod(grid_shape(step)))
    packed = unpack(spec["cells"], np.uint8)
    if len(packed) != (count + 7) // 8:
        raise ValueError(f"{len(packed)} bytes of cells for a grid of {count}")
    return ModelArea(step, float(spec["km"]), np.unpackbits(packed, count=count).astype(bool))
