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
class SoftLabels:
    """Training rows whose label is drawn anew each epoch from weighted candidates."""

    rows: np.ndarray  # indices into the training split
    candidates: np.ndarray  # int64 [rows, k] class indices
    weights: np.ndarray  # float [rows, k], each row sums to 1

    def draw(self, rng: np.random.Generator) -> np.ndarray:
        """One label per row, candidate j with probability weights[:, j]."""
        pick = (self.weights.cumsum(1) < rng.random((len(self.rows), 1))).sum(1)
        pick = np.minimum(pick, self.candidates.shape[1] - 1)
        return self.candidates[np.arange(len(self.rows)), pick]


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
    soft_labels: SoftLabels | None = None
