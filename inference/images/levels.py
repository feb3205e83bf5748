"""Deep images (16-bit and 32-bit integer, 32-bit float pixels) as 8 bits, scaled by the
range their values are written in; values that fit no known range are refused rather
than shown as a black or white image."""

from __future__ import annotations

from collections.abc import Iterator

import numpy as np
from PIL import Image

TILE = 1024  # pixels a side of the pieces converted at a time (float64: 8 MiB a copy)


def is_deep(mode: str) -> bool:
    """Whether PIL `mode` holds more than 8 bits a channel (16/32-bit integers, floats)."""
    return mode in ("I", "F") or mode.startswith("I;16")


class UnknownScaleError(ValueError):
    """Pixel values in no range this module knows how to show."""


def white_level(image: Image.Image) -> float:
    """The value that is white in a deep image: 65535 for 16-bit pixels; otherwise by
    the range of its values: 1 for floats within [0, 1], else 255 or 65535, whichever
    holds them. Raises UnknownScaleError for negative, larger or non-finite values."""
    if image.mode.startswith("I;16"):
        return 65535.0
    kind = "float" if image.mode == "F" else "integer"
    low, high = np.inf, -np.inf
    for box in tiles(image.size):
        values = np.asarray(image.crop(box))
        if kind == "float" and not np.isfinite(values).all():
            raise UnknownScaleError(f"{kind} pixels that are not a number (NaN or infinite)")
        low, high = min(low, values.min()), max(high, values.max())
    whites = (1.0, 255.0, 65535.0) if kind == "float" else (255.0, 65535.0)
    white = next((white for white in whites if high <= white), None)
    if low < 0 or white is None:
        raise UnknownScaleError(f"{kind} pixels in [{low:g}, {high:g}], a range of no known "
                                f"scale (floats 0-1, 0-255 or 0-65535; integers 0-255 or "
                                f"0-65535)")
    return white


def eight_bit(image: Image.Image, white: float) -> Image.Image:
    """A deep image as 8-bit grey ("L"): value / white * 255, rounded and clipped,
    converted a tile at a time (its copies stay small however large the image)."""
    out = Image.new("L", image.size)
    for box in tiles(image.size):
        values = np.asarray(image.crop(box), dtype=np.float64)
        levels = np.clip(values / white * 255.0 + 0.5, 0, 255).astype(np.uint8)
        out.paste(Image.fromarray(levels), box[:2])
    return out


def tiles(size: tuple[int, int], step: int = TILE) -> Iterator[tuple[int, int, int, int]]:
    """Boxes (left, top, right, bottom) of at most step x step pixels covering `size`."""
    width, height = size
    for top in range(0, height, step):
        for left in range(0, width, step):
            yield left, top, min(left + step, width), min(top + step, height)
