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
from batch_classifier.inference.errors import RowError, UsageError
from batch_classifier.inference.models import resolve_model
from batch_classifier.inference.predictions import Predictions
from batch_classifier.inference.session import LoadedModel, load_model

LIMITS = {"latitude": 90.0, "longitude": 180.0}


class CountryClassifier:
    """One loaded cities model. `model`: a shipped model's short name ("world", "eu") or
    an .onnx path; `device`: auto, cpu or cuda; `threads`: ONNX Runtime threads (0: one
    per core); `lookup`: answer points in the model's lookup cells from its table (when
    it has one; False: run the network for every point). Loading happens once; the
    methods are safe to call again and again."""

    def __init__(self, model: str | os.PathLike = "world", device: str = "auto",
                 threads: int = 0, lookup: bool = True):
        spec = os.fspath(model)
        loaded = load_model(
            resolve_model("cities", spec), device=device, task="cities", threads=threads,
            spinning=False)  # idle threads sleep: the caller's own work needs the cores
        self._load(loaded, lookup)

    @classmethod
    def wrapping(cls, model: LoadedModel, lookup: bool = True) -> CountryClassifier:
        """A classifier around a model already loaded (e.g. once per Dask worker)."""
        classifier = cls.__new__(cls)
        classifier._load(model, lookup)
        return classifier

    def _load(self, model: LoadedModel, lookup: bool) -> None:
        self.model: LoadedModel = model
        self.lookup = cell_lookup(model) if lookup else None
        self.area = model_area(model)

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
        """
        latlon, errors = validated_points(lat, lon)
        valid = [i for i, error in enumerate(errors) if error is None]
        top = self.top(latlon[valid], top_k, min_confidence, sea)
        for i, error in zip(valid, top.errors, strict=True):
            errors[i] = error
        return self._columns(top, valid, errors)

    def predict_frame(self, frame: Any, lat_col: str | None = None, lon_col: str | None = None,
                      top_k: int = 1, min_confidence: float = 0.0, sea: str = "none") -> Any:
        """A copy of the pandas DataFrame `frame` with the predicted columns added
        (coordinate columns found by the usual names unless given, as in the CLI)."""
        header = [str(name) for name in frame.columns]
        lat = frame.columns[find_column(header, LAT_NAMES, lat_col, "latitude", "frame")]
        lon = frame.columns[find_column(header, LON_NAMES, lon_col, "longitude", "frame")]
        result = self.predict(frame[lat].to_numpy(), frame[lon].to_numpy(), top_k,
                              min_confidence, sea)
        out = frame.copy()
        for name, values in result.items():
            out[name if name not in out.columns else f"predicted_{name}"] = values
        return out

    def _check_options(self, top_k: int, min_confidence: float, sea: str) -> None:
        if not 1 <= top_k <= len(self.labels):
            raise UsageError(f"top_k {top_k}: the model knows {len(self.labels)} countries")
        if not 0.0 <= min_confidence <= 1.0:
            raise UsageError(f"min_confidence {min_confidence} is not in [0, 1]")
        if sea not in SEA_CHOICES:
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


def validated_points(lat: Sequence[Any] | np.ndarray, lon: Sequence[Any] | np.ndarray,
                     ) -> tuple[np.ndarray, list[RowError | None]]:
    """(lat, lon) as float32 rows (nan where invalid) and each row's error or None."""
    (lats, lat_errors), (lons, lon_errors) = _as_floats(lat, "latitude"), \
        _as_floats(lon, "longitude")
    if len(lats) != len(lons):
        raise UsageError(f"lat has {len(lats)} values but lon {len(lons)}")
    errors: list[RowError | None] = []
    for lat_error, lon_error in zip(lat_errors, lon_errors, strict=True):
        problems = [e for e in (lat_error, lon_error) if e]
        errors.append(RowError(problems[0].kind, "; ".join(p.message for p in problems))
                      if problems else None)
    latlon = np.stack([lats, lons], axis=1).astype(np.float32)
    latlon[[i for i, e in enumerate(errors) if e]] = np.nan
    return latlon.reshape(-1, 2), errors


def _as_floats(values: Sequence[Any] | np.ndarray,
               what: str) -> tuple[np.ndarray, list[RowError | None]]:
    """Values as float64 and each one's error: numbers are checked for finiteness and
    range, anything else is parsed like a CSV field."""
    limit = LIMITS[what]
    parsed, errors = [], []
    for value in np.asarray(values, dtype=object).reshape(-1).tolist():
        if value is None or (isinstance(value, float) and math.isnan(value)):
            number, error = math.nan, RowError("missing coordinate", f"missing {what}")
        elif isinstance(value, int | float | np.integer | np.floating) \
                and not isinstance(value, bool):
            number, error = parse_coordinate(repr(float(value)), what, limit)
        else:
            number, error = parse_coordinate(str(value), what, limit)
        parsed.append(number)
        errors.append(error)
    return np.array(parsed, dtype=np.float64), errors
