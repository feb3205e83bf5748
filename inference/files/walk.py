"""Walk folders for input files as a stream: memory stays flat however many files there
are, and every problem is one found path with an error, never a crash or a hang."""

from __future__ import annotations

import os
import stat
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from functools import partial
from pathlib import Path

from batch_classifier.inference.errors import RowError

VANISHED = RowError("no such file", "no such file (deleted while the job ran?)")
BROKEN_LINK = RowError("broken symbolic link", "broken symbolic link")


@dataclass(frozen=True)
class FoundFile:
    """A file to classify (with its size and mtime), or a path that failed (`error`)."""

    path: Path
    size: int | None = None
    mtime_ns: int | None = None
    error: RowError | None = None
    sha256: str | None = None


def walk_files(roots: Iterable[str | os.PathLike], suffixes: frozenset[str] | None = None,
               ) -> Iterator[FoundFile]:
    """Files under `roots`: a file named directly whatever its name, folders depth first.

    In folders only names with one of `suffixes` (lower case, with the dot) are taken,
    hidden files and folders are skipped, and files come in the order the folder lists
    them (sorting would mean reading a whole listing first). Links to folders are
    followed once: a loop, or a second way into a folder already walked, is reported.
    Unreadable folders, broken links, files that are not regular files (a FIFO would
    hang the decoder) and files deleted before they could be looked at are reported.
    """
    walked: set[tuple[int, int]] = set()
    for root in map(Path, roots):
        if root.is_dir():
            yield from _walk(root, suffixes, walked)
        else:
            yield _found(root, partial(os.stat, root), root.is_symlink)


def _walk(root: Path, suffixes: frozenset[str] | None,
          walked: set[tuple[int, int]]) -> Iterator[FoundFile]:
    folders = [root]
    while folders:
        folder = folders.pop()
        try:
            info = folder.stat()
            if (info.st_dev, info.st_ino) in walked:
                yield FoundFile(folder, error=RowError(
                    "symlink loop", "symlink loop (this folder was already walked)"))
                continue
            walked.add((info.st_dev, info.st_ino))
            subfolders = []
            with os.scandir(folder) as entries:
                for entry in entries:
                    if entry.name.startswith("."):
                        continue
                    if _is_dir(entry):
                        subfolders.append(entry.name)
                    elif suffixes is None or Path(entry.name).suffix.lower() in suffixes:
                        yield _found(Path(entry.path), entry.stat, entry.is_symlink)
            folders += [folder / name for name in sorted(subfolders, reverse=True)]
        except OSError as exc:
            yield FoundFile(folder, error=RowError("cannot read folder",
                                                   f"cannot read folder ({os_reason(exc)})"))


def _is_dir(entry: os.DirEntry) -> bool:
    try:
        return entry.is_dir()
    except OSError:
        return False


def _found(path: Path, stat_of: Callable[[], os.stat_result],
           is_symlink: Callable[[], bool]) -> FoundFile:
    """Look at one file (following links); any failure becomes its error."""
    try:
        info = stat_of()
    except FileNotFoundError:
        return FoundFile(path, error=BROKEN_LINK if _safe(is_symlink) else VANISHED)
    except OSError as exc:
        return FoundFile(path, error=os_error(exc))
    if not stat.S_ISREG(info.st_mode):
        return FoundFile(path, error=RowError("not a regular file", "not a regular file"))
    return FoundFile(path, info.st_size, info.st_mtime_ns)


def _safe(check: Callable[[], bool]) -> bool:
    try:
        return bool(check())
    except OSError:
        return False


def os_reason(exc: OSError) -> str:
    """An OSError as a short lower-case reason ('permission denied')."""
    return (exc.strerror or type(exc).__name__).lower()


def os_error(exc: OSError) -> RowError:
    """An OSError met on a file as its row error (the reason is also the kind)."""
    reason = os_reason(exc)
    return RowError(reason, reason)
