"""A byte budget shared by the threads of a process: each reserves what its work will
hold before doing it, so that what they hold together stays bounded however many run
(a local decoding pool, several Dask tasks in one worker)."""

from __future__ import annotations

import ctypes
import threading
from collections import deque
from collections.abc import Callable, Iterator
from contextlib import contextmanager


class ByteBudget:
    """`capacity` bytes, reserved first come, first served: a reservation waits until it
    fits beside those held, and one larger than the whole budget until it is alone (so
    the bound is the larger of the capacity and the largest single reservation)."""

    def __init__(self, capacity: int):
        self.capacity = capacity
        self._held = 0
        self._waiting: deque[object] = deque()
        self._changed = threading.Condition()

    @contextmanager
    def reserve(self, nbytes: int) -> Iterator[None]:
        """Hold `nbytes` of the budget for the duration of the block."""
        ticket = object()
        with self._changed:
            self._waiting.append(ticket)
            try:
                while self._waiting[0] is not ticket or \
                        (self._held and self._held + nbytes > self.capacity):
                    self._changed.wait()
            finally:
                self._waiting.remove(ticket)
                self._changed.notify_all()
            self._held += nbytes
        try:
            yield
        finally:
            with self._changed:
                self._held -= nbytes
                self._changed.notify_all()


def _malloc_trim() -> Callable[[int], int] | None:
    """glibc's malloc_trim, or None where the C library has none (musl, macOS)."""
    try:
        return ctypes.CDLL(None).malloc_trim  # the C library the interpreter runs on
    except (OSError, AttributeError):
        return None


_TRIM = _malloc_trim()


def return_freed_memory() -> None:
    """Give the memory freed in every thread's heap back to the system. glibc keeps what
    a thread frees for that thread to reuse, so large blocks freed in turn by several
    threads would stay resident, one set per thread, though only one is live at a time."""
    if _TRIM is not None:
        _TRIM(0)
