"""TIFF: the first directory's XMP (tag 700) and C2PA (tag 52545) entries, and its EXIF."""

from __future__ import annotations

from typing import IO

from PIL import Image

from batch_classifier.inference.images.provenance.pieces import Pieces

XMP_TAG, C2PA_TAG = 700, 52545


def scan_tiff(stream: IO[bytes], pieces: Pieces) -> None:
    """Read the tags as Pillow reads them when it opens the file to decode it."""
    stream.seek(0)
    with Image.open(stream, formats=["TIFF"]) as image:
        tags = image.tag_v2
        if C2PA_TAG in tags:
            pieces.manifest_bytes += max(1, len(bytes(tags[C2PA_TAG])))
        if XMP_TAG in tags:
            xmp = tags[XMP_TAG]
            pieces.add_xmp(xmp if isinstance(xmp, bytes) else str(xmp).encode())
        pieces.exif = image.getexif()
