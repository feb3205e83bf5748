"""One part of a distributed run, on the worker: the result batches of its inputs go to
the part file (atomically: a temporary file renamed into place when the part is done),
counted as they go."""

from __future__ import annotations

import time
import uuid
from collections import Counter
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from distributed import get_worker

from batch_classifier.inference.distributed.options import is_url
from batch_classifier.inference.distributed.urls import put_file
from batch_classifier.inference.jobs.summary import tally
from batch_classifier.inference.output import result_writer


@dataclass
class PartResult:
    """What a finished part holds: its rows, how many were classified, the failed ones
    by error kind, the rows by a tally column's values, and where and how fast it ran."""

    part: int
    rows: int = 0
    classified: int = 0
    failed: Counter[str] = field(default_factory=Counter)
    tally: Counter[str] = field(default_factory=Counter)
    worker: str = ""
    provider: str = ""
    seconds: float = 0.0

    def as_record(self) -> dict[str, Any]:
        """The part's line in the journal."""
        return {"part": self.part, "rows": self.rows, "classified": self.classified,
                "failed": dict(self.failed), "tally": dict(self.tally), "worker": self.worker,
                "provider": self.provider, "seconds": round(self.seconds, 3)}


class PartWriter:
    """A RowSink writing part `number` to `path` (use as a context manager; the file
    appears when the block ends without an error). A part going to an fsspec URL is
    written to a file in the worker's folder first, then uploaded whole. With
    `tally_column`, the rows are counted by its values."""

    stopping = False  # a part always runs to its end; the client stops between parts

    def __init__(self, number: int, path: str, fmt: str, columns: list[str],
                 types: Mapping[str, str], provider: str, tally_column: str | None = None):
        self.format = fmt
        self._columns, self._tally_column = columns, tally_column
        worker = get_worker()
        self.result = PartResult(number, worker=worker.address, provider=provider)
        self._url = path if is_url(path) else None
        self._file = (Path(worker.local_directory, f"part-{uuid.uuid4().hex}.{fmt}")
                      if self._url else Path(path))
        self._writer = result_writer(self._file, fmt, columns, types)
        self._started = time.monotonic()

    def write(self, rows: list[list[Any]] | str, error_kinds: list[str | None]) -> None:
        """A batch of result rows (or rendered CSV records) and their error kinds."""
        if isinstance(rows, str):
            self._writer.write_csv_text(rows)
        else:
            self._writer.write_rows(rows)
            self.result.tally.update(tally(rows, self._columns, self._tally_column))
        failed = [kind for kind in error_kinds if kind is not None]
        self.result.rows += len(error_kinds)
        self.result.classified += len(error_kinds) - len(failed)
        self.result.failed.update(failed)

    def __enter__(self) -> PartWriter:
        return self

    def __exit__(self, exc_type: type[BaseException] | None, *rest: object) -> None:
        try:
            if exc_type is None:
                self._writer.close()
                if self._url:
                    put_file(str(self._file), self._url)
                self.result.seconds = time.monotonic() - self._started
            else:
                self._writer.abort()
        finally:
            if self._url:
                self._file.unlink(missing_ok=True)

