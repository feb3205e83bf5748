"""Checks, before any work, that a distributed run keeps off what it must not touch: no
input inside the output folder, however it is named (a file:// URL, a symbolic link,
`x/../out`), and no --summary-json that is an input or one of the folder's own files.

Local files (and file:// URLs) are compared as the kernel resolves them: by the device
and inode of the folder and of every folder above the input; URLs elsewhere by text.
"""

from __future__ import annotations

import os
from collections.abc import Iterable
from pathlib import Path
from typing import Protocol

from batch_classifier.inference.distributed.outdir import own_file
from batch_classifier.inference.distributed.urls import local_path
from batch_classifier.inference.errors import UsageError
from batch_classifier.inference.jobs.lock import lock_path
from batch_classifier.inference.jobs.targets import Target, check_target, refuse_inputs


class Folder(Protocol):
    path: Path | str
    local_path: Path | None


def refuse_inputs_inside(inputs: Iterable[str], folder: Folder) -> None:
    """A UsageError for an input that is the output folder or inside it."""
    local = folder.local_path
    if local is None:
        prefix = str(folder.path).rstrip("/") + "/"
        for item in inputs:
            if item == str(folder.path) or item.startswith(prefix):
                raise _inside_error(item, folder)
        return
    identity = _identity(local)
    if identity is None:  # not there yet: nothing is inside it
        return
    for item in inputs:
        path = local_path(item)
        if path is not None and _within(path, identity):
            raise _inside_error(item, folder)


def summary_target(summary_json: str | None, folder: Folder, inputs: Iterable[str],
                   input_suffixes: frozenset[str] = frozenset()) -> tuple[Target | None,
                                                                         frozenset[str]]:
    """--summary-json checked as a local run checks it (not an input, not named like one,
    not the lock), and not one of the output folder's own files; with the names the
    folder may hold besides its own (the summary's, when it is inside)."""
    if not summary_json:
        return None, frozenset()
    local = folder.local_path
    if local is not None and _same_place(Path(summary_json).parent, local):
        os.makedirs(local, exist_ok=True)  # the first night: the folder it goes in
    target = check_target(summary_json, "--summary-json", input_suffixes)
    written = {"--summary-json": target.path}
    if local is not None:
        written = {"lock file": lock_path(local), **written}
        if _same_place(target.path, local):
            raise UsageError(f"--summary-json {target.path}: is the output folder")
    refuse_inputs(written, [path for path in map(local_path, inputs) if path is not None])
    if local is None or target.stream or not _same_place(target.path.parent, local):
        return target, frozenset()
    if own_file(target.path.name):
        raise UsageError(f"--summary-json {target.path}: is one of the output folder's own "
                         "files (parts, journal, _SUCCESS); name another file")
    return target, frozenset({target.path.name})


def _inside_error(item: str, folder: Folder) -> UsageError:
    return UsageError(f"{item}: an input inside the output folder -o {folder.path}; name "
                      "another folder")


def _identity(path: str | os.PathLike) -> tuple[int, int] | None:
    try:
        info = os.stat(path)
    except OSError:
        return None
    return info.st_dev, info.st_ino


def _within(path: str, identity: tuple[int, int]) -> bool:
    """True when `path`, or a folder above it as the kernel resolves it, is `identity`."""
    at = os.path.realpath(path)
    while True:
        if _identity(at) == identity:
            return True
        parent = os.path.dirname(at)
        if parent == at:
            return False
        at = parent


def _same_place(path: str | os.PathLike, folder: str | os.PathLike) -> bool:
    """True when `path` is `folder` (by device and inode where both exist)."""
    mine, theirs = _identity(path), _identity(folder)
    if mine is not None and theirs is not None:
        return mine == theirs
    return os.path.realpath(path) == os.path.realpath(folder)
