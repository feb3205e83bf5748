"""CSV text of a mixed chunk, its fast rows built with numpy rather than cell by cell:
each input line as it came (re-separated by commas) and then the added columns, byte for
byte what the CSV writer gives for the same row."""

from __future__ import annotations

import itertools

import numpy as np

from batch_classifier.inference.cities.classifier import CountryClassifier
from batch_classifier.inference.cities.mixed import MixedChunk, PlainRun
from batch_classifier.inference.cities.predict import TopCountries, prediction_dicts
from batch_classifier.inference.cities.rows import result_rows, valid_rows
from batch_classifier.inference.formats import csv_record

# round(p, 6) formatted with ".6g" for p under 1e-4 (exponent notation), by millionths
_TINY = np.array([f"{micros / 1e6:.6g}".encode() for micros in range(100)])


def confidence_text(probabilities: np.ndarray) -> np.ndarray:
    """f"{round(p, 6):.6g}" of each float32 probability, as an array of bytes."""
    # float32 * 10**6 is exact in float64, and rint rounds half to even as round() does
    micros = np.rint(probabilities.astype(np.float64) * 1e6).astype(np.int64)
    digits = np.strings.rstrip(np.strings.zfill(micros.clip(0, 999_999).astype("S7"), 6), b"0")
    text = np.strings.add(b"0.", digits)
    text = np.where(micros >= 1_000_000, b"1", text)
    return np.where(micros < 100, _TINY[micros.clip(0, 99)], text)


class ChunkCsv:
    """Renders a mixed chunk as CSV text: one model pass over all its valid rows, fast
    rows per run with numpy, careful rows through the CSV writer."""

    def __init__(self, classifier: CountryClassifier, top_k: int, min_confidence: float,
                 sea: str, added: list[str]):
        self._classifier = classifier
        self._options = (top_k, min_confidence, sea)
        self._top_k = top_k
        self._added = added
        contract = classifier.model.contract
        cells = [csv_record([name, code])[:-1] for name, code in
                 zip(contract.labels, contract.label_codes, strict=True)]
        self._labels = np.array([f",{cell},".encode() for cell in cells])

    def text(self, chunk: MixedChunk) -> tuple[str, list[str | None]]:
        """The chunk's CSV records and each row's error kind (None when classified)."""
        coordinates = [part.latlon if isinstance(part, PlainRun) else part.latlon[valid_rows(part)]
                       for part in chunk.parts]
        top = self._classifier.top(np.concatenate(coordinates), *self._options)
        texts: list[bytes] = []
        kinds: list[str | None] = []
        at = 0
        for part, latlon in zip(chunk.parts, coordinates, strict=True):
            predicted = top.part(at, at + len(latlon))
            at += len(latlon)
            if isinstance(part, PlainRun):
                text, part_kinds = self._fast_rows(part, predicted)
            else:
                dicts = prediction_dicts(self._classifier.model, predicted)
                rows, part_kinds = result_rows(part, dicts, self._added)
                text = "".join(map(csv_record, rows)).encode("utf-8")
            texts.append(text)
            kinds += part_kinds
        return b"".join(texts).decode("utf-8"), kinds

    def _fast_rows(self, run: PlainRun, top: TopCountries) -> tuple[bytes, list[str | None]]:
        """The run's input lines, each followed by its top-k columns and an empty error
        (or, for a row with an error such as open sea, empty columns and the error)."""
        suffixes = np.full(len(run.lines), b"")
        for rank in range(top.best.shape[1]):
            suffixes = np.strings.add(np.strings.add(suffixes, self._labels[top.best[:, rank]]),
                                      confidence_text(top.probabilities[:, rank]))
        tail = ",,," * (self._top_k - top.best.shape[1]) + ",\n"
        rows = np.strings.add(suffixes, tail.encode()).tolist()
        kinds: list[str | None] = [None] * len(run.lines)
        for i, error in enumerate(top.errors):
            if error is not None:
                cells = [None] * (3 * self._top_k) + [f"line {run.line_numbers[i]}: "
                                                      f"{error.message}"]
                rows[i] = ("," + csv_record(cells)).encode("utf-8")
                kinds[i] = error.kind
        return b"".join(itertools.chain.from_iterable(zip(run.lines, rows, strict=True))), kinds
