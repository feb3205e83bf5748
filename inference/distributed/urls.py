"""fsspec URLs (`s3://...`, `gs://...`, `file://...`) as inputs and outputs of a --dask
run: their filesystem (or one line naming the package it needs), opening, sizes, and
whole-file writes. Only the Dask engine imports this (fsspec comes with Dask); a plain
local path never comes here except through `open_input`, which opens it as before."""

from __future__ import annotations

import glob
import os
import secrets
from collections.abc import Callable, Iterable
from datetime import datetime
from functools import partial
from typing import IO, Any

import fsspec
from fsspec.core import url_to_fs
from fsspec.implementations.local import LocalFileSystem
from fsspec.registry import known_implementations

from batch_classifier.inference.distributed.options import is_url
from batch_classifier.inference.errors import UsageError
from batch_classifier.inference.jobs.fileops import TEMP_MARK


def filesystem(url: str) -> tuple[fsspec.AbstractFileSystem, str]:
    """The filesystem of `url` and the path on it; a UsageError naming the package to
    install when the protocol has none here."""
    try:
        return url_to_fs(url)
    except ImportError as exc:
        protocol = url.split("://", 1)[0].split("::")[-1]
        package = known_implementations.get(protocol, {}).get("class", "").split(".")[0]
        hint = f": pip install {package}" if package else ""
        raise UsageError(f"{url}: no filesystem for {protocol}:// is installed "
                         f"({exc}){hint}") from None
    except ValueError as exc:
        raise UsageError(f"{url}: not a URL fsspec knows ({exc})") from None


def check_urls(paths: Iterable[str]) -> None:
    """Fail before any work when one of `paths` is a URL no installed filesystem reads."""
    for path in paths:
        if is_url(str(path)):
            filesystem(str(path))


def url_matches(pattern: str) -> list[str]:
    """The files a URL names, as full URLs: the sorted matches of a glob, or the one file
    (none if it is not there)."""
    fs, path = filesystem(pattern)
    if glob.has_magic(path):
        names = sorted(name for name in fs.glob(path) if fs.isfile(name))
    else:
        names = [path] if fs.isfile(path) else []
    return [fs.unstrip_protocol(name) for name in names]


def absolute(path: str | os.PathLike) -> str:
    """`path` made absolute against the working folder, its `..` left for the kernel to
    resolve (after a symbolic link, `link/../x` is not `x` beside `link`)."""
    return os.path.join(os.getcwd(), os.fspath(path))


def local_path(path: str | os.PathLike) -> str | None:
    """The local path a path or a file:// URL names; None for a URL elsewhere."""
    if not is_url(path):
        return os.fspath(path)
    fs, inner = filesystem(str(path))
    return inner if isinstance(fs, LocalFileSystem) else None


def open_input(path: str) -> IO[bytes]:
    """`path` opened for binary reading: a URL through fsspec, a local path with open()."""
    if is_url(path):
        fs, inner = filesystem(path)
        return fs.open(inner, "rb")
    return open(path, "rb")  # noqa: SIM115 - the caller closes it


def size_and_mtime(path: str) -> tuple[int, int | None]:
    """A file's size and modification time in ns (None where a URL's filesystem gives
    none): os.stat for a local path, fsspec's info for a URL."""
    if is_url(path):
        fs, inner = filesystem(path)
        info = fs.info(inner)
        return info["size"], stamp(info)
    info = os.stat(path)
    return info.st_size, info.st_mtime_ns


def stamp(info: dict[str, Any]) -> int | None:
    """A file's modification time in ns from its fsspec `info` (the key differs by
    filesystem: mtime, LastModified, updated...); None if it has none."""
    for key in ("mtime", "LastModified", "last_modified", "updated", "modified"):
        value = info.get(key)
        if isinstance(value, int | float):
            return int(value * 1e9)
        if isinstance(value, datetime):
            return int(value.timestamp() * 1e9)
        if isinstance(value, str):
            try:
                return int(datetime.fromisoformat(value.replace("Z", "+00:00")).timestamp()
                           * 1e9)
            except ValueError:
                continue
    return None


def put_file(local: str, url: str) -> None:
    """Upload the local file `local` to `url` whole (see `_replace`)."""
    fs, path = filesystem(url)
    _replace(fs, path, partial(fs.put_file, local))


def put_bytes(url: str, data: bytes) -> None:
    """Write `data` as the file at `url`, whole (see `_replace`)."""
    fs, path = filesystem(url)
    _replace(fs, path, lambda target: fs.pipe_file(target, data))


def _replace(fs: fsspec.AbstractFileSystem, path: str, write: Callable[[str], Any]) -> None:
    """Make the file `path` with `write(target)`: on a local filesystem (file://) into a
    temporary name then renamed into place; elsewhere directly, as one upload (on an
    object store an object appears whole or not at all)."""
    if not isinstance(fs, LocalFileSystem):
        write(path)
        return
    folder, name = path.rsplit("/", 1)
    temp = f"{folder}/.{name}.{TEMP_MARK}.{secrets.token_hex(8)}.tmp"
    try:
        write(temp)
        fs.mv(temp, path)
    finally:
        if fs.exists(temp):
            fs.rm_file(temp)
