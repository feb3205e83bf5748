"""Decode any common image file into the uint8 RGB array a model's input contract asks for.

The trainer uses this same function, so training and serving see identical pixels.
"""

from __future__ import annotations

import warnings
from pathlib import Path

import numpy as np
from PIL import Image, ImageOps, UnidentifiedImageError

from batch_classifier.inference.errors import RowError

DEFAULT_MAX_PIXELS = 100_000_000
# A size check of our own (below) is the real guard; this keeps PIL from refusing first.
Image.MAX_IMAGE_PIXELS = None


class ImageDecodeError(Exception):
    """A file that is not an image this tool can read (`kind` and message say why)."""

    def __init__(self, kind: str, message: str):
        super().__init__(message)
        self.kind = kind


def decode_file(path: Path, size: int, max_pixels: int = DEFAULT_MAX_PIXELS,
                ) -> np.ndarray | RowError:
    """`load_rgb` for one found file: the image, or why it cannot be read."""
    try:
        return load_rgb(path, size, max_pixels)
    except ImageDecodeError as exc:
        return RowError(exc.kind, str(exc))
    except FileNotFoundError:
        return RowError("no such file", "no such file")
    except IsADirectoryError:
        return RowError("is a directory", "is a directory")
    except PermissionError:
        return RowError("permission denied", "permission denied")
    except MemoryError:
        return RowError("too large to decode", "too large to decode")


def load_rgb(path: str | Path, size: int, max_pixels: int = DEFAULT_MAX_PIXELS) -> np.ndarray:
    """The image at `path` as uint8 [size, size, 3] RGB.

    EXIF orientation is applied, the shorter side is resized to `size` (bicubic) and the
    centre square is kept; the first frame of an animation is used. Raises
    ImageDecodeError with a short reason for content that cannot be decoded; a missing
    or unreadable file raises its FileNotFoundError or PermissionError.
    """
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            with Image.open(path) as image:
                width, height = image.size
                if width * height > max_pixels:
                    raise ImageDecodeError(
                        "decompression bomb", f"decompression bomb: {width}x{height} pixels "
                        f"is over the limit of {max_pixels:,}")
                image.draft("RGB", (size, size))
                image = ImageOps.exif_transpose(image)
                return _square(to_rgb(image), size)
    except (ImageDecodeError, FileNotFoundError, PermissionError, IsADirectoryError):
        raise  # the file itself, not its content: the caller says which
    except UnidentifiedImageError:
        raise ImageDecodeError("not an image", "not an image (unrecognised or empty file)",
                               ) from None
    except (OSError, SyntaxError, ValueError, EOFError, Image.DecompressionBombError) as exc:
        raise ImageDecodeError("broken image", f"broken image ({_reason(exc)})") from None


def to_rgb(image: Image.Image) -> Image.Image:
    """Any PIL mode as 8-bit RGB: 16/32-bit scaled down, transparency over white."""
    if image.mode in ("I;16", "I;16B", "I;16L", "I", "F"):
        values = np.asarray(image, dtype=np.float64)
        top = 65535.0 if image.mode.startswith("I;16") or values.max() > 255 else 255.0
        image = Image.fromarray(np.clip(values / top * 255.0 + 0.5, 0, 255).astype(np.uint8))
    if image.mode == "P" and "transparency" in image.info:
        image = image.convert("RGBA")
    if image.mode in ("RGBA", "LA", "PA", "RGBa", "La"):
        image = image.convert("RGBA")
        background = Image.new("RGBA", image.size, (255, 255, 255, 255))
        image = Image.alpha_composite(background, image)
    return image.convert("RGB")


def _square(image: Image.Image, size: int) -> np.ndarray:
    """Shorter side to `size`, then the centre `size` x `size` crop."""
    width, height = image.size
    if (width, height) != (size, size):
        scale = size / min(width, height)
        new = (max(size, round(width * scale)), max(size, round(height * scale)))
        if new != (width, height):
            image = image.resize(new, Image.BICUBIC)
        left, top = (new[0] - size) // 2, (new[1] - size) // 2
        image = image.crop((left, top, left + size, top + size))
    return np.asarray(image, dtype=np.uint8)


def _reason(exc: BaseException) -> str:
    text = str(exc).strip().splitlines()
    return text[0] if text else type(exc).__name__
