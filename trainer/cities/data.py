"""Load coordinate/country data into train/validation/test arrays."""

from __future__ import annotations

import csv
import hashlib
from pathlib import Path

import numpy as np

from batch_classifier.inference.cities.reader import LAT_NAMES, LON_NAMES, find_column
from batch_classifier.inference.errors import UsageError
from batch_classifier.trainer.cities.geonames import is_geonames_source, load_geonames
from batch_classifier.trainer.cities.splits import CitiesData, CitySplit
from batch_classifier.trainer.errors import TrainerUsageError
from batch_classifier.trainer.fingerprint import fingerprint_files

COUNTRY_NAMES = ("country", "country_code", "iso", "iso_code", "cc")
REFERENCE_FILES = ("train.csv", "validation.csv", "test.csv", "labels.csv")


def load_cities_data(source: str, country_col: str | None = None) -> CitiesData:
    """Load 'geonames[:N]', a reference folder (train/validation/test/labels.csv) or a CSV."""
    if is_geonames_source(source):
        return load_geonames(source)
    path = Path(source)
    if path.is_dir():
        return load_reference_folder(path)
    if path.is_file():
        return load_generic_csv(path, country_col)
    raise TrainerUsageError(f"{source}: no such file or folder")


def load_reference_folder(folder: Path) -> CitiesData:
    """The cities-eu layout: unnamed index, long, lat, integer country + labels.csv."""
    missing = [name for name in REFERENCE_FILES if not (folder / name).is_file()]
    if missing:
        raise TrainerUsageError(f"{folder}: missing {', '.join(missing)}")
    with open(folder / "labels.csv", newline="") as handle:
        labels = sorted(csv.DictReader(handle), key=lambda row: int(row["country"]))
    names = [row["name"] for row in labels]
    codes = [row["iso"] for row in labels]
    splits = [_read_reference_split(folder / name, len(names)) for name in REFERENCE_FILES[:3]]
    fingerprint = fingerprint_files([folder / name for name in REFERENCE_FILES])
    return CitiesData(*splits, names=names, codes=codes, fingerprint=fingerprint,
                      source=str(folder))


def _read_reference_split(path: Path, n_classes: int) -> CitySplit:
    with open(path, newline="") as handle:
        rows = list(csv.DictReader(handle))
    latlon = np.array([(float(r["lat"]), float(r["long"])) for r in rows], dtype=np.float32)
    labels = np.array([int(r["country"]) for r in rows], dtype=np.int64)
    if len(labels) and (labels.min() < 0 or labels.max() >= n_classes):
        raise TrainerUsageError(f"{path}: country index outside labels.csv")
    return CitySplit(latlon, labels)


def load_generic_csv(path: Path, country_col: str | None) -> CitiesData:
    """Any CSV with lat/lon columns and a country column (names or ISO codes).

    Rows are split 80/10/10 by a hash of their coordinates, so the split does not
    depend on row order and duplicate places never straddle two splits.
    """
    with open(path, newline="", encoding="utf-8-sig") as handle:
        reader = csv.reader(handle)
        header = next(reader, None)
        if header is None:
            raise TrainerUsageError(f"{path}: empty file")
        try:
            lat_i = find_column(header, LAT_NAMES, None, "latitude", str(path))
            lon_i = find_column(header, LON_NAMES, None, "longitude", str(path))
            country_i = find_column(header, COUNTRY_NAMES, country_col, "country", str(path))
        except UsageError as exc:
            raise TrainerUsageError(str(exc)) from None
        latlon, values = [], []
        for line, row in enumerate(reader, start=2):
            try:
                latlon.append((float(row[lat_i]), float(row[lon_i])))
            except (ValueError, IndexError):
                raise TrainerUsageError(f"{path}: line {line}: bad coordinates") from None
            values.append(row[country_i].strip())
    names, codes, labels = _label_countries(values)
    coords = np.array(latlon, dtype=np.float32)
    split = np.array([_split_bucket(lat, lon) for lat, lon in latlon])
    parts = [CitySplit(coords[split == k], labels[split == k]) for k in range(3)]
    return CitiesData(*parts, names=names, codes=codes, fingerprint=fingerprint_files([path]),
                      source=str(path))


def _split_bucket(lat: float, lon: float) -> int:
    """0 train (80%), 1 validation (10%), 2 test (10%), from a hash of the place."""
    digest = hashlib.blake2b(f"{lat:.5f},{lon:.5f}".encode(), digest_size=4).digest()
    bucket = int.from_bytes(digest, "big") % 10
    return 0 if bucket < 8 else bucket - 7


def _label_countries(values: list[str]) -> tuple[list[str], list[str], np.ndarray]:
    """Class names, ISO codes and integer labels for country names or ISO codes."""
    from batch_classifier.trainer.countries import country_table

    by_code, by_name = country_table()
    classes: dict[str, tuple[str, str]] = {}
    for value in set(values):
        if value.upper() in by_code:
            classes[value] = (by_code[value.upper()], value.upper())
        elif value.lower() in by_name:
            classes[value] = (value, by_name[value.lower()])
        else:
            raise TrainerUsageError(f"unknown country {value!r}: use an ISO code or an "
                                   "English country name")
    ordered = sorted(set(classes.values()), key=lambda pair: pair[1])
    index = {pair: i for i, pair in enumerate(ordered)}
    labels = np.array([index[classes[v]] for v in values], dtype=np.int64)
    return [n for n, _ in ordered], [c for _, c in ordered], labels


def add_training_points(main: CitiesData, extra: CitiesData) -> CitiesData:
    """`main` with `extra`'s training split appended, labels matched by ISO code.

    Data sets disagree on some territories (cities-eu labels Kosovo as Serbia and Åland
    as Finland; GeoNames has XK and AX), so an extra point is left out when its nearest
    `main` training place lies in a country `extra` has no class for. Validation and
    test stay `main`'s own.
    """
    unknown = sorted(set(extra.codes) - set(main.codes))
    if unknown:
        raise TrainerUsageError(f"{extra.source}: countries unknown to {main.source}: "
                               f"{', '.join(unknown)}")
    to_main = np.array([main.codes.index(code) for code in extra.codes])
    labels = to_main[extra.train.labels]
    nearest = main.train.labels[_nearest(main.train.latlon, extra.train.latlon)]
    keep = np.isin(nearest, to_main)
    train = CitySplit(np.concatenate([main.train.latlon, extra.train.latlon[keep]]),
                      np.concatenate([main.train.labels, labels[keep]]))
    provenance = {**main.provenance,
                  "added_train": f"{extra.source} train split: {int(keep.sum())} points kept, "
                                 f"{int((~keep).sum())} left out (nearest {main.source} "
                                 "place in a country it has no class for)"}
    return CitiesData(train, main.val, main.test, main.names, main.codes,
                      fingerprint=f"{main.fingerprint}+{extra.fingerprint}",
                      source=main.source, provenance=provenance)


def _nearest(reference: np.ndarray, queries: np.ndarray, chunk: int = 2048) -> np.ndarray:
    """Index of the nearest reference point (on the sphere) for every query point."""
    import torch

    def unit(latlon: np.ndarray) -> torch.Tensor:
        lat, lon = np.radians(latlon[:, 0]), np.radians(latlon[:, 1])
        return torch.from_numpy(np.stack([np.cos(lat) * np.cos(lon), np.cos(lat) * np.sin(lon),
                                          np.sin(lat)], 1).astype(np.float32))

    ref, query = unit(reference), unit(queries)
    return torch.cat([(query[i:i + chunk] @ ref.T).argmax(1)
                      for i in range(0, len(query), chunk)]).numpy()
