"""classify-images: say whether each image is a real photo or AI-generated."""

from __future__ import annotations

import sys
from pathlib import Path

import click
from tqdm import tqdm

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
from inference.images.decode import DEFAULT_MAX_PIXELS
from inference.images.pipeline import DecodedBatch, decoded_batches
from inference.images.predict import COLUMNS, fake_probabilities, input_size, labels_for
from inference.images.walk import find_images
from inference.models import resolve_model
from inference.output import ResultWriter, choose_format
from inference.session import LoadedModel, load_model


@click.command(epilog=EXIT_CODES_HELP, context_settings={"help_option_names": ["-h", "--help"]})
@click.argument("paths", nargs=-1, required=True, metavar="PATH...",
                type=click.Path(exists=True, path_type=Path))
@click.option("--batch-size", type=click.IntRange(1), default=32, show_default=True,
              help="Images per model call.")
@click.option("--threshold", type=click.FloatRange(0, 1),
              help="Call an image fake when P(fake) >= this (default: the model's, 0.5).")
@click.option("--workers", type=click.IntRange(0), default=0,
              help="Decoding threads (0: one per CPU core, at most 8).")
@click.option("--max-pixels", type=click.IntRange(1), default=DEFAULT_MAX_PIXELS,
              show_default=True, help="Refuse larger images (decompression bombs).")
@output_options
def main(paths: tuple[Path, ...], batch_size: int, threshold: float | None, workers: int,
         max_pixels: int, model_spec: str | None, device: str, output_path: str | None,
         output_format: str | None, quiet: bool) -> None:
    """Classify images as real photographs or AI-generated (fake).

    PATH is an image file or a folder, walked recursively for JPEG, PNG, WebP, BMP,
    TIFF and GIF files (hidden files skipped). Columns: path, label (real/fake),
    fake_probability, and error (empty when the image was classified; a file that
    cannot be read gets a row with the reason and no label).
    """
    try:
        model = load_model(resolve_model("images", model_spec), device=device, task="images")
        size = input_size(model)
        cutoff = model.contract.threshold if threshold is None else threshold
        info(f"classify-images: model {model.path.name} ({model.contract.model_name}, "
             f"{size}x{size}) on {model.provider}", quiet)
        files = find_images(paths)
        if not files:
            info("classify-images: no image files found", quiet)
        failed = _classify(model, files, size, cutoff, batch_size, workers, max_pixels,
                           output_path, output_format, quiet)
    except UsageError as exc:
        fail(str(exc))
    except KeyboardInterrupt:
        info("classify-images: interrupted; rows written so far are kept", False)
        sys.exit(EXIT_INTERRUPTED)
    sys.exit(EXIT_SOME_FAILED if failed else EXIT_OK)


def _classify(model: LoadedModel, files: list[Path], size: int, threshold: float,
              batch_size: int, workers: int, max_pixels: int, output_path: str | None,
              output_format: str | None, quiet: bool) -> int:
    """Classify every file, writing rows batch by batch; return how many failed."""
    writer = ResultWriter(output_path, choose_format(output_path, output_format), COLUMNS)
    failed = 0
    with tqdm(total=len(files), unit="img", disable=not show_progress(quiet),
              desc="classify-images") as bar:
        try:
            for batch in decoded_batches(files, size, batch_size, workers, max_pixels):
                rows = result_rows(model, batch, threshold)
                failed += sum(1 for row in rows if row[-1])
                writer.write_rows(rows)
                bar.update(len(rows))
        except UsageError:
            writer.abort()
            raise
        except KeyboardInterrupt:
            writer.close()
            raise
    writer.close()
    return failed


def result_rows(model: LoadedModel, batch: DecodedBatch, threshold: float) -> list[list]:
    """path, label, fake_probability, error for every file of the batch, in order."""
    probabilities = fake_probabilities(model, batch.images)
    labels = labels_for(probabilities, threshold, model.contract.labels)
    predicted = dict(zip(batch.ok, zip(labels, probabilities.tolist(), strict=True),
                         strict=True))
    rows = []
    for i, (path, error) in enumerate(zip(batch.paths, batch.errors, strict=True)):
        label, probability = predicted.get(i, (None, None))
        rows.append([str(path), label,
                     None if probability is None else round(probability, 6), error])
    return rows
