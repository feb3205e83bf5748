"""Thumbnails for the images report: small JPEG data URIs made from the decoded pixels
(the project's own decoder, with its format and size checks), never a link to the file."""

from __future__ import annotations

import base64
import io
from collections.abc import Sequence
from html import escape

from PIL import Image

from batch_classifier.inference.images.decode import load_rgb

SIZE = 128
MAX_PIXELS = 50_000_000


def thumbnail_uri(path: str) -> str | None:
    """A data: URI of the image at `path` (its centre square, SIZE px), or None when it
    cannot be read (moved since, not decodable, a name written with \\ escapes)."""
    if "\\" in path:
        return None
    try:
        pixels = load_rgb(path, SIZE, MAX_PIXELS)
        buffer = io.BytesIO()
        Image.fromarray(pixels).save(buffer, "JPEG", quality=70)
    except Exception:  # noqa: BLE001 - any file that will not decode just gets no thumbnail
        return None
    return "data:image/jpeg;base64," + base64.b64encode(buffer.getvalue()).decode("ascii")


def thumbnail_grid(items: Sequence[tuple[float, str]], empty: str) -> str:
    """One figure per (P(fake), path): the thumbnail, the path and the probability."""
    if not items:
        return f'<p class="note">{escape(empty)}</p>'
    figures = []
    for probability, path in items:
        uri = thumbnail_uri(path)
        picture = (f'<img src="{uri}" alt="">' if uri
                   else '<span class="none" title="no thumbnail"></span>')
        figures.append(f'<figure class="thumb">{picture}<figcaption>{escape(path)}<br>'
                       f'P(fake) {probability:.3f}</figcaption></figure>')
    return f'<div class="grid">{"".join(figures)}</div>'
