"""What a classify loop writes its result batches to: a BatchJob on one machine, one
part file of a distributed run."""

from __future__ import annotations

from typing import Any, Protocol


class RowSink(Protocol):
    """Takes result batches in input order."""

    @property
    def format(self) -> str:
        """csv, jsonl or parquet."""

    @property
    def stopping(self) -> bool:
        """True when the loop should leave after the batch in hand."""

    def write(self, rows: list[list[Any]] | str, error_kinds: list[str | None]) -> None:
        """A batch of result rows (or of CSV records rendered as text); `error_kinds`
        has None for each classified input."""
