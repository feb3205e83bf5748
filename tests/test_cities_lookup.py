"""Shortcuts a cities model carries besides its network: the cell lookup distilled from
it (issue 22), and a regional model's area; with the sea rules of issue 20 item 11."""

from __future__ import annotations

import numpy as np
import pytest
from click.testing import CliRunner

from batch_classifier import CountryClassifier
from batch_classifier.inference.cities.area import METADATA_KEY as AREA_KEY
from batch_classifier.inference.cities.area import encode_area
from batch_classifier.inference.cities.cli import main as classify_cities
from batch_classifier.inference.cities.lookup import METADATA_KEY as LOOKUP_KEY
from batch_classifier.inference.errors import ModelContractError, UsageError
from batch_classifier.trainer.cities.area import area_of
from batch_classifier.trainer.cities.cli import main as train_cities
from batch_classifier.trainer.export import with_metadata
from tests.cities_fixtures import make_split


@pytest.fixture(scope="module")
def looked_up(tmp_path_factory, globe_model):
    """The tiny globe model with a lookup distilled by `train-cities lookup`."""
    out = tmp_path_factory.mktemp("lookup") / "tiny-globe.onnx"
    result = CliRunner().invoke(train_cities, [
        "lookup", "--model", str(globe_model), "--out", str(out), "--step", "0.5",
        "--agreement-points", "2000"])
    assert result.exit_code == 0, result.output
    return out


def probe_points() -> tuple[np.ndarray, np.ndarray]:
    """Points in the boxes, near their edges, in Antarctica and anywhere."""
    rng = np.random.default_rng(3)
    boxes = make_split(150, 11).latlon
    near = boxes + rng.normal(0, 0.7, boxes.shape)
    anywhere = np.stack([rng.uniform(-90, 90, 600), rng.uniform(-180, 180, 600)], 1)
    south = np.stack([rng.uniform(-90, -60, 300), rng.uniform(-180, 180, 300)], 1)
    latlon = np.concatenate([boxes, near, anywhere, south]).astype(np.float32)
    latlon[:, 0] = latlon[:, 0].clip(-90, 90)
    latlon[:, 1] = (latlon[:, 1] + 180) % 360 - 180
    return latlon[:, 0], latlon[:, 1]


def test_the_lookup_answers_what_the_network_answers(looked_up):
    table = CountryClassifier(looked_up, device="cpu")
    network = CountryClassifier(looked_up, device="cpu", lookup=False)
    assert table.lookup is not None and network.lookup is None
    lat, lon = probe_points()
    known = table.lookup.answer(np.stack([lat, lon], 1))[0] >= 0
    assert 0.3 < known.mean() < 1.0  # both routes are taken
    ours, theirs = table.predict(lat, lon), network.predict(lat, lon)
    assert (ours.country_code == theirs.country_code).mean() >= 0.99
    assert all(error is None for error in theirs.error[known])  # never at sea
    gap = np.abs(ours.confidence - theirs.confidence)[known]
    assert gap.max() < 0.1
    nearest = table.predict(lat, lon, sea="nearest")
    assert list(nearest.country_code[known]) == list(ours.country_code[known])


def test_a_looked_up_point_does_not_depend_on_the_points_around_it(looked_up):
    classifier = CountryClassifier(looked_up, device="cpu")
    lat, lon = probe_points()
    together = classifier.predict(lat, lon)
    for start, size in ((0, 1), (140, 20), (290, 333), (1200, 7)):
        alone = classifier.predict(lat[start:start + size], lon[start:start + size])
        np.testing.assert_array_equal(alone.confidence, together.confidence[start:start + size])
        assert list(alone.error) == list(together.error[start:start + size])


def test_top_k_runs_the_network(looked_up):
    table = CountryClassifier(looked_up, device="cpu")
    network = CountryClassifier(looked_up, device="cpu", lookup=False)
    lat, lon = probe_points()
    ours, theirs = table.predict(lat, lon, top_k=2), network.predict(lat, lon, top_k=2)
    np.testing.assert_array_equal(ours.confidence, theirs.confidence)


def test_the_card_records_the_lookup_and_its_agreement(looked_up):
    import json

    card = json.loads(looked_up.with_suffix(".json").read_text())
    assert " lookup --model " in card["lookup"]["command"]
    agreement = card["lookup"]["agreement_uniform_sphere"]
    assert agreement["points"] == 2000 and agreement["country_differs"] <= 0.01


