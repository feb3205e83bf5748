"""The run summary: one line on stderr and, on request, a JSON file."""

from __future__ import annotations

import json
import os
import tempfile
import time
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from batch_classifier.inference.session import LoadedModel


@dataclass
class RunSummary:
    """Counts and timing of one run; `unit` names the inputs (rows, images)."""

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

    def finish(self) -> None:
        """Stop the clock."""
        self.finished = time.monotonic()

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
        if self.interrupted:
            text += f"; interrupted by {self.interrupted}"
        return text

    def write_json(self, path: str | os.PathLike) -> None:
        """Write the summary to `path` atomically."""
        target = Path(path)
        fd, temp = tempfile.mkstemp(prefix=f".{target.name}.", dir=target.parent or ".")
        with os.fdopen(fd, "w", encoding="utf-8") as handle:
            json.dump(self.as_dict(), handle, indent=2)
            handle.write("\n")
        os.replace(temp, target)
