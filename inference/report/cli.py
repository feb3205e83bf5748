"""batch-report: make the HTML report of an existing classify-images or classify-cities
output again, without classifying anything."""

from __future__ import annotations

import json
import sys

import click

from batch_classifier.inference.cli_common import EXIT_OK, fail
from batch_classifier.inference.errors import UsageError
from batch_classifier.inference.report.build import build_report


@click.command(context_settings={"help_option_names": ["-h", "--help"]})
@click.argument("output", metavar="OUTPUT")
@click.option("-o", "--report", "report", metavar="FILE.html", required=True,
              help="Where to write the report.")
@click.option("--model", "model_path", metavar="PATH",
              help="The model that made the output (default: the one its run record names).")
@click.option("--summary-json", "summary_json", metavar="FILE",
              help="The run's --summary-json, to show its timing.")
def main(output: str, report: str, model_path: str | None, summary_json: str | None) -> None:
    """Write the HTML report of OUTPUT: a CSV, JSON Lines or Parquet file written by
    classify-images or classify-cities, or a --dask folder of parts.

    The options the run used (threshold, uncertain band, coordinate columns) and its
    model are read from OUTPUT.run.json when it is there. Exit codes: 0 written, 2 the
    output cannot be read or the report cannot be written.
    """
    try:
        summary = _summary(summary_json) if summary_json else None
        made = build_report(output, report, summary=summary, model_path=model_path)
    except UsageError as exc:
        fail(str(exc))
    click.echo(f"batch-report: {made.path} ({made.size / 1e6:.2f} MB, {made.rows} "
               f"{'images' if made.kind == 'images' else 'rows'})", err=True)
    sys.exit(EXIT_OK)


def _summary(path: str) -> dict:
    try:
        with open(path, encoding="utf-8") as handle:
            summary = json.load(handle)
    except (OSError, ValueError) as exc:
        raise UsageError(f"--summary-json {path}: cannot read it ({exc})") from None
    if not isinstance(summary, dict):
        raise UsageError(f"--summary-json {path}: not a run summary")
    return summary


if __name__ == "__main__":
    main()
