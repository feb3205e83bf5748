"""Result writers: CSV or JSON Lines, to stdout or to a file that appears atomically."""

from __future__ import annotations

import csv
import glob
import io
import json
import os
import re
import sys
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager, suppress
from pathlib import Path
from typing import IO, Any

from batch_classifier.inference.errors import UsageError

FORMATS = ("csv", "jsonl")
_TEMP_SUFFIX = re.compile(r"[a-z0-9_]{8}")  # what tempfile.mkstemp adds


def choose_format(path: str | None, requested: str | None) -> str:
    """The output format: as requested, else from the file extension, else CSV."""
    if requested:
        return requested
    if path and Path(path).suffix.lower() in (".jsonl", ".ndjson", ".json"):
        return "jsonl"
    return "csv"


class ResultWriter:
    """Writes result rows with a fixed column order, to stdout or a file.

    To a file, rows normally go to a temporary file beside it that replaces the target
    on `close()`, so a reader never sees a half-written output. With `append=True`
    (resumable runs) they are appended to the target itself, whole records only, and
    flushed to disk after every batch, so a crash loses at most the batch in flight.
    """

    def __init__(self, path: str | None, fmt: str, columns: list[str], append: bool = False):
        self.columns = columns
        self.format = fmt
        self._target = Path(path) if path else None
        self._temp_path: Path | None = None
        self._append = append and self._target is not None
        self._stream: IO[str] = self._open()
        self._csv = csv.writer(self._stream, lineterminator="\n") if fmt == "csv" else None
        if self._csv is not None and not (self._append and self._stream.tell() > 0):
            try:
                with self._write_errors():
                    self._csv.writerow(columns)
                    self._sync()
            except UsageError:
                self.abort()
                raise
        self._json_keys = unique_names(columns)

    @contextmanager
    def _write_errors(self) -> Iterator[None]:
        """A failed write (disk full, broken pipe) as one clear error, not a traceback."""
        try:
            yield
        except OSError as exc:
            where = self._target or "<stdout>"
            raise UsageError(f"{where}: cannot write output ({exc.strerror or exc})") from None

    def _open(self) -> IO[str]:
        if self._target is None:
            return sys.stdout
        folder = self._target.parent
        if not folder.is_dir():
            raise UsageError(f"{self._target}: output folder {folder} does not exist")
        try:
            if self._append:
                return open(self._target, "a", encoding="utf-8", newline="")  # noqa: SIM115
            fd, temp = tempfile.mkstemp(prefix=f".{self._target.name}.", dir=folder)
        except OSError as exc:
            raise UsageError(f"{self._target}: cannot write output ({exc.strerror})") from None
        self._temp_path = Path(temp)
        return os.fdopen(fd, "w", encoding="utf-8", newline="")

    def _sync(self) -> None:
        if self._append:
            self._stream.flush()
            os.fsync(self._stream.fileno())

    def write_rows(self, rows: list[list[Any]]) -> None:
        """Write a batch of rows, each a list of values in the order of `columns`."""
        with self._write_errors():
            if self._csv is not None:
                self._stream.write(csv_text(rows))
            else:
                keys = self._json_keys
                lines = (json.dumps(dict(zip(keys, row, strict=True)), ensure_ascii=False)
                         for row in rows)
                self._stream.write("".join(line + "\n" for line in lines))
            self._sync()

    def write_csv_text(self, text: str) -> None:
        """Write whole CSV records already rendered as `csv_text` renders them."""
        if self._csv is None:
            raise ValueError("CSV text written to a JSON Lines output")
        with self._write_errors():
            self._stream.write(text)
            self._sync()

    def close(self) -> None:
        """Flush; for a file target, move the finished output into place."""
        with self._write_errors():
            self._stream.flush()
            if self._append:
                self._stream.close()
                return
            if self._temp_path is None:
                return
            os.fsync(self._stream.fileno())
            self._stream.close()
            os.replace(self._temp_path, self._target)
            self._temp_path = None

    def abort(self) -> None:
        """Drop a half-written file output (used when the job stops on an error); an
        appended output keeps its batches written so far."""
        try:
            self._stream.flush()
        except OSError:  # stdout cannot take more: send what is left nowhere
            if self._target is None:
                os.dup2(os.open(os.devnull, os.O_WRONLY), self._stream.fileno())
        if self._target is None:
            return
        with suppress(OSError):
            self._stream.close()
        if self._temp_path is not None:
            self._temp_path.unlink(missing_ok=True)
            self._temp_path = None


def csv_text(rows: list[list[Any]]) -> str:
    """Rows as the CSV records a CSV output holds (None empty, floats to 6 digits)."""
    text = io.StringIO()
    csv.writer(text, lineterminator="\n").writerows(
        [_csv_cell(value) for value in row] for row in rows)
    return text.getvalue()


def _csv_cell(value: Any) -> Any:
    if value is None:
        return ""
    if isinstance(value, float):
        return f"{value:.6g}"
    return value


def unique_names(columns: list[str]) -> list[str]:
    """Column names made unique (name, name_2, ...) so JSON objects lose no value."""
    seen: dict[str, int] = {}
    names = []
    for column in columns:
        seen[column] = seen.get(column, 0) + 1
        names.append(column if seen[column] == 1 else f"{column}_{seen[column]}")
    return names


def remove_stale_temps(target: str | os.PathLike) -> int:
    """Delete temporary files a killed run left beside `target`; return how many.

    Call only while holding the output's lock: then no live run owns them.
    """
    target = Path(target)
    stale = [path for path in target.parent.glob(f".{glob.escape(target.name)}.*")
             if _TEMP_SUFFIX.fullmatch(path.name[len(target.name) + 2:])]
    for path in stale:
        path.unlink(missing_ok=True)
    return len(stale)
