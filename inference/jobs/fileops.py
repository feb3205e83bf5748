"""A job's own files (lock, temp, appended output, summary): opened and created without
ever following a symbolic link or writing into anything but a plain file of our own.

Temporary files have a name no user file is likely to have,
`.<target>.batch-classifier.<16 hex>.tmp`, and hold an `flock` for as long as the run
that made them is alive, so a later run removes only temps of this tool, for this
target, whose maker is gone.
"""

from __future__ import annotations

import errno
import fcntl
import os
import re
import secrets
import stat
from pathlib import Path

from batch_classifier.inference.errors import UsageError

TEMP_MARK = "batch-classifier"
_NAME_PART = 120  # bytes of the target's name in a temp's name (a name has 255 at most)


def open_plain_file(path: Path, flags: int, what: str) -> int:
    """`os.open(path, flags)` for a regular file with a single name, or a UsageError.

    A symbolic link is never followed (O_NOFOLLOW); a FIFO, device or folder is closed
    again before anything is read or written; a file with other hard links is refused
    because writing it would change those too.
    """
    try:
        fd = os.open(path, flags | os.O_NOFOLLOW | os.O_NONBLOCK | os.O_CLOEXEC, 0o666)
    except OSError as exc:
        if exc.errno == errno.ELOOP:
            raise UsageError(f"{path}: {what} is a symbolic link; refusing to follow it "
                             "(remove the link)") from None
        raise UsageError(f"{path}: cannot open {what} ({exc.strerror})") from None
    info = os.fstat(fd)
    problem = ("is not a regular file" if not stat.S_ISREG(info.st_mode)
               else "has other hard links" if info.st_nlink != 1 else None)
    if problem:
        os.close(fd)
        raise UsageError(f"{path}: {what} {problem}; refusing to use it")
    os.set_blocking(fd, True)
    return fd


def open_stream(path: Path, what: str) -> int:
    """`path` opened for writing as a stream: a character device or a pipe (a pipe waits
    for its reader). Anything else found there by then is closed again, unwritten."""
    try:
        fd = os.open(path, os.O_WRONLY | os.O_CLOEXEC)
    except OSError as exc:
        raise UsageError(f"{path}: cannot open {what} ({exc.strerror})") from None
    mode = os.fstat(fd).st_mode
    if not (stat.S_ISCHR(mode) or stat.S_ISFIFO(mode)):
        os.close(fd)
        raise UsageError(f"{path}: {what} is no longer a device or pipe; refusing to write it")
    return fd


def create_temp(target: Path) -> tuple[int, Path]:
    """A new temporary file beside `target`: (descriptor open for writing, its path).

    Created with O_EXCL (never an existing name, never through a link) and locked while
    the descriptor is open. Its mode is the existing target's, else what the umask gives
    a new file.
    """
    folder = target.parent
    try:
        path = folder / f"{_temp_prefix(target)}{secrets.token_hex(8)}.tmp"
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_NOFOLLOW | os.O_CLOEXEC,
                     0o666)
    except OSError as exc:
        raise UsageError(f"{target}: cannot create a file in {folder} ({exc.strerror})") from None
    fcntl.flock(fd, fcntl.LOCK_EX)
    try:
        info = os.stat(target)
    except OSError:
        return fd, path
    if stat.S_ISREG(info.st_mode):
        os.fchmod(fd, stat.S_IMODE(info.st_mode))
    return fd, path


def remove_stale_temps(target: str | os.PathLike) -> int:
    """Delete the temporary files of `target` that runs now dead left behind; return how
    many. Files of other names, and temps whose run is alive (locked), are left alone."""
    target = Path(target)
    pattern = re.compile(re.escape(_temp_prefix(target)) + r"[0-9a-f]{16}\.tmp")
    removed = 0
    try:
        entries = [entry.path for entry in os.scandir(target.parent)
                   if pattern.fullmatch(entry.name)]
    except OSError:
        return 0
    for path in entries:
        removed += _remove_if_unlocked(path)
    return removed


def _temp_prefix(target: Path) -> str:
    """`.<target>.batch-classifier.`, the target's name cut to _NAME_PART bytes."""
    name = os.fsdecode(os.fsencode(target.name)[:_NAME_PART])
    return f".{name}.{TEMP_MARK}."


def _remove_if_unlocked(path: str) -> bool:
    try:
        fd = os.open(path, os.O_RDONLY | os.O_NOFOLLOW | os.O_NONBLOCK | os.O_CLOEXEC)
    except OSError:
        return False
    try:
        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        if not stat.S_ISREG(os.fstat(fd).st_mode) or not same_file(fd, path):
            return False
        os.unlink(path)
        return True
    except OSError:  # locked by a live run, or gone meanwhile
        return False
    finally:
        os.close(fd)


def same_file(fd: int, path: str | os.PathLike) -> bool:
    """True while `path` (not followed if a link) names the file open as `fd`."""
    try:
        info, opened = os.lstat(path), os.fstat(fd)
    except OSError:
        return False
    return (info.st_dev, info.st_ino) == (opened.st_dev, opened.st_ino)
