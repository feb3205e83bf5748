"""Read back what an earlier run already wrote, so a resumed run can skip it.

Records are only ever appended whole and flushed per batch, so after a crash the output
is a run of complete records, possibly followed by one torn record. Reading back stops
at the last complete record and cuts the file there (the repair); a record is complete
when its last line ends with a newline outside any quoted field.
"""

from __future__ import annotations

import csv
import hashlib
import json
import os
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO, Any

from batch_classifier.inference.errors import UsageError
from batch_classifier.inference.formats import unique_names
from batch_classifier.inference.jobs.fileops import create_temp, open_plain_file

MAX_RECORD_BYTES = 1 << 26  # longer lines mean this is not an output of ours


class RowsDigest:
    """A SHA-256 over rows of text values, so an input's first rows can be compared with
    the rows an output holds without keeping either."""

    def __init__(self) -> None:
        self._hash = hashlib.sha256()

    def add(self, values: list[str]) -> None:
        """Add one row (repr keeps the boundaries between values unambiguous)."""
        self._hash.update(repr(values).encode("utf-8", "surrogatepass"))

    def hexdigest(self) -> str:
        """The digest of the rows added so far."""
        return self._hash.hexdigest()


@dataclass
class DoneRecords:
    """The complete records already in an output file: how many, the digest of their
    first `prefix_width` values (the input columns they repeat), their key values."""

    count: int = 0
    prefix_digest: str = field(default_factory=lambda: RowsDigest().hexdigest())
    keys: set[tuple[str, ...]] = field(default_factory=set)
    repaired_bytes: int = 0


def read_done(path: str | os.PathLike, fmt: str, columns: list[str],
              key_columns: Sequence[str] = (), prefix_width: int = 0) -> DoneRecords:
    """Count the complete records of `path` (if it exists), digest the first
    `prefix_width` values of each, keep the values of `key_columns` of each, and
    truncate a torn record at the end."""
    path = Path(path)
    if not os.path.lexists(path):
        return DoneRecords()
    with os.fdopen(open_plain_file(path, os.O_RDWR, "output"), "r+b") as handle:
        done, good_end, prefixes = DoneRecords(), 0, RowsDigest()
        key_index = [columns.index(name) for name in key_columns]
        for values, end in _scan(handle, path, fmt, columns):
            good_end = end
            if values is None:
                continue
            done.count += 1
            if prefix_width:
                prefixes.add(values[:prefix_width])
            if key_index:
                done.keys.add(tuple(values[i] for i in key_index))
        done.prefix_digest = prefixes.hexdigest()
        size = handle.seek(0, os.SEEK_END)
        if good_end < size:
            handle.truncate(good_end)
            handle.flush()
            os.fsync(handle.fileno())
            done.repaired_bytes = size - good_end
    return done


def drop_superseded(path: str | os.PathLike, fmt: str, columns: list[str],
                    key_column: str) -> int:
    """Rewrite `path` atomically keeping only the last record for each value of
    `key_column` (a changed file's new row replaces its old one); return how many went."""
    path = Path(path)
    index = columns.index(key_column)
    with os.fdopen(open_plain_file(path, os.O_RDONLY, "output"), "rb") as handle:
        spans: list[tuple[int, int, str | None]] = []
        last: dict[str, int] = {}
        start = 0
        for values, end in _scan(handle, path, fmt, columns):
            key = None if values is None else values[index]
            if key is not None:
                last[key] = len(spans)
            spans.append((start, end, key))
            start = end
        kept = [(a, b) for i, (a, b, key) in enumerate(spans) if key is None or last[key] == i]
        fd, temp = create_temp(path)
        with os.fdopen(fd, "wb") as out:
            for a, b in kept:
                handle.seek(a)
                out.write(handle.read(b - a))
            out.flush()
            os.fsync(out.fileno())
    os.replace(temp, path)
    return len(spans) - len(kept)


def _scan(handle: IO[bytes], path: Path, fmt: str,
          columns: list[str]) -> Iterator[tuple[list[str] | None, int]]:
    """(values as text, end offset) of each complete record; None for a CSV header.
    The columns are checked on the first record; a torn last record is left out."""
    lines = _CompleteLines(handle, path)
    records = _csv_records(lines) if fmt == "csv" else _jsonl_records(lines)
    for number, record in enumerate(records):
        if lines.exhausted:  # the reader closed a record at end of file: torn
            return
        if number == 0:
            _check_columns(record, columns, fmt, path)
            if fmt == "csv":
                yield None, lines.offset
                continue
        values = record if fmt == "csv" else [_text(value) for value in record.values()]
        yield values, lines.offset


class _CompleteLines:
    """Lines of a binary file that end in a newline; `offset` is the end of the last."""

    def __init__(self, handle: IO[bytes], path: Path):
        self.handle, self.path = handle, path
        self.offset = 0
        self.exhausted = False

    def __iter__(self) -> Iterator[str]:
        return self

    def __next__(self) -> str:
        line = self.handle.readline(MAX_RECORD_BYTES)
        if len(line) == MAX_RECORD_BYTES and not line.endswith(b"\n"):
            raise UsageError(f"{self.path}: not an output of this tool (a line longer "
                             f"than {MAX_RECORD_BYTES} bytes); use a new output file")
        if not line.endswith(b"\n"):
            self.exhausted = True
            raise StopIteration
        self.offset += len(line)
        try:
            return line.decode("utf-8")
        except UnicodeDecodeError:
            raise UsageError(f"{self.path}: not an output of this tool (not UTF-8); "
                             "use a new output file") from None


def _csv_records(lines: _CompleteLines) -> Iterator[list[str]]:
    return csv.reader(lines)


def _jsonl_records(lines: _CompleteLines) -> Iterator[dict[str, Any]]:
    for line in lines:
        try:
            record = json.loads(line)
        except json.JSONDecodeError:
            record = None
        if not isinstance(record, dict):
            raise UsageError(f"{lines.path}: not an output of this tool (a line that is "
                             "not a JSON object); use a new output file")
        yield record


def _check_columns(first: list[str] | dict[str, Any], columns: list[str], fmt: str,
                   path: Path) -> None:
    found = first if fmt == "csv" else list(first)
    expected = columns if fmt == "csv" else unique_names(columns)
    if found != expected:
        raise UsageError(
            f"{path}: its columns ({', '.join(map(str, found[:12]))}) are not this run's "
            f"({', '.join(expected[:12])}); resume with the same options, or write a new output"
        )


def _text(value: Any) -> str:
    """A JSON value as the text a CSV output would hold for it."""
    return "" if value is None else value if isinstance(value, str) else json.dumps(value)
