"""The tables classify-cities reads: a CSV file (or stdin), or a Parquet file."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, TypeAlias

from batch_classifier.inference.cities.reader import CoordinateCsv
from batch_classifier.inference.formats import PARQUET_SUFFIXES

if TYPE_CHECKING:
    from batch_classifier.inference.parquet.coordinates import ParquetCoordinates

CoordinateTable: TypeAlias = "CoordinateCsv | ParquetCoordinates"


def is_parquet(path: str) -> bool:
    """True for a file named as Parquet (.parquet, .pq)."""
    return Path(path).suffix.lower() in PARQUET_SUFFIXES


def open_coordinates(path: str, lat_col: str | None, lon_col: str | None,
                     on_progress: Callable[[int], None] | None = None) -> CoordinateTable:
    """The table at `path`: Parquet by its name (needs pyarrow), else CSV."""
    if is_parquet(path):
        from batch_classifier.inference.parquet.coordinates import ParquetCoordinates

        return ParquetCoordinates(path, lat_col, lon_col)
    return CoordinateCsv(path, lat_col, lon_col, on_progress=on_progress)


def column_types(names: list[str], added: list[str]) -> dict[str, str]:
    """Arrow types of the added columns (output `names` of the `added` ones) that are not
    text: the confidences."""
    return {name: "float64" for name, column in zip(names, added, strict=True)
            if column.startswith("confidence")}
