"""train-cities: training, selection, export, parity, run folder, determinism."""

from __future__ import annotations

import json

import numpy as np
import onnxruntime as ort
import pytest
import torch
from click.testing import CliRunner

from batch_classifier.trainer.cities.cli import main as train_cities_cli
from batch_classifier.trainer.cities.export import parity_inputs
from batch_classifier.trainer.cities.model import CoordinateFeatures
from batch_classifier.trainer.cities.train import CitiesConfig, train_cities
from tests.cities_fixtures import BOXES, make_split


def test_tiny_model_learns_the_boxes(cities_run):
    result, _ = cities_run
    assert result.metrics["val_acc"] >= 0.95
    assert result.metrics["test_acc"] >= 0.95
    assert 1 <= result.best_epoch <= result.config.epochs
    best = max(row["val_acc"] for row in result.history)
    assert result.history[result.best_epoch - 1]["val_acc"] == best


def test_onnx_matches_pytorch(cities_run, cities_data):
    result, onnx_path = cities_run
    session = ort.InferenceSession(str(onnx_path), providers=["CPUExecutionProvider"])
    points = parity_inputs(cities_data)
    onnx_probs = session.run(None, {"input": points.numpy()})[0]
    with torch.no_grad():
        torch_probs = result.model(points).numpy()
    assert onnx_probs.shape == (len(points), len(BOXES))
    np.testing.assert_allclose(onnx_probs, torch_probs, atol=1e-5)
    np.testing.assert_allclose(onnx_probs.sum(1), 1.0, atol=1e-5)


def test_run_folder_holds_model_card_and_plots(cities_run):
    _, onnx_path = cities_run
    folder = onnx_path.parent
    card = json.loads((folder / "tiny-cities.json").read_text())
    assert card["data"]["fingerprint"] == "sha256:test"
    assert card["metrics"]["test_acc"] == pytest.approx(cities_run[0].metrics["test_acc"])
    assert card["parity_max_abs_diff"] < 1e-4
    assert "command" in card and "config" in card
    assert (folder / "tiny-cities.curves.png").stat().st_size > 1000
    assert (folder / "tiny-cities.regions.png").stat().st_size > 1000


def test_checkpoint_reloads_the_same_model(cities_run, cities_data):
    from batch_classifier.trainer.cities.export import load_checkpoint

    result, onnx_path = cities_run
    reloaded = load_checkpoint(onnx_path.with_suffix(".pt"))
    points = parity_inputs(cities_data)
    with torch.no_grad():
        assert torch.equal(reloaded(points), result.model(points))


def test_antimeridian_is_continuous():
    features = CoordinateFeatures(True, 64, 100.0, torch.zeros(2), torch.ones(2), seed=0)
    east = features(torch.tensor([[-17.0, 179.999]]))
    west = features(torch.tensor([[-17.0, -179.999]]))
    far = features(torch.tensor([[-17.0, 170.0]]))
    assert (east - west).abs().max() < 0.01 < (east - far).abs().max()


def test_fiji_box_across_antimeridian_is_classified(cities_run, cities_data):
    result, _ = cities_run
    fiji = BOXES.index(next(b for b in BOXES if b[1] == "FJ"))
    points = torch.tensor([[-17.5, 179.5], [-17.5, -179.5], [-18.0, -177.5]])
    with torch.no_grad():
        predicted = result.model(points).argmax(1)
    assert predicted.tolist() == [fiji] * 3


def test_training_is_deterministic_for_a_seed(cities_data):
    config = CitiesConfig(depth=2, width=16, n_frequencies=8, epochs=2, batch_size=64)
    first = train_cities(cities_data, config, log=lambda _: None)
    second = train_cities(cities_data, config, log=lambda _: None)
    assert first.history == second.history
    for a, b in zip(first.model.state_dict().values(), second.model.state_dict().values(),
                    strict=True):
        assert torch.equal(a, b)


@pytest.mark.parametrize("residual", [True, False])
@pytest.mark.parametrize("batch_norm", [True, False])
def test_architecture_switches_train(cities_data, residual, batch_norm):
    config = CitiesConfig(depth=3, width=16, fourier=False, residual=residual,
                          batch_norm=batch_norm, epochs=1, batch_size=64)
    result = train_cities(cities_data, config, log=lambda _: None)
    has_bn = any(isinstance(m, torch.nn.BatchNorm1d) for m in result.model.modules())
    assert has_bn == batch_norm
    assert 0.0 <= result.metrics["val_acc"] <= 1.0


