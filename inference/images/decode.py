"""Decode an image file into the uint8 RGB array a model's input contract asks for.

Only the formats meant are opened (JPEG, PNG, WebP, GIF, BMP, TIFF, and HEIF/AVIF where
Pillow has a plugin for them): a file another Pillow plugin would claim (EPS, DDS, PPM
named .jpg, ...) is an `unsupported format`, never handed to that plugin. Whatever a
decoder raises becomes the file's error, never the run's. The trainer uses this same
function, so training and serving see identical pixels.
"""

from __future__ import annotations

import warnings
from collections.abc import Callable
from contextlib import suppress
from pathlib import Path
from typing import IO

import numpy as np
from PIL import ExifTags, Image, UnidentifiedImageError

from batch_classifier.inference.errors import RowError
from batch_classifier.inference.images.budget import ByteBudget, return_freed_memory
from batch_classifier.inference.images.levels import (
    UnknownScaleError,
    eight_bit,
    is_deep,
    white_level,
)
from batch_classifier.inference.images.reduce import decoding_bytes, reduced, reduction

DEFAULT_MAX_PIXELS = 100_000_000
# A size check of our own (below) is the real guard; this keeps PIL from refusing first.
Image.MAX_IMAGE_PIXELS = None
WANTED_FORMATS = ("JPEG", "PNG", "WEBP", "GIF", "BMP", "TIFF", "HEIF", "AVIF")
MAX_RESIZE_AREA = 16  # the resized image before its centre crop: at most this many squares
# What all the threads of a process that decode hold together (an image that needs more
# than this decodes alone): a 9000 x 9000 16-bit PNG takes ~170 MB.
DECODING_BUDGET = ByteBudget(256 << 20)
MAX_DECODING_BYTES = 640 << 20  # an image that needs more is refused (a 100 MP RGBA PNG: 414)
RETURN_FREED_ABOVE = 32 << 20  # after a decode that held more, freed memory goes back
ORIENTATIONS = {2: Image.Transpose.FLIP_LEFT_RIGHT, 3: Image.Transpose.ROTATE_180,
                4: Image.Transpose.FLIP_TOP_BOTTOM, 5: Image.Transpose.TRANSPOSE,
                6: Image.Transpose.ROTATE_270, 7: Image.Transpose.TRANSVERSE,
                8: Image.Transpose.ROTATE_90}  # EXIF orientation -> the transpose undoing it
SWAPS_AXES = (Image.Transpose.TRANSPOSE, Image.Transpose.TRANSVERSE, Image.Transpose.ROTATE_90,
              Image.Transpose.ROTATE_270)


def _openable(wanted: tuple[str, ...]) -> tuple[str, ...]:
    """The formats of `wanted` that Pillow opens here (HEIF needs pillow-heif)."""
    with suppress(ImportError):
        from pillow_heif import register_heif_opener

        register_heif_opener()
    Image.init()
    return tuple(name for name in wanted if name in Image.OPEN)


IMAGE_FORMATS = _openable(WANTED_FORMATS)


class ImageDecodeError(Exception):
    """A file that is not an image this tool can read (`kind` and message say why)."""

    def __init__(self, kind: str, message: str):
        super().__init__(message)
        self.kind = kind


def decode_file(path: Path | str, size: int, max_pixels: int = DEFAULT_MAX_PIXELS,
                open_file: Callable[[str], IO[bytes]] | None = None) -> np.ndarray | RowError:
    """`load_rgb` for one found file: the image, or why it cannot be read. A file that
    is not local (an fsspec URL) is opened by `open_file` and read from that stream, with
    the same checks; without `open_file`, `path` is a local path, opened by name."""
    try:
        if open_file is None:
            return load_rgb(path, size, max_pixels)
        with open_file(str(path)) as stream:
            return load_rgb(stream, size, max_pixels)
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
    except Exception as exc:  # any other decoder failure is this file's, not the run's
        return RowError("broken image", f"broken image ({type(exc).__name__}: {_reason(exc)})")


