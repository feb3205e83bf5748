"""The arrays a cities model trains on: (lat, lon) and labels, split three ways."""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np


@dataclass
class CitySplit:
    """(lat, lon) in degrees and integer class labels."""

    latlon: np.ndarray
    labels: np.ndarray

    def __len__(self) -> int:
        return len(self.labels)


@dataclass
class CitiesData:
    """A labelled data set split three ways, with its class names and ISO codes."""

    train: CitySplit
    val: CitySplit
    test: CitySplit
    names: list[str]
    codes: list[str]
    fingerprint: str
    source: str
    provenance: dict[str, str] = field(default_factory=dict)
