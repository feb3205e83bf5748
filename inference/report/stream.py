"""Bounded-memory summaries of a column stream: a fixed-bin histogram, the k extreme rows,
a uniform sample and counts of error kinds. Each takes numpy chunks, so a report over
ten million rows holds only what it will show."""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Iterable, Sequence
from operator import itemgetter, methodcaller
from typing import Any

import numpy as np

OTHER_KINDS = "(other kinds)"
_NUMBER = re.compile(r"\d+(?:\.\d+)?(?:e[+-]?\d+)?")
_QUOTED = re.compile(r"'[^']*'|\"[^\"]*\"")
_ROW_PREFIX = re.compile(r"(?:line|row) \d+: ")


class Histogram:
    """Counts of values in `bins` equal bins over [low, high] (the last bin closed)."""

    def __init__(self, bins: int = 20, low: float = 0.0, high: float = 1.0):
        self.edges = np.linspace(low, high, bins + 1)
        self.counts = np.zeros(bins, dtype=np.int64)

    def add(self, values: np.ndarray) -> None:
        values = values[np.isfinite(values)]
        self.counts += np.histogram(np.clip(values, self.edges[0], self.edges[-1]),
                                    self.edges)[0]


class Extremes:
    """The `k` rows with the largest keys (or smallest, `largest=False`), each kept with
    its payload; ties keep the earlier row."""

    def __init__(self, k: int, largest: bool = True):
        self.k, self._sign = k, 1.0 if largest else -1.0
        self._keys = np.empty(0)
        self._order = np.empty(0, dtype=np.int64)
        self._payloads: list[Any] = []
        self._seen = 0

    def add(self, keys: np.ndarray, payloads: Sequence[Any]) -> None:
        """Offer a chunk: `keys` (nan never kept) and the payload of each row."""
        finite = np.flatnonzero(np.isfinite(keys))
        bar = self.bar()
        if bar is not None:  # only rows that beat the last one kept
            finite = finite[self._sign * keys[finite] > self._sign * bar]
        order = np.arange(self._seen, self._seen + len(keys))[finite]
        self._seen += len(keys)
        if not len(finite):
            return
        all_keys = np.concatenate([self._keys, self._sign * keys[finite]])
        all_order = np.concatenate([self._order, order])
        all_payloads = self._payloads + [payloads[i] for i in finite]
        keep = np.lexsort((all_order, -all_keys))[:self.k]
        self._keys, self._order = all_keys[keep], all_order[keep]
        self._payloads = [all_payloads[i] for i in keep]

    def bar(self) -> float | None:
        """The key a row must beat to enter, once `k` rows are kept (else None)."""
        return self._sign * self._keys.min() if len(self._keys) == self.k else None

    def items(self) -> list[tuple[float, Any]]:
        """(key, payload), the most extreme first."""
        return [(self._sign * key, payload)
                for key, payload in zip(self._keys.tolist(), self._payloads, strict=True)]


class Sample:
    """A uniform sample of at most `k` rows without replacement (each row gets a random
    key, the k smallest keys are kept), reproducible for a given `seed`."""

    def __init__(self, k: int, seed: int = 0):
        self.k = k
        self._rng = np.random.default_rng(seed)
        self._extremes = Extremes(k, largest=False)

    def candidates(self, count: int) -> np.ndarray:
        """Draw keys for a chunk of `count` rows; the indices of the rows that could
        enter the sample (only those need their payload built)."""
        self._keys = self._rng.random(count)
        bar = self._extremes.bar()
        return np.arange(count) if bar is None else np.flatnonzero(self._keys < bar)

    def add(self, rows: np.ndarray, payloads: Sequence[Any]) -> None:
        """Offer the chunk's `rows` (from `candidates`) with their payloads."""
        self._extremes.add(self._keys[rows], payloads)

    def items(self) -> list[Any]:
        """The sampled payloads, in no particular order."""
        return [payload for _, payload in self._extremes.items()]


def error_kind(message: str) -> str:
    """An error message as a kind to count: the row prefix dropped, numbers and quoted
    values masked (`open sea: nearest land ~N km`, `latitude N is outside [-N, N]`)."""
    text = _ROW_PREFIX.sub("", message, count=1)
    return _NUMBER.sub("N", _QUOTED.sub("'…'", text))[:120]


class ErrorKinds:
    """Counts of error messages by kind (see `error_kind`), at most `limit` kinds (the
    rest counted together), with one message of each as an example. `row_prefixed`:
    every message starts with `line N: ` or `row N: ` (classify-cities), dropped at C
    speed before counting so that only distinct remainders are looked at."""

    def __init__(self, limit: int = 50, row_prefixed: bool = False):
        self.limit, self._prefixed = limit, row_prefixed
        self.counts: Counter[str] = Counter()
        self.examples: dict[str, str] = {}

    def add(self, messages: Iterable[Any]) -> None:
        """Count a chunk's error messages (empty ones and None are not errors)."""
        present: Iterable[str] = map(str, filter(None, messages))
        if self._prefixed:
            present = map(itemgetter(2), map(methodcaller("partition", ": "), present))
        for message, count in Counter(present).items():
            kind = error_kind(message)
            if kind not in self.counts and len(self.counts) >= self.limit:
                kind = OTHER_KINDS
            self.counts[kind] += count
            self.examples.setdefault(kind, message)

    @property
    def total(self) -> int:
        return sum(self.counts.values())


def numbers(values: Sequence[Any]) -> np.ndarray:
    """Column values (text as written, floats, None) as float64; empty or not a number
    is nan."""
    try:  # the usual case: every value a number, as the columns of classified rows are
        return np.fromiter(map(float, values), np.float64, len(values))
    except (TypeError, ValueError):
        pass
    text = np.array(values, dtype=np.str_)
    text[(text == "") | (text == "None")] = "nan"
    try:
        return text.astype(np.float64)
    except ValueError:
        return np.array([_number(value) for value in text.tolist()], dtype=np.float64)


def _number(value: Any) -> float:
    try:
        return float(value)
    except (TypeError, ValueError):
        return float("nan")
