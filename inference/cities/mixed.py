"""Chunks of a coordinates CSV read the fast way where its lines are plain and the
careful way elsewhere, in input order (see plainlines for what plain means)."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass

import numpy as np

from batch_classifier.inference.cities.plainlines import (
    CAREFUL,
    FAST,
    Layout,
    SortedLines,
    comma_separated,
    sort_lines,
)
from batch_classifier.inference.cities.reader import (
    CoordinateChunk,
    CoordinateCsv,
)
from batch_classifier.inference.cities.records import MAX_LINE_CHARS

WINDOW_BYTES = 1 << 22  # raw bytes sorted at a time
# and at most this many lines: numpy's work arrays grow with the lines (~150 bytes each
# while parsing), so a window of very short rows must not be sorted all at once
WINDOW_LINES = 1 << 16
CHUNK_BYTES = 1 << 22  # a chunk also ends once its fast rows hold this many input bytes
# Runs shorter than MIN_RUN rows between lines that are not plain do not pay for sorting
# again each time: the careful reader then takes 1, 2, 4, ... rows before the next try.
MIN_RUN = 16
MAX_CAREFUL_STREAK = 1 << 12


@dataclass
class PlainRun:
    """Fast rows: their input lines as comma-separated text (no line ending), their
    coordinates and their line numbers."""

    lines: list[bytes]
    latlon: np.ndarray
    line_numbers: np.ndarray


@dataclass
class MixedChunk:
    """A chunk's data rows in input order: runs of fast rows and careful chunks."""

    parts: list[PlainRun | CoordinateChunk]
    rows: int


class MixedChunks:
    """Iterate over the data rows of `table` (after any it already read) in chunks of at
    most `size` rows. Between two records the careful reader holds nothing read ahead,
    so whole plain lines can be taken from its input there."""

    def __init__(self, table: CoordinateCsv, size: int):
        self._table = table
        self._input = table.input_lines
        self._size = size
        self._layout = Layout(table.delimiter.encode(), len(table.header), table.lat_index,
                              table.lon_index, MAX_LINE_CHARS, WINDOW_LINES)
        self._sorted: SortedLines | None = None
        self._sorted_refill = -1
        self._careful_at = self._fast_before = np.zeros(0, np.int64)
        self._careful_rows = 1
        self._streak = 1

    def __iter__(self) -> Iterator[MixedChunk]:
        while (chunk := self._next_chunk()).rows:
            yield chunk

    def _next_chunk(self) -> MixedChunk:
        parts: list[PlainRun | CoordinateChunk] = []
        rows = taken = 0
        while rows < self._size and taken < CHUNK_BYTES:
            run, nbytes = self._plain_run(self._size - rows, CHUNK_BYTES - taken)
            if run is None:
                careful = self._table.next_chunk(min(self._careful_rows, self._size - rows))
                if not careful.line_numbers:
                    break
                parts.append(careful)
                rows += len(careful.line_numbers)
                continue
            taken += nbytes
            if run.lines:
                parts.append(run)
                rows += len(run.lines)
        return MixedChunk(parts, rows)

    def _plain_run(self, max_rows: int, max_bytes: int) -> tuple[PlainRun | None, int]:
        """The fast rows (and blank lines) at the input's position, and their bytes;
        None when the next line is for the careful reader (then `_careful_rows` says
        how many rows it should read)."""
        if self._table.input_lines is None:  # the careful reader has lines to read again
            self._careful_rows = 1
            return None, 0
        buffer, pos, eof = self._input.window(WINDOW_BYTES)
        lines = self._sorted_from(buffer, pos, eof)
        i = int(np.searchsorted(lines.starts, pos))
        if i == len(lines):  # not plain: let the careful reader go on a while
            self._careful_rows = self._streak
            self._streak = min(2 * self._streak, MAX_CAREFUL_STREAK)
            return None, 0
        j = self._run_end(lines, i, max_rows, max_bytes)
        if j == i:  # a plain line that is a bad row, or one with an unusual number
            self._careful_rows = 1
            return None, 0
        start, end = int(lines.starts[i]), int(lines.nexts[j - 1])
        text = buffer[start:end]
        if lines.has_cr:
            text = text.replace(b"\r\n", b"\n")
        fast = lines.kinds[i:j] == FAST
        run = PlainRun(list(filter(None, comma_separated(text, self._layout.delimiter)
                                   .split(b"\n"))),
                       lines.latlon[i:j][fast],
                       self._table.lines_read + 1 + np.flatnonzero(fast))
        if len(run.lines) >= MIN_RUN:
            self._streak = 1
        self._input.advance(end - start)
        self._table.passed_over(j - i, end - start)
        return run, end - start

    def _sorted_from(self, buffer: bytes, pos: int, eof: bool) -> SortedLines:
        """The sorted lines of the window from `pos`, sorted again only when needed."""
        lines = self._sorted
        if lines is None or self._sorted_refill != self._input.refills or pos > lines.end \
                or (pos == lines.end and lines.limited) or (pos < lines.end
                    and lines.starts[np.searchsorted(lines.starts, pos)] != pos):
            lines = self._sorted = sort_lines(buffer, pos, eof, self._layout)
            self._sorted_refill = self._input.refills
            self._careful_at = np.flatnonzero(lines.kinds == CAREFUL)
            self._fast_before = np.concatenate([[0], np.cumsum(lines.kinds == FAST)])
        return lines

    def _run_end(self, lines: SortedLines, i: int, max_rows: int, max_bytes: int) -> int:
        """End (exclusive) of the run of fast and blank lines from line i, within the
        limits."""
        k = int(np.searchsorted(self._careful_at, i))
        end = int(self._careful_at[k]) if k < len(self._careful_at) else len(lines)
        end = min(end, int(np.searchsorted(self._fast_before, self._fast_before[i] + max_rows)))
        return min(end, i + int(np.searchsorted(lines.nexts[i:end] - lines.starts[i],
                                                max_bytes)) + 1)
