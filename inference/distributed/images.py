"""classify-images --dask: the folder walk streams on the client, and every batch of
--files-per-task paths becomes a part, classified on a worker by the same core as a
local run. Workers open the client's paths: they need the same (shared) file system;
or the paths are fsspec URLs, which the client lists and each worker reads itself."""

from __future__ import annotations

import hashlib
import os
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

from batch_classifier.inference.distributed.job import PlannedPart, dask_job
from batch_classifier.inference.distributed.options import is_url
from batch_classifier.inference.distributed.parts import PartResult, PartWriter
from batch_classifier.inference.distributed.urls import check_urls, open_input
from batch_classifier.inference.distributed.urlwalk import walk_urls
from batch_classifier.inference.distributed.workermodel import ModelSpec, worker_model
from batch_classifier.inference.errors import UsageError
from batch_classifier.inference.files.keys import display_path, sha256_of
from batch_classifier.inference.files.walk import FoundFile, walk_files
from batch_classifier.inference.formats import choose_format
from batch_classifier.inference.images.cli import classify_files
from batch_classifier.inference.images.detector import FakeImageDetector
from batch_classifier.inference.images.predict import COLUMN_TYPES, COLUMNS, TALLY_COLUMN
from batch_classifier.inference.images.walk import IMAGE_SUFFIXES

COMMAND = "classify-images"


@dataclass(frozen=True)
class ImagesTask:
    """What every part's task needs besides its files."""

    model: str  # the name workers find the model under
    fmt: str
    threshold: float
    uncertain: tuple[float, float] | None
    batch_size: int
    workers: int
    max_pixels: int
    cwd: str  # the client's folder, which relative paths are relative to
    urls: bool  # the files are fsspec URLs, opened through fsspec
    provenance: bool  # read what files say about their origin (--provenance on)


def run(params: dict[str, Any]) -> int:
    """Classify the paths of classify-images' `params` on Dask; the exit code."""
    output = params["output_path"]
    roots = [str(path) for path in params["paths"]]
    check_urls([*roots, output])
    urls = any(is_url(root) for root in roots)
    if urls and not all(is_url(root) for root in roots):
        raise UsageError("give either local paths or URLs, not both")
    if params["content_hash"]:
        raise UsageError("--hash is for a local --resume; with --dask a part is the unit "
                         "of resume")
    detector = FakeImageDetector(params["model_spec"] or "deepfake", device="cpu",
                                 threshold=params["threshold"], uncertain=params["uncertain"],
                                 threads=1, provenance=params["provenance"] == "on")
    # the detector is here only for its contract and options
    model, threshold = detector.model, detector.threshold
    fmt = choose_format(output, params["output_format"])
    plan = {"command": COMMAND, "format": fmt, "columns": COLUMNS,
            "model_sha256": sha256_of(model.path), "threshold": threshold,
            "uncertain": list(detector.uncertain or ()), "provenance": params["provenance"],
            "max_pixels": params["max_pixels"], "follow_links": params["follow_links"],
            "files_per_task": params["files_per_task"],
            "inputs": [root if urls else os.path.abspath(root) for root in roots]}
    spec = ModelSpec("images", params["device"], None)
    with dask_job(COMMAND, "images", model, params, fmt, plan, spec, roots,
                  IMAGE_SUFFIXES, TALLY_COLUMN) as (job, client, model_name):
        task = ImagesTask(model_name, fmt, threshold, detector.uncertain, params["batch_size"],
                          params["workers"], params["max_pixels"], os.getcwd(), urls,
                          detector.provenance)
        found = (walk_urls(roots, IMAGE_SUFFIXES) if urls
                 else walk_files(params["paths"], IMAGE_SUFFIXES, params["follow_links"]))
        job.run(client, planned_parts(found, params["files_per_task"], job.history),
                classify_images_part, task)
    return job.exit_code


def planned_parts(found: Iterable[FoundFile], files_per_task: int,
                  history: dict[int, dict[str, Any]]) -> Iterator[PlannedPart]:
    """Batches of found files as parts, as the walk goes: a new part every
    `files_per_task` files, and (resuming) wherever a part of the journal `history`
    began, which keeps its number; other parts take numbers after the journal's. New
    files so join or follow the parts they sort into, and move no other file: only the
    parts they join are computed again."""
    starts = {record["first"]: number for number, record in history.items() if "first" in record}
    fresh = max(history, default=-1) + 1
    files: list[FoundFile] = []
    number = fresh
    for item in found:
        first = display_path(item.path)
        if files and (first in starts or len(files) >= files_per_task):
            yield _part(number, files)
            files = []
        if not files:
            number = starts.pop(first, None)
            if number is None:
                number, fresh = fresh, fresh + 1
        files.append(item)
    if files:
        yield _part(number, files)


def _part(number: int, files: list[FoundFile]) -> PlannedPart:
    """Part `number` of `files`, with a digest of their paths, sizes and mtimes."""
    digest = hashlib.sha256()
    for item in files:
        error = item.error.kind if item.error else ""
        digest.update(f"{display_path(item.path)}\0{item.size}\0{item.mtime_ns}\0"
                      f"{error}\n".encode("utf-8", "surrogateescape"))
    return PlannedPart(number, digest.hexdigest(),
                       {"files": len(files), "first": display_path(files[0].path)}, files)


def classify_images_part(files: list[FoundFile], number: int, path: str,
                         task: ImagesTask) -> PartResult:
    """Classify `files` into part file `number` at `path` (a task)."""
    detector = FakeImageDetector.wrapping(worker_model(task.model), task.threshold,
                                          task.uncertain, task.provenance)
    opened = files if task.urls else [replace(item, path=Path(task.cwd, item.path))
                                      for item in files]
    with PartWriter(number, path, task.fmt, COLUMNS, COLUMN_TYPES,
                    detector.model.provider, TALLY_COLUMN) as part:
        classify_files(_PathsAsGiven(part, files), detector, opened,
                       task.batch_size, task.workers, task.max_pixels,
                       open_file=open_input if task.urls else None)
    return part.result


class _PathsAsGiven:
    """A RowSink that shows each file's path as the client gave it (the worker opened it
    under the client's folder), in order."""

    def __init__(self, sink: PartWriter, files: list[FoundFile]):
        self._sink = sink
        self._paths = (display_path(item.path) for item in files)
        self.format = sink.format
        self.stopping = sink.stopping

    def write(self, rows: list[list[Any]] | str, error_kinds: list[str | None]) -> None:
        for row in rows:
            row[0] = next(self._paths)
        self._sink.write(rows, error_kinds)

