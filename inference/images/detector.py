"""FakeImageDetector: real vs AI-generated from Python, and what classify-images runs.

    >>> from batch_classifier import FakeImageDetector
    >>> FakeImageDetector().predict(["photo.jpg", "render.png"]).label
    array(['real', 'fake'], dtype=object)
"""

from __future__ import annotations

import os
from collections.abc import Iterable, Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any, NamedTuple

import numpy as np
from PIL import Image

from batch_classifier.inference.arguments import check_number, check_whole, short_repr
from batch_classifier.inference.errors import RowError, UsageError
from batch_classifier.inference.files.walk import FoundFile, walk_files
from batch_classifier.inference.images.decode import (
    DEFAULT_MAX_PIXELS,
    square,
    to_rgb,
)
from batch_classifier.inference.images.pipeline import DecodedBatch, assembled_batch, read_file
from batch_classifier.inference.images.predict import fake_probabilities, input_size
from batch_classifier.inference.images.provenance.findings import Provenance, decide
from batch_classifier.inference.portable import TravellingModel
from batch_classifier.inference.predictions import Predictions
from batch_classifier.inference.session import LoadedModel

# Pixels per ONNX Runtime call: a call's memory grows with images x pixels (the shipped
# model holds ~60 MiB per 256 px image: upsampled x1.5 and flipped inside its graph), and
# the session's arena keeps its largest call's memory for the rest of the run. Four
# such images a call run as fast as 32 on CPU (bench/bench_memory.py).
PIXELS_PER_CALL = 4 * 256 * 256
UNCERTAIN = "uncertain"


class Verdict(NamedTuple):
    """One file's result: label and evidence (metadata or pixels; None for a file that
    failed), P(fake) rounded to 6 places (the pixel model's, whatever decided), and what
    the file says about its origin (None when nothing was found or read)."""

    label: str | None
    fake_probability: float | None
    evidence: str | None
    provenance: str | None


