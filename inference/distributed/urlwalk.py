"""Walk fsspec URLs (`s3://bucket/photos/`) for input files on the client, as
`walk_files` walks local folders: a file named directly whatever its name; in folders
only the suffixes wanted, hidden files and folders skipped; a folder's files in name
order, then its subfolders, depth first (listings are sorted: the same files in the
same order every time)."""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from pathlib import PurePosixPath
from typing import Any

import fsspec

from batch_classifier.inference.distributed.urls import filesystem, stamp
from batch_classifier.inference.errors import UsageError
from batch_classifier.inference.files.walk import NOT_REGULAR, FoundFile


def walk_urls(roots: Iterable[str], suffixes: frozenset[str]) -> Iterator[FoundFile]:
    """Files under the URLs `roots` (each checked now: one not there is a UsageError),
    as FoundFiles whose path is the file's URL; the walk itself streams."""
    found = []
    for root in roots:
        fs, path = filesystem(root)
        if not fs.exists(path):
            raise UsageError(f"{root}: no such file or folder")
        found.append((fs, path.rstrip("/") or path))
    return _walk(found, suffixes)


def _walk(roots: list[tuple[fsspec.AbstractFileSystem, str]],
          suffixes: frozenset[str]) -> Iterator[FoundFile]:
    for fs, root in roots:
        if fs.isfile(root):
            yield _found(fs, fs.info(root))
            continue
        for _, dirs, files in fs.walk(root, detail=True, topdown=True):
            kept = {name: dirs[name] for name in sorted(dirs) if not name.startswith(".")}
            dirs.clear()  # fs.walk goes next into the folders left here, in this order
            dirs.update(kept)
            for name in sorted(files):
                if not name.startswith(".") and PurePosixPath(name).suffix.lower() in suffixes:
                    yield _found(fs, files[name])


def _found(fs: fsspec.AbstractFileSystem, info: dict[str, Any]) -> FoundFile:
    """A listed file; one that is not a regular file (a FIFO, a device on file://) is a
    row with that error, never opened (a FIFO would block its worker)."""
    url = fs.unstrip_protocol(info["name"])
    if info.get("type", "file") != "file":
        return FoundFile(url, error=NOT_REGULAR)
    return FoundFile(url, info.get("size"), stamp(info))
