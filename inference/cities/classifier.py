"""CountryClassifier: coordinates -> country from Python, and what classify-cities runs.

    >>> from batch_classifier import CountryClassifier
    >>> CountryClassifier().predict([48.8566, 52.52], [2.3522, 13.405]).country_code
    array(['FR', 'DE'], dtype=object)
"""

from __future__ import annotations

import math
import os
from collections.abc import Sequence
from typing import Any

import numpy as np

from batch_classifier.inference.arguments import check_number, check_whole
from batch_classifier.inference.cities.area import model_area
from batch_classifier.inference.cities.coordinates import parse_coordinate
from batch_classifier.inference.cities.lookup import cell_lookup
from batch_classifier.inference.cities.predict import (
    SEA_CHOICES,
    TopCountries,
    prediction_columns,
    sea_rule,
    top_countries,
)
from batch_classifier.inference.cities.reader import LAT_NAMES, LON_NAMES, find_column
from batch_classifier.inference.cities.records import short
from batch_classifier.inference.errors import RowError, UsageError
from batch_classifier.inference.formats import added_names
from batch_classifier.inference.portable import TravellingModel
from batch_classifier.inference.predictions import Predictions
from batch_classifier.inference.session import LoadedModel

LIMITS = {"latitude": 90.0, "longitude": 180.0}
# Points per pass of `predict`: a pass holds ~2 KB a point with the world model's 247
# countries (probabilities, twice while they are gathered), so 16,384 points ~32 MiB
BATCH_SIZE = 16_384


class CountryClassifier(TravellingModel):
    """One cities model. `model`: a shipped model's short name ("world", "eu") or an
    .onnx path; `device`: auto, cpu or cuda; `threads`: ONNX Runtime threads (0: one per
    core); `lookup`: answer points in the model's lookup cells from its table (when it
    has one; False: run the network for every point). The methods are safe to call
    again and again. It pickles (for Dask, multiprocessing, Spark) as the model's name,
    or a custom model's bytes, and its options; each process loads the model once, on
    first use."""

    task = "cities"

    def __init__(self, model: str | os.PathLike = "world", device: str = "auto",
                 threads: int = 0, lookup: bool = True):
        self.use_lookup = bool(lookup)
        self._open(model, device, threads)
        self._derived()  # a broken lookup or area is refused here, not on first use

    @classmethod
    def wrapping(cls, model: LoadedModel, lookup: bool = True) -> CountryClassifier:
        """A classifier around a model already loaded (e.g. once per Dask worker)."""
        classifier = cls.__new__(cls)
        classifier.use_lookup = bool(lookup)
        classifier._wrap(model)
        return classifier

    @property
    def lookup(self) -> Any:
        """The model's lookup cells (None when off or the model has none), decoded once
        per process."""
        return self._derived()[1]

    @property
    def area(self) -> Any:
        """The area the model answers for (None: everywhere), decoded once per process."""
        return self._derived()[2]

    def _derived(self) -> tuple[LoadedModel, Any, Any]:
        model = self.model
        derived = getattr(self, "_derived_cache", None)
        if derived is None or derived[0] is not model:
            derived = (model, cell_lookup(model) if self.use_lookup else None,
                       model_area(model))
            self._derived_cache = derived
        return derived

    def __getstate__(self) -> dict[str, Any]:
        state = super().__getstate__()
        state.pop("_derived_cache", None)  # decoded again from the model on the other side
        return state

    @property
    def labels(self) -> list[str]:
        """The countries the model knows (English names), in output order."""
        return self.model.contract.labels

    def top(self, latlon: np.ndarray, top_k: int = 1, min_confidence: float = 0.0,
            sea: str = "none") -> TopCountries:
        """The top-k countries of valid float (lat, lon) rows, each row's error or None:
        the core that classify-cities and `predict` share."""
        self._check_options(top_k, min_confidence, sea)
        return top_countries(self.model, latlon, top_k, min_confidence, sea, self.lookup,
                             self.area)

    def predict(self, lat: Sequence[Any] | np.ndarray, lon: Sequence[Any] | np.ndarray,
                top_k: int = 1, min_confidence: float = 0.0,
                sea: str = "none") -> Predictions:
        """Classify points given as two sequences (numbers, or text as in a CSV field).

        Returns columns as numpy arrays, one value per point: country, country_code,
        confidence (and country_2, ... with `top_k`), and error: None where the point was
        classified, else why not (an invalid coordinate, open sea with `sea="none"`, a
        best probability below `min_confidence`); that row's other columns are None/nan.
        Points go through the model BATCH_SIZE at a time: memory beyond the input and
        the result columns stays flat however many there are.
        """
        self._check_options(top_k, min_confidence, sea)
        lats, lons = _flat(lat), _flat(lon)
        if len(lats) != len(lons):
            raise UsageError(f"lat has {len(lats)} values but lon {len(lons)}")
        columns: dict[str, np.ndarray] = {}
        for start in range(0, max(1, len(lats)), BATCH_SIZE):  # no points: empty columns
            stop = start + BATCH_SIZE
            part = self._predict_batch(lats[start:stop], lons[start:stop], top_k,
                                       min_confidence, sea)
            for name, values in part.items():
                columns.setdefault(name, np.empty(len(lats), values.dtype))[start:stop] = values
        return Predictions(columns)

    def predict_frame(self, frame: Any, lat_col: str | None = None, lon_col: str | None = None,
                      top_k: int = 1, min_confidence: float = 0.0, sea: str = "none") -> Any:
        """A copy of the pandas DataFrame `frame` with the predicted columns added
        (coordinate columns found by the usual names unless given, as in the CLI; an
        added name the frame already has, in any case, becomes predicted_<name>, then
        predicted_<name>_2, ...). Works as a Dask DataFrame's `map_partitions` function."""
        header = [str(name) for name in frame.columns]
        lat = frame.columns[find_column(header, LAT_NAMES, lat_col, "latitude", "frame")]
        lon = frame.columns[find_column(header, LON_NAMES, lon_col, "longitude", "frame")]
        result = self.predict(frame[lat].to_numpy(), frame[lon].to_numpy(), top_k,
                              min_confidence, sea)
        out = frame.copy()
        for name, values in zip(added_names(header, list(result)), result.values(),
                                strict=True):
            out[name] = values
        return out

    def _predict_batch(self, lat: np.ndarray, lon: np.ndarray, top_k: int,
                       min_confidence: float, sea: str) -> Predictions:
        latlon, errors = validated_points(lat, lon)
        valid = [i for i, error in enumerate(errors) if error is None]
        top = self.top(latlon[valid], top_k, min_confidence, sea)
        for i, error in zip(valid, top.errors, strict=True):
            errors[i] = error
        return self._columns(top, valid, errors)

    def _check_options(self, top_k: int, min_confidence: float, sea: str) -> None:
        check_whole("top_k", top_k, 1)
        if top_k > len(self.labels):
            raise UsageError(f"top_k {top_k}: the model knows {len(self.labels)} countries")
        if not 0.0 <= check_number("min_confidence", min_confidence) <= 1.0:
            raise UsageError(f"min_confidence {min_confidence} is not in [0, 1]")
        if not isinstance(sea, str) or sea not in SEA_CHOICES:
            raise UsageError(f"sea {sea!r}: choose from {', '.join(SEA_CHOICES)}")
        if sea != "none" and not self.knows_sea:
            raise UsageError(f"sea {sea!r}: model {self.model.contract.model_name} knows no "
                             "sea (it has no land distance)")

    @property
    def knows_sea(self) -> bool:
        """Whether the model tells open sea (its points there get no country)."""
        return sea_rule(self.model) is not None

    def _columns(self, top: TopCountries, valid: list[int],
                 errors: list[RowError | None]) -> Predictions:
        count, k = len(errors), top.best.shape[1]
        names = np.array(self.labels, dtype=object)
        codes = np.array(self.model.contract.label_codes, dtype=object)
        ok = np.array([top.errors[j] is None for j in range(len(valid))], dtype=bool)
        rows = np.array(valid, dtype=np.int64)[ok]
        columns: dict[str, np.ndarray] = {}
        titles = prediction_columns(k)
        for rank in range(k):
            country = np.full(count, None, dtype=object)
            code = np.full(count, None, dtype=object)
            confidence = np.full(count, np.nan)
            country[rows] = names[top.best[ok, rank]]
            code[rows] = codes[top.best[ok, rank]]
            confidence[rows] = top.probabilities[ok, rank]
            for title, values in zip(titles[3 * rank:3 * rank + 3], (country, code, confidence),
                                     strict=True):
                columns[title] = values
        columns["error"] = np.array([e.message if e else None for e in errors], dtype=object)
        return Predictions(columns)


