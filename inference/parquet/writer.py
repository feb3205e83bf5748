"""Result rows as a Parquet file that appears atomically: written to a temporary file
beside the target, in row groups, and renamed over it on close."""

from __future__ import annotations

import os
from collections.abc import Mapping
from contextlib import suppress
from pathlib import Path
from typing import Any

from batch_classifier.inference.errors import UsageError
from batch_classifier.inference.formats import unique_names
from batch_classifier.inference.jobs.fileops import create_temp
from batch_classifier.inference.parquet import pyarrow_parquet

ROW_GROUP_ROWS = 1 << 16  # rows are buffered up to this many, then written as a row group


class ParquetResultWriter:
    """Writes result rows to a Parquet file. Columns are strings unless `types` names
    another Arrow type for them (e.g. "float64"); names are made unique as for JSON."""

    format = "parquet"

    def __init__(self, path: str | os.PathLike | None, columns: list[str],
                 types: Mapping[str, str] | None = None, stream: bool = False):
        if path is None or stream:
            raise UsageError("Parquet output needs -o FILE, a regular file (not stdout or "
                             "a pipe)")
        pa, pq = pyarrow_parquet()
        self._pa = pa
        self.columns = columns
        types = types or {}
        self._schema = pa.schema([(name, pa.type_for_alias(types.get(column, "string")))
                                  for name, column in zip(unique_names(columns), columns,
                                                          strict=True)])
        self._target = Path(path)
        fd, self._temp_path = create_temp(self._target)
        self._file = os.fdopen(fd, "wb")
        self._writer = pq.ParquetWriter(self._file, self._schema)
        self._pending: list[list[Any]] = []

    def write_rows(self, rows: list[list[Any]]) -> None:
        """Add a batch of rows (values in the order of `columns`)."""
        self._pending += rows
        if len(self._pending) >= ROW_GROUP_ROWS:
            self._flush()

    def write_csv_text(self, text: str) -> None:
        """Rendered CSV text cannot go into Parquet (callers write rows instead)."""
        raise ValueError("CSV text written to a Parquet output")

    def _flush(self) -> None:
        if not self._pending:
            return
        values = zip(*self._pending, strict=True)
        arrays = [self._pa.array(column, type=field.type)
                  for column, field in zip(values, self._schema, strict=True)]
        try:
            self._writer.write_table(self._pa.Table.from_arrays(arrays, schema=self._schema))
        except OSError as exc:
            raise UsageError(f"{self._target}: cannot write output ({exc})") from None
        self._pending = []

    def close(self) -> None:
        """Write what is buffered and the footer, then move the file into place (on a
        failure, such as a full disk, the unfinished file is dropped)."""
        try:
            self._flush()
            self._writer.close()
            self._file.flush()
            os.fsync(self._file.fileno())
            self._file.close()
            os.replace(self._temp_path, self._target)
        except OSError as exc:
            self.abort()
            raise UsageError(f"{self._target}: cannot write output ({exc.strerror or exc})") \
                from None
        except UsageError:
            self.abort()
            raise

    def abort(self) -> None:
        """Drop the unfinished file; the target is left as it was."""
        with suppress(OSError):
            self._writer.close()
            self._file.close()
        self._temp_path.unlink(missing_ok=True)
