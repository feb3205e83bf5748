"""Shared fixtures: a tiny cities model trained and exported once per test session."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.cities_fixtures import make_data, make_raster


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


@pytest.fixture(scope="session")
def land_raster():
    """A quarter-degree raster: the four boxes and everything south of 70S are land."""
    return make_raster(cells_per_degree=4)


@pytest.fixture(scope="session")
def globe_run(tmp_path_factory, cities_data, land_raster):
    """(TrainResult, ONNX path) of a small model with land points, Antarctica and a
    half-degree land-distance grid, trained on `cities_data` and `land_raster`."""
    from batch_classifier.trainer.cities.cli import with_land_and_sea
    from batch_classifier.trainer.cities.export import save_run
    from batch_classifier.trainer.cities.train import CitiesConfig, train_cities

    config = CitiesConfig(depth=2, width=32, n_frequencies=16, max_frequency=20.0,
                          epochs=15, batch_size=64, lr=1e-2, land_points=300, sea_grid=0.5)
    data, globe, land_distance = with_land_and_sea(cities_data, config, land_raster)
    result = train_cities(data, config, log=lambda _: None, land_distance=land_distance)
    folder = tmp_path_factory.mktemp("globe-run")
    return result, save_run(result, data, folder, "tiny-globe", globe)


@pytest.fixture(scope="session")
def globe_model(globe_run) -> Path:
    """Path to the tiny ONNX model that knows land, sea and Antarctica."""
    return globe_run[1]
