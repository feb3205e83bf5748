"""Sort the lines of a window of raw CSV bytes for the fast path, all at once (numpy).

A line is *plain* when the careful reader would read it as one record of its own and
the CSV writer would write its fields as they are (see formats.csv_record): no quote,
no control character (C0 or C1, but a tab separator and a CRLF ending), no U+2028/2029,
valid UTF-8, not too long. Sorting stops before the first
line that is not plain: from there only the careful reader knows where records end.
Each plain line is then *fast* (the header's field count and plain coordinates within
range: the fast path writes it), *blank* (the careful reader skips it) or *careful*
(the careful reader handles that one line: a bad row, a number with a sign or spaces).
"""

from __future__ import annotations

import re
from dataclasses import dataclass

import numpy as np

from batch_classifier.inference.cities.decimals import parse_decimals

FAST, BLANK, CAREFUL = 0, 1, 2
_OK, _HOSTILE = b"\x01", b"\x00"


def _classify(allowed: bytes) -> bytes:
    """A translate() table: controls other than `allowed`, the quote and DEL are hostile."""
    return bytes(_HOSTILE[0] if (b < 32 and b not in allowed) or b in b'"\x7f' else _OK[0]
                 for b in range(256))


_CLASSIFY = {b"\t": _classify(b"\t\n\r")}  # per separator: a tab separator is fine
_CLASSIFY_OTHER = _classify(b"\n\r")
_QUOTED_NON_ASCII = re.compile(rb"\xc2[\x80-\x9f]|\xe2\x80[\xa8\xa9]")  # C1, LS, PS in UTF-8
_CR, _LF = 13, 10


@dataclass(frozen=True)
class Layout:
    """What the fast path must know of the table: separator, field count, columns."""

    delimiter: bytes
    width: int
    lat_index: int
    lon_index: int
    max_line_bytes: int
    max_lines: int  # lines sorted at a time


@dataclass
class SortedLines:
    """The plain lines at the start of a window; offsets are into the window's buffer."""

    starts: np.ndarray
    content_ends: np.ndarray  # before the line ending
    nexts: np.ndarray  # where the next line starts
    kinds: np.ndarray  # FAST, BLANK or CAREFUL
    latlon: np.ndarray  # float32 (lat, lon); meaningful on FAST lines
    has_cr: bool
    end: int  # where sorting stopped: a line that is not plain, or the window's end
    limited: bool = False  # sorting stopped at `max_lines`: the lines from `end` may be plain

    def __len__(self) -> int:
        return len(self.starts)


def sort_lines(buffer: bytes, start: int, final: bool, layout: Layout) -> SortedLines:
    """Sort the plain lines of buffer[start:], up to its last whole line (or its end,
    when `final`: the input ends there), at most `layout.max_lines` of them."""
    stop = buffer.rfind(b"\n", start) + 1 if not final else len(buffer)
    stop = max(stop, start)
    limited_stop = _after_lines(buffer, start, stop, layout.max_lines)
    limited = limited_stop < stop
    stop = _plain_prefix(buffer, start, limited_stop, layout.delimiter)
    limited &= stop == limited_stop
    data = np.frombuffer(buffer, np.uint8, count=stop - start, offset=start)
    newlines = np.flatnonzero(data == _LF)
    nexts = newlines + 1
    if final and stop > start and buffer[stop - 1] != _LF:  # a last line with no ending
        nexts = np.append(nexts, len(data))
    starts = np.concatenate([[0], nexts[:-1]]).astype(np.int64)[:len(nexts)]
    too_long = np.flatnonzero(nexts - starts >= layout.max_line_bytes)
    if len(too_long):
        starts, nexts = starts[:too_long[0]], nexts[:too_long[0]]
    ends = nexts - (data.take(nexts - 1, mode="clip") == _LF)
    has_cr = buffer.find(b"\r", start, stop) >= 0
    if has_cr:
        ends = ends - ((ends > starts) & (data.take(ends - 1, mode="clip") == _CR))
    kinds, latlon = _kinds(data, starts, ends, layout)
    end = start + (int(nexts[-1]) if len(nexts) else 0)
    return SortedLines(starts + start, ends + start, nexts + start, kinds, latlon, has_cr, end,
                       limited)


def _after_lines(buffer: bytes, start: int, stop: int, count: int) -> int:
    """Where the first `count` lines of buffer[start:stop] end (`stop` if it holds fewer)."""
    newlines = np.flatnonzero(np.frombuffer(buffer, np.uint8, count=stop - start,
                                            offset=start) == _LF)
    return start + int(newlines[count - 1]) + 1 if len(newlines) > count else stop


def _plain_prefix(buffer: bytes, start: int, stop: int, delimiter: bytes) -> int:
    """Where the plain lines of buffer[start:stop] end: the start of the first line
    holding anything that is not plain."""
    quote = buffer.find(b'"', start, stop)
    region = buffer[start:stop if quote < 0 else quote]
    first = region.translate(_CLASSIFY.get(delimiter, _CLASSIFY_OTHER)).find(_HOSTILE)
    bad = len(region) if first < 0 else first
    carriage = region.find(b"\r", 0, bad)
    while carriage >= 0:  # a CR anywhere but before LF
        if region[carriage + 1:carriage + 2] != b"\n":
            bad = carriage
            break
        carriage = region.find(b"\r", carriage + 2, bad)
    if not region.isascii():
        try:
            str(memoryview(region)[:bad], "utf-8")
        except UnicodeDecodeError as exc:
            bad = exc.start
        found = _QUOTED_NON_ASCII.search(region, 0, bad)
        bad = found.start() if found else bad
    if bad == len(region) and quote < 0:
        return stop
    return start + region.rfind(b"\n", 0, bad) + 1


def _kinds(data: np.ndarray, starts: np.ndarray, ends: np.ndarray,
           layout: Layout) -> tuple[np.ndarray, np.ndarray]:
    """FAST/BLANK/CAREFUL per line and the fast lines' coordinates."""
    separators = np.flatnonzero(data[:ends[-1] if len(ends) else 0] == layout.delimiter[0])
    separators = np.append(separators, len(data))  # past every line: never counted
    first = np.searchsorted(separators, starts)
    count = np.searchsorted(separators, ends) - first
    shaped = count == layout.width - 1
    latlon = np.empty((len(starts), 2), np.float32)
    usable = shaped.copy()
    for column, (index, limit) in enumerate(((layout.lat_index, 90.0),
                                             (layout.lon_index, 180.0))):
        field_starts = starts if index == 0 else \
            separators.take(first + index - 1, mode="clip") + 1
        field_ends = ends if index == layout.width - 1 else \
            separators.take(first + index, mode="clip")
        values, plain = parse_decimals(data, field_starts, np.maximum(field_ends, field_starts))
        usable &= plain & (np.abs(values) <= limit)
        latlon[:, column] = values
    kinds = np.full(len(starts), CAREFUL, np.int8)
    kinds[usable] = FAST
    kinds[ends == starts] = BLANK
    return kinds, latlon


def comma_separated(lines: bytes, delimiter: bytes) -> bytes:
    """Plain lines (no quote, no CR) separated by `delimiter` as comma-separated text:
    the separators become commas, a field holding a comma is quoted."""
    if delimiter == b",":
        return lines
    if b"," in lines:
        sep = re.escape(delimiter)
        field = re.compile(rb"(?<![^%s\n])[^%s\n,]*+,[^%s\n]*" % (sep, sep, sep))
        lines = field.sub(rb'"\g<0>"', lines)
    return lines.replace(delimiter, b",")
