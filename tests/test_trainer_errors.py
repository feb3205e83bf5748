"""Trainer library code raises the trainer's own errors; the commands show them as click
does; the cities data modules import one way only."""

from __future__ import annotations

import subprocess
import sys

import click
import pytest

from batch_classifier.trainer.errors import TrainerUsageError


def test_data_loaders_raise_trainer_errors_not_clicks(tmp_path):
    from batch_classifier.trainer.cities.data import load_cities_data
    from batch_classifier.trainer.images.data import list_splits

    for load in (lambda: load_cities_data(str(tmp_path / "none.csv")),
                 lambda: list_splits(tmp_path / "none")):
        with pytest.raises(TrainerUsageError) as caught:
            load()
        assert not isinstance(caught.value, click.ClickException)


def test_train_cities_shows_a_data_error_as_a_usage_error(tmp_path):
    from click.testing import CliRunner

    from batch_classifier.trainer.cities.cli import main

    result = CliRunner().invoke(main, ["fit", "--data", str(tmp_path / "none.csv")])
    assert result.exit_code == 2 and "no such file or folder" in result.output
    assert "Traceback" not in result.output


def test_geonames_does_not_import_the_data_loader():
    code = ("import sys, batch_classifier.trainer.cities.geonames\n"
            "assert 'batch_classifier.trainer.cities.data' not in sys.modules\n")
    subprocess.run([sys.executable, "-c", code], check=True)
