"""Column results of the Python API: a mapping of column name -> numpy array, with the
columns also readable as attributes (`result.country_code`)."""

from __future__ import annotations

from collections.abc import Iterator, Mapping

import numpy as np


class Predictions(Mapping[str, np.ndarray]):
    """Equal-length columns, in the order the CLI writes them."""

    def __init__(self, columns: dict[str, np.ndarray]):
        self._columns = dict(columns)

    def __getitem__(self, name: str) -> np.ndarray:
        return self._columns[name]

    def __iter__(self) -> Iterator[str]:
        return iter(self._columns)

    def __len__(self) -> int:
        return len(self._columns)

    def __getattr__(self, name: str) -> np.ndarray:
        try:
            return self.__dict__["_columns"][name]
        except KeyError:
            raise AttributeError(name) from None

    def __repr__(self) -> str:
        rows = len(next(iter(self._columns.values()))) if self._columns else 0
        return f"Predictions({rows} rows: {', '.join(self._columns)})"
