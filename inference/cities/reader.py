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
from batch_classifier.inference.errors import RowError, UsageError

LAT_NAMES = ("lat", "latitude")
LON_NAMES = ("lon", "lng", "long", "longitude")
DELIMITERS = ",;\t|"
MAX_LINE_CHARS = 1 << 20  # a longer physical line is reported as a bad row, never loaded whole
_OVERLONG = "\x00overlong"
csv.field_size_limit(MAX_LINE_CHARS)


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
    """Index of the coordinate column: the one named explicitly, else a usual name."""
    folded = [h.strip().lower() for h in header]
    if explicit is not None:
        if explicit.strip().lower() not in folded:
            raise UsageError(f"{source}: no column named {explicit!r} (columns: {_list(header)})")
        return folded.index(explicit.strip().lower())
    for name in names:
        if name in folded:
            return folded.index(name)
    raise UsageError(
        f"{source}: no {what} column found (looked for {', '.join(names)} in any case; "
        f"columns: {_list(header)}); name it with --{what[:3]}-col"
    )


def parse_coordinate(text: str, what: str, limit: float) -> tuple[float, RowError | None]:
    """Parse one latitude/longitude; return (value, None) or (nan, the error)."""
    cleaned = text.strip()
    if not cleaned:
        return math.nan, RowError("missing coordinate", f"missing {what}")
    try:
        value = float(cleaned)
    except ValueError:
        try:  # decimal comma, as in many European CSVs
            value = float(cleaned.replace(",", ".", 1)) if cleaned.count(",") == 1 else None
        except ValueError:
            value = None
        if value is None:
            return math.nan, RowError("not a number", f"{what} {_short(cleaned)!r} is not a number")
    if not math.isfinite(value):
        return math.nan, RowError("not a number",
                                  f"{what} {_short(cleaned)!r} is not a finite number")
    if abs(value) > limit:
        return math.nan, RowError("out of range",
                                  f"{what} {value:g} is outside [-{limit:g}, {limit:g}]")
    return value, None