def load_rgb(path: str | Path | IO[bytes], size: int,
             max_pixels: int = DEFAULT_MAX_PIXELS) -> np.ndarray:
    """The image at `path` as uint8 [size, size, 3] RGB.

    EXIF orientation is applied, the shorter side is resized to `size` (bicubic) and the
    centre square is kept; the first frame of an animation is used. Raises
    ImageDecodeError with a short reason for content that cannot be decoded, or is not
    in one of IMAGE_FORMATS; a missing or unreadable file raises its FileNotFoundError
    or PermissionError.
    """
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            with Image.open(path, formats=IMAGE_FORMATS) as image:
                width, height = image.size
                if width * height > max_pixels:
                    raise ImageDecodeError(
                        "decompression bomb", f"decompression bomb: {width}x{height} pixels "
                        f"is over the limit of {max_pixels:,}")
                image.draft("RGB", (size, size))
                footprint = decoding_bytes(image, size)
                if footprint > MAX_DECODING_BYTES:
                    raise ImageDecodeError(
                        "too large to decode", f"too large to decode: {width}x{height} "
                        f"{image.format} pixels need ~{footprint >> 20} MiB, over the "
                        f"{MAX_DECODING_BYTES >> 20} MiB one image may take")
                with DECODING_BUDGET.reserve(footprint):
                    try:
                        return _model_input(image, size)
                    finally:
                        image.close()  # its pixels go before its share of the budget
                        if footprint > RETURN_FREED_ABOVE:
                            return_freed_memory()
    except (ImageDecodeError, FileNotFoundError, PermissionError, IsADirectoryError):
        raise  # the file itself, not its content: the caller says which
    except UnidentifiedImageError:
        raise _unidentified(path) from None
    except (OSError, SyntaxError, ValueError, EOFError, Image.DecompressionBombError) as exc:
        raise ImageDecodeError("broken image", f"broken image ({_reason(exc)})") from None


def _model_input(image: Image.Image, size: int) -> np.ndarray:
    """An opened image as load_rgb returns it, reduced first when it is large (see
    reduce.py), so that no conversion copies the whole decoded image."""
    transpose = ORIENTATIONS.get(image.getexif().get(ExifTags.Base.Orientation, 1))
    try:
        white = white_level(image) if is_deep(image.mode) else None
    except UnknownScaleError as exc:
        raise ImageDecodeError("unsupported pixel values",
                               f"unsupported pixel values: {exc}") from None
    full_size = image.size
    image = to_rgb(reduced(image, size, white), white)
    if transpose is not None:
        image = image.transpose(transpose)
        full_size = full_size[::-1] if transpose in SWAPS_AXES else full_size
    return square(image, size, full_size)


def _unidentified(path: str | Path | IO[bytes]) -> ImageDecodeError:
    """Why no allowed format opened the file: the format another plugin recognises from
    its first bytes (the plugin is not run), else not an image at all."""
    try:
        prefix = _first_bytes(path)
    except OSError:
        prefix = b""
    for name, (_, accept) in Image.OPEN.items():
        if name in IMAGE_FORMATS or accept is None:
            continue
        try:
            claimed = accept(prefix)
        except Exception:  # a plugin's check of 16 bytes; any failure means "not mine"
            claimed = False
        if claimed and not isinstance(claimed, str):
            return ImageDecodeError("unsupported format", f"unsupported format ({name}; "
                                    f"readable: {', '.join(IMAGE_FORMATS)})")
    return ImageDecodeError("not an image", "not an image (unrecognised or empty file)")


def _first_bytes(path: str | Path | IO[bytes]) -> bytes:
    if hasattr(path, "read"):
        path.seek(0)
        return path.read(16)
    with open(path, "rb") as handle:
        return handle.read(16)


def to_rgb(image: Image.Image, white: float | None = None) -> Image.Image:
    """Any PIL mode as 8-bit RGB: 16/32-bit and float scaled down (by `white`, else by
    levels.white_level), transparency over white."""
    if is_deep(image.mode):
        image = eight_bit(image, white or white_level(image))
    if image.mode == "P" and "transparency" in image.info:
        image = image.convert("RGBA")
    if image.mode in ("RGBA", "LA", "PA", "RGBa", "La"):
        image = image.convert("RGBA")
        background = Image.new("RGBA", image.size, (255, 255, 255, 255))
        image = Image.alpha_composite(background, image)
    return image.convert("RGB")


def square(image: Image.Image, size: int, full_size: tuple[int, int] | None = None,
           ) -> np.ndarray:
    """Shorter side to `size`, then the centre `size` x `size` crop.

    When the resized image would be larger than MAX_RESIZE_AREA squares (a thin image:
    12,000 x 1 would become 3,072,000 x 256), only the source region under the crop is
    resampled, at the same scale: the cost stays that of one square, whatever the shape.
    `full_size`: the size of the image that `image` was reduced from (reduce.reduced);
    the crop is then that image's, resampled from the reduced one.
    """
    width, height = full_size or image.size
    factor = reduction(full_size, size) if full_size else 1
    if (width, height) != (size, size):
        scale = size / min(width, height)
        new = (max(size, round(width * scale)), max(size, round(height * scale)))
        left, top = (new[0] - size) // 2, (new[1] - size) // 2
        if factor > 1 or new[0] * new[1] > MAX_RESIZE_AREA * size * size:
            x, y = width / new[0] / factor, height / new[1] / factor
            box = (left * x, top * y, (left + size) * x, (top + size) * y)
            image = image.resize((size, size), Image.BICUBIC, box=box)
        else:
            if new != (width, height):
                image = image.resize(new, Image.BICUBIC)
            image = image.crop((left, top, left + size, top + size))
    return np.asarray(image, dtype=np.uint8)


def _reason(exc: BaseException) -> str:
    text = str(exc).strip().splitlines()
    return text[0] if text else type(exc).__name__
