"""Options and helpers shared by the classify-* commands."""

from __future__ import annotations

import sys
from collections.abc import Callable
from typing import Any

import click

from batch_classifier.inference.formats import FORMATS
from batch_classifier.inference.session import DEVICES

EXIT_OK, EXIT_SOME_FAILED, EXIT_USAGE, EXIT_INTERRUPTED = 0, 1, 2, 130
EXIT_CODES_HELP = (
    "\b\nExit codes:\n"
    "  0    every input was classified (or, with --resume, already done)\n"
    "  1    some inputs failed (see the error column)\n"
    "  2    usage or configuration error, or another job holds the output's lock\n"
    "  130  interrupted (SIGINT/SIGTERM) after the current batch; rows written so far\n"
    "       are kept (finish with --resume)"
)


def output_options(func: Callable[..., Any]) -> Callable[..., Any]:
    """--model, --device, -o, --format, --quiet: the same on every classify command."""
    decorators = [
        click.option("--model", "model_spec", metavar="NAME|PATH",
                     help="Model: a short name or an .onnx path (default: the shipped model)."),
        click.option("--device", type=click.Choice(DEVICES), default="auto", show_default=True,
                     help="auto: CUDA when onnxruntime offers it, else CPU."),
        click.option("-o", "--output", "output_path", metavar="FILE",
                     help="Write results here (atomically; a device or pipe as a stream) "
                          "instead of stdout."),
        click.option("--format", "output_format", type=click.Choice(FORMATS),
                     help="Output format (default: from the -o extension, else csv)."),
        click.option("-q", "--quiet", is_flag=True, help="No progress bar or info on stderr."),
    ]
    return stack_options(decorators, func)


def job_options(func: Callable[..., Any]) -> Callable[..., Any]:
    """--resume and --summary-json: what makes a classify command safe to schedule."""
    decorators = [
        click.option("--resume", is_flag=True,
                     help="Continue the -o FILE an earlier run left: classify only what it "
                          "lacks and append (repairs a record torn by a crash). Refused if "
                          "the input's done rows, the model or the options differ from that "
                          "run's (FILE.run.json records them)."),
        click.option("--summary-json", metavar="FILE",
                     help="Also write the run summary (counts, timing, model) as JSON here."),
    ]
    return stack_options(decorators, func)


def stack_options(decorators: list[Callable[..., Any]],
                  func: Callable[..., Any]) -> Callable[..., Any]:
    """Apply click decorators so the options appear in the order listed."""
    for decorator in reversed(decorators):
        func = decorator(func)
    return func


def fail(message: str) -> None:
    """Print one clear line on stderr and exit with the usage-error code."""
    click.echo(f"error: {message}", err=True)
    sys.exit(EXIT_USAGE)


def info(message: str, quiet: bool) -> None:
    """An informational line on stderr, unless --quiet."""
    if not quiet:
        click.echo(message, err=True)


def show_progress(quiet: bool) -> bool:
    """A progress bar only on an interactive stderr and without --quiet."""
    return not quiet and sys.stderr.isatty()


def started_params(kind: str) -> dict[str, Any]:
    """The running command's parameters, its --report checked; with --dask the whole run
    happens here, on the cluster, and the command exits with its code (report written)."""
    from batch_classifier.inference.distributed.options import run_on_dask
    from batch_classifier.inference.report.run import check_report, report_after_run

    params = click.get_current_context().params
    check_report(params)
    if params["scheduler"] is not None:
        code = run_on_dask(kind, params)
        report_after_run(kind, params, code, None)
        sys.exit(code)
    return params

