"""Read a CSV of coordinates in chunks, finding and validating the coordinate columns."""

from __future__ import annotations

import csv
import itertools
import math
import sys
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import BinaryIO

import numpy as np

from batch_classifier.inference.cities.bytelines import ByteLines
from batch_classifier.inference.cities.coordinates import parse_latlon
from batch_classifier.inference.cities.records import (
    MAX_LINE_CHARS,
    NOT_UTF8,
    PhysicalLines,
    Record,
    csv_records,
)
from batch_classifier.inference.errors import RowError, UsageError

LAT_NAMES = ("lat", "latitude")
LON_NAMES = ("lon", "lng", "long", "longitude")
DELIMITERS = ",;\t|"
MAX_CHUNK_CHARS = 1 << 20  # a chunk also ends after this much text (wide rows), so memory
#                            stays flat whatever the rows are like


@dataclass
class CoordinateChunk:
    """A run of data rows: raw fields, (lat, lon) as float32 and a per-row error; errors
    name a row by its `unit` and number (line of a CSV, row of a Parquet file)."""

    line_numbers: list[int]
    rows: list[list[str]]
    latlon: np.ndarray
    errors: list[RowError | None]
    unit: str = "line"


def find_column(header: list[str], names: tuple[str, ...], explicit: str | None,
                what: str, source: str) -> int:
    """Index of the coordinate column: the one named explicitly, else a usual name (in
    any case); a name that several columns have is refused as ambiguous."""
    folded = [h.strip().lower() for h in header]
    wanted = [explicit.strip().lower()] if explicit is not None else list(names)
    for name in wanted:
        if folded.count(name) > 1:
            raise UsageError(f"{source}: {folded.count(name)} columns are named {name!r}; "
                             f"rename them or name the {what} column with --{what[:3]}-col")
        if name in folded:
            return folded.index(name)
    if explicit is not None:
        raise UsageError(f"{source}: no column named {explicit!r} (columns: {_list(header)})")
    raise UsageError(
        f"{source}: no {what} column found (looked for {', '.join(names)} in any case; "
        f"columns: {_list(header)}); name it with --{what[:3]}-col"
    )


class CoordinateCsv:
    """A CSV of coordinates opened for chunked reading (use as a context manager).

    Given a binary `stream`, it reads that instead of opening `path` (which then only
    names it in messages), numbering the lines after the header from `first_line`: a
    part of a file, as its header followed by a byte range of its records."""

    def __init__(self, path: str, lat_col: str | None = None, lon_col: str | None = None,
                 on_progress: Callable[[int], None] | None = None, *,
                 stream: BinaryIO | None = None, first_line: int = 2):
        self.source = "<stdin>" if path == "-" else path
        self._stream = self._open(path) if stream is None else ByteLines(stream)
        first = self._stream.readline(MAX_LINE_CHARS)
        if NOT_UTF8.search(first):
            raise UsageError(f"{self.source}: not a UTF-8 text file (its header line is not)")
        if not first.strip():
            raise UsageError(f"{self.source}: empty file (no header line)")
        if len(first) >= MAX_LINE_CHARS and not first.endswith(("\n", "\r")):
            raise UsageError(f"{self.source}: the header line is longer than "
                             f"{MAX_LINE_CHARS} characters (is this a CSV file?)")
        self.delimiter = max(DELIMITERS, key=first.count)
        self.header = next(csv.reader([first], delimiter=self.delimiter))
        self.lat_index = find_column(self.header, LAT_NAMES, lat_col, "latitude", self.source)
        self.lon_index = find_column(self.header, LON_NAMES, lon_col, "longitude", self.source)
        if self.lat_index == self.lon_index:
            raise UsageError(f"{self.source}: latitude and longitude would both be column "
                             f"{self.header[self.lat_index]!r}; name them with --lat-col "
                             "and --lon-col")
        self._lines = PhysicalLines(self._stream, first_line, on_progress or (lambda _: None))
        self._rows = csv_records(self._lines, self.delimiter, len(self.header))

    def _open(self, path: str) -> ByteLines:
        if path == "-":
            return ByteLines(sys.stdin.buffer)
        file = Path(path)
        if not file.exists():
            raise UsageError(f"{path}: no such file")
        if file.is_dir():
            raise UsageError(f"{path}: is a folder, not a CSV file")
        try:
            return ByteLines(open(file, "rb"))  # noqa: SIM115 - closed in __exit__
        except OSError as exc:
            raise UsageError(f"{path}: cannot read ({exc.strerror})") from None

    def __enter__(self) -> CoordinateCsv:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self._stream.close()

    def skipped_rows(self, count: int) -> Iterator[list[str]]:
        """The next `count` data rows (fewer at the end of the input), unclassified (a
        resumed run's done rows), padded like output rows to check the output against."""
        for record in itertools.islice(self._rows, count):
            yield _fit(record.fields, len(self.header))

    def chunks(self, size: int) -> Iterator[CoordinateChunk]:
        """Yield chunks of at most `size` data rows or about MAX_CHUNK_CHARS characters of
        input; blank lines are skipped."""
        while (chunk := self.next_chunk(size)).line_numbers:
            yield chunk

    def next_chunk(self, size: int) -> CoordinateChunk:
        """The next (at most) `size` data rows or about MAX_CHUNK_CHARS characters of
        input; none at the end of the input."""
        chunk = _ChunkBuilder(len(self.header))
        if size > 0:
            for record in self._rows:
                chunk.add(record, self)
                if len(chunk.rows) >= size or chunk.chars >= MAX_CHUNK_CHARS:
                    break
        return chunk.build()

    @property
    def input_lines(self) -> ByteLines | None:
        """The input ahead, for a fast path that reads whole plain lines past the careful
        reader; None while that reader holds lines it read ahead (after a bad record)."""
        return self._stream if self._lines.idle else None

    @property
    def lines_read(self) -> int:
        """Physical lines read so far, the header's included."""
        return self._lines.lines_read

    def passed_over(self, lines: int, nbytes: int) -> None:
        """Count lines a fast path consumed from `input_lines`."""
        self._lines.passed_over(lines, nbytes)


class _ChunkBuilder:
    def __init__(self, width: int) -> None:
        self.width = width
        self.chars = 0
        self.lines: list[int] = []
        self.rows: list[list[str]] = []
        self.latlon: list[tuple[float, float]] = []
        self.errors: list[RowError | None] = []

    def add(self, record: Record, table: CoordinateCsv) -> None:
        fields, error = _fit(record.fields, self.width), record.error
        lat = lon = math.nan
        if error is None:
            lat, lon, error = parse_latlon(fields[table.lat_index], fields[table.lon_index])
        self.chars += record.chars
        self.lines.append(record.line)
        self.rows.append(fields)
        self.latlon.append((lat, lon))
        self.errors.append(error)

    def build(self) -> CoordinateChunk:
        latlon = np.array(self.latlon, dtype=np.float32).reshape(-1, 2)
        return CoordinateChunk(self.lines, self.rows, latlon, self.errors)


def _fit(fields: list[str], width: int) -> list[str]:
    """Fields padded or cut to the header's width."""
    return (fields + [""] * width)[:width]


def _list(header: list[str]) -> str:
    return ", ".join(repr(h) for h in header[:20]) + (" ..." if len(header) > 20 else "")
