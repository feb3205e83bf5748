"""The run record: what a later --resume must match, kept beside the output as
FILE.run.json (the model file's SHA-256 and the options that change results).

It is written before the first row of a resumable output, and around the rename of an
atomic one (removed first, written after), so that it never describes rows it did not
produce: a crash in between leaves an output without a record, which --resume refuses.
"""

from __future__ import annotations

import json
import os
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

from batch_classifier.inference.errors import UsageError
from batch_classifier.inference.jobs.fileops import create_temp, open_plain_file


def record_path(output: str | os.PathLike) -> Path:
    """The run record of an output: FILE.run.json beside it."""
    return Path(f"{os.fspath(output)}.run.json")


@dataclass(frozen=True)
class RunRecord:
    """The command, the model (file and SHA-256) and the options of one run."""

    command: str
    model_file: str
    model_sha256: str
    options: dict[str, Any]

    def differences(self, other: RunRecord) -> list[str]:
        """What differs from `other` (the output's record), as short phrases."""
        found = []
        if self.command != other.command:
            found.append(f"written by {other.command}")
        if self.model_sha256 != other.model_sha256:
            found.append(f"--model: the output's rows come from {other.model_file} "
                         f"(sha256 {other.model_sha256[:12]}), this run's model is "
                         f"{self.model_file} (sha256 {self.model_sha256[:12]})")
        for name in sorted(set(self.options) | set(other.options)):
            mine, theirs = self.options.get(name), other.options.get(name)
            if mine != theirs:
                found.append(f"{name}: {theirs!r} in the output, {mine!r} now")
        return found


def write_record(output: Path, record: RunRecord) -> None:
    """Write the run record of `output` atomically."""
    path = record_path(output)
    fd, temp = create_temp(path)
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as handle:
            json.dump(asdict(record), handle, indent=2, sort_keys=True)
            handle.write("\n")
            handle.flush()
            os.fsync(handle.fileno())
        os.replace(temp, path)
    except OSError as exc:
        temp.unlink(missing_ok=True)
        raise UsageError(f"{path}: cannot write the run record ({exc.strerror})") from None


def remove_record(output: Path) -> None:
    """Remove the run record of `output` (before the output is replaced)."""
    record_path(output).unlink(missing_ok=True)


def check_record(output: Path, record: RunRecord) -> None:
    """Refuse to resume `output` unless its run record matches `record`."""
    path = record_path(output)
    if not os.path.lexists(path):
        raise UsageError(f"{output}: has no run record ({path.name}; written by an older "
                         "version, or removed), so it cannot be told whether its rows come "
                         "from this model and these options; write a new output")
    try:
        with os.fdopen(open_plain_file(path, os.O_RDONLY, "run record"), "rb") as handle:
            stored = RunRecord(**json.loads(handle.read(1 << 20)))
    except (ValueError, TypeError):
        raise UsageError(f"{path}: not a run record of this tool; write a new output") from None
    found = record.differences(stored)
    if found:
        raise UsageError(f"{output}: was written with other settings ({'; '.join(found)}); "
                         "resume with the same ones, or write a new output")
