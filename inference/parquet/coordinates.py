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
from batch_classifier.inference.cities.records import short
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
        """Chunks of at most `size` rows, after those `skipped_rows` passed over. Data
        that cannot be read (a corrupt page behind an intact footer) is a UsageError
        naming its row group."""
        row = self._first_row
        to_skip = self._skipped
        batches = self._file.iter_batches(batch_size=size, row_groups=self._row_groups)
        while True:
            try:
                batch = next(batches, None)
            except (OSError, self._pa.ArrowException) as exc:
                raise self._unreadable(row, exc) from None
            if batch is None:
                return
            passed = min(to_skip, batch.num_rows)
            to_skip -= passed
            row += passed
            if passed < batch.num_rows:
                yield self._chunk(batch.slice(passed), row)
                row += batch.num_rows - passed

    def _unreadable(self, row: int, exc: BaseException) -> UsageError:
        """The error for data that failed to read at file row `row` or after: the first
        row group from there that does not read, found by reading them again."""
        metadata = self._file.metadata
        ends = np.cumsum([metadata.row_group(g).num_rows for g in range(metadata.num_row_groups)])
        groups = self._row_groups if self._row_groups is not None else range(len(ends))
        suspects = [g for g in groups if ends[g] >= row]
        bad = next((g for g in suspects if not self._readable(g)), suspects[0] if suspects else 0)
        first = int(ends[bad - 1]) + 1 if bad else 1
        reason = (str(exc).strip().splitlines() or [type(exc).__name__])[0]
        return UsageError(f"{self.source}: row group {bad + 1} of {len(ends)} (rows {first}-"
                          f"{int(ends[bad])}) cannot be read, the file is corrupt ({reason})")

    def _readable(self, group: int) -> bool:
        try:
            for _ in self._file.iter_batches(batch_size=SKIP_BATCH, row_groups=[group]):
                pass
        except (OSError, self._pa.ArrowException):
            return False
        return True

    def _chunk(self, batch: Any, first_row: int) -> CoordinateChunk:
        columns, bad_bytes = zip(*(self._texts(column, name) for column, name in
                                   zip(batch.columns, self.header, strict=True)), strict=True)
        rows = [list(fields) for fields in zip(*columns, strict=True)]
        latlon = np.empty((len(rows), 2), dtype=np.float32)
        errors: list[RowError | None] = []
        for i, (lat_text, lon_text) in enumerate(zip(columns[self.lat_index],
                                                     columns[self.lon_index], strict=True)):
            lat, lon, error = parse_latlon(lat_text, lon_text)
            latlon[i] = lat, lon
            errors.append(next((found[i] for found in bad_bytes if i in found), error))
        numbers = list(range(first_row, first_row + len(rows)))
        return CoordinateChunk(numbers, rows, latlon, errors, unit="row")

    def _texts(self, column: Any, name: str) -> tuple[list[str], dict[int, RowError]]:
        """A column's values as CSV-like text, and the errors of the values that are
        bytes but not UTF-8 (shown with U+FFFD, as a CSV's), by position. Each value is
        converted alone when the column as a whole cannot be, so that the text of a row
        never depends on the others read with it."""
        pa = self._pa
        if pa.types.is_floating(column.type):
            values = column.to_numpy(zero_copy_only=False)
            nulls = column.is_null().to_numpy(zero_copy_only=False)
            return ["" if null else _positional(value) for value, null in zip(values, nulls,
                                                                              strict=True)], {}
        try:
            texts = column.cast(pa.string()).to_pylist()
        except (pa.ArrowNotImplementedError, pa.ArrowInvalid):
            return _value_texts(column.to_pylist(), name)
        return ["" if text is None else text for text in texts], {}


def _value_texts(values: list[Any], name: str) -> tuple[list[str], dict[int, RowError]]:
    texts: list[str] = []
    errors: dict[int, RowError] = {}
    for i, value in enumerate(values):
        if isinstance(value, bytes):
            try:
                texts.append(value.decode("utf-8"))
            except UnicodeDecodeError as exc:
                texts.append(value.decode("utf-8", "replace"))
                errors[i] = RowError("not UTF-8", f"not UTF-8 text (byte 0x{value[exc.start]:02x} "
                                                  f"in column {short(name)!r}, at byte "
                                                  f"{exc.start + 1})")
        else:
            texts.append("" if value is None else str(value))
    return texts, errors


def _positional(value: np.floating) -> str:
    return np.format_float_positional(value, trim="-") if math.isfinite(value) else str(value)
