"""One job per output: an exclusive lock file beside it that names the holder's pid.

The lock is an advisory `flock` on FILE.lock, not only the file's existence: the kernel
drops it when the holder dies, even by `kill -9`, so a stale lock is taken over without
guessing from pids (which get reused) and without a race between two takers. A link,
or anything but a plain file, planted at FILE.lock is refused, never written through.
"""

from __future__ import annotations

import fcntl
import os
from pathlib import Path

from batch_classifier.inference.errors import UsageError
from batch_classifier.inference.jobs.fileops import open_plain_file, same_file


def lock_path(output: str | os.PathLike) -> Path:
    """The lock file of an output: FILE.lock beside it."""
    return Path(f"{os.fspath(output)}.lock")


class LockHeld(UsageError):
    """Another live process holds the lock on this output."""


class OutputLock:
    """Hold `<output>.lock` for the life of a job (use as a context manager)."""

    def __init__(self, output: str | os.PathLike):
        self.output = Path(output)
        self.path = lock_path(output)
        self._fd: int | None = None

    def __enter__(self) -> OutputLock:
        self.acquire()
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.release()

    def acquire(self) -> None:
        """Take the lock or raise LockHeld naming the holder; take over a stale one."""
        while True:
            fd = open_plain_file(self.path, os.O_RDWR | os.O_CREAT, "lock file")
            try:
                fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
            except BlockingIOError:
                holder = _read_pid(fd)
                os.close(fd)
                raise LockHeld(
                    f"another job (pid {holder or 'unknown'}) is writing {self.output}; "
                    f"lock file {self.path}"
                ) from None
            if same_file(fd, self.path):  # not unlinked by a holder that just finished
                break
            os.close(fd)
        self._fd = fd
        try:
            os.ftruncate(fd, 0)
            os.write(fd, f"{os.getpid()}\n".encode())
            os.fsync(fd)
        except OSError as exc:  # a full disk, a quota
            self.release()
            raise UsageError(f"{self.path}: cannot write the lock file "
                             f"({exc.strerror or exc})") from None

    def release(self) -> None:
        """Remove the lock file (if it is still ours) and drop the lock."""
        if self._fd is None:
            return
        if same_file(self._fd, self.path):
            self.path.unlink(missing_ok=True)
        os.close(self._fd)
        self._fd = None


def _read_pid(fd: int) -> int | None:
    text = os.pread(fd, 32, 0).decode("ascii", "replace").strip()
    return int(text) if text.isdigit() else None
