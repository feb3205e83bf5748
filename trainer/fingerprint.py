"""Short, stable fingerprints of training data."""

from __future__ import annotations

import hashlib
from collections.abc import Iterable
from pathlib import Path


def fingerprint_files(paths: Iterable[Path], root: Path | None = None) -> str:
    """sha256 over the files' relative names and bytes, in sorted order (first 16 hex)."""
    digest = hashlib.sha256()
    for path in sorted(Path(p) for p in paths):
        name = path.relative_to(root) if root is not None else path.name
        digest.update(str(name).encode())
        with open(path, "rb") as handle:
            for block in iter(lambda: handle.read(1 << 20), b""):
                digest.update(block)
    return "sha256:" + digest.hexdigest()[:16]


def fingerprint_strings(items: Iterable[str]) -> str:
    """sha256 over newline-joined strings (first 16 hex)."""
    digest = hashlib.sha256()
    for item in items:
        digest.update(item.encode())
        digest.update(b"\n")
    return "sha256:" + digest.hexdigest()[:16]
