"""Decode images in threads while the model runs on the previous batch."""

from __future__ import annotations

import os
from collections import deque
from collections.abc import Callable, Iterable, Iterator
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass, field
from itertools import islice
from typing import IO

import numpy as np

from batch_classifier.inference.errors import RowError
from batch_classifier.inference.files.walk import FoundFile
from batch_classifier.inference.images.decode import DEFAULT_MAX_PIXELS, decode_file
from batch_classifier.inference.images.provenance.findings import Provenance
from batch_classifier.inference.images.provenance.reader import read_provenance


@dataclass
class DecodedBatch:
    """A batch of found files: the decoded images of the good ones and, for each file, its
    error (from the walk or the decoder; None for a decoded one) and its provenance
    (None where not read; the list may be empty when none was)."""

    files: list[FoundFile]
    images: np.ndarray
    errors: list[RowError | None]
    provenance: list[Provenance | None] = field(default_factory=list)

    @property
    def ok(self) -> list[int]:
        """Positions (in `files`) of the files whose image is in `images`, in order."""
        return [i for i, error in enumerate(self.errors) if error is None]


def read_file(path: str | os.PathLike, size: int, max_pixels: int = DEFAULT_MAX_PIXELS,
              open_file: Callable[[str], IO[bytes]] | None = None, provenance: bool = False,
              ) -> tuple[np.ndarray | RowError, Provenance | None]:
    """The file's decoded image (or why not: see `decode_file`) and, with `provenance`,
    what it says about its origin."""
    return (decode_file(path, size, max_pixels, open_file),
            read_provenance(path, open_file) if provenance else None)


def decoded_batches(files: Iterable[FoundFile], size: int, batch_size: int, workers: int = 0,
                    max_pixels: int = DEFAULT_MAX_PIXELS, prefetch: int = 2,
                    open_file: Callable[[str], IO[bytes]] | None = None,
                    provenance: bool = False) -> Iterator[DecodedBatch]:
    """Batches in input order, decoded by a thread pool that stays `prefetch` batches ahead
    (so memory stays bounded however many files there are; `files` may be a stream), each
    file's provenance read in the same thread when asked for.

    A file that already failed (its `error` is set) is passed through with that error and
    never reaches a decoder (a FIFO would hang it). `open_file`: see `decode_file`."""
    workers = workers or min(8, os.cpu_count() or 1)
    files = iter(files)
    with ThreadPoolExecutor(workers, thread_name_prefix="decode") as pool:
        pending: deque[tuple[list[FoundFile], list[Future | RowError]]] = deque()
        while chunk := list(islice(files, batch_size)):
            pending.append((chunk, [found.error or pool.submit(read_file, found.path, size,
                                                               max_pixels, open_file, provenance)
                                    for found in chunk]))
            if len(pending) > prefetch:
                yield _assemble(*pending.popleft(), size)
        while pending:
            yield _assemble(*pending.popleft(), size)


def _assemble(files: list[FoundFile], results: list[Future | RowError],
              size: int) -> DecodedBatch:
    decoded, provenance = zip(*(r.result() if isinstance(r, Future) else (r, None)
                                for r in results), strict=True)
    return assembled_batch(files, list(decoded), size, list(provenance))


def assembled_batch(files: list[FoundFile], decoded: list[np.ndarray | RowError], size: int,
                    provenance: list[Provenance | None]) -> DecodedBatch:
    """A batch from each file's decoded image or error (and provenance)."""
    errors = [r if isinstance(r, RowError) else None for r in decoded]
    good = [r for r in decoded if not isinstance(r, RowError)]
    images = np.stack(good) if good else np.zeros((0, size, size, 3), np.uint8)
    return DecodedBatch(files, images, errors, provenance)
