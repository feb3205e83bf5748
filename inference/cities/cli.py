"""classify-cities: add the predicted country to every row of a CSV (or Parquet file) of
coordinates."""

from __future__ import annotations

import sys
from collections.abc import Iterator
from contextlib import closing
from pathlib import Path
from typing import Any

import click
from click.core import ParameterSource
from tqdm import tqdm

from batch_classifier import __version__
from batch_classifier.inference.cities.classifier import CountryClassifier
from batch_classifier.inference.cities.fastcsv import ChunkCsv
from batch_classifier.inference.cities.mixed import MixedChunk, MixedChunks
from batch_classifier.inference.cities.predict import (
    MODEL_THREADS,
    SEA_CHOICES,
    prediction_columns,
    prediction_dicts,
)
from batch_classifier.inference.cities.reader import CoordinateChunk, CoordinateCsv
from batch_classifier.inference.cities.rows import result_rows, valid_rows
from batch_classifier.inference.cities.tables import (
    CoordinateTable,
    column_types,
    open_coordinates,
)
from batch_classifier.inference.cli_common import (
    EXIT_CODES_HELP,
    EXIT_INTERRUPTED,
    fail,
    info,
    job_options,
    output_options,
    show_progress,
    started_params,
)
from batch_classifier.inference.distributed.options import (
    dask_options,
    refuse_urls,
    single_input,
)
from batch_classifier.inference.errors import UsageError
from batch_classifier.inference.formats import added_names
from batch_classifier.inference.jobs.job import BatchJob
from batch_classifier.inference.jobs.resume import RowsDigest
from batch_classifier.inference.jobs.sink import RowSink
from batch_classifier.inference.readahead import read_ahead
from batch_classifier.inference.report.run import REPORT_OPTION, report_after_run


