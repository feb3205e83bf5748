"""Cut a CSV file into parts at record boundaries, the same way every time.

The data after the header is divided into ranges of `blocksize` bytes, which workers
scan in parallel (line endings, quote characters). A part starts at the first line
after each range's start, unless a quote character lies in the QUOTE_REACH lines
before that line: a quoted field there might hold the newline, so the part goes on to
the next boundary instead (a file with quotes every few lines stays one part). The
reader gives up a quoted record after MAX_RECORD_LINES lines (records.py), so without
a quote that near, no record spans the point: the reader, started there, reads exactly
the records a reader of the whole file reads, numbering its lines from the line count
of the ranges before.

Each scan also digests its range's bytes before and after its line start, so that a
part's `content` digest covers exactly its bytes (and the header's): a resumed run
recomputes a part whose bytes changed, even where the file kept its size and mtime.
"""

from __future__ import annotations

import hashlib
import re
from dataclasses import dataclass

from batch_classifier.inference.cities.records import MAX_LINE_CHARS, MAX_RECORD_LINES
from batch_classifier.inference.distributed.urls import open_input
from batch_classifier.inference.errors import UsageError

QUOTE_REACH = MAX_RECORD_LINES + 1  # lines; the reader reads one more before giving up
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
    content: str = ""  # a digest of the header's and the part's bytes


@dataclass(frozen=True)
class RangeScan:
    """What a worker found in a byte range: its line endings, the first line start in
    it (None if no line starts there) and the endings before that, and the endings
    before its last quote character, before that line start and in the whole range (-1:
    no quote); and the SHA-256 of its bytes before and from that line start."""

    endings: int
    boundary: int | None
    endings_before: int
    quote_endings_before: int
    quote_endings: int
    head: str = ""
    tail: str = ""


def header_end(path: str) -> int:
    """The byte offset where the header line ends (after its line ending; a file that is
    only a header may end without one)."""
    wanted = 4 * MAX_LINE_CHARS + 2
    with open_input(path) as handle:
        head = handle.read(wanted)
    found = _FIRST_LINE_END.search(head)
    if found is None and len(head) < wanted:
        return len(head)
    if found is None:
        raise UsageError(f"{path}: no line ending after the header")
    return found.end()


def header_digest(path: str, end: int) -> str:
    """The SHA-256 of the header's bytes (up to `end`)."""
    with open_input(path) as handle:
        return hashlib.sha256(handle.read(end)).hexdigest()


def scan_range(path: str, start: int, end: int) -> RangeScan:
    """Scan bytes [start, end) of `path` (a task): a line starts at `start` when the byte
    before it is a newline, else after the first newline before end - 1."""
    with open_input(path) as handle:
        handle.seek(start - 1)
        boundary = start if handle.read(1) == b"\n" else None
        endings = endings_before = 0
        quote = quote_before = -1
        head, tail = hashlib.sha256(), hashlib.sha256()
        at = start
        while at < end:
            piece = handle.read(min(PIECE_BYTES, end - at))
            following = handle.read(1)
            handle.seek(-len(following), 1)
            split = 0 if boundary is not None else len(piece)
            if boundary is None:
                newline = piece.find(b"\n", 0, end - 1 - at)
                if newline >= 0:
                    boundary, split = at + newline + 1, newline + 1
                    endings_before = endings + _endings(piece[:newline + 1], b"")
                    quote_before = _quote_endings(piece[:newline + 1], endings, quote)
            head.update(piece[:split])
            tail.update(piece[split:])
            quote = _quote_endings(piece, endings, quote)
            endings += _endings(piece, following)
            at += len(piece)
            if not piece:
                break
    return RangeScan(endings, boundary, endings_before, quote_before, quote,
                     head.hexdigest(), tail.hexdigest())


def _endings(data: bytes, following: bytes) -> int:
    """Line endings in `data` (\\n, \\r\\n and a lone \\r), given the byte after it."""
    crlf = data.count(b"\r\n") + (data.endswith(b"\r") and following == b"\n")
    return data.count(b"\n") + data.count(b"\r") - crlf


def _quote_endings(data: bytes, endings: int, previous: int) -> int:
    """The line endings before the last quote in `data` (which `endings` endings
    precede), or `previous` if it has none."""
    found = data.rfind(b'"')
    return previous if found < 0 else endings + _endings(data[:found], b'"')


def ranges(start: int, size: int, blocksize: int) -> list[tuple[int, int]]:
    """The byte ranges [a, b) of blocksize bytes from `start` to `size`."""
    return [(a, min(a + blocksize, size)) for a in range(start, size, blocksize)]


def plan_file(path: str, data_start: int, size: int,
              scans: list[tuple[tuple[int, int], RangeScan]],
              reach: int = QUOTE_REACH, header: str = "") -> list[CsvPart]:
    """The parts of a file from the scans of its ranges (in order), none starting within
    `reach` lines after a line with a quote character; one part at least. Each part's
    content digest covers `header` (the header's digest) and the digests of its bytes."""
    cuts = [(data_start, 2)]
    pieces = [[header]]
    endings, quote_line = 0, None
    for (start, _), scan in scans:
        cut = False
        if start > data_start and scan.boundary is not None and scan.boundary < size:
            line = 2 + endings + scan.endings_before
            quote = (2 + endings + scan.quote_endings_before if scan.quote_endings_before >= 0
                     else quote_line)
            if quote is None or line - quote > reach:
                cuts.append((scan.boundary, line))
                cut = True
        if cut:
            pieces[-1].append(scan.head)
            pieces.append([header, scan.tail])
        else:
            pieces[-1] += [scan.head, scan.tail]
        if scan.quote_endings >= 0:
            quote_line = 2 + endings + scan.quote_endings
        endings += scan.endings
    ends = [start for start, _ in cuts[1:]] + [size]
    return [CsvPart(path, data_start, start, end, first_line,
                    hashlib.sha256("".join(digests).encode()).hexdigest())
            for (start, first_line), end, digests in zip(cuts, ends, pieces, strict=True)]
