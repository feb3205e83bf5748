"""classify-images: say whether each image is a real photo or AI-generated."""

from __future__ import annotations

import os
import sys
from collections.abc import Callable, Iterable, Iterator, Sequence
from itertools import takewhile
from pathlib import Path
from typing import IO, Any

import click
from tqdm import tqdm

from batch_classifier import __version__
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
    PathOrUrl,
    dask_options,
    refuse_urls,
)
from batch_classifier.inference.errors import UsageError
from batch_classifier.inference.files.keys import display_path, key_columns, not_done, with_hashes
from batch_classifier.inference.files.walk import FoundFile, walk_files
from batch_classifier.inference.images.decode import DEFAULT_MAX_PIXELS
from batch_classifier.inference.images.detector import FakeImageDetector
from batch_classifier.inference.images.pipeline import DecodedBatch, decoded_batches
from batch_classifier.inference.images.predict import (
    COLUMN_TYPES,
    COLUMNS,
    TALLY_COLUMN,
)
from batch_classifier.inference.images.walk import IMAGE_SUFFIXES
from batch_classifier.inference.jobs.job import BatchJob
from batch_classifier.inference.jobs.sink import RowSink
from batch_classifier.inference.report.run import REPORT_OPTION, report_after_run


class BandType(click.ParamType):
    """LOW,HIGH: two probabilities, LOW <= HIGH."""

    name = "LOW,HIGH"

    def convert(self, value: Any, param: Any, ctx: Any) -> tuple[float, float]:
        if isinstance(value, tuple):
            return value
        try:
            low, high = (float(part) for part in str(value).split(","))
        except ValueError:
            self.fail(f"{value!r} is not LOW,HIGH (two numbers)", param, ctx)
        if not 0 <= low <= high <= 1:
            self.fail(f"{value!r}: want 0 <= LOW <= HIGH <= 1", param, ctx)
        return low, high


