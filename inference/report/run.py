"""--report FILE.html on the classify commands: checked before any work, written from
the output once the run has finished (a local run, a resumed one, or the parts of a
--dask run)."""

from __future__ import annotations

import os
from typing import Any

import click

from batch_classifier.inference.cli_common import EXIT_USAGE, info
from batch_classifier.inference.errors import UsageError
from batch_classifier.inference.jobs.summary import RunSummary
from batch_classifier.inference.models import resolve_model

REPORT_OPTION = click.option(
    "--report", metavar="FILE.html",
    help="Also write an HTML report of the whole output (counts, charts, the files or rows "
         "to look at; one self-contained file) here when the run ends. Needs -o FILE; "
         "batch-report makes it again from an existing output.")


def check_report(params: dict[str, Any]) -> None:
    """Refuse --report without an output file to read back, or aimed at the output."""
    report, output = params.get("report"), params.get("output_path")
    if not report:
        return
    if not output or output == "-":
        raise UsageError("--report needs -o FILE: the report is made from the output file")
    if os.path.abspath(report) == os.path.abspath(output):
        raise UsageError(f"--report {report}: is the -o output itself; name another file")


def report_after_run(kind: str, params: dict[str, Any], exit_code: int,
                     summary: RunSummary | None) -> None:
    """Write the --report of a finished run (not of one that failed with a usage error);
    `summary` is a local run's (its counts, timing and model)."""
    if not params.get("report") or exit_code == EXIT_USAGE:
        return
    from batch_classifier.inference.report.build import build_report

    settings = ({"--threshold": params.get("threshold"), "--uncertain": params.get("uncertain")}
                if kind == "images"
                else {"--lat-col": params.get("lat_col"), "--lon-col": params.get("lon_col")})
    if summary:
        made = build_report(params["output_path"], params["report"],
                            summary=summary.as_dict(), model_path=summary.model.path,
                            contract=summary.model.contract, settings=settings)
    else:
        made = build_report(params["output_path"], params["report"],
                            model_path=resolve_model(kind, params.get("model_spec")),
                            settings=settings)
    info(f"classify-{kind}: report {made.path} ({made.size / 1e6:.2f} MB, {made.rows} "
         f"{'images' if kind == 'images' else 'rows'})", params.get("quiet", False))
