"""Decode images in threads while the model runs on the previous batch."""

from __future__ import annotations

import os
from collections import deque
from collections.abc import Iterable, Iterator
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass
from itertools import islice
from pathlib import Path

import numpy as np

from batch_classifier.inference.images.decode import DEFAULT_MAX_PIXELS, ImageDecodeError, load_rgb


@dataclass
class DecodedBatch:
    """A batch of files: the decoded images of the good ones and an error for each bad one."""

    paths: list[Path]
    images: np.ndarray
    errors: list[str | None]

    @property
    def ok(self) -> list[int]:
        """Positions (in `paths`) of the files whose image is in `images`, in order."""
        return [i for i, error in enumerate(self.errors) if error is None]


def decode_one(path: Path, size: int, max_pixels: int) -> np.ndarray | str:
    """The image, or the reason it cannot be read."""
    try:
        return load_rgb(path, size, max_pixels)
    except ImageDecodeError as exc:
        return str(exc)
    except FileNotFoundError:
        return "no such file"
    except IsADirectoryError:
        return "is a directory"
    except PermissionError:
        return "permission denied"
    except MemoryError:
        return "too large to decode"


def decoded_batches(paths: Iterable[Path], size: int, batch_size: int, workers: int = 0,
                    max_pixels: int = DEFAULT_MAX_PIXELS,
                    prefetch: int = 2) -> Iterator[DecodedBatch]:
    """Batches in input order, decoded by a thread pool that stays `prefetch` batches ahead
    (so memory stays bounded however many files there are; `paths` may be a stream)."""
    workers = workers or min(8, os.cpu_count() or 1)
    paths = iter(paths)
    with ThreadPoolExecutor(workers, thread_name_prefix="decode") as pool:
        pending: deque[tuple[list[Path], list[Future]]] = deque()
        while chunk := list(islice(paths, batch_size)):
            pending.append((chunk, [pool.submit(decode_one, p, size, max_pixels)
                                    for p in chunk]))
            if len(pending) > prefetch:
                yield _assemble(*pending.popleft(), size)
        while pending:
            yield _assemble(*pending.popleft(), size)


def _assemble(paths: list[Path], futures: list[Future], size: int) -> DecodedBatch:
    results = [future.result() for future in futures]
    errors = [r if isinstance(r, str) else None for r in results]
    good = [r for r in results if not isinstance(r, str)]
    images = np.stack(good) if good else np.zeros((0, size, size, 3), np.uint8)
    return DecodedBatch(paths, images, errors)
