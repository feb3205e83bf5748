"""Produce the next items of an iterator in a background thread while the caller works
on the current one: reading and parsing the next chunk overlaps the model's run (ONNX
Runtime and numpy release the GIL)."""

from __future__ import annotations

import queue
import threading
from collections.abc import Iterable, Iterator
from typing import TypeVar

T = TypeVar("T")
_POLL_S = 0.1
_JOIN_S = 5.0  # a thread blocked reading a pipe is left behind (it is a daemon)


def read_ahead(items: Iterable[T], depth: int = 1) -> Iterator[T]:
    """Yield `items` in order, at most `depth` of them made ahead of the consumer.

    An exception raised while making an item is raised here, at that item. Closing the
    generator (or leaving a loop over it) stops the thread after the item in hand.
    """
    made: queue.Queue[tuple[str, object]] = queue.Queue(maxsize=depth)
    stop = threading.Event()

    def hand_over(kind: str, value: object) -> None:
        while not stop.is_set():
            try:
                made.put((kind, value), timeout=_POLL_S)
                return
            except queue.Full:
                continue

    def produce() -> None:
        try:
            for item in items:
                hand_over("item", item)
                if stop.is_set():
                    return
            hand_over("end", None)
        except BaseException as exc:  # noqa: BLE001 - re-raised in the consumer
            hand_over("error", exc)

    thread = threading.Thread(target=produce, name="read-ahead", daemon=True)
    thread.start()
    try:
        while True:
            kind, value = made.get()
            if kind == "end":
                return
            if kind == "error":
                raise value  # type: ignore[misc]
            yield value  # type: ignore[misc]
    finally:
        stop.set()
        thread.join(_JOIN_S)
