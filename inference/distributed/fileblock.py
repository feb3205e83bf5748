"""A part of a file as one binary stream: its header bytes, then a byte range of its
records, so the CSV reader reads a part exactly as it reads a whole file."""

from __future__ import annotations

import io
import os
from collections import deque

from batch_classifier.inference.distributed.urls import open_input
from batch_classifier.inference.errors import UsageError

BUFFER_BYTES = 1 << 20


class FileBlock(io.RawIOBase):
    """The bytes of `path` (a local path or an fsspec URL) in the `spans` given, (start,
    end) pairs, one after another."""

    def __init__(self, path: str | os.PathLike, spans: list[tuple[int, int]]):
        super().__init__()
        self._path = path
        try:
            self._file = open_input(str(path))  # closed with the stream
        except OSError as exc:
            raise UsageError(f"{path}: cannot read ({exc.strerror or exc}; workers need the "
                             "client's paths, on a shared file system)") from None
        self._spans = deque((start, end) for start, end in spans if end > start)

    def readable(self) -> bool:
        return True

    def readinto(self, buffer: memoryview) -> int:  # type: ignore[override]
        if not self._spans:
            return 0
        start, end = self._spans[0]
        self._file.seek(start)
        data = self._file.read(min(len(buffer), end - start))
        if not data:
            raise UsageError(f"{self._path}: ends at byte {start}, before the part planned "
                             "from it (the file changed while the job ran?)")
        buffer[:len(data)] = data
        if start + len(data) == end:
            self._spans.popleft()
        else:
            self._spans[0] = (start + len(data), end)
        return len(data)

    def close(self) -> None:
        self._file.close()
        super().close()


def open_block(path: str | os.PathLike, spans: list[tuple[int, int]]) -> io.BufferedReader:
    """`FileBlock` with a read buffer."""
    return io.BufferedReader(FileBlock(path, spans), BUFFER_BYTES)
