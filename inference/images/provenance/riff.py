"""WebP (RIFF): the EXIF, XMP and C2PA chunks."""

from __future__ import annotations

from typing import IO

from batch_classifier.inference.images.provenance.pieces import (
    MAX_XMP_BYTES,
    MiB,
    Pieces,
    block_headers,
    read_exactly,
)


def scan_webp(stream: IO[bytes], pieces: Pieces) -> None:
    """Walk the chunks after the 12-byte RIFF header."""
    for kind, length in block_headers(stream, 12, "<4sI"):
        skip = length + (length & 1)
        if kind in (b"EXIF", b"XMP ") and length <= MAX_XMP_BYTES:
            data = read_exactly(stream, length)
            if data is None:
                return
            (pieces.add_exif if kind == b"EXIF" else pieces.add_xmp)(data)
            skip -= length
        elif kind == b"XMP ":
            pieces.note(f"webp xmp of {length / MiB:.0f} MB not read")
        elif kind == b"C2PA":
            pieces.manifest_bytes += length
        stream.seek(skip, 1)
