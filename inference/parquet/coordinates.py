"""Read a Parquet file of coordinates in record batches (memory stays flat: pyarrow reads
one row group at a time), as the same chunks the CSV reader makes.

Every column is handed on as text, as a CSV would hold it: floats in positional
notation (shortest round-trip digits, no exponent), nulls empty, other types as Arrow
casts them to strings. The latitude and longitude columns are found and parsed as for
a CSV, so a bad value gets the same error; rows are numbered from 1 (`row N`).
"""

from __future__ import annotations

import math
from collections.abc import Iterator
from pathlib import Path
from typing import Any, BinaryIO

import numpy as np

from batch_classifier.inference.cities.coordinates import parse_latlon
from batch_classifier.inference.cities.reader import (
    LAT_NAMES,
    LON_NAMES,
    CoordinateChunk,
    find_column,
)
from batch_classifier.inference.errors import RowError, UsageError
from batch_classifier.inference.parquet import pyarrow_parquet

SKIP_BATCH = 1 << 16  # rows read at a time while passing over done rows


class ParquetCoordinates:
    """A Parquet file of coordinates opened for chunked reading (a context manager).

    `row_groups` limits reading to those row groups (a part of a distributed run), whose
    first row is row number `first_row` of the file; `stream`, the file already opened
    (an fsspec URL's), is read instead of `path`."""

    def __init__(self, path: str, lat_col: str | None = None, lon_col: str | None = None,
                 row_groups: list[int] | None = None, first_row: int = 1,
                 stream: BinaryIO | None = None):
        self._pa, pq = pyarrow_parquet()
        self.source = path
        self._stream = stream  # the file already open (an fsspec URL's), closed on exit
        if stream is None and not Path(path).is_file():
            raise UsageError(f"{path}: no such file")
        try:
            self._file = pq.ParquetFile(path if stream is None else stream)
        except (OSError, self._pa.ArrowException) as exc:
            if stream is not None:
                stream.close()
            raise UsageError(f"{path}: not a readable Parquet file ({exc})") from None
        self.header = list(self._file.schema_arrow.names)
        self.lat_index = find_column(self.header, LAT_NAMES, lat_col, "latitude", path)
        self.lon_index = find_column(self.header, LON_NAMES, lon_col, "longitude", path)
        self._row_groups = row_groups
        self._first_row = first_row
        self._skipped = 0

    def __enter__(self) -> ParquetCoordinates:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self._file.close()
        if self._stream is not None:
            self._stream.close()

    def skipped_rows(self, count: int) -> Iterator[list[str]]:
        """The text of the first `count` rows (fewer at the end of the file), passed over
        unclassified (a resumed run's done rows, to check the output against)."""
        for chunk in self.chunks(max(1, min(count, SKIP_BATCH))):
            rows = chunk.rows[:count - self._skipped]
            self._skipped += len(rows)
            yield from rows
            if self._skipped == count:
                return

    def chunks(self, size: int) -> Iterator[CoordinateChunk]:
        """Chunks of at most `size` rows, after those `skipped_rows` passed over."""
        row = self._first_row
        to_skip = self._skipped
        for batch in self._batches(size):
            passed = min(to_skip, batch.num_rows)
            to_skip -= passed
            row += passed
            if passed < batch.num_rows:
                yield self._chunk(batch.slice(passed), row)
                row += batch.num_rows - passed

    def _batches(self, size: int) -> Iterator[Any]:
        """The record batches of the row groups read; a page that cannot be decoded (a
        damaged file whose footer is intact) is one clear error."""
        batches = self._file.iter_batches(batch_size=size, row_groups=self._row_groups)
        while True:
            try:
                batch = next(batches, None)
            except (OSError, self._pa.ArrowException) as exc:
                first_line = str(exc).strip().splitlines()[0] if str(exc).strip() else exc
                raise UsageError(f"{self.source}: cannot read its data, the file is damaged "
                                 f"({first_line})") from None
            if batch is None:
                return
            yield batch

    def _chunk(self, batch: Any, first_row: int) -> CoordinateChunk:
        columns = [self._texts(column) for column in batch.columns]
        rows = [list(fields) for fields in zip(*columns, strict=True)]
        latlon = np.empty((len(rows), 2), dtype=np.float32)
        errors: list[RowError | None] = []
        for i, (lat_text, lon_text) in enumerate(zip(columns[self.lat_index],
                                                     columns[self.lon_index], strict=True)):
            lat, lon, error = parse_latlon(lat_text, lon_text)
            latlon[i] = lat, lon
            errors.append(error)
        numbers = list(range(first_row, first_row + len(rows)))
        return CoordinateChunk(numbers, rows, latlon, errors, unit="row")

    def _texts(self, column: Any) -> list[str]:
        """A column's values as CSV-like text."""
        pa = self._pa
        if pa.types.is_floating(column.type):
            values = column.to_numpy(zero_copy_only=False)
            nulls = column.is_null().to_numpy(zero_copy_only=False)
            return ["" if null else _positional(value) for value, null in zip(values, nulls,
                                                                              strict=True)]
        try:
            texts = column.cast(pa.string()).to_pylist()
        except (pa.ArrowNotImplementedError, pa.ArrowInvalid):
            texts = [None if value is None else str(value) for value in column.to_pylist()]
        return ["" if text is None else text for text in texts]


def _positional(value: np.floating) -> str:
    return np.format_float_positional(value, trim="-") if math.isfinite(value) else str(value)
