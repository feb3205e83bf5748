"""The images report: counts by label, errors by kind, the P(fake) histogram with the
threshold and the uncertain band, and thumbnails of the files to look at."""

from __future__ import annotations

from collections import Counter
from typing import Any

import numpy as np

from batch_classifier.inference.errors import UsageError
from batch_classifier.inference.report.charts import histogram_svg
from batch_classifier.inference.report.page import errors_table, note, section, table
from batch_classifier.inference.report.stream import (
    ErrorKinds,
    Extremes,
    Histogram,
    Sample,
    numbers,
)
from batch_classifier.inference.report.thumbs import thumbnail_grid

COLUMNS = ("path", "label", "fake_probability", "error")
LABELS = ("real", "fake", "uncertain")
GRID = 24  # thumbnails per grid


class ImagesReport:
    """Streams a classify-images output's rows; `sections()` renders what it saw."""

    unit = "images"

    def __init__(self, header: list[str], threshold: float | None,
                 band: tuple[float, float] | None):
        missing = [name for name in COLUMNS if name not in header]
        if missing:
            raise UsageError(f"not a classify-images output: no {', '.join(missing)} column")
        self._at = [header.index(name) for name in COLUMNS]
        self.threshold, self.band = threshold, band
        self.rows = 0
        self.labels: Counter[str] = Counter()
        self.errors = ErrorKinds()
        self.histogram = Histogram(50)
        self.fakest = Extremes(GRID)
        self.doubtful = Extremes(GRID)
        self.reals = Sample(GRID)

    def add(self, rows: list[list[Any]]) -> None:
        """Count one chunk of rows."""
        paths, labels, probabilities, errors = ([row[at] for row in rows] for at in self._at)
        p = numbers(probabilities)
        labelled = np.array([bool(label) for label in labels])
        self.rows += len(rows)
        self.labels.update(label or "no label (error)" for label in labels)
        self.errors.add([str(error) if error else "" for error in errors])
        self.histogram.add(p[labelled])
        payloads = list(zip(p.tolist(), map(str, paths), strict=True))
        self.fakest.add(np.where(labelled, p, np.nan), payloads)
        doubtful = (np.array([label == "uncertain" for label in labels]) if self.band
                    else labelled)
        nearness = -np.abs(p - (self.threshold if self.threshold is not None else 0.5))
        self.doubtful.add(np.where(doubtful, nearness, np.nan), payloads)
        real = np.flatnonzero([label == "real" for label in labels])
        candidates = real[np.isin(real, self.reals.candidates(len(rows)))]
        self.reals.add(candidates, [payloads[i] for i in candidates])

    def sections(self) -> list[str]:
        """Counts, errors, histogram and thumbnail grids, as HTML."""
        names = [*LABELS, *sorted(set(self.labels) - set(LABELS))]
        counts = [[name, self.labels.get(name, 0)] for name in names] + [["total", self.rows]]
        ids = [f"count-{name.split()[0]}" for name in names] + ["count-total"]
        marks = [(self.threshold, f"threshold {self.threshold:g}")] if self.threshold else []
        near = (f"labelled uncertain (P(fake) in [{self.band[0]:g}, {self.band[1]:g})), "
                "nearest the threshold first" if self.band
                else "no --uncertain band: the images nearest the threshold")
        return [
            section("Images by label", table(["label", "images"], counts, ids)),
            section("Errors by kind", errors_table(self.errors.counts, self.errors.examples)),
            section("P(fake) of the classified images",
                    histogram_svg(self.histogram, "P(fake)", marks, self.band)),
            section(f"Most likely fake (top {GRID})", thumbnail_grid(
                [item for _, item in self.fakest.items()], "No image was classified.")),
            section("Uncertain", note(near), thumbnail_grid(
                [item for _, item in self.doubtful.items()], "None.")),
            section(f"A sample of those called real ({GRID} at random)", thumbnail_grid(
                sorted(self.reals.items(), reverse=True), "None called real.")),
        ]
