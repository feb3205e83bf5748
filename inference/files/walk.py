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
NOT_REGULAR = RowError("not a regular file", "not a regular file")
LEAVES = RowError("link leaves the folder", "symbolic link to a path outside the folder "
                                            "walked (not followed; see --follow-links)")


@dataclass(frozen=True)
class FoundFile:
    """A file to classify (with its size and mtime), or a path that failed (`error`).
    The path is an fsspec URL (text) for a file a --dask run reads through fsspec."""

    path: Path | str
    size: int | None = None
    mtime_ns: int | None = None
    error: RowError | None = None
    sha256: str | None = None


def walk_files(roots: Iterable[str | os.PathLike], suffixes: frozenset[str] | None = None,
               follow_links: bool = False) -> Iterator[FoundFile]:
    """Files under `roots`: a file named directly whatever its name, folders depth first.

    In folders only names with one of `suffixes` (lower case, with the dot) are taken,
    hidden files and folders are skipped, and files come in the order the folder lists
    them (sorting would mean reading a whole listing first). A root that lies inside
    another root folder (or is named twice) is walked once, as part of it.

    A symbolic link found in a folder is followed only if it stays inside the root it
    was found under, unless `follow_links`; one that leaves is reported. A folder met a
    second time is reported once: as a symlink loop when it contains the link, else as
    a second way into it. Unreadable folders, broken links, files that are not regular
    files (a FIFO would hang the decoder) and files deleted before they could be looked
    at are reported.
    """
    walked: set[tuple[int, int]] = set()
    for root in _distinct_roots([Path(root) for root in roots], suffixes):
        if root.is_dir():
            yield from _walk(root, suffixes, walked, follow_links)
        else:
            yield _found(root, partial(os.stat, root), root.is_symlink)


def _distinct_roots(roots: list[Path], suffixes: frozenset[str] | None) -> list[Path]:
    """`roots` without those another root folder's walk already takes (a root inside a
    root folder, reached without a hidden folder, and for a file, with a taken suffix)."""
    real = [os.path.realpath(root) for root in roots]
    folders = [(i, folder) for i, folder in enumerate(real) if os.path.isdir(folder)]
    kept = []
    for i, (root, path) in enumerate(zip(roots, real, strict=True)):
        taken = suffixes is None or root.is_dir() or root.suffix.lower() in suffixes
        inside = any(_walk_reaches(folder, path) and (path != folder or j < i)
                     for j, folder in folders if j != i)
        if not (taken and inside):
            kept.append(root)
    return kept


def _walk_reaches(folder: str, path: str) -> bool:
    """True if `path` is `folder` or lies under it with no hidden name between them."""
    if path == folder:
        return True
    if os.path.commonpath([folder, path]) != folder:
        return False
    return not any(part.startswith(".") for part in Path(os.path.relpath(path, folder)).parts)


def _walk(root: Path, suffixes: frozenset[str] | None, walked: set[tuple[int, int]],
          follow_links: bool) -> Iterator[FoundFile]:
    inside = os.path.realpath(root)
    folders = [root]
    while folders:
        folder = folders.pop()
        try:
            info = folder.stat()
            if (info.st_dev, info.st_ino) in walked:
                yield FoundFile(folder, error=_walked_again(folder))
                continue
            walked.add((info.st_dev, info.st_ino))
            subfolders = []
            with os.scandir(folder) as entries:
                for entry in entries:
                    if entry.name.startswith("."):
                        continue
                    if not follow_links and _leaves(entry, inside):
                        if _is_dir(entry) or _wanted(entry.name, suffixes):
                            yield FoundFile(Path(entry.path), error=LEAVES)
                    elif _is_dir(entry):
                        subfolders.append(entry.name)
                    elif _wanted(entry.name, suffixes):
                        yield _found(Path(entry.path), entry.stat, entry.is_symlink)
            folders += [folder / name for name in sorted(subfolders, reverse=True)]
        except OSError as exc:
            yield FoundFile(folder, error=RowError("cannot read folder",
                                                   f"cannot read folder ({os_reason(exc)})"))


def _wanted(name: str, suffixes: frozenset[str] | None) -> bool:
    return suffixes is None or Path(name).suffix.lower() in suffixes


def _leaves(entry: os.DirEntry, inside: str) -> bool:
    """True for a symbolic link whose target lies outside the folder `inside`."""
    if not _safe(entry.is_symlink):
        return False
    target = os.path.realpath(entry.path)
    return os.path.commonpath([inside, target]) != inside


def _walked_again(folder: Path) -> RowError:
    """Why a folder reached a second time is not walked again."""
    target, here = os.path.realpath(folder), os.path.realpath(folder.parent)
    if os.path.commonpath([target, here]) == target:
        return RowError("symlink loop", "symlink loop (this folder was already walked)")
    return RowError("already walked", "a second way into a folder already walked (its "
                                      "files are listed under their other path)")


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
        return FoundFile(path, error=NOT_REGULAR)
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
