"""AVIF/HEIF (ISO BMFF): whether a C2PA manifest store box is among the top-level boxes
(its XMP sits in an item of the meta box and is not read here)."""

from __future__ import annotations

import struct
import uuid
from typing import IO

from batch_classifier.inference.images.provenance.pieces import (
    Pieces,
    block_headers,
    read_exactly,
)

C2PA_UUID = uuid.UUID("d8fec3d6-1b0e-483c-9297-5828877ec481").bytes


def scan_bmff(stream: IO[bytes], pieces: Pieces) -> None:
    """Walk the top-level boxes."""
    for size, kind in block_headers(stream, 0, ">I4s"):
        header = 8
        if size == 1:
            large = read_exactly(stream, 8)
            if large is None:
                return
            size, header = struct.unpack(">Q", large)[0], 16
        last = size == 0  # the box runs to the end of the file
        if not last and size < header:
            pieces.note("bmff boxes malformed: the rest not read")
            return
        body = size - header
        if kind == b"uuid":
            usertype = read_exactly(stream, 16)
            if usertype is None:
                return
            body -= 16
            if usertype == C2PA_UUID:
                pieces.manifest_bytes += max(body, 1)
        if last:
            return
        stream.seek(body, 1)
