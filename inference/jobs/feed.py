"""Found files into a decoding pipeline as plain paths, remembering each one's FoundFile
to pair with its result row (the pipeline keeps order), and setting aside the files the
walk already failed so they never reach a decoder (a FIFO would hang it)."""

from __future__ import annotations

from collections import deque
from collections.abc import Callable, Iterable, Iterator
from pathlib import Path

from batch_classifier.inference.jobs.walk import FoundFile


class FileFeed:
    """`paths()` feeds the pipeline; `take(n)` returns the FoundFiles of its next n rows.

    Failed files are handed to `on_failed` in lists of up to `batch_size`, from
    `flush_failed()` or as soon as that many piled up. `paths()` ends early once
    `stopping()` is true, so a stop is honoured even while everything is being skipped.
    """

    def __init__(self, found: Iterable[FoundFile], batch_size: int,
                 on_failed: Callable[[list[FoundFile]], None],
                 stopping: Callable[[], bool]):
        self._found = found
        self._batch_size = batch_size
        self._on_failed = on_failed
        self._stopping = stopping
        self._queued: deque[FoundFile] = deque()
        self._failed: list[FoundFile] = []

    def paths(self) -> Iterator[Path]:
        """The paths of the good files, in walk order."""
        for item in self._found:
            if item.error is None:
                self._queued.append(item)
                yield item.path
            else:
                self._failed.append(item)
                if len(self._failed) >= self._batch_size:
                    self.flush_failed()
            if self._stopping():
                return

    def take(self, count: int) -> list[FoundFile]:
        """The FoundFiles behind the next `count` paths the pipeline returned."""
        return [self._queued.popleft() for _ in range(count)]

    def flush_failed(self) -> None:
        """Hand over the failed files set aside so far."""
        if self._failed:
            failed, self._failed = self._failed, []
            self._on_failed(failed)
