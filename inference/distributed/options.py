"""The --dask options of the classify commands, and the hand-over to the Dask engine,
which is imported only when asked for (the plain install has no Dask)."""

from __future__ import annotations

import importlib
import os
import re
from collections.abc import Callable, Iterable
from typing import Any

import click

from batch_classifier.inference.cli_common import stack_options
from batch_classifier.inference.errors import UsageError

DASK_EXTRA_HINT = "pip install 'batch-classifier[dask]'"
DEFAULT_BLOCKSIZE = 64 * 10**6
DEFAULT_FILES_PER_TASK = 1000
SCHEDULER_ENV = "DASK_SCHEDULER_ADDRESS"
FROM_ENV = f"${SCHEDULER_ENV}"  # what a bare --dask stands for
_URL = re.compile(r"[a-zA-Z][a-zA-Z0-9+.-]*://")
_UNITS = {"": 1, "b": 1, "kb": 10**3, "mb": 10**6, "gb": 10**9, "kib": 1 << 10,
          "mib": 1 << 20, "gib": 1 << 30}


class ByteSize(click.ParamType):
    """A size in bytes: 64MB, 256KiB, 1000000."""

    name = "SIZE"

    def convert(self, value: Any, param: Any, ctx: Any) -> int:
        if isinstance(value, int):
            return value
        found = re.fullmatch(r"\s*(\d+(?:\.\d+)?)\s*([a-zA-Z]*)\s*", str(value))
        unit = found and _UNITS.get(found.group(2).lower())
        if not unit or float(found.group(1)) * unit < 1:
            self.fail(f"{value!r} is not a size such as 64MB, 256KiB or 1000000", param, ctx)
        return int(float(found.group(1)) * unit)


def is_url(path: str | os.PathLike) -> bool:
    """True for an fsspec URL (`s3://bucket/key`, `file:///data`), which only --dask reads
    and writes; anything else is a local path."""
    return isinstance(path, str) and _URL.match(path) is not None


def refuse_urls(paths: Iterable[str | os.PathLike | None]) -> None:
    """A local run reads and writes local paths only: one clear error for a URL."""
    for path in paths:
        if path is not None and is_url(path):
            raise UsageError(f"{path}: URLs need --dask (e.g. --dask local); a local run "
                             "reads and writes local paths")


class PathOrUrl(click.Path):
    """An existing local path (a Path), or an fsspec URL kept as text (checked later)."""

    def convert(self, value: Any, param: Any, ctx: Any) -> Any:
        if is_url(value):
            return value
        return super().convert(value, param, ctx)


def dask_options(kind: str) -> Callable[[Callable[..., Any]], Callable[..., Any]]:
    """--dask and how the input is cut into parts: --blocksize (cities) or
    --files-per-task (images)."""
    scheduler = click.option(
        "--dask", "scheduler", metavar="[SCHEDULER]", is_flag=False, flag_value=FROM_ENV,
        help="Run on Dask: 'local' (a worker process per core), 'local:N', or a scheduler "
             "address (tcp://host:8786); --dask alone (or --dask=) takes the address from "
             "DASK_SCHEDULER_ADDRESS, which is not used without --dask. -o then names a "
             "folder of parts. Inputs and -o may be fsspec URLs (s3://..., with its "
             f"package, e.g. s3fs). Needs the dask extra ({DASK_EXTRA_HINT}).")
    if kind == "cities":
        part = click.option(
            "--blocksize", type=ByteSize(), default=DEFAULT_BLOCKSIZE, show_default="64MB",
            help="With --dask: input bytes per part (CSV cut at record boundaries; "
                 "Parquet by row groups).")
    else:
        part = click.option(
            "--files-per-task", type=click.IntRange(1), default=DEFAULT_FILES_PER_TASK,
            show_default=True, help="With --dask: image files per part.")
    return lambda func: stack_options([scheduler, part], func)


def single_input(inputs: tuple[str, ...]) -> str:
    """The one input file of a local run."""
    if len(inputs) != 1:
        raise UsageError(f"{len(inputs)} input files: a local run takes one (several files "
                         "or globs need --dask)")
    return inputs[0]


def run_on_dask(kind: str, params: dict[str, Any]) -> int:
    """Run the `kind` command (cities, images) with its CLI `params` on Dask; the exit
    code. Without the dask extra, a UsageError naming it."""
    if not params["output_path"]:
        raise UsageError("--dask writes a folder of parts: name it with -o OUTDIR")
    if params["scheduler"] in (FROM_ENV, ""):
        params = {**params, "scheduler": os.environ.get(SCHEDULER_ENV, "")}
        if not params["scheduler"]:
            raise UsageError(f"--dask without an address takes it from {SCHEDULER_ENV}, "
                             "which is not set; name one (--dask local, --dask "
                             "tcp://host:8786)")
    try:
        importlib.import_module("distributed")
    except ImportError as exc:
        raise UsageError(f"--dask needs Dask, which is not installed ({exc}): "
                         f"{DASK_EXTRA_HINT}") from None
    engine = importlib.import_module(f"batch_classifier.inference.distributed.{kind}")
    return engine.run(params)
