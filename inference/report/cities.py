"""The cities report: a world map of a sample of the points, counts per country, errors
by kind (open sea among them), the confidence histogram and the least sure rows."""

from __future__ import annotations

import re
from collections import Counter
from itertools import compress
from operator import itemgetter
from typing import Any

import numpy as np

from batch_classifier.inference.cities.coordinates import parse_latlon
from batch_classifier.inference.cities.reader import LAT_NAMES, LON_NAMES, find_column
from batch_classifier.inference.errors import UsageError
from batch_classifier.inference.report.charts import bars_svg, histogram_svg, world_map_svg
from batch_classifier.inference.report.page import errors_table, note, section, table
from batch_classifier.inference.report.stream import (
    ErrorKinds,
    Extremes,
    Histogram,
    Sample,
    numbers,
)

ADDED = ("country", "country_code", "confidence", "error")
MAP_POINTS = 5000
TOP_COUNTRIES = 20
LOWEST = 20
SHOWN_COLUMNS = 12  # of a lowest-confidence row


def added_column(header: list[str], name: str) -> int:
    """Index of the column classify-cities added as `name`: the last one named `name`,
    `predicted_<name>` or `predicted_<name>_N` (an input column of the same name comes
    before it)."""
    pattern = re.compile(rf"(?:predicted_)?{re.escape(name)}|predicted_{re.escape(name)}_\d+")
    found = [i for i, column in enumerate(header) if pattern.fullmatch(column)]
    if not found:
        raise UsageError(f"not a classify-cities output: no {name} column")
    return found[-1]


class CitiesReport:
    """Streams a classify-cities output's rows; `sections()` renders what it saw."""

    unit = "rows"

    def __init__(self, header: list[str], lat_col: str | None, lon_col: str | None):
        self.header = header
        self._at = [added_column(header, name) for name in ADDED]
        self._lat = find_column(header, LAT_NAMES, lat_col, "latitude", "the output")
        self._lon = find_column(header, LON_NAMES, lon_col, "longitude", "the output")
        self.rows = self.classified = 0
        self.countries: Counter[str] = Counter()  # by code
        self.names: dict[str, str] = {}
        self.errors = ErrorKinds(row_prefixed=True)
        self.histogram = Histogram(20)
        self.lowest = Extremes(LOWEST, largest=False)
        self.points = Sample(MAP_POINTS)

    def add(self, rows: list[list[Any]]) -> None:
        """Count one chunk of rows."""
        names, codes, confidences, errors = (list(map(itemgetter(at), rows))
                                             for at in self._at)
        ok = (np.fromiter(map(bool, codes), bool, len(rows))
              & ~np.fromiter(map(bool, errors), bool, len(rows)))
        classified = ok.tolist()
        confidence = np.full(len(rows), np.nan)
        confidence[ok] = numbers(list(compress(confidences, classified)))
        self.rows += len(rows)
        self.classified += int(ok.sum())
        self.countries.update(compress(codes, classified))
        for code in self.countries.keys() - self.names.keys():
            self.names[code] = names[codes.index(code)]
        self.errors.add(errors)
        self.histogram.add(confidence)
        self.lowest.add(confidence, rows)
        chosen = self.points.candidates(len(rows))
        self.points.add(chosen, [(rows[i], bool(ok[i])) for i in chosen])

    def _points(self) -> list[tuple[float, float, bool]]:
        """(lat, lon, classified) of the sampled rows whose coordinates parse."""
        found = []
        for row, classified in self.points.items():
            lat, lon, error = parse_latlon(str(row[self._lat] or ""),
                                           str(row[self._lon] or ""))
            if error is None:
                found.append((lat, lon, classified))
        return found

    def sections(self) -> list[str]:
        """Map, counts, countries, errors, histogram and lowest rows, as HTML."""
        failed = self.errors.total
        sea = sum(count for kind, count in self.errors.counts.items()
                  if kind.startswith("open sea"))
        counts = [["rows", self.rows], ["classified (a country)", self.classified],
                  ["not classified (error)", failed], ["of which at open sea", sea]]
        top = [(code, self.names[code], count)
               for code, count in self.countries.most_common(TOP_COUNTRIES)]
        rest = self.classified - sum(count for _, _, count in top)
        country_rows = [list(country) for country in top]
        if rest:
            country_rows.append(["", f"{len(self.countries) - len(top)} other countries", rest])
        points = self._points()
        return [
            section("Rows", table(["", "rows"], counts,
                                  ["count-rows", "count-classified", "count-failed",
                                   "count-sea"])),
            section("Where the points fell",
                    note(f"{len(points):,} of the {self.rows:,} rows, chosen at random "
                         "(blue: a country; red: no country: open sea or another error)."),
                    world_map_svg(points)),
            section(f"Countries (top {TOP_COUNTRIES})",
                    bars_svg([(f"{name} ({code})", count) for code, name, count in top]),
                    table(["code", "country", "rows"], country_rows,
                          [f"country-{code}" for code, _, _ in top])),
            section("Errors by kind", errors_table(self.errors.counts, self.errors.examples)),
            section("Confidence of the classified rows",
                    histogram_svg(self.histogram, "confidence")),
            section(f"The {LOWEST} least sure rows", self._lowest_table()),
        ]

    def _lowest_table(self) -> str:
        items = self.lowest.items()
        if not items:
            return note("No row was classified.")
        shown = sorted(set(range(min(SHOWN_COLUMNS, len(self.header)))) | set(self._at[:3]))
        return table([self.header[i] for i in shown],
                     [[row[i] for i in shown] for _, row in items])
