"""Cut a CSV file into parts at record boundaries, the same way every time.

The data after the header is divided into ranges of `blocksize` bytes, which workers
scan in parallel (line endings, quote characters). A part starts at the first line
after each range's start, unless a quote character lies within QUOTE_REACH bytes
before that point: a quoted field there might hold the newline, so the part goes on to
the next boundary instead (a file quoted throughout stays one part). Without a quote
nearby no record can span the point, so the reader, started there, reads exactly the
records a reader of the whole file reads, numbering its lines from the line count of
the ranges before.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from batch_classifier.inference.cities.records import MAX_LINE_CHARS
from batch_classifier.inference.errors import UsageError

# A quoted record ends (or is given up as an error) within MAX_LINE_CHARS characters,
# at most 4 bytes each, plus the line that overflows.
QUOTE_REACH = 8 * MAX_LINE_CHARS
PIECE_BYTES = 1 << 24  # read at a time while scanning
_FIRST_LINE_END = re.compile(rb"\r\n?|\n")


@dataclass(frozen=True)
class CsvPart:
    """Part of a CSV file: the header (bytes up to `header_end`) and the records in
    bytes [start, end), whose first line is line `first_line` of the file."""

    path: str
    header_end: int
    start: int
    end: int
    first_line: int


@dataclass(frozen=True)
class RangeScan:
    """What a worker found in a byte range: its line endings, the first line start in
    it (None if no line starts there), the endings before that, and the positions of the
    last quote character before it and in the whole range (-1: none)."""

    endings: int
    boundary: int | None
    endings_before: int
    last_quote_before: int
    last_quote: int


def header_end(path: str) -> int:
    """The byte offset where the header line ends (after its line ending)."""
    with open(path, "rb") as handle:
        head = handle.read(4 * MAX_LINE_CHARS + 2)
    found = _FIRST_LINE_END.search(head)
    if found is None:
        raise UsageError(f"{path}: no line ending after the header")
    return found.end()


def scan_range(path: str, start: int, end: int) -> RangeScan:
    """Scan bytes [start, end) of `path` (a task): a line starts at `start` when the byte
    before it is a newline, else after the first newline before end - 1."""
    with open(path, "rb") as handle:
        handle.seek(start - 1)
        boundary = start if handle.read(1) == b"\n" else None
        endings = endings_before = 0
        last_quote = last_quote_before = -1
        at = start
        while at < end:
            piece = handle.read(min(PIECE_BYTES, end - at))
            following = handle.read(1)
            handle.seek(-len(following), 1)
            if boundary is None:
                newline = piece.find(b"\n", 0, end - 1 - at)
                if newline >= 0:
                    boundary = at + newline + 1
                    endings_before = endings + _endings(piece[:newline + 1], b"")
                    last_quote_before = max(last_quote, _last(piece[:newline + 1], at))
            endings += _endings(piece, following)
            last_quote = max(last_quote, _last(piece, at))
            at += len(piece)
            if not piece:
                break
    return RangeScan(endings, boundary, endings_before, last_quote_before, last_quote)


def _endings(data: bytes, following: bytes) -> int:
    """Line endings in `data` (\\n, \\r\\n and a lone \\r), given the byte after it."""
    crlf = data.count(b"\r\n") + (data.endswith(b"\r") and following == b"\n")
    return data.count(b"\n") + data.count(b"\r") - crlf


def _last(data: bytes, offset: int) -> int:
    found = data.rfind(b'"')
    return -1 if found < 0 else offset + found


def ranges(start: int, size: int, blocksize: int) -> list[tuple[int, int]]:
    """The byte ranges [a, b) of blocksize bytes from `start` to `size`."""
    return [(a, min(a + blocksize, size)) for a in range(start, size, blocksize)]


def plan_file(path: str, data_start: int, size: int,
              scans: list[tuple[tuple[int, int], RangeScan]],
              reach: int = QUOTE_REACH) -> list[CsvPart]:
    """The parts of a file from the scans of its ranges (in order), never starting within
    `reach` bytes after a quote character; one part at least."""
    cuts = [(data_start, 2)]
    endings, last_quote = 0, -1
    for (start, _), scan in scans:
        if start > data_start and scan.boundary is not None and scan.boundary < size:
            quote = scan.last_quote_before if scan.last_quote_before >= 0 else last_quote
            if quote < 0 or scan.boundary - quote > reach:
                cuts.append((scan.boundary, 2 + endings + scan.endings_before))
        endings += scan.endings
        last_quote = max(last_quote, scan.last_quote)
    ends = [start for start, _ in cuts[1:]] + [size]
    return [CsvPart(path, data_start, start, end, first_line)
            for (start, first_line), end in zip(cuts, ends, strict=True)]