class CoordinateCsv:
    """A CSV of coordinates opened for chunked reading (use as a context manager).

    Given a binary `stream`, it reads that instead of opening `path` (which then only
    names it in messages), numbering the lines after the header from `first_line`: a
    part of a file, as its header followed by a byte range of its records."""

    def __init__(self, path: str, lat_col: str | None = None, lon_col: str | None = None,
                 on_progress: Callable[[int], None] | None = None, *,
                 stream: BinaryIO | None = None, first_line: int = 2):
        self.source = "<stdin>" if path == "-" else path
        self._on_progress = on_progress
        self._stream = self._open(path) if stream is None else ByteLines(stream)
        try:
            first = self._stream.readline(MAX_LINE_CHARS)
        except UnicodeDecodeError:
            raise UsageError(f"{self.source}: not a UTF-8 text file") from None
        if not first.strip():
            raise UsageError(f"{self.source}: empty file (no header line)")
        if len(first) >= MAX_LINE_CHARS and not first.endswith("\n"):
            raise UsageError(f"{self.source}: the header line is longer than "
                             f"{MAX_LINE_CHARS} characters (is this a CSV file?)")
        self.delimiter = max(DELIMITERS, key=first.count)
        self.header = next(csv.reader([first], delimiter=self.delimiter))
        self.lat_index = find_column(self.header, LAT_NAMES, lat_col, "latitude", self.source)
        self.lon_index = find_column(self.header, LON_NAMES, lon_col, "longitude", self.source)
        self._line = first_line - 1
        self._rows = self._records()

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

    def _lines(self) -> Iterator[str]:
        while True:
            try:
                line = self._stream.readline(MAX_LINE_CHARS)
            except UnicodeDecodeError as exc:
                raise UsageError(
                    f"{self.source}: not UTF-8 text after line {self._line} ({exc.reason})"
                ) from None
            if not line:
                return
            self._line += 1
            if self._on_progress is not None:
                self._on_progress(len(line))
            if len(line) >= MAX_LINE_CHARS and not line.endswith("\n"):
                self._skip_rest_of_line()
                line = _OVERLONG + "\n"
            yield line

    def _skip_rest_of_line(self) -> None:
        while True:
            more = self._stream.readline(MAX_LINE_CHARS)
            if self._on_progress is not None:
                self._on_progress(len(more))
            if not more or more.endswith("\n"):
                return

    def _records(self) -> Iterator[tuple[int, list[str], RowError | None]]:
        """Every data row as (line number, fields, error if it cannot be used at all)."""
        reader = csv.reader(self._lines(), delimiter=self.delimiter)
        while True:
            try:
                fields = next(reader)
            except StopIteration:
                return
            except csv.Error as exc:
                yield self._line, [], RowError("malformed CSV", f"malformed CSV ({exc})")
                continue
            line = self._line  # the reader never reads ahead of the record it returns
            if not fields or fields == [""]:
                continue
            if fields == [_OVERLONG]:
                yield line, [], RowError("line too long",
                                         f"line longer than {MAX_LINE_CHARS} characters")
            else:
                yield line, fields, self._row_error(fields)

    def skip(self, count: int) -> tuple[int, list[str] | None]:
        """Pass over `count` data rows unclassified (a resumed run's done rows).

        Returns how many rows there were (fewer at the end of the input) and the fields
        of the last one, padded like an output row, to check the output against.
        """
        skipped, last = 0, None
        for _line, fields, _error in itertools.islice(self._rows, count):
            skipped, last = skipped + 1, fields
        return skipped, None if last is None else _fit(last, len(self.header))

    def chunks(self, size: int) -> Iterator[CoordinateChunk]:
        """Yield chunks of at most `size` data rows; blank lines are skipped."""
        while (chunk := self.next_chunk(size)).line_numbers:
            yield chunk

    def next_chunk(self, size: int) -> CoordinateChunk:
        """The next (at most) `size` data rows; none at the end of the input."""
        chunk = _ChunkBuilder(len(self.header))
        for line, fields, error in itertools.islice(self._rows, size):
            chunk.add(line, fields, error, self)
        return chunk.build()

    @property
    def input_lines(self) -> ByteLines:
        """The input ahead, for a fast path that reads whole plain lines past the
        careful reader (between two records: it never holds a line read ahead)."""
        return self._stream

    @property
    def lines_read(self) -> int:
        """Physical lines read so far, the header's included."""
        return self._line

    def passed_over(self, lines: int, nbytes: int) -> None:
        """Count lines a fast path consumed from `input_lines`."""
        self._line += lines
        if self._on_progress is not None:
            self._on_progress(nbytes)

    def _row_error(self, fields: list[str]) -> RowError | None:
        if len(fields) > len(self.header):
            extra = self.delimiter.join(fields[len(self.header):])
            return RowError("too many fields",
                            f"row has {len(fields)} fields but the header has "
                            f"{len(self.header)} (extra: {_short(extra)!r})")
        return None


class _ChunkBuilder:
    def __init__(self, width: int) -> None:
        self.width = width
        self.lines: list[int] = []
        self.rows: list[list[str]] = []
        self.latlon: list[tuple[float, float]] = []
        self.errors: list[RowError | None] = []

    def add(self, line: int, fields: list[str], error: RowError | None,
            table: CoordinateCsv) -> None:
        fields = _fit(fields, self.width)
        lat = lon = math.nan
        if error is None:
            lat, lat_error = parse_coordinate(fields[table.lat_index], "latitude", 90.0)
            lon, lon_error = parse_coordinate(fields[table.lon_index], "longitude", 180.0)
            if lat_error or lon_error:
                kind = (lat_error or lon_error).kind
                error = RowError(kind, "; ".join(e.message for e in (lat_error, lon_error) if e))
        self.lines.append(line)
        self.rows.append(fields)
        self.latlon.append((lat, lon))
        self.errors.append(error)

    def build(self) -> CoordinateChunk:
        latlon = np.array(self.latlon, dtype=np.float32).reshape(-1, 2)
        return CoordinateChunk(self.lines, self.rows, latlon, self.errors)


def _fit(fields: list[str], width: int) -> list[str]:
    """Fields padded or cut to the header's width."""
    return (fields + [""] * width)[:width]


def _short(text: str, limit: int = 40) -> str:
    return text if len(text) <= limit else text[:limit] + "..."


def _list(header: list[str]) -> str:
    return ", ".join(repr(h) for h in header[:20]) + (" ..." if len(header) > 20 else "")
