"""One latitude or longitude from a CSV field: ASCII decimal only (a data file's `4_5`,
Arabic-Indic or fullwidth digits are not numbers), plus the decimal comma (`48,85`)."""

from __future__ import annotations

import math
import re

from batch_classifier.inference.cities.records import short
from batch_classifier.inference.errors import RowError

_DECIMAL = re.compile(r"[+-]?(?:[0-9]+(?:\.[0-9]*)?|\.[0-9]+)(?:[eE][+-]?[0-9]+)?")
_DECIMAL_COMMA = re.compile(r"[+-]?[0-9]+,[0-9]+")
_NON_FINITE = ("nan", "inf", "infinity")


def parse_coordinate(text: str, what: str, limit: float) -> tuple[float, RowError | None]:
    """Parse one latitude/longitude; return (value, None) or (nan, the error)."""
    cleaned = text.strip(" \t")
    if not cleaned:
        return math.nan, RowError("missing coordinate", f"missing {what}")
    if _DECIMAL.fullmatch(cleaned):
        value = float(cleaned)
    elif _DECIMAL_COMMA.fullmatch(cleaned):  # as in many European CSVs
        value = float(cleaned.replace(",", "."))
    else:
        value = math.nan if cleaned.lower().lstrip("+-") in _NON_FINITE else None
        if value is None:
            return math.nan, RowError("not a number", f"{what} {short(cleaned)!r} is not a number")
    if not math.isfinite(value):
        return math.nan, RowError("not a number",
                                  f"{what} {short(cleaned)!r} is not a finite number")
    if abs(value) > limit:
        return math.nan, RowError("out of range",
                                  f"{what} {value:g} is outside [-{limit:g}, {limit:g}]")
    return value, None


def parse_latlon(lat_text: str, lon_text: str) -> tuple[float, float, RowError | None]:
    """Parse a row's latitude and longitude: (lat, lon, None), or the row's error (naming
    both when both are bad; nan for a bad one)."""
    lat, lat_error = parse_coordinate(lat_text, "latitude", 90.0)
    lon, lon_error = parse_coordinate(lon_text, "longitude", 180.0)
    if lat_error or lon_error:
        kind = (lat_error or lon_error).kind
        return lat, lon, RowError(kind, "; ".join(e.message for e in (lat_error, lon_error) if e))
    return lat, lon, None
