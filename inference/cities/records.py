"""A CSV text stream as records, where one bad record costs one row, reported, and never
the rest of the file.

- A physical line longer than MAX_LINE_CHARS is never held whole: it is skipped in
  pieces and its record becomes an error.
- A quoted field may span lines, but not forever: a record still open after
  MAX_RECORD_LINES lines or MAX_LINE_CHARS characters (a stray quote), one the csv
  module rejects (strict quoting: a quote must close a field), or one that spans lines
  and has more fields than the header, is an error at its first line, and reading
  restarts at the line after that one.
- Bytes that are not UTF-8 (read as surrogate escapes) make their record an error, and
  are shown as U+FFFD in its fields; the next record is read as usual.
"""

from __future__ import annotations

import csv
import re
from collections import deque
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import IO

from batch_classifier.inference.errors import RowError

MAX_LINE_CHARS = 1 << 20  # a longer physical line is reported as a bad row, never loaded whole
MAX_RECORD_LINES = 100  # a quoted field may span this many lines at most
NOT_UTF8 = re.compile("[\udc80-\udcff]")  # bytes decoded with errors="surrogateescape"
csv.field_size_limit(MAX_LINE_CHARS)


@dataclass(frozen=True)
class Record:
    """One record: its first line's number, its fields, why it is bad (or None) and the
    characters it took in the file (for sizing chunks)."""

    line: int
    fields: list[str]
    error: RowError | None
    chars: int


class _RunawayRecord(Exception):
    """A record grew past MAX_RECORD_LINES lines or MAX_LINE_CHARS characters."""


class PhysicalLines:
    """Physical lines for csv.reader, remembering those of the record being read so that
    reading can restart at the line after its first one."""

    def __init__(self, stream: IO[str], first_line: int, on_progress: Callable[[int], None]):
        self._stream = stream
        self._number = first_line - 1
        self._on_progress = on_progress
        self._pending: deque[tuple[int, str, bool]] = deque()
        self.current: list[tuple[int, str, bool]] = []  # (number, text, overlong)
        self.chars = 0

    def __iter__(self) -> Iterator[str]:
        return self

    def __next__(self) -> str:
        number, text, overlong = self._pending.popleft() if self._pending else self._read()
        self.current.append((number, text, overlong))
        self.chars += len(text)
        if len(self.current) > MAX_RECORD_LINES or self.chars > MAX_LINE_CHARS:
            raise _RunawayRecord
        return "\n" if overlong else text

    def _read(self) -> tuple[int, str, bool]:
        text = self._stream.readline(MAX_LINE_CHARS)
        if not text:
            raise StopIteration
        self._number += 1
        self._on_progress(len(text))
        overlong = len(text) >= MAX_LINE_CHARS and not text.endswith(("\n", "\r"))
        if overlong:
            self._skip_rest_of_line()
            text = ""
        return self._number, text, overlong

    def _skip_rest_of_line(self) -> None:
        while more := self._stream.readline(MAX_LINE_CHARS):
            self._on_progress(len(more))
            if more.endswith(("\n", "\r")):
                return

    def next_record(self) -> None:
        """Forget the lines of the record just read."""
        self.current, self.chars = [], 0

    @property
    def lines_read(self) -> int:
        """Number of the last line read from the stream."""
        return self._number

    @property
    def idle(self) -> bool:
        """True when no line already read waits to be read again (a fast path may then
        take whole lines from the stream itself)."""
        return not self._pending

    def passed_over(self, lines: int, chars: int) -> None:
        """Count lines a fast path took from the stream itself."""
        self._number += lines
        self._on_progress(chars)

    def restart_after_first(self) -> None:
        """Read the current record's lines again, all but its first."""
        self._pending.extendleft(reversed(self.current[1:]))
        self.next_record()


def csv_records(lines: PhysicalLines, delimiter: str, width: int) -> Iterator[Record]:
    """The non-blank records of `lines`; a record with more than `width` fields keeps
    only `width` of them (and is an error)."""
    reader = csv.reader(lines, delimiter=delimiter, strict=True)
    while True:
        try:
            fields = next(reader)
        except StopIteration:
            return
        except _RunawayRecord:
            yield _resync(lines, f"a quoted field runs over {MAX_RECORD_LINES} lines or "
                                 f"{MAX_LINE_CHARS} characters (unbalanced quote?)")
            continue
        except csv.Error as exc:
            yield _resync(lines, str(exc))
            continue
        if len(lines.current) > 1 and len(fields) > width:
            yield _resync(lines, f"a quoted field spans {len(lines.current)} lines and the "
                                 f"record has {len(fields)} fields (unbalanced quote?)")
            continue
        error = _line_error(lines.current)
        if error is not None or (fields and fields != [""]):  # else a blank line
            yield _record(lines.current[0][0], fields, error, delimiter, width, lines.chars)
        lines.next_record()


def _resync(lines: PhysicalLines, reason: str) -> Record:
    first = lines.current[0][0]
    error = _line_error(lines.current[:1]) or RowError("malformed CSV", f"malformed CSV ({reason})")
    chars = lines.chars
    lines.restart_after_first()
    return Record(first, [], error, chars)


def _record(line: int, fields: list[str], error: RowError | None, delimiter: str,
            width: int, chars: int) -> Record:
    if error is not None and error.kind == "not UTF-8":
        fields = [_replace_bad_bytes(field) for field in fields[:width]]
    elif error is None and len(fields) > width:
        extra = delimiter.join(fields[width:width + 8])
        error = RowError("too many fields", f"row has {len(fields)} fields but the header "
                                            f"has {width} (extra: {short(extra)!r})")
    return Record(line, fields[:width], error, chars)


def _line_error(current: list[tuple[int, str, bool]]) -> RowError | None:
    for number, text, overlong in current:
        if overlong:
            return RowError("line too long", f"line longer than {MAX_LINE_CHARS} characters")
        bad = NOT_UTF8.search(text)
        if bad:
            byte = ord(bad.group()) - 0xDC00
            return RowError("not UTF-8", f"not UTF-8 text (byte 0x{byte:02x} at line {number}, "
                                         f"character {bad.start() + 1})")
    return None


def _replace_bad_bytes(field: str) -> str:
    return field.encode("utf-8", "surrogateescape").decode("utf-8", "replace")


def short(text: str, limit: int = 40) -> str:
    """`text`, cut to `limit` characters with '...'."""
    return text if len(text) <= limit else text[:limit] + "..."
