"""classify-cities --dask: CSV files cut at record boundaries and Parquet files by row
groups into parts, each classified on a worker by the same core as a local run."""

from __future__ import annotations

import glob
import os
import stat
from collections.abc import Iterator
from contextlib import contextmanager, nullcontext
from dataclasses import dataclass
from typing import Any, BinaryIO

from distributed import Client

from batch_classifier.inference.cities.classifier import CountryClassifier
from batch_classifier.inference.cities.cli import classify_table
from batch_classifier.inference.cities.predict import prediction_columns
from batch_classifier.inference.cities.reader import CoordinateCsv
from batch_classifier.inference.cities.tables import (
    CoordinateTable,
    column_types,
    is_parquet,
    open_coordinates,
)
from batch_classifier.inference.distributed.csvparts import (
    CsvPart,
    header_digest,
    header_end,
    plan_file,
    ranges,
    scan_range,
)
from batch_classifier.inference.distributed.fileblock import open_block
from batch_classifier.inference.distributed.job import PlannedPart, dask_job
from batch_classifier.inference.distributed.options import is_url
from batch_classifier.inference.distributed.parts import PartResult, PartWriter
from batch_classifier.inference.distributed.urls import (
    absolute,
    check_urls,
    local_path,
    open_input,
    size_and_mtime,
    url_matches,
)
from batch_classifier.inference.distributed.workermodel import ModelSpec, worker_model
from batch_classifier.inference.errors import UsageError
from batch_classifier.inference.files.keys import sha256_of
from batch_classifier.inference.formats import added_names, choose_format
from batch_classifier.inference.models import resolve_model
from batch_classifier.inference.session import load_model

COMMAND = "classify-cities"


@dataclass(frozen=True)
class ParquetPart:
    """Part of a Parquet file: some of its row groups, the first being row `first_row`."""

    path: str
    row_groups: list[int]
    first_row: int


@dataclass(frozen=True)
class CitiesTask:
    """What every part's task needs besides its part."""

    model: str  # the name workers find the model under
    fmt: str
    columns: list[str]
    added: list[str]
    types: dict[str, str]
    lat_col: str
    lon_col: str
    top_k: int
    min_confidence: float
    sea: str
    batch_size: int


def run(params: dict[str, Any]) -> int:
    """Classify the inputs of classify-cities' `params` on Dask; the exit code."""
    output = params["output_path"]
    check_urls([*params["csv_files"], output])
    files = input_files(params["csv_files"])
    model = load_model(resolve_model("cities", params["model_spec"]), device="cpu",
                       task="cities", threads=1)  # here only for its contract
    header, lat_col, lon_col = common_header(files, params["lat_col"], params["lon_col"])
    added = prediction_columns(params["top_k"]) + ["error"]
    names = added_names(header, added)
    fmt = choose_format(output, params["output_format"])
    plan = {"command": COMMAND, "format": fmt, "columns": header + names,
            "model_sha256": sha256_of(model.path), "lat_col": lat_col, "lon_col": lon_col,
            "top_k": params["top_k"], "min_confidence": params["min_confidence"],
            "sea": params["sea"], "blocksize": params["blocksize"],
            "inputs": [pattern if is_url(pattern) else absolute(pattern)
                       for pattern in params["csv_files"]]}
    spec = ModelSpec("cities", params["device"], params["threads"])
    with dask_job(COMMAND, "rows", model, params, fmt, plan, spec, files) as (
            job, client, model_name):
        task = CitiesTask(model_name, fmt, header + names, added, column_types(names, added),
                          lat_col, lon_col, params["top_k"], params["min_confidence"],
                          params["sea"], params["batch_size"])
        job.run(client, planned_parts(client, files, params["blocksize"]),
                classify_cities_part, task)
    return job.exit_code


def input_files(patterns: tuple[str, ...]) -> list[str]:
    """The input files, as absolute paths or full URLs: each name, or the sorted matches
    of a glob; a local one must be a regular file (workers read its byte ranges)."""
    files = []
    for pattern in patterns:
        if pattern == "-":
            raise UsageError("--dask reads files, not stdin ('-')")
        if is_url(pattern):
            matches = url_matches(pattern)
        else:
            matches = sorted(glob.glob(pattern)) if glob.has_magic(pattern) else [pattern]
            matches = [absolute(match) for match in matches]
        if not matches:
            raise UsageError(f"{pattern}: no file matches")
        files += matches
    for path in files:
        refuse_irregular(path)
    return files


def refuse_irregular(path: str) -> None:
    """A UsageError for a local input (or file:// URL) that is not a regular file: a FIFO
    or a process substitution would block or give only its first bytes."""
    local = local_path(path)
    if local is None:
        return
    try:
        info = os.stat(local)
    except OSError as exc:
        raise UsageError(f"{path}: cannot read ({exc.strerror})") from None
    if not stat.S_ISREG(info.st_mode):
        raise UsageError(f"{path}: not a regular file (a pipe or device); --dask reads files "
                         "in byte ranges: save it to a file, or run without --dask")


