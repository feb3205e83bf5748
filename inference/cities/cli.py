"""classify-cities: add the predicted country to every row of a CSV of coordinates."""

from __future__ import annotations

import sys
from pathlib import Path

import click
from tqdm import tqdm

from inference.cities.predict import predict_countries, prediction_columns
from inference.cities.reader import CoordinateChunk, CoordinateCsv
from inference.cli_common import (
    EXIT_CODES_HELP,
    EXIT_INTERRUPTED,
    EXIT_OK,
    EXIT_SOME_FAILED,
    fail,
    info,
    output_options,
    show_progress,
)
from inference.errors import UsageError
from inference.models import resolve_model
from inference.output import ResultWriter, choose_format
from inference.session import LoadedModel, load_model


@click.command(epilog=EXIT_CODES_HELP, context_settings={"help_option_names": ["-h", "--help"]})
@click.argument("csv_file", metavar="FILE.csv")
@click.option("--lat-col", metavar="NAME", help="Latitude column (default: lat/latitude).")
@click.option("--lon-col", metavar="NAME",
              help="Longitude column (default: lon/lng/long/longitude).")
@click.option("--top-k", type=click.IntRange(1, 50), default=1, show_default=True,
              help="Also add the K-1 runners-up (country_2, country_code_2, confidence_2, ...).")
@click.option("--min-confidence", type=click.FloatRange(0, 1), default=0.0, show_default=True,
              help="Leave the country empty (with an error) when the model is less sure.")
@click.option("--batch-size", type=click.IntRange(1), default=65536, show_default=True,
              help="Rows read and classified at a time (memory stays flat).")
@output_options
def main(csv_file: str, lat_col: str | None, lon_col: str | None, top_k: int,
         min_confidence: float, batch_size: int, model_spec: str | None, device: str,
         output_path: str | None, output_format: str | None, quiet: bool) -> None:
    """Add the predicted country to every row of FILE.csv ('-' reads stdin).

    Input columns are kept; added are country (name), country_code (ISO 3166-1
    alpha-2), confidence, the runners-up with --top-k, and error (empty when the row
    was classified); an input column with one of these names makes the added one
    predicted_<name>. Shipped models: world (default when present) and eu.
    """
    try:
        model = load_model(resolve_model("cities", model_spec), device=device, task="cities")
        info(f"classify-cities: model {model.path.name} "
             f"({model.contract.model_name}) on {model.provider}", quiet)
        failed = _classify_file(model, csv_file, lat_col, lon_col, top_k, min_confidence,
                                batch_size, output_path, output_format, quiet)
    except UsageError as exc:
        fail(str(exc))
    except KeyboardInterrupt:
        info("classify-cities: interrupted; rows written so far are kept", False)
        sys.exit(EXIT_INTERRUPTED)
    sys.exit(EXIT_SOME_FAILED if failed else EXIT_OK)


def _classify_file(model: LoadedModel, csv_file: str, lat_col: str | None,
                   lon_col: str | None, top_k: int, min_confidence: float, batch_size: int,
                   output_path: str | None, output_format: str | None, quiet: bool) -> int:
    """Classify every row; return how many rows failed."""
    total = Path(csv_file).stat().st_size if csv_file != "-" and Path(csv_file).is_file() else None
    bar = tqdm(total=total, unit="B", unit_scale=True, disable=not show_progress(quiet),
               desc="classify-cities")
    failed = 0
    with bar, CoordinateCsv(csv_file, lat_col, lon_col, on_progress=bar.update) as table:
        added = prediction_columns(top_k) + ["error"]
        writer = ResultWriter(output_path, choose_format(output_path, output_format),
                              table.header + _renamed(table.header, added))
        try:
            for chunk in table.chunks(batch_size):
                rows = _result_rows(model, chunk, added, top_k, min_confidence)
                failed += sum(1 for row in rows if row[-1])
                writer.write_rows(rows)
        except UsageError:
            writer.abort()
            raise
        except KeyboardInterrupt:
            writer.close()
            raise
        writer.close()
    return failed


def _result_rows(model: LoadedModel, chunk: CoordinateChunk, added: list[str], top_k: int,
                 min_confidence: float) -> list[list]:
    """Input fields followed by the added columns, for every row of the chunk."""
    valid = [i for i, error in enumerate(chunk.errors) if error is None]
    predictions = predict_countries(model, chunk.latlon[valid], top_k, min_confidence)
    by_row = dict(zip(valid, predictions, strict=True))
    rows = []
    for i, fields in enumerate(chunk.rows):
        prediction = by_row.get(i) or {"error": chunk.errors[i]}
        error = prediction.get("error")
        prediction["error"] = f"line {chunk.line_numbers[i]}: {error}" if error else None
        rows.append(fields + [prediction.get(column) for column in added])
    return rows


def _renamed(header: list[str], columns: list[str]) -> list[str]:
    """Names for the added columns, prefixed where the input already has the name."""
    taken = {h.strip().lower() for h in header}
    return [f"predicted_{c}" if c.lower() in taken else c for c in columns]
