"""Make the report of an output: read it back once, chunk by chunk, into the bounded
summaries of the images or cities report, and write one HTML file."""

from __future__ import annotations

import gc
import os
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from batch_classifier.inference.contract import ModelContract
from batch_classifier.inference.errors import UsageError
from batch_classifier.inference.report.about import model_section, read_run_record, run_section
from batch_classifier.inference.report.cities import CitiesReport
from batch_classifier.inference.report.images import ImagesReport
from batch_classifier.inference.report.outputs import open_output
from batch_classifier.inference.report.page import document, write_page
from batch_classifier.inference.session import load_model

MAX_BYTES = 5 * 10**6
TITLES = {"images": "classify-images report", "cities": "classify-cities report"}


@dataclass(frozen=True)
class ReportMade:
    """What was written: the report's path, its size and the output rows it covers."""

    path: Path
    size: int
    rows: int
    kind: str


def output_kind(header: list[str]) -> str:
    """images or cities, from the output's columns."""
    if "fake_probability" in header:
        return "images"
    if any(name.startswith(("confidence", "predicted_confidence")) for name in header):
        return "cities"
    raise UsageError("not an output of classify-images or classify-cities (no "
                     "fake_probability or confidence column)")


def build_report(output: str | os.PathLike, report: str | os.PathLike, *,
                 summary: dict[str, Any] | None = None, model_path: str | os.PathLike | None = None,
                 contract: ModelContract | None = None,
                 settings: dict[str, Any] | None = None) -> ReportMade:
    """Write the HTML report of `output` (a file, or a folder of parts) to `report`.

    `summary` is the run's (when a run makes its report); the model and the options
    (--threshold, --uncertain, --lat-col, --lon-col) come from `model_path` (and its
    `contract`, read from the file when not given) and `settings`, else from the
    output's run record, else the model stays unknown."""
    rows = open_output(output)
    if Path(report).resolve() in {file.resolve() for file in rows.files}:
        raise UsageError(f"{report}: is the output the report is made from; name another file")
    record = read_run_record(rows.path)
    options = {**record.get("options", {}), **{k: v for k, v in (settings or {}).items()
                                                if v is not None}}
    model_file = Path(model_path) if model_path else _recorded_model(record)
    contract = contract or _contract(model_file)
    kind = output_kind(rows.header)
    if kind == "images":
        threshold = options.get("--threshold", contract.threshold if contract else None)
        band = tuple(options["--uncertain"]) if len(options.get("--uncertain") or ()) == 2 \
            else None
        made: ImagesReport | CitiesReport = ImagesReport(rows.header, threshold, band)
    else:
        made = CitiesReport(rows.header, options.get("--lat-col"), options.get("--lon-col"))
    with gc_paused():  # millions of short-lived rows, no cycles: the collector only slows it
        for chunk in rows.chunks():
            made.add(chunk)
    sections = [*made.sections(), run_section(rows, made.rows, made.unit, summary, record),
                model_section(contract, model_file if contract else None)]
    text = document(f"{TITLES[kind]}: {rows.path.name}", sections)
    size = len(text.encode("utf-8"))
    if size > MAX_BYTES:  # cannot happen by design (every part is bounded); say so if it does
        raise UsageError(f"{report}: the report would be {size:,} bytes, over {MAX_BYTES:,}")
    write_page(report, text)
    return ReportMade(Path(report), size, made.rows, kind)


@contextmanager
def gc_paused() -> Iterator[None]:
    """Pause Python's cyclic garbage collector (reference counting still frees memory)."""
    was_enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if was_enabled:
            gc.enable()


def _recorded_model(record: dict[str, Any]) -> Path | None:
    name = record.get("model_file")
    return Path(name) if isinstance(name, str) and Path(name).is_file() else None


def _contract(model_file: Path | None) -> ModelContract | None:
    """The model's contract, or None when there is no model file to read."""
    if model_file is None:
        return None
    return load_model(model_file, device="cpu", threads=1).contract