def common_header(files: list[str], lat_col: str | None,
                  lon_col: str | None) -> tuple[list[str], str, str]:
    """The header every input shares, and its latitude and longitude columns."""
    header: list[str] | None = None
    for path in files:
        with _open_table(path, lat_col, lon_col) as table:
            if header is None:
                header = table.header
                lat, lon = header[table.lat_index], header[table.lon_index]
            elif table.header != header:
                raise UsageError(f"{path}: its columns ({', '.join(table.header)}) are not "
                                 f"those of {files[0]} ({', '.join(header)})")
    return header, lat, lon


def planned_parts(client: Client, files: list[str], blocksize: int) -> Iterator[PlannedPart]:
    """The parts of all files in order, numbered from 0."""
    number = 0
    for path in files:
        parts = parquet_parts(path, blocksize) if is_parquet(path) else \
            csv_parts(client, path, blocksize)
        for part in parts:
            yield PlannedPart(number, _digest(part), _description(part), part)
            number += 1


def csv_parts(client: Client, path: str, blocksize: int) -> list[CsvPart]:
    """A CSV file's parts, from scans of its ranges by the workers (which digest the
    bytes too: see csvparts)."""
    start, size = header_end(path), size_and_mtime(path)[0]
    spans = ranges(start, size, blocksize)
    scans = client.gather(client.map(scan_range, [path] * len(spans), *zip(*spans, strict=True),
                                     pure=False)) if spans else []
    return plan_file(path, start, size, list(zip(spans, scans, strict=True)),
                     header=header_digest(path, start))


def parquet_parts(path: str, blocksize: int) -> list[ParquetPart]:
    """A Parquet file's parts: runs of row groups of about `blocksize` bytes."""
    from batch_classifier.inference.parquet import pyarrow_parquet

    with open_input(path) if is_url(path) else nullcontext(path) as source:
        metadata = pyarrow_parquet()[1].ParquetFile(source).metadata
    parts, groups, size, first_row, row = [], [], 0, 1, 1
    for index in range(metadata.num_row_groups):
        groups.append(index)
        size += metadata.row_group(index).total_byte_size
        row += metadata.row_group(index).num_rows
        if size >= blocksize:
            parts.append(ParquetPart(path, groups, first_row))
            groups, size, first_row = [], 0, row
    if groups or not parts:
        parts.append(ParquetPart(path, groups, first_row))
    return parts


def _digest(part: CsvPart | ParquetPart) -> str:
    """What makes a part the same as one done before: where it is, and its bytes."""
    if isinstance(part, CsvPart):
        return f"{part.path}:{part.start}-{part.end}:line {part.first_line}:{part.content}"
    return f"{part.path}:row groups {part.row_groups}"


def _description(part: CsvPart | ParquetPart) -> dict[str, Any]:
    if isinstance(part, CsvPart):
        return {"input": part.path, "bytes": [part.start, part.end], "first_line": part.first_line}
    return {"input": part.path, "row_groups": part.row_groups, "first_row": part.first_row}


def classify_cities_part(part: CsvPart | ParquetPart, number: int, path: str,
                         task: CitiesTask) -> PartResult:
    """Classify a part of a CSV or Parquet file into part file `number` at `path` (a
    task)."""
    with _open_part(part, task) as table:
        model = worker_model(task.model)
        with PartWriter(number, path, task.fmt, task.columns, task.types,
                        model.provider) as sink:
            classify_table(sink, table, CountryClassifier.wrapping(model), task.batch_size,
                           task.added, (task.top_k, task.min_confidence, task.sea))
    return sink.result


@contextmanager
def _open_part(part: CsvPart | ParquetPart, task: CitiesTask) -> Iterator[CoordinateTable]:
    if isinstance(part, ParquetPart):
        from batch_classifier.inference.parquet.coordinates import ParquetCoordinates

        with ParquetCoordinates(part.path, task.lat_col, task.lon_col, part.row_groups,
                                part.first_row, _url_stream(part.path)) as table:
            yield table
        return
    with open_block(part.path, [(0, part.header_end), (part.start, part.end)]) as stream, \
            CoordinateCsv(part.path, task.lat_col, task.lon_col, stream=stream,
                          first_line=part.first_line) as table:
        yield table


def _open_table(path: str, lat_col: str | None, lon_col: str | None) -> CoordinateTable:
    """`open_coordinates` for a local path; a URL's file opened through fsspec."""
    if not is_url(path):
        return open_coordinates(path, lat_col, lon_col)
    if is_parquet(path):
        from batch_classifier.inference.parquet.coordinates import ParquetCoordinates

        return ParquetCoordinates(path, lat_col, lon_col, stream=open_input(path))
    return CoordinateCsv(path, lat_col, lon_col, stream=open_input(path))


def _url_stream(path: str) -> BinaryIO | None:
    """A URL's file opened through fsspec; None for a local path (opened by name)."""
    return open_input(path) if is_url(path) else None
