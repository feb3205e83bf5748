"""The raw provenance pieces a container holds, gathered under fixed limits: however a
file is made (a 50 MB XMP packet, 10,000 text chunks, a zip bomb in a zTXt chunk), what
is kept stays small and the rest becomes a note."""

from __future__ import annotations

import struct
import zlib
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import IO

from PIL import Image

MiB = 1 << 20
MAX_XMP_BYTES = MiB  # all XMP of a file together
MAX_TEXT_BYTES = MiB  # one text chunk, stored or decompressed
MAX_TEXT_CHUNKS = 1_000  # text chunks read from one file
MAX_EXIF_BYTES = MiB
MAX_MANIFEST_BYTES = 32 * MiB  # an embedded C2PA manifest store handed to the binding
MAX_BLOCKS = 100_000  # segments, chunks or boxes walked in one file


@dataclass
class Pieces:
    """What one file's container holds: XMP, EXIF, text chunks (key, text), whether a
    C2PA manifest store is embedded (and its size), and notes on what was not read."""

    format: str
    xmp: bytearray = field(default_factory=bytearray)
    exif: Image.Exif | None = None
    texts: list[tuple[str, str]] = field(default_factory=list)
    manifest_bytes: int = 0
    notes: list[str] = field(default_factory=list)

    def note(self, text: str) -> None:
        if text not in self.notes:
            self.notes.append(text)

    def add_xmp(self, packet: bytes) -> None:
        """Keep an XMP packet (or an extended-XMP chunk) within MAX_XMP_BYTES."""
        if len(self.xmp) + len(packet) > MAX_XMP_BYTES:
            self.note(f"{self.format} xmp over {MAX_XMP_BYTES // MiB} MiB: the rest not read")
        else:
            self.xmp += packet

    def add_exif(self, blob: bytes) -> None:
        """Parse an EXIF block (a TIFF structure, with or without 'Exif\\0\\0')."""
        if self.exif is not None:
            return
        if len(blob) > MAX_EXIF_BYTES:
            self.note(f"{self.format} exif of {len(blob) / MiB:.0f} MB not read")
            return
        exif = Image.Exif()
        try:
            exif.load(blob)
        except Exception:  # a broken EXIF block is this file's note, never the run's
            self.note(f"{self.format} exif unreadable")
            return
        self.exif = exif


def read_exactly(stream: IO[bytes], size: int) -> bytes | None:
    """`size` bytes, or None at the end of the file (a truncated block)."""
    data = stream.read(size)
    return data if len(data) == size else None


def block_headers(stream: IO[bytes], start: int, layout: str) -> Iterator[tuple]:
    """The 8-byte header of each block (chunk, box) from offset `start`, unpacked with
    the struct `layout`, until the end of the file or MAX_BLOCKS; the caller moves the
    stream past each block's body before asking for the next."""
    stream.seek(start)
    for _ in range(MAX_BLOCKS):
        head = read_exactly(stream, 8)
        if head is None:
            return
        yield struct.unpack(layout, head)


def inflate(data: bytes, what: str, pieces: Pieces) -> bytes | None:
    """zlib data decompressed to at most MAX_TEXT_BYTES, or None with a note."""
    inflater = zlib.decompressobj()
    try:
        out = inflater.decompress(data, MAX_TEXT_BYTES)
    except zlib.error:
        pieces.note(f"{what} unreadable (bad compressed data)")
        return None
    if inflater.unconsumed_tail:
        pieces.note(f"{what} expands beyond {MAX_TEXT_BYTES // MiB} MiB: not read")
        return None
    return out