@click.command(epilog=EXIT_CODES_HELP, context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(__version__, prog_name="classify-cities")
@click.argument("csv_files", nargs=-1, required=True, metavar="FILE.csv")
@click.option("--lat-col", metavar="NAME", help="Latitude column (default: lat/latitude).")
@click.option("--lon-col", metavar="NAME",
              help="Longitude column (default: lon/lng/long/longitude).")
@click.option("--top-k", type=click.IntRange(1, 50), default=1, show_default=True,
              help="Also add the K-1 runners-up (country_2, country_code_2, confidence_2, ...).")
@click.option("--min-confidence", type=click.FloatRange(0, 1), default=0.0, show_default=True,
              help="Leave the country empty (with an error) when the model is less sure.")
@click.option("--sea", type=click.Choice(SEA_CHOICES), default="none", show_default=True,
              help="A point at open sea (beyond 12 nautical miles of any land) gets no "
                   "country and the error 'open sea: nearest land ~N km' (none), or the "
                   "nearest country anyway (nearest). Only for a model that knows the sea "
                   "(world).")
@click.option("--batch-size", type=click.IntRange(1), default=65536, show_default=True,
              help="Rows read and classified at a time (memory stays flat).")
@click.option("--threads", type=click.IntRange(0), default=MODEL_THREADS, show_default=True,
              help="ONNX Runtime threads for the model (0: one per core); another "
                   "thread reads the next rows meanwhile.")
@output_options
@job_options
@REPORT_OPTION
@dask_options("cities")
def main(csv_files: tuple[str, ...], lat_col: str | None, lon_col: str | None, top_k: int,
         min_confidence: float, sea: str, batch_size: int, threads: int, model_spec: str | None,
         device: str,
         output_path: str | None, output_format: str | None, quiet: bool, resume: bool,
         summary_json: str | None, report: str | None, scheduler: str | None,
         blocksize: int) -> None:
    """Add the predicted country to every row of FILE.csv ('-' reads stdin), or of a
    Parquet file (FILE.parquet).

    Input columns are kept; added are country (name), country_code (ISO 3166-1
    alpha-2), confidence, the runners-up with --top-k, and error (empty when the row
    was classified); an input column with one of these names makes the added one
    predicted_<name>. Shipped models: world (default when present) and eu.

    The world model knows the sea: a point beyond territorial waters (12 nautical
    miles) of every land gets no country and the error 'open sea: nearest land ~N km'
    (counted as a failed row, exit code 1, so that exit 0 still means every row got a
    country); --sea nearest gives it the nearest country instead. South of 60S the
    country is Antarctica (AQ).

    With -o FILE --resume, a rerun classifies only the rows FILE does not hold yet and
    appends them, flushed to disk batch by batch, so a run killed at any point loses
    nothing and duplicates nothing when run again. One run at a time per output.

    With --dask, several files or globs may be given, and they and -o may be fsspec URLs
    (s3://..., with its package); -o names a folder of parts.
    """
    try:
        params = started_params("cities")
        refuse_urls([*csv_files, output_path])
        csv_file = single_input(csv_files)
        classifier = CountryClassifier(model_spec or "world", device=device, threads=threads)
        model = classifier.model
        if not classifier.knows_sea and click.get_current_context().get_parameter_source(
                "sea") is ParameterSource.COMMANDLINE:
            raise UsageError(f"--sea: model {model.contract.model_name} knows no sea (it "
                             "has no land distance); leave --sea out")
        if top_k > len(model.contract.labels):
            raise UsageError(f"--top-k {top_k}: the model knows only "
                             f"{len(model.contract.labels)} countries")
        info(f"classify-cities: model {model.path.name} "
             f"({model.contract.model_name}) on {model.provider}", quiet)
        size = Path(csv_file).stat().st_size if Path(csv_file).is_file() else None
        bar = tqdm(total=None if csv_file == "-" else size, unit="B", unit_scale=True,
                   disable=not show_progress(quiet), desc="classify-cities")
        with bar, open_coordinates(csv_file, lat_col, lon_col, bar.update) as table:
            added = prediction_columns(top_k) + ["error"]
            names = added_names(table.header, added)
            settings = {"--lat-col": table.header[table.lat_index],
                        "--lon-col": table.header[table.lon_index],
                        "--min-confidence": min_confidence, "--top-k": top_k, "--sea": sea}
            with BatchJob("classify-cities", "rows", model, table.header + names,
                          output_path=output_path, output_format=output_format, resume=resume,
                          summary_json=summary_json, quiet=quiet, inputs=[csv_file],
                          settings=settings, input_columns=len(table.header),
                          column_types=column_types(names, added)) as job:
                _skip_done(job, table)
                classify_table(job, table, classifier, batch_size, added,
                               (top_k, min_confidence, sea))
        report_after_run("cities", params, job.exit_code, job.summary)
    except UsageError as exc:
        fail(str(exc))
    except KeyboardInterrupt:
        info("classify-cities: interrupted", False)
        sys.exit(EXIT_INTERRUPTED)
    sys.exit(job.exit_code)


def _skip_done(job: BatchJob, table: CoordinateTable) -> None:
    """Pass over the rows a resumed output already holds, checking they are this input's
    first rows, every one of them."""
    if not job.done.count:
        return
    skipped, digest = 0, RowsDigest()
    for fields in table.skipped_rows(job.done.count):
        skipped += 1
        digest.add(fields)
    if skipped < job.done.count:
        raise UsageError(f"{table.source} has {skipped} rows but the output already holds "
                         f"{job.done.count}: not the same input; write a new output instead "
                         "of --resume")
    if digest.hexdigest() != job.done.prefix_digest:
        raise UsageError(f"{table.source}: its first {skipped} rows are not the rows the "
                         "output holds: the input changed since; write a new output instead "
                         "of --resume")
    job.skip(skipped)


def classify_table(job: RowSink, table: CoordinateTable, classifier: CountryClassifier,
                   batch_size: int, added: list[str], options: tuple[int, float, str]) -> None:
    """Classify and write the rows not done yet, chunk by chunk, reading the next chunk
    while the model runs. CSV to CSV takes plain lines the fast way (see mixed.py);
    `options` are top_k, min_confidence and sea. This is the core a local run and each
    part of a distributed run go through."""
    if job.format == "csv" and isinstance(table, CoordinateCsv):
        render = ChunkCsv(classifier, *options, added)
        chunks: Iterator[Any] = iter(MixedChunks(table, batch_size))

        def write(chunk: MixedChunk) -> None:
            job.write(*render.text(chunk))
    else:
        chunks = table.chunks(batch_size)

        def write(chunk: CoordinateChunk) -> None:
            top = classifier.top(chunk.latlon[valid_rows(chunk)], *options)
            job.write(*result_rows(chunk, prediction_dicts(classifier.model, top), added))
    with closing(read_ahead(chunks)) as ahead:
        for chunk in ahead:
            write(chunk)
            if job.stopping:
                break


if __name__ == "__main__":
    main()