def validated_points(lat: np.ndarray, lon: np.ndarray,
                     ) -> tuple[np.ndarray, list[RowError | None]]:
    """(lat, lon) of two flat arrays of the same length (see `_flat`) as float32 rows
    (nan where invalid) and each row's error or None."""
    (lats, lat_errors), (lons, lon_errors) = _as_floats(lat, "latitude"), \
        _as_floats(lon, "longitude")
    errors: list[RowError | None] = []
    for lat_error, lon_error in zip(lat_errors, lon_errors, strict=True):
        problems = [e for e in (lat_error, lon_error) if e]
        errors.append(RowError(problems[0].kind, "; ".join(p.message for p in problems))
                      if problems else None)
    latlon = np.stack([lats, lons], axis=1).astype(np.float32)
    latlon[[i for i, e in enumerate(errors) if e]] = np.nan
    return latlon.reshape(-1, 2), errors


def _as_floats(values: np.ndarray, what: str) -> tuple[np.ndarray, list[RowError | None]]:
    """Values as float64 and each one's error: numbers are checked for finiteness and
    range, anything else is parsed like a CSV field."""
    limit = LIMITS[what]
    if values.dtype.kind in "iuf":  # numbers: only the invalid ones need a closer look
        numbers = values.astype(np.float64)
        bad = np.flatnonzero(~(np.abs(numbers) <= limit))
        errors: list[RowError | None] = [None] * len(numbers)
        for i in bad.tolist():
            numbers[i], errors[i] = _as_float(values[i].item(), what, limit)
        return numbers, errors
    parsed = [_as_float(value, what, limit) for value in values.tolist()]
    return (np.array([number for number, _ in parsed], dtype=np.float64),
            [error for _, error in parsed])


def _as_float(value: Any, what: str, limit: float) -> tuple[float, RowError | None]:
    """One coordinate as a float, or nan and its error."""
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return math.nan, RowError("missing coordinate", f"missing {what}")
    if isinstance(value, int | float | np.integer | np.floating) and not isinstance(value, bool):
        try:
            return parse_coordinate(repr(float(value)), what, limit)
        except OverflowError:  # an int too large for a float (10**400)
            return math.nan, RowError("out of range", f"{what} {short(str(value))} is outside "
                                                      f"[-{limit:g}, {limit:g}]")
    return parse_coordinate(str(value), what, limit)


def _flat(values: Sequence[Any] | np.ndarray) -> np.ndarray:
    """`values` as a flat array: numbers stay numbers (no copy of a numeric array),
    anything else is kept as the objects given."""
    array = values if isinstance(values, np.ndarray) else None
    if array is None or array.dtype.kind not in "iufO":
        array = np.asarray(values, dtype=object)
    return array.reshape(-1)
