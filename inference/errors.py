"""Errors: the ones the CLIs turn into one line and exit code 2, and why one input failed."""

from __future__ import annotations

from dataclasses import dataclass


class UsageError(Exception):
    """A problem with the command line, the model file or an input file as a whole."""


class ModelContractError(UsageError):
    """An ONNX file that does not carry what inference needs in its metadata."""


@dataclass(frozen=True)
class RowError:
    """Why one input (a CSV row, a file) was not classified: a short kind, for counting
    in the summary, and the message its output row carries."""

    kind: str
    message: str
