"""PNG: text chunks (tEXt, zTXt, iTXt; XMP is an iTXt), eXIf, and caBX (C2PA)."""

from __future__ import annotations

from typing import IO

from batch_classifier.inference.images.provenance.pieces import (
    MAX_TEXT_BYTES,
    MAX_TEXT_CHUNKS,
    MiB,
    Pieces,
    block_headers,
    inflate,
    read_exactly,
)

TEXT_CHUNKS = (b"tEXt", b"zTXt", b"iTXt")
XMP_KEY = "XML:com.adobe.xmp"


def scan_png(stream: IO[bytes], pieces: Pieces) -> None:
    """Walk the chunks (at most MAX_BLOCKS), keeping at most MAX_TEXT_CHUNKS texts."""
    texts = 0
    for length, kind in block_headers(stream, 8, ">I4s"):
        if kind == b"IEND":
            return
        if kind in TEXT_CHUNKS:
            texts += 1
            if texts > MAX_TEXT_CHUNKS:
                pieces.note(f"png over {MAX_TEXT_CHUNKS:,} text chunks: the rest not read")
            elif length > MAX_TEXT_BYTES:
                pieces.note(f"png text chunk of {length / MiB:.0f} MB not read")
            else:
                data = read_exactly(stream, length)
                if data is None:
                    return
                _text(kind, data, pieces)
                length = 0
        elif kind == b"eXIf" and length <= MAX_TEXT_BYTES:
            data = read_exactly(stream, length)
            if data is None:
                return
            pieces.add_exif(data)
            length = 0
        elif kind == b"caBX":
            pieces.manifest_bytes += length
        stream.seek(length + 4, 1)  # the data not read, and the CRC


def _text(kind: bytes, data: bytes, pieces: Pieces) -> None:
    key, _, rest = data.partition(b"\0")
    name = key.decode("latin-1")
    what = f"png {kind.decode()} {name!r}"
    if kind == b"zTXt":
        text = inflate(rest[1:], what, pieces)
    elif kind == b"iTXt":
        if len(rest) < 2:
            return
        compressed, body = rest[0], rest[2:]
        _language, _, body = body.partition(b"\0")
        _translated, _, body = body.partition(b"\0")
        text = inflate(body, what, pieces) if compressed else body
    else:
        text = rest
    if text is None:
        return
    if name == XMP_KEY:
        pieces.add_xmp(text)
    else:
        encoding = "latin-1" if kind != b"iTXt" else "utf-8"
        pieces.texts.append((name, text.decode(encoding, "replace")))
