"""Finding the model: the world model by default, short names, paths, a clear error."""

from __future__ import annotations

import shutil

import pytest
from click.testing import CliRunner

from batch_classifier.inference.cities.cli import main as classify
from batch_classifier.inference.errors import UsageError
from batch_classifier.inference.models import MODELS_DIR_ENV, resolve_model


@pytest.fixture
def models_dir(tmp_path, monkeypatch, cities_model):
    folder = tmp_path / "models"
    folder.mkdir()
    monkeypatch.setenv(MODELS_DIR_ENV, str(folder))
    return folder


def test_world_is_the_default_and_eu_stays_available(models_dir, cities_model):
    for name in ("cities-world.onnx", "cities-eu.onnx"):
        shutil.copy(cities_model, models_dir / name)
    assert resolve_model("cities", None) == models_dir / "cities-world.onnx"
    assert resolve_model("cities", "eu") == models_dir / "cities-eu.onnx"
    assert str(resolve_model("cities", "some/path.onnx")) == "some/path.onnx"


def test_without_world_the_default_falls_back_to_eu(models_dir, cities_model, monkeypatch):
    monkeypatch.setattr("batch_classifier.inference.models.model_dirs", lambda: [models_dir])
    shutil.copy(cities_model, models_dir / "cities-eu.onnx")
    assert resolve_model("cities", None) == models_dir / "cities-eu.onnx"


def test_missing_model_is_a_clear_usage_error(models_dir, monkeypatch, tmp_path):
    monkeypatch.setattr("batch_classifier.inference.models.model_dirs", lambda: [models_dir])
    with pytest.raises(UsageError, match="no cities-eu.onnx found"):
        resolve_model("cities", "eu")
    data = tmp_path / "in.csv"
    data.write_text("lat,lon\n1,1\n")
    result = CliRunner().invoke(classify, [str(data), "--model", "eu"])
    assert result.exit_code == 2 and "--model PATH" in result.stderr
