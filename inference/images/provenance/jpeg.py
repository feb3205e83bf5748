"""JPEG: the APP1 (EXIF, XMP, extended XMP) and APP11 (JUMBF: C2PA) segments before the
image data."""

from __future__ import annotations

import struct
from typing import IO

from batch_classifier.inference.images.provenance.pieces import MAX_BLOCKS, Pieces, read_exactly

XMP = b"http://ns.adobe.com/xap/1.0/\0"
EXTENDED_XMP = b"http://ns.adobe.com/xmp/extension/\0"
EXTENDED_HEADER = 32 + 4 + 4  # GUID, full length, offset
NO_LENGTH = {0x01, 0xD8, *range(0xD0, 0xD8)}
APP1, APP11, START_OF_SCAN, END = 0xE1, 0xEB, 0xDA, 0xD9


def scan_jpeg(stream: IO[bytes], pieces: Pieces) -> None:
    """Walk the segments up to the start of the scan."""
    stream.seek(2)
    for _ in range(MAX_BLOCKS):
        marker = read_exactly(stream, 2)
        if marker is None or marker[0] != 0xFF:
            return
        code = marker[1]
        while code == 0xFF:  # fill bytes
            byte = stream.read(1)
            if not byte:
                return
            code = byte[0]
        if code in NO_LENGTH:
            continue
        if code in (START_OF_SCAN, END):
            return
        length = read_exactly(stream, 2)
        if length is None or struct.unpack(">H", length)[0] < 2:
            pieces.note("jpeg segments malformed: the rest not read")
            return
        size = struct.unpack(">H", length)[0] - 2
        if code == APP1:
            data = read_exactly(stream, size)
            if data is None:
                return
            _app1(data, pieces)
        elif code == APP11:
            _app11(stream, size, pieces)
        else:
            stream.seek(size, 1)


def _app1(data: bytes, pieces: Pieces) -> None:
    if data.startswith(b"Exif\0\0"):
        pieces.add_exif(data[6:])
    elif data.startswith(XMP):
        pieces.add_xmp(data[len(XMP):])
    elif data.startswith(EXTENDED_XMP):
        pieces.add_xmp(data[len(EXTENDED_XMP) + EXTENDED_HEADER:])


def _app11(stream: IO[bytes], size: int, pieces: Pieces) -> None:
    """A JPEG XT segment carrying a JUMBF box ("JP", box instance, sequence number)."""
    head = stream.read(min(size, 2))
    stream.seek(size - len(head), 1)
    if head == b"JP":
        pieces.manifest_bytes += size
