"""Result rows of a chunk read the careful way: each row's input fields, then the added
columns (the prediction, or empty with the row's error)."""

from __future__ import annotations

from typing import Any

from batch_classifier.inference.cities.reader import CoordinateChunk


def valid_rows(chunk: CoordinateChunk) -> list[int]:
    """Indices of the rows whose coordinates can go to the model."""
    return [i for i, error in enumerate(chunk.errors) if error is None]


def result_rows(chunk: CoordinateChunk, predictions: list[dict[str, Any]],
                added: list[str]) -> tuple[list[list[Any]], list[str | None]]:
    """Input fields followed by the `added` columns for every row of the chunk, given
    the prediction dicts of its valid rows in order (see predict.prediction_dicts); and
    each row's error kind (None when classified)."""
    by_row = dict(zip(valid_rows(chunk), predictions, strict=True))
    rows, kinds = [], []
    for i, fields in enumerate(chunk.rows):
        prediction = dict(by_row.get(i, {}))
        error = chunk.errors[i] or prediction.get("error")
        prediction["error"] = (f"{chunk.unit} {chunk.line_numbers[i]}: {error.message}"
                               if error else None)
        rows.append(fields + [prediction.get(column) for column in added])
        kinds.append(error.kind if error else None)
    return rows, kinds
