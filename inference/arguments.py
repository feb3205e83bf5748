"""Checks of the Python API's arguments: a wrong type or value is a UsageError naming
the argument, never a TypeError from deep inside."""

from __future__ import annotations

import math
import numbers
from typing import Any

from batch_classifier.inference.errors import UsageError


def check_whole(name: str, value: Any, minimum: int) -> int:
    """`value` if it is a whole number (not a bool) of at least `minimum`."""
    if not isinstance(value, numbers.Integral) or isinstance(value, bool) or value < minimum:
        raise UsageError(f"{name} {short_repr(value)}: want a whole number >= {minimum}")
    return int(value)


def check_number(name: str, value: Any) -> float:
    """`value` as a float if it is a finite real number (not a bool)."""
    try:
        finite = isinstance(value, numbers.Real) and not isinstance(value, bool) \
            and math.isfinite(value)
    except OverflowError:  # an int too large for a float
        finite = False
    if not finite:
        raise UsageError(f"{name} {short_repr(value)}: want a finite number")
    return float(value)


def short_repr(value: Any, limit: int = 40) -> str:
    """repr(value), cut to `limit` characters with '...'."""
    text = repr(value)
    return text if len(text) <= limit else text[:limit] + "..."