class FakeImageDetector(TravellingModel):
    """One images model. `model`: a shipped model's short name ("deepfake") or an .onnx
    path; `device`: auto, cpu or cuda; `threshold`: P(fake) from which an image is
    called fake (default: the model's, tuned on validation); `uncertain`: (low, high),
    a band around the threshold where the label is "uncertain" instead (the probability
    is still given); `provenance`: read what each file says about its origin first (a
    file declaring itself AI-generated is labelled fake by its metadata; see the
    README's "Provenance"). The methods are safe to call repeatedly. It pickles (for
    Dask, multiprocessing, Spark) as the model's name, or a custom model's bytes, and
    its options; each process loads the model once, on first use."""

    task = "images"

    def __init__(self, model: str | os.PathLike = "deepfake", device: str = "auto",
                 threshold: float | None = None,
                 uncertain: tuple[float, float] | None = None, threads: int = 0,
                 provenance: bool = True):
        self._open(model, device, threads)
        self._setup(threshold, uncertain, provenance)

    @classmethod
    def wrapping(cls, model: LoadedModel, threshold: float | None = None,
                 uncertain: tuple[float, float] | None = None,
                 provenance: bool = True) -> FakeImageDetector:
        """A detector around a model already loaded (e.g. once per Dask worker)."""
        detector = cls.__new__(cls)
        detector._wrap(model)
        detector._setup(threshold, uncertain, provenance)
        return detector

    def _setup(self, threshold: float | None, uncertain: tuple[float, float] | None,
               provenance: bool) -> None:
        self.provenance = bool(provenance)
        self.size = input_size(self.model)
        self.threshold = self.model.contract.threshold if threshold is None \
            else check_number("threshold", threshold)
        if not 0.0 <= self.threshold <= 1.0:
            raise UsageError(f"threshold {self.threshold:g} is not in [0, 1]")
        if uncertain is not None:
            if not isinstance(uncertain, tuple | list) or len(uncertain) != 2:
                raise UsageError(f"uncertain {uncertain!r}: want a pair (low, high)")
            low, high = (check_number("uncertain", value) for value in uncertain)
            if not 0.0 <= low <= self.threshold <= high <= 1.0:
                raise UsageError(f"uncertain band {low:g},{high:g} must lie in [0, 1] and "
                                 f"contain the threshold {self.threshold:g}")
            uncertain = (low, high)
        self.uncertain = uncertain

    def probabilities(self, images: np.ndarray) -> np.ndarray:
        """P(fake) of each image of a decoded uint8 [N, size, size, 3] batch, the model
        taking at most PIXELS_PER_CALL pixels a call."""
        rows = max(1, PIXELS_PER_CALL // max(1, images.shape[1] * images.shape[2]))
        if len(images) <= rows:
            return fake_probabilities(self.model, images)
        return np.concatenate([fake_probabilities(self.model, images[start:start + rows])
                               for start in range(0, len(images), rows)])

    def labels(self, probabilities: np.ndarray) -> list[str]:
        """real / fake by the threshold, or uncertain inside the band."""
        real, fake = self.model.contract.labels
        low, high = self.uncertain or (np.inf, -np.inf)
        return [UNCERTAIN if low <= p < high else fake if p >= self.threshold else real
                for p in probabilities.tolist()]

    def classify(self, batch: DecodedBatch) -> list[Verdict]:
        """The verdict on each file of a decoded batch (label, P(fake), evidence and
        provenance; label, probability and evidence None for a file that failed)."""
        probabilities = self.probabilities(batch.images)
        predicted = dict(zip(batch.ok, zip(self.labels(probabilities),
                                           probabilities.tolist(), strict=True), strict=True))
        marks = batch.provenance or [None] * len(batch.files)
        fake = self.model.contract.labels[1]
        verdicts = []
        for i, read in enumerate(marks):
            label, p = predicted.get(i, (None, None))
            label, evidence = decide(label, read, fake)
            verdicts.append(Verdict(label, None if p is None else round(p, 6), evidence,
                                    read and read.text))
        return verdicts

    def predict(self, items: Iterable[str | os.PathLike | np.ndarray], batch_size: int = 32,
                workers: int = 0, max_pixels: int = DEFAULT_MAX_PIXELS) -> Predictions:
        """Classify image files (decoded exactly as classify-images decodes them) and/or
        uint8 arrays (H x W, H x W x 1, 3 or 4; resized and centre-cropped the same way).

        Returns columns as numpy arrays, one value per item in order: label (real, fake,
        or uncertain inside the band), fake_probability, evidence (metadata or pixels),
        provenance (what a file says about its origin; None for arrays), and error (None,
        or why the item could not be classified, such as a missing file or an item that
        is neither a path nor an array; its label, probability and evidence are then
        None/nan)."""
        batch_size = check_whole("batch_size", batch_size, 1)
        workers = check_whole("workers", workers, 0)
        max_pixels = check_whole("max_pixels", max_pixels, 1)
        verdicts: list[Verdict] = []
        errors: list[str | None] = []
        for batch in self._batches(item_list(items), batch_size, workers, max_pixels):
            verdicts += self.classify(batch)
            errors += [error and error.message for error in batch.errors]
        columns = {name: np.array([getattr(v, name) for v in verdicts],
                                  dtype=np.float64 if name == "fake_probability" else object)
                   for name in Verdict._fields}  # a None probability becomes nan
        return Predictions({**columns, "error": np.array(errors, dtype=object)})

    def _batches(self, items: list[Any], batch_size: int, workers: int,
                 max_pixels: int) -> Iterator[DecodedBatch]:
        with ThreadPoolExecutor(workers or min(8, os.cpu_count() or 1)) as pool:
            for start in range(0, len(items), batch_size):
                chunk = items[start:start + batch_size]
                decoded, marks = zip(*pool.map(lambda item: self._decode(item, max_pixels),
                                               chunk), strict=True)
                files = [FoundFile(Path(i) if isinstance(i, str | os.PathLike)
                                   else Path(f"<{type(i).__name__}>")) for i in chunk]
                yield assembled_batch(files, list(decoded), self.size, list(marks))

    def _decode(self, item: Any,
                max_pixels: int) -> tuple[np.ndarray | RowError, Provenance | None]:
        if isinstance(item, np.ndarray):
            return decode_array(item, self.size, max_pixels), None
        if not isinstance(item, str | os.PathLike):
            return RowError("not an image", f"not an image: want a file path or a uint8 "
                                            f"array, got {type(item).__name__}"), None
        found = found_file(item)
        if found.error:
            return found.error, None
        return read_file(found.path, self.size, max_pixels, provenance=self.provenance)


def item_list(items: Iterable[Any]) -> list[Any]:
    """The items of `predict` as a list; one path or array passed alone (which would
    be taken apart character by character, or row by row) is refused; a uint8
    [N, H, W, C] array is N images."""
    if isinstance(items, np.ndarray) and items.ndim == 4:
        return list(items)
    if isinstance(items, str | bytes | os.PathLike | np.ndarray):
        raise UsageError(f"predict takes a list of images, not one {type(items).__name__} "
                         f"({short_repr(items)}): pass [item]")
    try:
        return list(items)
    except TypeError:
        raise UsageError(f"predict takes a list of images (file paths or uint8 arrays), "
                         f"not {short_repr(items)}") from None


def found_file(path: str | os.PathLike) -> FoundFile:
    """A path named directly, looked at as classify-images looks at one (a folder, a
    FIFO or a broken link gets its error instead of being opened)."""
    if Path(path).is_dir():
        return FoundFile(Path(path), error=RowError("is a directory", "is a directory"))
    if not os.path.lexists(path):
        return FoundFile(Path(path), error=RowError("no such file", "no such file"))
    return next(walk_files([path], follow_links=True))


def decode_array(array: np.ndarray, size: int,
                 max_pixels: int = DEFAULT_MAX_PIXELS) -> np.ndarray | RowError:
    """A uint8 H x W (x 1, 3 or 4) array as the model's input, or why it cannot be."""
    shape = array.shape
    if array.dtype != np.uint8 or array.ndim not in (2, 3) or \
            (array.ndim == 3 and shape[2] not in (1, 3, 4)) or 0 in shape:
        return RowError("not an image", f"not an image array (want uint8 HxW, HxWx1, HxWx3 "
                                        f"or HxWx4; got {array.dtype} {shape})")
    if shape[0] * shape[1] > max_pixels:
        return RowError("decompression bomb", f"decompression bomb: {shape[1]}x{shape[0]} "
                                              f"pixels is over the limit of {max_pixels:,}")
    array = array[:, :, 0] if array.ndim == 3 and shape[2] == 1 else array
    return square(to_rgb(Image.fromarray(np.ascontiguousarray(array))), size)
