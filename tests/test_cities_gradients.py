"""train-cities gradients: the recorded weight-gradient norms are the true ones."""

from __future__ import annotations

import copy

import numpy as np
import pytest
import torch
from click.testing import CliRunner
from torch import nn

from batch_classifier.trainer.cities.cli import main as train_cities_cli
from batch_classifier.trainer.cities.gradients import GradientRecorder
from batch_classifier.trainer.cities.train import CitiesConfig, build_model, train_cities
from tests.cities_fixtures import BOXES, make_split

VARIANTS = [(batch_norm, residual) for batch_norm in (True, False) for residual in (True, False)]


def norms_by_hand(model: nn.Module, latlon: np.ndarray, labels: np.ndarray) -> np.ndarray:
    """Autograd on the batch, then sqrt(sum of squares) in float64 of each weight
    matrix's gradient: the three hidden layers' and the head's, in forward order."""
    model.train()
    loss = nn.functional.cross_entropy(model(torch.from_numpy(latlon)),
                                       torch.from_numpy(labels))
    weights = [model.hidden[i].linear.weight for i in range(3)] + [model.head.weight]
    grads = torch.autograd.grad(loss, weights)
    return np.array([np.sqrt((g.double() ** 2).sum().item()) for g in grads])


def config_for(batch_norm: bool, residual: bool, epochs: int) -> CitiesConfig:
    """A 3-layer network; one batch per epoch holding the whole training split."""
    return CitiesConfig(depth=3, width=16, fourier=False, batch_norm=batch_norm,
                        residual=residual, epochs=epochs, batch_size=4096, lr=3e-2)


@pytest.mark.parametrize(("batch_norm", "residual"), VARIANTS)
def test_norms_at_initialisation_equal_autograd_by_hand(cities_data, batch_norm, residual):
    config = config_for(batch_norm, residual, epochs=1)
    recorder = GradientRecorder()
    train_cities(cities_data, config, log=lambda _: None, after_backward=recorder)
    torch.manual_seed(config.seed)
    fresh = build_model(config, cities_data)
    expected = norms_by_hand(fresh, cities_data.train.latlon, cities_data.train.labels)
    assert recorder.at_initialisation.shape == (4,)
    np.testing.assert_allclose(recorder.at_initialisation, expected, rtol=1e-5)


@pytest.mark.parametrize(("batch_norm", "residual"), VARIANTS)
def test_norms_through_training_equal_autograd_by_hand(cities_data, batch_norm, residual):
    recorder = GradientRecorder()
    by_hand = []

    def record_both(model: nn.Module, epoch: int) -> None:
        recorder(model, epoch)
        by_hand.append(norms_by_hand(copy.deepcopy(model), cities_data.train.latlon,
                                     cities_data.train.labels))

    train_cities(cities_data, config_for(batch_norm, residual, epochs=4),
                 log=lambda _: None, after_backward=record_both)
    assert recorder.epochs == [1, 2, 3, 4]
    np.testing.assert_allclose(recorder.norms, np.stack(by_hand), rtol=1e-5)
    assert not np.allclose(recorder.norms[0], recorder.norms[-1], rtol=1e-3)
    np.testing.assert_array_equal(recorder.epoch_means(), recorder.norms)


def test_epoch_means_average_each_epochs_steps():
    recorder = GradientRecorder()
    recorder.epochs = [1, 1, 2]
    recorder.steps = [np.array([1.0, 4.0]), np.array([3.0, 8.0]), np.array([5.0, 5.0])]
    np.testing.assert_array_equal(recorder.epoch_means(), [[2.0, 6.0], [5.0, 5.0]])


def test_cli_writes_table_and_figure(tmp_path):
    split = make_split(60, seed=3)
    rows = [f"{lat},{lon},{BOXES[label][1]}"
            for (lat, lon), label in zip(split.latlon, split.labels, strict=True)]
    data = tmp_path / "places.csv"
    data.write_text("lat,lon,country\n" + "\n".join(rows) + "\n")
    table, figure = tmp_path / "table.md", tmp_path / "figure.png"
    args = ["gradients", "--data", str(data), "--no-fourier", "--epochs", "2", "--depth", "2",
            "--depth", "3", "--batch-size", "64", "--output", str(table), "--figure", str(figure)]
    result = CliRunner().invoke(train_cities_cli, args)
    assert result.exit_code == 0, result.output
    lines = table.read_text().splitlines()
    assert len(lines) == 2 + 2 * 4
    assert [line.split("|")[1:4] for line in lines[2:6]] == [
        [" 2 ", " yes ", " no "], [" 2 ", " yes ", " yes "],
        [" 2 ", " no ", " no "], [" 2 ", " no ", " yes "]]
    assert figure.stat().st_size > 10000
