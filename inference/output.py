"""Result writers: CSV or JSON Lines, to stdout, a device or pipe, or a file that
appears atomically (or grows record by record, for a resumable run); Parquet files
through inference/parquet."""

from __future__ import annotations

import os
import sys
from collections.abc import Iterator, Mapping
from contextlib import contextmanager, suppress
from pathlib import Path
from typing import IO, TYPE_CHECKING, Any

from batch_classifier.inference.errors import UsageError
from batch_classifier.inference.formats import csv_record, jsonl_record, unique_names
from batch_classifier.inference.jobs.fileops import create_temp, open_plain_file, open_stream

if TYPE_CHECKING:
    from batch_classifier.inference.parquet.writer import ParquetResultWriter


def result_writer(path: str | os.PathLike | None, fmt: str, columns: list[str],
                  types: Mapping[str, str] | None = None, append: bool = False,
                  stream: bool = False) -> ResultWriter | ParquetResultWriter:
    """The writer for `fmt`: Parquet (with the Arrow `types` of its non-string columns;
    never appended to) through pyarrow, else CSV or JSON Lines text."""
    if fmt == "parquet":
        from batch_classifier.inference.parquet.writer import ParquetResultWriter

        return ParquetResultWriter(path, columns, types, stream)
    return ResultWriter(path, fmt, columns, append, stream)


class ResultWriter:
    """Writes result rows with a fixed column order, to stdout, a device or pipe, or a file.

    To a file, rows normally go to a temporary file beside it that replaces the target
    on `close()`, so a reader never sees a half-written output. With `append=True`
    (resumable runs) they are appended to the target itself, whole records only, and
    flushed to disk after every batch, so a crash loses at most the batch in flight.
    A device or pipe (`stream=True`) is written as it is, like stdout.
    """

    def __init__(self, path: str | os.PathLike | None, fmt: str, columns: list[str],
                 append: bool = False, stream: bool = False):
        self.columns = columns
        self.format = fmt
        self._target = Path(path) if path else None
        self._temp_path: Path | None = None
        self._is_stream = stream or self._target is None
        self._append = append and not self._is_stream
        self._stream: IO[str] = self._open()
        self._json_keys = unique_names(columns)
        continued = self._append and os.fstat(self._stream.fileno()).st_size > 0
        if fmt == "csv" and not continued:
            try:
                with self._write_errors():
                    self._stream.write(csv_record(columns))
                    self._sync()
            except UsageError:
                self.abort()
                raise

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
        if self._is_stream:
            fd = open_stream(self._target, "output")
        elif self._append:
            fd = open_plain_file(self._target, os.O_WRONLY | os.O_APPEND | os.O_CREAT, "output")
        else:
            fd, self._temp_path = create_temp(self._target)
        return os.fdopen(fd, "w", encoding="utf-8", newline="")

    def _sync(self) -> None:
        if self._append:
            self._stream.flush()
            os.fsync(self._stream.fileno())

    def write_rows(self, rows: list[list[Any]]) -> None:
        """Write a batch of rows, each a list of values in the order of `columns`."""
        if self.format == "csv":
            text = "".join(map(csv_record, rows))
        else:
            text = "".join(jsonl_record(self._json_keys, row) for row in rows)
        with self._write_errors():
            self._stream.write(text)
            self._sync()

    def write_csv_text(self, text: str) -> None:
        """Write whole CSV records already rendered (as `formats.csv_record` renders them)."""
        if self.format != "csv":
            raise ValueError("CSV text written to a JSON Lines output")
        with self._write_errors():
            self._stream.write(text)
            self._sync()

    def close(self) -> None:
        """Flush; for a file target, move the finished output into place."""
        with self._write_errors():
            self._stream.flush()
            if self._target is None:
                return
            if self._temp_path is None:
                self._stream.close()
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
