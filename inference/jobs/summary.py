"""The run summary: one line on stderr and, on request, a JSON file."""

from __future__ import annotations

import json
import os
import time
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from batch_classifier.inference.cli_common import EXIT_INTERRUPTED, EXIT_OK, EXIT_SOME_FAILED
from batch_classifier.inference.errors import UsageError
from batch_classifier.inference.jobs.fileops import create_temp, open_stream, remove_stale_temps
from batch_classifier.inference.jobs.targets import Target
from batch_classifier.inference.session import LoadedModel

RESERVED_BYTES = 1 << 16  # disk space held for the summary from the start of the run


@dataclass
class RunSummary:
    """Counts and timing of one run; `unit` names the inputs (rows, images); with
    `tally_name`, the rows counted by that column's values (e.g. evidence)."""

    command: str
    unit: str
    model: LoadedModel
    seen: int = 0
    classified: int = 0
    skipped: int = 0
    failed: Counter[str] = field(default_factory=Counter)
    interrupted: str | None = None
    started: float = field(default_factory=time.monotonic)
    finished: float | None = None
    tally_name: str | None = None
    tally: Counter[str] = field(default_factory=Counter)

    def count(self, error_kinds: list[str | None]) -> None:
        """Record one written batch: None for a classified input, else its error kind."""
        self.seen += len(error_kinds)
        failed = [kind for kind in error_kinds if kind is not None]
        self.classified += len(error_kinds) - len(failed)
        self.failed.update(failed)

    def skip(self, count: int) -> None:
        """Record inputs passed over because the output already has them."""
        self.seen += count
        self.skipped += count

    def finish(self, exc_type: type[BaseException] | None, stop_requested: str | None) -> bool:
        """Stop the clock of a run that ended normally or was stopped by a signal (noting
        which); False for a run that failed on an error, which gets no summary."""
        if exc_type is KeyboardInterrupt:
            self.interrupted = stop_requested or "SIGINT"
        elif exc_type is None:
            self.interrupted = stop_requested
        else:
            return False
        self.finished = time.monotonic()
        return True

    @property
    def exit_code(self) -> int:
        """130 when interrupted, 1 when some inputs failed, else 0."""
        if self.interrupted:
            return EXIT_INTERRUPTED
        return EXIT_SOME_FAILED if sum(self.failed.values()) else EXIT_OK

    @property
    def seconds(self) -> float:
        return (self.finished or time.monotonic()) - self.started

    @property
    def per_second(self) -> float:
        """Inputs actually processed (classified or failed) per second."""
        done = self.classified + sum(self.failed.values())
        return done / self.seconds if self.seconds > 0 else 0.0

    def as_dict(self) -> dict[str, Any]:
        """The summary as JSON values."""
        contract = self.model.contract
        return {
            "command": self.command, "unit": self.unit, "seen": self.seen,
            "classified": self.classified, "skipped_already_done": self.skipped,
            "failed": sum(self.failed.values()), "failed_by_kind": dict(self.failed),
            **({f"by_{self.tally_name}": dict(self.tally)} if self.tally_name else {}),
            "interrupted": self.interrupted, "seconds": round(self.seconds, 3),
            f"{self.unit}_per_second": round(self.per_second, 1),
            "model": {"file": str(self.model.path), "name": contract.model_name,
                      "trainer_version": contract.trainer_version,
                      "data_fingerprint": contract.data_fingerprint},
        }

    def line(self) -> str:
        """One human-readable line."""
        failed = sum(self.failed.values())
        kinds = ", ".join(f"{kind}: {n}" for kind, n in self.failed.most_common())
        contract = self.model.contract
        text = (f"{self.command}: {self.seen} {self.unit} seen, {self.classified} classified, "
                f"{self.skipped} skipped (already done), {failed} failed"
                f"{f' ({kinds})' if kinds else ''} in {self.seconds:.1f} s "
                f"({self.per_second:.0f} {self.unit}/s); model {self.model.path.name} "
                f"({contract.model_name}, trainer {contract.trainer_version}, "
                f"data {contract.data_fingerprint[:19]})")
        if self.tally:
            text += f"; by {self.tally_name}: " + ", ".join(
                f"{value} {n}" for value, n in sorted(self.tally.items()))
        if self.interrupted:
            text += f"; interrupted by {self.interrupted}"
        return text


def tally(rows: list[list[Any]], columns: list[str], name: str | None) -> Counter[str]:
    """The rows counted by their value in column `name` (empty ones left out)."""
    if name is None:
        return Counter()
    at = columns.index(name)
    return Counter(row[at] for row in rows if row[at])


class SummaryFile:
    """Where --summary-json goes. For a file, the temporary file and its disk space are
    taken when the run starts, so a full disk or an unwritable folder is an error before
    any work, not after; a device or pipe is opened only when the summary is written."""

    def __init__(self, target: Target):
        self.path = target.path
        self._fd: int | None = None
        self._temp: Path | None = None
        if target.stream:
            return
        remove_stale_temps(self.path)
        self._fd, self._temp = create_temp(self.path)
        try:
            os.posix_fallocate(self._fd, 0, RESERVED_BYTES)
        except OSError as exc:
            self.discard()
            raise UsageError(f"--summary-json {self.path}: cannot write "
                             f"({exc.strerror})") from None

    def write(self, summary: dict[str, Any]) -> None:
        """Write `summary` as JSON (a file appears atomically, complete)."""
        data = (json.dumps(summary, indent=2) + "\n").encode()
        try:
            if self._temp is None:
                fd = open_stream(self.path, "--summary-json")
                try:
                    _write_all(fd, data)
                finally:
                    os.close(fd)
                return
            _write_all(self._fd, data)
            os.ftruncate(self._fd, len(data))
            os.fsync(self._fd)
            os.replace(self._temp, self.path)
            self._temp = None
        except OSError as exc:
            raise UsageError(f"--summary-json {self.path}: cannot write "
                             f"({exc.strerror or exc})") from None
        finally:
            self.discard()

    def discard(self) -> None:
        """Drop the reserved temporary file (if the summary was not written)."""
        if self._fd is not None:
            os.close(self._fd)
            self._fd = None
        if self._temp is not None:
            self._temp.unlink(missing_ok=True)
            self._temp = None


def _write_all(fd: int, data: bytes) -> None:
    view = memoryview(data)
    while view:
        view = view[os.write(fd, view):]
