"""An existing output read back a chunk of rows at a time: a CSV, JSON Lines or Parquet
file, or a --dask folder of parts (read in part order)."""

from __future__ import annotations

import csv
import json
import os
import sys
from collections.abc import Iterator
from dataclasses import dataclass
from itertools import islice
from pathlib import Path
from typing import Any

from batch_classifier.inference.errors import UsageError
from batch_classifier.inference.formats import choose_format
from batch_classifier.inference.parquet import pyarrow_parquet

CHUNK_ROWS = 65536
_PART_SUFFIXES = (".csv", ".jsonl", ".parquet")


@dataclass
class OutputRows:
    """The header of an output and its rows, chunk by chunk (`chunks()`); rows whose
    field count is not the header's are counted in `malformed`, not returned."""

    path: Path
    files: list[Path]
    header: list[str]
    malformed: int = 0

    def chunks(self, size: int = CHUNK_ROWS) -> Iterator[list[list[Any]]]:
        width = len(self.header)
        for file in self.files:
            for rows in _file_chunks(file, size):
                good = (rows if set(map(len, rows)) == {width}
                        else [row for row in rows if len(row) == width])
                self.malformed += len(rows) - len(good)
                if good:
                    yield good


def open_output(path: str | os.PathLike) -> OutputRows:
    """The output at `path` (a file, or a folder of part-NNNNN.* files), or a UsageError
    saying why it cannot be read."""
    path = Path(path)
    if path.is_dir():
        files = sorted(file for file in path.iterdir()
                       if file.name.startswith("part-") and file.suffix in _PART_SUFFIXES)
        if not files:
            raise UsageError(f"{path}: a folder without part-NNNNN.csv/.jsonl/.parquet files")
    elif path.is_file():
        files = [path]
    else:
        raise UsageError(f"{path}: no such output file or folder")
    header = _header(files[0])
    for file in files[1:]:
        if _header(file) != header:
            raise UsageError(f"{file}: its columns differ from {files[0].name}'s")
    return OutputRows(path, files, header)


def _format(file: Path) -> str:
    return choose_format(str(file), None)


def _header(file: Path) -> list[str]:
    try:
        if _format(file) == "parquet":
            return list(_parquet(file).schema_arrow.names)
        with open(file, encoding="utf-8", errors="replace", newline="") as handle:
            if _format(file) == "csv":
                return next(csv.reader(handle), [])
            first = handle.readline()
            return list(json.loads(first)) if first.strip() else []
    except (OSError, ValueError) as exc:
        raise UsageError(f"{file}: cannot read its header ({exc})") from None


def _parquet(file: Path) -> Any:
    pyarrow, parquet = pyarrow_parquet()
    try:
        return parquet.ParquetFile(file)
    except pyarrow.ArrowException as exc:
        raise UsageError(f"{file}: not a readable Parquet file ({exc})") from None


def _file_chunks(file: Path, size: int) -> Iterator[list[list[Any]]]:
    fmt = _format(file)
    if fmt == "parquet":
        for batch in _parquet(file).iter_batches(batch_size=size):
            columns = [column.to_pylist() for column in batch.columns]
            yield [list(row) for row in zip(*columns, strict=True)]
        return
    csv.field_size_limit(sys.maxsize)
    with open(file, encoding="utf-8", errors="replace", newline="") as handle:
        if fmt == "csv":
            reader = csv.reader(handle)
            next(reader, None)
        else:
            reader = (_json_row(line) for line in handle if line.strip())
        while rows := list(islice(reader, size)):
            yield rows


def _json_row(line: str) -> list[Any]:
    """One JSON Lines record's values in order (a line that is not an object: no values)."""
    try:
        record = json.loads(line)
    except ValueError:
        return []
    return list(record.values()) if isinstance(record, dict) else []
