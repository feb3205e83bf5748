"""read_provenance: one file's provenance, every failure a note (never an exception)."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import IO

from batch_classifier.inference.images.provenance.bmff import scan_bmff
from batch_classifier.inference.images.provenance.findings import Provenance
from batch_classifier.inference.images.provenance.generators import read_exif, read_png_texts
from batch_classifier.inference.images.provenance.jpeg import scan_jpeg
from batch_classifier.inference.images.provenance.manifests import read_manifest
from batch_classifier.inference.images.provenance.pieces import Pieces
from batch_classifier.inference.images.provenance.png import scan_png
from batch_classifier.inference.images.provenance.riff import scan_webp
from batch_classifier.inference.images.provenance.tiff import scan_tiff
from batch_classifier.inference.images.provenance.xmp import read_xmp

SCANNERS: dict[str, Callable[[IO[bytes], Pieces], None]] = {
    "jpeg": scan_jpeg, "png": scan_png, "webp": scan_webp, "tiff": scan_tiff, "bmff": scan_bmff}


def container_format(head: bytes) -> str | None:
    """The container of a file from its first 12 bytes (None: none read here)."""
    if head.startswith(b"\xff\xd8\xff"):
        return "jpeg"
    if head.startswith(b"\x89PNG\r\n\x1a\n"):
        return "png"
    if head[:4] == b"RIFF" and head[8:12] == b"WEBP":
        return "webp"
    if head[:4] in (b"II*\0", b"MM\0*"):
        return "tiff"
    return "bmff" if head[4:8] == b"ftyp" else None


def read_provenance(path: str | Path,
                    open_file: Callable[[str], IO[bytes]] | None = None) -> Provenance:
    """What the file at `path` says about its origin (`open_file` opens a path that is
    not local, as in `decode_file`). A file that cannot be read, or a mark that cannot,
    gives a note in the findings."""
    provenance = Provenance()
    try:
        with (open_file or _open_local)(str(path)) as stream:
            read_stream(stream, provenance)
    except OSError as exc:
        provenance.note(f"provenance not read ({exc.strerror or type(exc).__name__})")
    except Exception as exc:  # a malformed container is this file's note, not the run's
        provenance.note(f"provenance not read ({type(exc).__name__}: {str(exc)[:80]})")
    return provenance


def _open_local(path: str) -> IO[bytes]:
    return open(path, "rb")


def read_stream(stream: IO[bytes], provenance: Provenance) -> None:
    """Scan the container, read its marks, then validate an embedded C2PA manifest."""
    fmt = container_format(stream.read(12))
    if fmt is None:
        return
    pieces = Pieces(fmt)
    SCANNERS[fmt](stream, pieces)
    remote = read_xmp(bytes(pieces.xmp), provenance) if pieces.xmp else None
    if pieces.exif is not None:
        read_exif(pieces.exif, provenance)
    read_png_texts(pieces.texts, provenance)
    for note in pieces.notes:
        provenance.note(note)
    if pieces.manifest_bytes:
        read_manifest(stream, fmt, pieces.manifest_bytes, provenance)
    elif remote:
        provenance.note(f"c2pa manifest stored remotely at {remote[:100]}: not fetched "
                        "(no network)")
