"""Shared fixtures: a tiny cities model trained and exported once per test session."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.cities_fixtures import make_data


@pytest.fixture(scope="session")
def cities_data():
    """Generated coordinates in four boxes (one across the antimeridian)."""
    return make_data()


@pytest.fixture(scope="session")
def cities_run(tmp_path_factory, cities_data):
    """(TrainResult, ONNX path) of a small model trained on `cities_data`."""
    from batch_classifier.trainer.cities.export import save_run
    from batch_classifier.trainer.cities.train import CitiesConfig, train_cities

    config = CitiesConfig(depth=2, width=32, n_frequencies=16, max_frequency=20.0,
                          epochs=15, batch_size=64, lr=1e-2)
    result = train_cities(cities_data, config, log=lambda _: None)
    folder = tmp_path_factory.mktemp("cities-run")
    return result, save_run(result, cities_data, folder, "tiny-cities")


@pytest.fixture(scope="session")
def cities_model(cities_run) -> Path:
    """Path to the tiny cities ONNX model."""
    return cities_run[1]
