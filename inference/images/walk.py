"""Find the image files under the paths a user passes."""

from __future__ import annotations

from collections.abc import Iterable
from pathlib import Path

IMAGE_SUFFIXES = frozenset(
    {".jpg", ".jpeg", ".jpe", ".png", ".webp", ".bmp", ".tif", ".tiff", ".gif"})


def find_images(paths: Iterable[str | Path]) -> list[Path]:
    """Files named directly are kept whatever their name; folders are walked recursively
    for image extensions (any case), skipping hidden files and folders; sorted per folder."""
    found: list[Path] = []
    for path in map(Path, paths):
        if path.is_dir():
            found += sorted(
                p for p in path.rglob("*")
                if p.suffix.lower() in IMAGE_SUFFIXES and p.is_file()
                and not any(part.startswith(".") for part in p.relative_to(path).parts))
        else:
            found.append(path)
    return found
