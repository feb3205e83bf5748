"""Distil a cities model's cell lookup (see inference/cities/lookup.py) from the model.

Every cell of a `step`-degree grid is checked on `points` x `points` check points (its
corners and edges included, so a point on an edge is checked in both its cells): a cell
is answered by lookup when every check point gets the same country, with at least
`min_confidence`, and none is at open sea. A cell that fails but has a corner within
territorial waters is split into `split` x `split` sub-cells, checked the same way on
`sub_points` x `sub_points` points each.

With `step` the model's distance-grid step (or a divisor of it), the open-sea part of the
check is exact: the graph interpolates distances bilinearly, and a bilinear function is
largest at a corner of any rectangle inside one grid cell. The country part is sampled:
`measure_agreement` counts how often the lookup disagrees with the network on points
drawn at random.
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np

from batch_classifier.inference.cities.grids import grid_shape
from batch_classifier.inference.cities.lookup import MODEL, SPLIT, CellLookup
from batch_classifier.inference.cities.predict import top_countries
from batch_classifier.inference.session import LoadedModel
from batch_classifier.trainer.errors import TrainerUsageError

CALL_POINTS = 1 << 16  # points per call of the inference core


def answers(model: LoadedModel, latlon: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """(label index, or -1 at open sea; top probability) of each point, as the inference
    core gives them (sea rules included), in calls of CALL_POINTS."""
    labels = np.empty(len(latlon), np.int64)
    confidence = np.empty(len(latlon), np.float32)
    for start in range(0, len(latlon), CALL_POINTS):
        top = top_countries(model, latlon[start:start + CALL_POINTS])
        at_sea = np.array([error is not None for error in top.errors], dtype=bool)
        labels[start:start + len(at_sea)] = np.where(at_sea, -1, top.best[:, 0])
        confidence[start:start + len(at_sea)] = top.probabilities[:, 0]
    return labels, confidence


def cell_points(cells: np.ndarray, step: float, points: int) -> np.ndarray:
    """(lat, lon) float32 [len(cells) * points**2] of an evenly spaced lattice over each
    cell (flat indices), edges included, row by row from the cell's north-west corner."""
    columns = grid_shape(step)[1]
    north = 90.0 - step * (cells // columns)
    west = -180.0 + step * (cells % columns)
    fractions = np.linspace(0.0, step, points)
    lat = north[:, None, None] - fractions[None, :, None] + 0 * fractions[None, None, :]
    lon = west[:, None, None] + fractions[None, None, :] + 0 * fractions[None, :, None]
    return np.stack([lat.ravel(), lon.ravel()], axis=1).astype(np.float32)


def uniform_answer(labels: np.ndarray, confidence: np.ndarray,
                   min_confidence: float) -> tuple[np.ndarray, np.ndarray]:
    """Per row of check points: the label if every point has it (not sea) with at least
    `min_confidence`, else MODEL; and the mean confidence."""
    same = (labels == labels[:, :1]).all(1) & (labels[:, 0] >= 0) \
        & (confidence.min(1) >= min_confidence)
    return np.where(same, labels[:, 0], MODEL), confidence.mean(1, dtype=np.float64)


def distill_lookup(model: LoadedModel, step: float = 0.2, split: int = 4, points: int = 4,
                   sub_points: int = 3, min_confidence: float = 0.9, block: int = 4096,
                   log: Callable[[str], None] = lambda _: None) -> CellLookup:
    """The model's lookup table (see the module's docstring)."""
    if len(model.contract.labels) >= SPLIT:
        raise TrainerUsageError(f"{model.path}: a lookup holds at most {SPLIT} labels, the "
                                f"model has {len(model.contract.labels)}")
    rows, columns = grid_shape(step)
    node_lat = np.repeat(90.0 - step * np.arange(rows + 1), columns)
    node_lon = np.tile(-180.0 + step * np.arange(columns), rows + 1)
    nodes = np.stack([node_lat, node_lon], axis=1).astype(np.float32)
    node_labels = answers(model, nodes)[0].reshape(rows + 1, columns)
    corners = np.stack([node_labels[:-1], node_labels[1:], np.roll(node_labels[:-1], -1, 1),
                        np.roll(node_labels[1:], -1, 1)], axis=-1).reshape(-1, 4)
    log(f"{len(nodes):,} grid nodes checked")
    cells = np.full(rows * columns, MODEL, np.uint8)
    confidence = np.zeros(rows * columns, np.float32)
    candidates = np.flatnonzero((corners == corners[:, :1]).all(1) & (corners[:, 0] >= 0))
    for start in range(0, len(candidates), block):
        chosen = candidates[start:start + block]
        labels, probs = answers(model, cell_points(chosen, step, points))
        cells[chosen], confidence[chosen] = uniform_answer(
            labels.reshape(len(chosen), -1), probs.reshape(len(chosen), -1), min_confidence)
    log(f"{len(candidates):,} cells checked, {np.count_nonzero(cells < SPLIT):,} answered")
    to_split = np.flatnonzero((cells == MODEL) & (corners >= 0).any(1))
    sub_cells, sub_confidence = [], []
    for start in range(0, len(to_split), max(1, block // split ** 2)):
        chosen = to_split[start:start + max(1, block // split ** 2)]
        found, found_confidence = _split_cells(model, chosen, step, split, sub_points,
                                               min_confidence)
        useful = (found < SPLIT).any(1)
        cells[chosen[useful]] = SPLIT
        sub_cells.append(found[useful].ravel())
        sub_confidence.append(found_confidence[useful].ravel())
    log(f"{len(to_split):,} cells split, {np.count_nonzero(cells == SPLIT):,} kept")
    return CellLookup(step, split, cells, confidence,
                      np.concatenate(sub_cells or [np.zeros(0, np.uint8)]).astype(np.uint8),
                      np.concatenate(sub_confidence or [np.zeros(0)]).astype(np.float32))


def _split_cells(model: LoadedModel, cells: np.ndarray, step: float, split: int, points: int,
                 min_confidence: float) -> tuple[np.ndarray, np.ndarray]:
    """Answers and confidences [len(cells), split**2] of each cell's sub-cells, row by
    row, from one lattice per cell that gives every sub-cell `points` x `points`."""
    side = split * (points - 1) + 1
    labels, probs = answers(model, cell_points(cells, step, side))
    labels = labels.reshape(len(cells), side, side)
    probs = probs.reshape(len(cells), side, side)
    found = np.full((len(cells), split, split), MODEL, np.uint8)
    found_confidence = np.zeros((len(cells), split, split), np.float32)
    for down in range(split):
        for across in range(split):
            rows = slice(down * (points - 1), down * (points - 1) + points)
            columns = slice(across * (points - 1), across * (points - 1) + points)
            found[:, down, across], found_confidence[:, down, across] = uniform_answer(
                labels[:, rows, columns].reshape(len(cells), -1),
                probs[:, rows, columns].reshape(len(cells), -1), min_confidence)
    return found.reshape(len(cells), -1), found_confidence.reshape(len(cells), -1)


def measure_agreement(model: LoadedModel, lookup: CellLookup,
                      latlon: np.ndarray) -> dict[str, float]:
    """On `latlon`: the share answered by lookup, the share of those where the network's
    country differs, and the largest confidence gap between the two there."""
    labels, confidence = lookup.answer(latlon)
    known = labels >= 0
    network, network_confidence = answers(model, latlon[known])
    differ = network != labels[known]
    gap = np.abs(network_confidence - confidence[known])
    return {"points": len(latlon), "looked_up": float(known.mean()),
            "country_differs": float(differ.mean()) if known.any() else 0.0,
            "max_confidence_gap": float(gap.max()) if known.any() else 0.0,
            "mean_confidence_gap": float(gap.mean()) if known.any() else 0.0}