def _write_reference_folder(folder, split_seeds=(0, 1, 2)):
    folder.mkdir()
    (folder / "labels.csv").write_text(
        "country,name,iso\n" + "".join(f"{i},{b[0]},{b[1]}\n" for i, b in enumerate(BOXES)))
    for name, seed in zip(("train", "validation", "test"), split_seeds, strict=True):
        split = make_split(40, seed)
        rows = [f"{i},{lon},{lat},{label}"
                for i, ((lat, lon), label) in enumerate(zip(split.latlon, split.labels,
                                                              strict=True))]
        (folder / f"{name}.csv").write_text(",long,lat,country\n" + "\n".join(rows) + "\n")


def test_cli_fit_on_reference_layout(tmp_path):
    data = tmp_path / "ref"
    _write_reference_folder(data)
    out = tmp_path / "run"
    args = ["fit", "--data", str(data), "--out", str(out), "--name", "m", "--epochs", "3",
            "--width", "16", "--depth", "2", "--n-frequencies", "8", "--batch-size", "64", "-q"]
    result = CliRunner().invoke(train_cities_cli, args)
    assert result.exit_code == 0, result.output
    card = json.loads((out / "m.json").read_text())
    assert card["data"]["sizes"] == {"train": 160, "val": 160, "test": 160}
    assert card["data"]["fingerprint"].startswith("sha256:")
    assert "--epochs 3" in card["command"]
    again = CliRunner().invoke(train_cities_cli, args)
    assert again.exit_code == 2 and "--overwrite" in again.output


def test_cli_fit_on_generic_csv_with_names_and_codes(tmp_path):
    split = make_split(60, 5)
    values = [BOXES[label][0] if i % 2 else BOXES[label][1]
              for i, label in enumerate(split.labels)]
    lines = [f"{lat},{lon},{value}" for (lat, lon), value in zip(split.latlon, values,
                                                                 strict=True)]
    csv_file = tmp_path / "places.csv"
    csv_file.write_text("Latitude,Longitude,Country\n" + "\n".join(lines) + "\n")
    out = tmp_path / "run"
    result = CliRunner().invoke(train_cities_cli, [
        "fit", "--data", str(csv_file), "--out", str(out), "--epochs", "2", "--width", "16",
        "--depth", "1", "--n-frequencies", "8", "-q"])
    assert result.exit_code == 0, result.output
    card = json.loads((out / "cities.json").read_text())
    assert card["data"]["classes"] == len(BOXES)
    assert sum(card["data"]["sizes"].values()) == len(lines)


def test_cli_generic_csv_with_unknown_country_is_refused(tmp_path):
    csv_file = tmp_path / "places.csv"
    csv_file.write_text("lat,lon,country\n1,2,Atlantis\n")
    result = CliRunner().invoke(train_cities_cli, ["fit", "--data", str(csv_file)])
    assert result.exit_code == 2 and "Atlantis" in result.output


def test_study_prints_the_grid(cities_data, monkeypatch):
    from batch_classifier.trainer.cities import study

    monkeypatch.setattr(study, "GRID", [(1, 8), (2, 8)])
    table = study.run_study(cities_data, CitiesConfig(epochs=1, batch_size=64, fourier=False),
                            log=lambda _: None)
    lines = table.splitlines()
    assert len(lines) == 2 + 4
    assert "train acc (eval mode)" in lines[0]
    assert lines[2].startswith("| 1 | 8 | no |") and lines[3].startswith("| 1 | 8 | yes |")


def test_card_command_repeats_multiple_options():
    import click

    from batch_classifier.trainer.card import command_line

    @click.command()
    @click.option("--add", multiple=True)
    @click.option("--flag/--no-flag", default=True)
    def cmd(add, flag):
        click.echo(command_line())

    result = CliRunner().invoke(cmd, ["--add", "a b", "--add", "c", "--no-flag"])
    assert result.output.strip() == "cmd --add 'a b' --add c --no-flag"


def test_card_command_spells_out_variadic_arguments():
    import click

    from batch_classifier.trainer.card import command_line

    @click.command()
    @click.argument("first")
    @click.argument("rest", nargs=-1)
    def cmd(first, rest):
        click.echo(command_line())

    result = CliRunner().invoke(cmd, ["a.onnx", "b c.onnx", "d.onnx"])
    assert result.output.strip() == "cmd a.onnx 'b c.onnx' d.onnx"
