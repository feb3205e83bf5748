"""What identifies a file already classified, so a resumed run can skip it.

By default a file is done when the output has a row with its path, size and mtime (so a
new or changed file is classified again); with content hashing, its path and SHA-256.
The key values are columns of the output itself: no side file to get out of step.
"""

from __future__ import annotations

import hashlib
import os
import re
from collections import deque
from collections.abc import Callable, Iterable, Iterator
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import replace
from pathlib import Path

from batch_classifier.inference.files.walk import VANISHED, FoundFile, os_error

STAT_KEY = ("path", "size", "mtime_ns")
HASH_KEY = ("path", "sha256")
CHUNK = 1 << 20
_ESCAPED_BYTE = re.compile("[\udc80-\udcff]")  # a byte that is not UTF-8, surrogate-escaped


def key_columns(content_hash: bool) -> tuple[str, ...]:
    """The output columns that identify a done file."""
    return HASH_KEY if content_hash else STAT_KEY


def display_path(path: str | os.PathLike) -> str:
    """A path as output text, one text per path and back: a byte that is not UTF-8 is
    written as \\xNN and a backslash as \\\\ (so the name `\\xff` cannot pass
    for the byte 0xff)."""
    text = os.fsencode(path).decode("utf-8", "surrogateescape")
    if "\\" not in text and not _ESCAPED_BYTE.search(text):
        return text
    return _ESCAPED_BYTE.sub(lambda byte: f"\\x{ord(byte.group()) - 0xDC00:02x}",
                             text.replace("\\", "\\\\"))


def file_key(found: FoundFile, content_hash: bool) -> tuple[str, ...]:
    """The key of `found` as the output holds it (text, like a CSV cell)."""
    values = (found.sha256,) if content_hash else (found.size, found.mtime_ns)
    return display_path(found.path), *("" if v is None else str(v) for v in values)


def sha256_of(path: Path) -> str:
    """The SHA-256 of a file's content, read in 1 MiB pieces."""
    digest = hashlib.sha256()
    with open(path, "rb") as handle:
        while piece := handle.read(CHUNK):
            digest.update(piece)
    return digest.hexdigest()


def with_hashes(found: Iterable[FoundFile], workers: int, window: int = 64,
                ) -> Iterator[FoundFile]:
    """`found` in order, each good file with its sha256 (hashed by `workers` threads,
    at most `window` ahead); a file that cannot be read gets the error instead."""
    with ThreadPoolExecutor(workers, thread_name_prefix="hash") as pool:
        pending: deque[Future[FoundFile]] = deque()
        for item in found:
            pending.append(pool.submit(_hashed, item))
            if len(pending) >= window:
                yield pending.popleft().result()
        for future in pending:
            yield future.result()


def _hashed(found: FoundFile) -> FoundFile:
    if found.error is not None:
        return found
    try:
        return replace(found, sha256=sha256_of(found.path))
    except FileNotFoundError:
        return replace(found, error=VANISHED)
    except OSError as exc:
        return replace(found, error=os_error(exc))


def not_done(found: Iterable[FoundFile], done: set[tuple[str, ...]], content_hash: bool,
             on_skip: Callable[[], None]) -> Iterator[FoundFile]:
    """The files whose key is not in `done`; `on_skip` is called for each one passed over.

    A path that failed before it could be looked at has empty key values, so its error
    row counts as done too: a resumed run does not repeat it."""
    for item in found:
        if file_key(item, content_hash) in done:
            on_skip()
        else:
            yield item
