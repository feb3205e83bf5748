"""Parquet in and out, through pyarrow (the `parquet` extra); imported only when a
Parquet file is read or written."""

from __future__ import annotations

from types import ModuleType

from batch_classifier.inference.errors import UsageError

EXTRA_HINT = "pip install 'batch-classifier[parquet]'"


def pyarrow_parquet() -> tuple[ModuleType, ModuleType]:
    """(pyarrow, pyarrow.parquet), or a UsageError naming the extra that brings them."""
    try:
        import pyarrow
        import pyarrow.parquet
    except ImportError:
        raise UsageError(f"Parquet needs pyarrow, which is not installed: {EXTRA_HINT}") from None
    return pyarrow, pyarrow.parquet