def test_lookup_refuses_to_replace_a_file_without_overwrite(looked_up):
    result = CliRunner().invoke(train_cities, ["lookup", "--model", str(looked_up),
                                               "--out", str(looked_up)])
    assert result.exit_code == 2 and "--overwrite" in result.output


def test_a_broken_lookup_or_area_is_a_contract_error(tmp_path, looked_up):
    for key, value in ((LOOKUP_KEY, '{"step": 0.5}'), (LOOKUP_KEY, "not json"),
                       (AREA_KEY, '{"step": 0.5, "km": 1, "cells": "AAAA"}')):
        broken = tmp_path / "broken.onnx"
        with_metadata(looked_up, {key: value}, broken)
        with pytest.raises(ModelContractError, match=f"'{key}' is not a valid"):
            CountryClassifier(broken, device="cpu")


def test_a_point_far_outside_a_regional_models_area_gets_no_country(tmp_path, cities_model,
                                                                     cities_data):
    """Issue 20 item 11: a model of four boxes called Tokyo one of them, confidently."""
    out = tmp_path / "regional.onnx"
    area = area_of(cities_data.train.latlon, km=100.0)
    with_metadata(cities_model, {AREA_KEY: encode_area(area, "test")}, out)
    bare, bounded = (CountryClassifier(m, device="cpu") for m in (cities_model, out))
    tokyo, paris = (35.68, 139.69), (46.5, 2.5)
    lat, lon = zip(tokyo, paris, strict=True)
    assert bare.predict(lat, lon).error[0] is None  # the network alone names a country
    result = bounded.predict(lat, lon)
    assert result.country_code[0] is None and "outside the area" in result.error[0]
    assert result.country_code[1] == "FR" and result.error[1] is None


def test_the_shipped_eu_model_knows_its_area_and_no_sea(tmp_path):
    eu = CountryClassifier("eu", device="cpu")
    result = eu.predict([35.68, 48.8566], [139.69, 2.3522])  # Tokyo, Paris
    assert result.country_code[0] is None and "outside the area" in result.error[0]
    assert result.country_code[1] == "FR"
    with pytest.raises(UsageError, match="knows no sea"):
        eu.predict([48.85], [2.35], sea="nearest")
    source = tmp_path / "in.csv"
    source.write_text("lat,lon\n35.68,139.69\n48.8566,2.3522\n")
    for sea in ("nearest", "none"):
        result = CliRunner().invoke(classify_cities, [str(source), "--model", "eu", "-q",
                                                      "--sea", sea])
        assert result.exit_code == 2 and "knows no sea" in result.output
    result = CliRunner().invoke(classify_cities, [str(source), "--model", "eu", "-q"])
    assert result.exit_code == 1 and "outside the area of model cities-eu" in result.output


def test_the_ross_ice_shelf_is_antarctica_and_the_southern_ocean_open_sea():
    world = CountryClassifier(device="cpu")
    result = world.predict([-81.5, -79.5, -65.0], [-175.0, -60.0, -100.0])
    assert list(result.country_code[:2]) == ["AQ", "AQ"]
    assert result.error[2].startswith("open sea")


def test_calibration_is_reported_per_route(looked_up):
    from batch_classifier.trainer.cities.globe_metrics import by_route, ece_of

    lookup = CountryClassifier(looked_up, device="cpu").lookup
    lat, lon = probe_points()
    latlon = np.stack([lat, lon], 1)
    rng = np.random.default_rng(0)
    confidence = rng.uniform(0.5, 1.0, len(latlon)).astype(np.float32)
    correct = rng.uniform(size=len(latlon)) < confidence
    known = lookup.answer(latlon)[0] >= 0
    metrics = by_route(latlon, confidence, correct, lookup, "places")
    assert metrics["places_looked_up_share"] == pytest.approx(known.mean())
    assert metrics["places_looked_up_acc"] == pytest.approx(correct[known].mean())
    assert metrics["places_network_confidence"] == pytest.approx(confidence[~known].mean())
    assert metrics["places_network_ece"] == pytest.approx(ece_of(confidence[~known],
                                                                 correct[~known]))
    assert metrics["places_looked_up_ece"] != metrics["places_network_ece"]