@click.command(epilog=EXIT_CODES_HELP, context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(__version__, prog_name="classify-images")
@click.argument("paths", nargs=-1, required=True, metavar="PATH...",
                type=PathOrUrl(exists=True, path_type=Path))
@click.option("--batch-size", type=click.IntRange(1), default=32, show_default=True,
              help="Images decoded and written together (the model takes them a few at a "
                   "time, so memory does not grow with this).")
@click.option("--threshold", type=click.FloatRange(0, 1),
              help="Call an image fake when P(fake) >= this (default: the model's, tuned "
                   "on validation; see its card).")
@click.option("--uncertain", type=BandType(), metavar="LOW,HIGH",
              help="Label an image 'uncertain' (probability still written) when LOW <= "
                   "P(fake) < HIGH, e.g. to send doubtful files to a person; the band must "
                   "contain the threshold.")
@click.option("--workers", type=click.IntRange(0), default=0,
              help="Decoding threads (0: one per CPU core, at most 8).")
@click.option("--max-pixels", type=click.IntRange(1), default=DEFAULT_MAX_PIXELS,
              show_default=True, help="Refuse larger images (decompression bombs).")
@click.option("--provenance", type=click.Choice(["on", "off"]), default="on",
              show_default=True,
              help="Read what each file says about its origin first (C2PA, IPTC in XMP, "
                   "generator metadata): a file declaring itself AI-generated is labelled "
                   "fake with evidence=metadata. 'off': the pixel model only.")
@click.option("--follow-links", is_flag=True,
              help="Follow symbolic links that lead out of the folders given (by default "
                   "such a link gets a row with an error and is not followed).")
@output_options
@job_options
@REPORT_OPTION
@click.option("--hash", "content_hash", is_flag=True,
              help="With --resume: recognise files already done by content (SHA-256) "
                   "instead of size and modification time.")
@dask_options("images")
def main(paths: tuple[Path | str, ...], batch_size: int, threshold: float | None,
         uncertain: tuple[float, float] | None, workers: int, max_pixels: int,
         provenance: str, follow_links: bool, model_spec: str | None, device: str,
         output_path: str | None, output_format: str | None, quiet: bool, resume: bool,
         summary_json: str | None, report: str | None, content_hash: bool,
         scheduler: str | None, files_per_task: int) -> None:
    """Classify images as real photographs or AI-generated (fake).

    PATH is an image file or a folder, walked recursively for JPEG, PNG, WebP, BMP,
    TIFF and GIF files (and AVIF/HEIF where Pillow has a plugin; hidden files skipped;
    links leading out of the folder not followed without --follow-links). Another
    format, whatever its name, is an 'unsupported format'. Columns: path (a byte that
    is not UTF-8 written as \\xNN, a backslash as \\\\), label (real/fake),
    fake_probability (the pixel model's), evidence (metadata: the file declares itself
    AI-generated; pixels: the model decided), provenance (what the file says about its
    origin: C2PA, XMP, generator metadata), and error (empty when the image was
    classified; a file that cannot be read gets a row with the reason and no label).

    With -o FILE --resume, the output also holds each file's size and mtime_ns (or
    sha256 with --hash), and a rerun classifies only new or changed files and appends
    them, flushed batch by batch, so a run killed at any point loses nothing and
    duplicates nothing. One run at a time per output.

    With --dask, -o names a folder of parts; the workers must see the same paths (or
    PATH and -o are fsspec URLs, s3://...).
    """
    try:
        params = started_params("images")
        refuse_urls([*paths, output_path])
        if content_hash and not resume:
            raise UsageError("--hash goes with --resume (it is how done files are recognised)")
        detector = FakeImageDetector(model_spec or "deepfake", device=device,
                                     threshold=threshold, uncertain=uncertain,
                                     provenance=provenance == "on")
        model, size = detector.model, detector.size
        info(f"classify-images: model {model.path.name} ({model.contract.model_name}, "
             f"{size}x{size}, threshold {detector.threshold:g}) on {model.provider}", quiet)
        keys = key_columns(content_hash) if resume else ()
        with BatchJob("classify-images", "images", model, COLUMNS + list(keys[1:]),
                      output_path=output_path, output_format=output_format, resume=resume,
                      summary_json=summary_json, quiet=quiet, key_columns=keys, inputs=paths,
                      input_suffixes=IMAGE_SUFFIXES, column_types=COLUMN_TYPES,
                      tally_column=TALLY_COLUMN,
                      settings={"--threshold": detector.threshold, "--max-pixels": max_pixels,
                                "--uncertain": list(uncertain or ()),
                                "--provenance": provenance},
                      partial_resumable=False) as job:
            found = _files_to_do(job, paths, keys, workers, follow_links)
            _classify(job, detector, found, batch_size, workers, max_pixels, quiet)
            if not job.summary.seen:
                info("classify-images: no image files found", quiet)
        report_after_run("images", params, job.exit_code, job.summary)
    except UsageError as exc:
        fail(str(exc))
    except KeyboardInterrupt:
        info("classify-images: interrupted", False)
        sys.exit(EXIT_INTERRUPTED)
    sys.exit(job.exit_code)


def _files_to_do(job: BatchJob, paths: tuple[Path, ...], keys: tuple[str, ...], workers: int,
                 follow_links: bool) -> Iterator[FoundFile]:
    """The files found under `paths` that the output does not hold yet, until a stop."""
    content_hash = "sha256" in keys
    found = walk_files(paths, IMAGE_SUFFIXES, follow_links)
    if content_hash:
        found = with_hashes(found, workers or min(8, os.cpu_count() or 1))
    if job.done.keys:
        found = not_done(found, job.done.keys, content_hash, lambda: job.skip(1))
    return takewhile(lambda _: not job.stopping, found)


def _classify(job: BatchJob, detector: FakeImageDetector, found: Iterator[FoundFile],
              batch_size: int, workers: int, max_pixels: int, quiet: bool) -> None:
    """Decode and classify, writing batch by batch (with the key columns a resumable
    output has)."""
    extra = job.key_columns[1:]
    with tqdm(unit="img", disable=not show_progress(quiet), desc="classify-images") as bar:
        classify_files(job, detector, found, batch_size, workers, max_pixels, extra,
                       bar.update)


def classify_files(job: RowSink, detector: FakeImageDetector, found: Iterable[FoundFile],
                   batch_size: int, workers: int, max_pixels: int, extra: Sequence[str] = (),
                   on_batch: Callable[[int], object] | None = None,
                   open_file: Callable[[str], IO[bytes]] | None = None) -> None:
    """Decode and classify `found`, writing batch by batch (each row followed by the
    file's `extra` attributes); `on_batch` is told each batch's size; `open_file` opens
    files that are not local (see `decode_file`). This is the core a local run and each
    part of a distributed run go through."""
    for batch in decoded_batches(found, detector.size, batch_size, workers, max_pixels,
                                 open_file=open_file, provenance=detector.provenance):
        rows = result_rows(detector, batch)
        job.write([row + [getattr(f, name) for name in extra]
                   for row, f in zip(rows, batch.files, strict=True)],
                  [error and error.kind for error in batch.errors])
        if on_batch:
            on_batch(len(rows))
        if job.stopping:
            break


def result_rows(detector: FakeImageDetector, batch: DecodedBatch) -> list[list]:
    """path, label, fake_probability, evidence, provenance, error for every file of the
    batch, in order."""
    return [[display_path(found.path), *verdict, error and error.message]
            for found, verdict, error
            in zip(batch.files, detector.classify(batch), batch.errors, strict=True)]


if __name__ == "__main__":
    main()
