"""Large decoded images made small before anything else copies them, and what decoding
one holds at its peak (for the shared decoding budget).

A PNG of a few hundred KB can decode to hundreds of MB (9000 x 9000, 16-bit); each
conversion of the whole image (to floats, over white, to RGB) would copy it again. So an
image much larger than the model's input is box-averaged by an integer factor first, a
tile at a time, in a mode those conversions accept; only the small result is converted.
"""

from __future__ import annotations

import math

from PIL import Image

from batch_classifier.inference.images.levels import TILE, eight_bit, is_deep, tiles

REDUCING_GAP = 3  # the reduced image keeps its shorter side at least this many times `size`
BYTES_PER_PIXEL = {"1": 1, "L": 1, "P": 1, "I;16": 2, "I;16B": 2, "I;16L": 2}  # else 4
# Copies of the decoded pixels a format's decoder holds at once (measured: an 8000 x 8000
# WebP holds ~3.8 times its pixels, being decoded into libwebp's buffer, copied out and
# unpacked; an AVIF ~2.2 times); others decode into the image itself.
DECODER_COPIES = {"WEBP": 4, "AVIF": 3, "HEIF": 3}
WORKING_BYTES_PER_PIXEL = 24  # copies made of the (reduced) image: 8-bit, RGBA, over white, RGB
DEEP_TILE_BYTES = 4 * TILE * TILE * 8  # a deep tile's float64 copies while it is converted


def reduction(image_size: tuple[int, int], size: int) -> int:
    """The integer factor an image of `image_size` is reduced by before it is resized to
    `size` (1: not reduced)."""
    return max(1, min(image_size) // (REDUCING_GAP * size))


def decoding_bytes(image: Image.Image, size: int) -> int:
    """What decoding an opened image (its mode and size known, its pixels not yet read)
    and making it the model's input holds at its peak, in bytes."""
    width, height = image.size
    factor = reduction(image.size, size)
    decoded = (width * height * BYTES_PER_PIXEL.get(image.mode, 4)
               * DECODER_COPIES.get(image.format or "", 1))
    worked = math.ceil(width / factor) * math.ceil(height / factor) * WORKING_BYTES_PER_PIXEL
    deep = DEEP_TILE_BYTES if is_deep(image.mode) else 0
    return decoded + worked + min(deep, width * height * 32)


def reduced(image: Image.Image, size: int, white: float | None) -> Image.Image:
    """`image` box-averaged by `reduction(...)`, tile by tile (tiles aligned to the
    factor, so the result is that of one reduce of the whole). A deep image (`white`
    from levels.white_level) comes out as 8-bit grey, a palette one as RGB(A); an image
    not reduced is returned as it is."""
    factor = reduction(image.size, size)
    if factor == 1:
        return image
    width, height = image.size
    out = None
    for box in tiles(image.size, factor * max(1, TILE // factor)):
        piece = _reducible(image.crop(box), white).reduce(factor)
        if out is None:
            out = Image.new(piece.mode, (math.ceil(width / factor), math.ceil(height / factor)))
        out.paste(piece, (box[0] // factor, box[1] // factor))
    return out


def _reducible(piece: Image.Image, white: float | None) -> Image.Image:
    """A piece in a mode PIL's reduce averages correctly (not palette indices)."""
    if is_deep(piece.mode):
        return eight_bit(piece, white)
    if piece.mode == "1":
        return piece.convert("L")
    if piece.mode == "PA" or (piece.mode == "P" and "transparency" in piece.info):
        return piece.convert("RGBA")
    if piece.mode == "P":
        return piece.convert("RGB")
    return piece
