"""Check, before any work, the paths a run will write: -o FILE, the lock and run record
beside it, and --summary-json FILE.

A regular file (or a new name in an existing folder) is written safely beside itself;
a character device or a pipe (`/dev/null`, `/dev/stdout`, a FIFO) is written as a stream.
Refused: a symbolic link to anything else, a folder, a missing folder, other special
files, a path that is one of the run's inputs (same inode), an output named like an
input the run would read, and --summary-json naming one of the run's other files.
"""

from __future__ import annotations

import os
import stat
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

from batch_classifier.inference.errors import UsageError


@dataclass(frozen=True)
class Target:
    """A path the run writes, and whether it is a stream (device or pipe)."""

    path: Path
    stream: bool


def check_target(path: str | os.PathLike, what: str,
                 input_suffixes: frozenset[str] = frozenset()) -> Target:
    """What writing `path` means (a file beside which temps go, or a stream); raise a
    UsageError naming `what` (e.g. "-o") for a path that must not be written."""
    path = Path(path)
    info = _lstat(path, what)
    if info is not None and stat.S_ISLNK(info.st_mode):
        followed = _stat(path)
        if followed is not None and _is_stream(followed):
            return Target(path, stream=True)
        raise UsageError(f"{what} {path}: is a symbolic link; name the file itself")
    if info is not None and _is_stream(info):
        return Target(path, stream=True)
    if info is not None and stat.S_ISDIR(info.st_mode):
        raise UsageError(f"{what} {path}: is a folder; name a file in it")
    if info is not None and not stat.S_ISREG(info.st_mode):
        raise UsageError(f"{what} {path}: is not a regular file, a device or a pipe")
    if not path.parent.is_dir():
        raise UsageError(f"{what} {path}: folder does not exist ({path.parent})")
    if path.suffix.lower() in input_suffixes:
        raise UsageError(f"{what} {path}: named like an input ({path.suffix}); results go "
                         "to a .csv or .jsonl file")
    return Target(path, stream=False)


def refuse_inputs(written: dict[str, Path], inputs: Iterable[str | os.PathLike]) -> None:
    """Raise a UsageError if a path the run writes (by description) is one of `inputs`
    ('-' is stdin), or if two of them are the same file."""
    identities = {identity for identity in map(_input_identity, inputs) if identity}
    seen: dict[tuple[int, int] | str, str] = {}
    for what, path in written.items():
        info = _stat(path)
        if info is not None and (info.st_dev, info.st_ino) in identities:
            raise UsageError(f"{what} {path}: is also an input of this run; write the "
                             "results to another file")
        key = (info.st_dev, info.st_ino) if info is not None else os.path.realpath(path)
        if key in seen:
            raise UsageError(f"{what} {path}: is the same file as {seen[key]}")
        seen[key] = f"{what} {path}"


def _input_identity(item: str | os.PathLike) -> tuple[int, int] | None:
    try:
        info = os.fstat(0) if os.fspath(item) == "-" else os.stat(item)
    except (OSError, ValueError):
        return None
    return info.st_dev, info.st_ino


def _is_stream(info: os.stat_result) -> bool:
    return stat.S_ISCHR(info.st_mode) or stat.S_ISFIFO(info.st_mode)


def _lstat(path: Path, what: str) -> os.stat_result | None:
    try:
        return os.lstat(path)
    except FileNotFoundError:
        return None
    except OSError as exc:
        raise UsageError(f"{what} {path}: cannot look at it ({exc.strerror})") from None


def _stat(path: Path) -> os.stat_result | None:
    try:
        return os.stat(path)
    except OSError:
        return None
