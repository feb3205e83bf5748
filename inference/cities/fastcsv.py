"""CSV text of a mixed chunk, its fast rows built with numpy rather than cell by cell:
each input line as it came (re-separated by commas) and then the added columns, byte for
byte what the CSV writer gives for the same row."""

from __future__ import annotations

import itertools

import numpy as np

from batch_classifier.inference.cities.mixed import MixedChunk, PlainRun
from batch_classifier.inference.cities.predict import (
    LOW_CONFIDENCE,
    low_confidence,
    prediction_dicts,
    top_predictions,
)
from batch_classifier.inference.cities.rows import result_rows, valid_rows
from batch_classifier.inference.formats import csv_record
from batch_classifier.inference.session import LoadedModel

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

    def __init__(self, model: LoadedModel, top_k: int, min_confidence: float,
                 added: list[str]):
        self._model = model
        self._top_k = top_k
        self._min_confidence = min_confidence
        self._added = added
        contract = model.contract
        cells = [csv_record([name, code])[:-1] for name, code in
                 zip(contract.labels, contract.label_codes, strict=True)]
        self._labels = np.array([f",{cell},".encode() for cell in cells])

    def text(self, chunk: MixedChunk) -> tuple[str, list[str | None]]:
        """The chunk's CSV records and each row's error kind (None when classified)."""
        coordinates = [part.latlon if isinstance(part, PlainRun) else part.latlon[valid_rows(part)]
                       for part in chunk.parts]
        best, best_probs = top_predictions(self._model, np.concatenate(coordinates), self._top_k)
        texts: list[bytes] = []
        kinds: list[str | None] = []
        at = 0
        for part, latlon in zip(chunk.parts, coordinates, strict=True):
            predicted = best[at:at + len(latlon)], best_probs[at:at + len(latlon)]
            at += len(latlon)
            if isinstance(part, PlainRun):
                text, part_kinds = self._fast_rows(part, *predicted)
            else:
                dicts = prediction_dicts(self._model.contract, *predicted, self._min_confidence)
                rows, part_kinds = result_rows(part, dicts, self._added)
                text = "".join(map(csv_record, rows)).encode("utf-8")
            texts.append(text)
            kinds += part_kinds
        return b"".join(texts).decode("utf-8"), kinds

    def _fast_rows(self, run: PlainRun, best: np.ndarray,
                   best_probs: np.ndarray) -> tuple[bytes, list[str | None]]:
        """The run's input lines, each followed by its top-k columns and an empty error
        (or, below --min-confidence, empty columns and the error)."""
        suffixes = np.full(len(run.lines), b"")
        for rank in range(best.shape[1]):
            suffixes = np.strings.add(np.strings.add(suffixes, self._labels[best[:, rank]]),
                                      confidence_text(best_probs[:, rank]))
        tail = ",,," * (self._top_k - best.shape[1]) + ",\n"
        rows = np.strings.add(suffixes, tail.encode()).tolist()
        kinds: list[str | None] = [None] * len(run.lines)
        unsure = best_probs[:, 0].astype(np.float64) < self._min_confidence
        for i in np.flatnonzero(unsure).tolist():
            codes = self._model.contract.label_codes
            error = low_confidence(float(best_probs[i, 0]), codes[best[i, 0]],
                                   self._min_confidence)
            cells = [None] * (3 * self._top_k) + [f"line {run.line_numbers[i]}: {error}"]
            rows[i] = ("," + csv_record(cells)).encode("utf-8")
            kinds[i] = LOW_CONFIDENCE
        return b"".join(itertools.chain.from_iterable(zip(run.lines, rows, strict=True))), kinds
