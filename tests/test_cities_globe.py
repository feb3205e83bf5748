"""The world beyond the places: land raster, distance to land in the graph, land points,
Antarctica, open sea in classify-cities, int8 weights. All on generated data."""

from __future__ import annotations

import csv
import io
import json
import shutil
import warnings

import numpy as np
import onnx
import onnxruntime as ort
import pytest
import torch
from click.testing import CliRunner

from batch_classifier.inference.cities.cli import main as classify
from batch_classifier.inference.cities.predict import run_model, sea_rule
from batch_classifier.inference.session import load_model
from batch_classifier.trainer.cities.land_distance import LandDistance, distance_codes
from batch_classifier.trainer.cities.land_points import add_land_points
from batch_classifier.trainer.cities.landmask import (
    LandRaster,
    NearestPlaces,
    sample_surface,
)
from batch_classifier.trainer.cities.model import CoordinateFeatures
from batch_classifier.trainer.cities.splits import SoftLabels
from batch_classifier.trainer.export import parity_difference


def classify_rows(model, text, *options):
    result = CliRunner().invoke(classify, ["-", "--model", str(model), "-q", *options],
                                input=text)
    return result.exit_code, list(csv.DictReader(io.StringIO(result.stdout)))


def test_coast_cells_ring_the_land():
    land = np.zeros((10, 20), dtype=bool)
    land[3:7, 5:9] = True
    coast = LandRaster(land, "test").coast_cells()
    assert len(coast) == 12  # the 4x4 block's outer ring


def test_land_samples_are_on_land_and_spread_by_area(land_raster):
    points = sample_surface(land_raster, 4000, np.random.default_rng(0))
    assert land_raster.is_land(points).all()
    sea = sample_surface(land_raster, 500, np.random.default_rng(1), land=False)
    assert not land_raster.is_land(sea).any()
    # south of 70S is 3.02% of the sphere's area, the four boxes 0.17%: 94.6% of the land
    assert 0.93 < (points[:, 0] < -70).mean() < 0.96


def test_land_distance_is_close_to_the_great_circle_distance(land_raster):
    step = 2.0
    grid = LandDistance(distance_codes(land_raster, np.zeros((0, 2)), step), step)
    sea = sample_surface(land_raster, 2000, np.random.default_rng(2), land=False)
    exact = NearestPlaces(land_raster.coast_cells()).query(sea)[0]
    estimate = grid(torch.from_numpy(sea)).numpy()
    blur_km = 0.71 * step * 111.2  # bilinear between nodes `step` apart, worst case
    near = exact < 3500  # one byte codes reach 4,064 km (on Earth nothing is 2,700 km off)
    assert near.sum() > 200
    assert np.all(np.abs(estimate - exact)[near] <= blur_km + 0.02 * exact[near])
    assert np.all(estimate[exact > 4500] == pytest.approx(4064.0625))
    land = sample_surface(land_raster, 2000, np.random.default_rng(3))
    assert grid(torch.from_numpy(land)).max() <= blur_km


def test_land_distance_onnx_matches_pytorch(land_raster):
    grid = LandDistance(distance_codes(land_raster, np.zeros((0, 2)), 2.0), 2.0).eval()
    rng = np.random.default_rng(4)
    points = np.concatenate([
        np.array([[90, 0], [-90, 0], [0, 180], [0, -180], [0, 0], [-17, 179.99],
                  [-17, -179.99], [46, -0.0], [44, 2], [-89.99, 179.9]]),
        np.stack([rng.uniform(-90, 90, 500), rng.uniform(-180, 180, 500)], 1)])
    example = torch.from_numpy(points.astype(np.float32))
    buffer = io.BytesIO()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        torch.onnx.export(grid, (example,), buffer, input_names=["input"],
                          output_names=["km"], dynamic_axes={"input": {0: "n"}},
                          opset_version=17, dynamo=False)
    assert parity_difference(grid, buffer.getvalue(), example) < 1e-5
    east, west = grid(torch.tensor([[-17.0, 179.99], [-17.0, -179.99]]))
    assert abs(float(east - west)) < 1.0  # the grid wraps at the antimeridian


def test_soft_labels_are_drawn_by_weight():
    soft = SoftLabels(np.arange(3), np.array([[0, 1], [2, 2], [1, 0]]),
                      np.array([[0.75, 0.25], [0.5, 0.5], [1.0, 0.0]]))
    draws = np.stack([soft.draw(np.random.default_rng(seed)) for seed in range(2000)])
    assert abs((draws[:, 0] == 0).mean() - 0.75) < 0.03
    assert (draws[:, 1] == 2).all() and (draws[:, 2] == 1).all()


def test_land_points_add_antarctica_and_soft_labels(cities_data, land_raster):
    data = add_land_points(cities_data, land_raster, 400, 50.0, seed=0)
    antarctica = data.codes.index("AQ")
    assert data.names[antarctica] == "Antarctica" and len(data.codes) == len(cities_data.codes) + 1
    soft = data.soft_labels
    assert len(data.train) == len(cities_data.train) + 400
    assert (soft.rows == np.arange(len(cities_data.train), len(data.train))).all()
    south = data.train.latlon[soft.rows, 0] < -60
    assert south.any() and (soft.candidates[south] == antarctica).all()
    assert not np.isin(soft.candidates[~south], [antarctica]).any()
    np.testing.assert_allclose(soft.weights.sum(1), 1.0)


def test_float32_features_stay_close_to_float64():
    def features(float64):
        return CoordinateFeatures(True, 256, 2000.0, torch.zeros(2), torch.ones(2), seed=0,
                                  float64=float64)

    points = torch.from_numpy(np.stack([np.linspace(-89, 89, 500),
                                        np.linspace(-179.9, 179.9, 500)], 1).astype(np.float32))
    assert (features(True)(points) - features(False)(points)).abs().max() < 2e-3


def test_globe_model_contract(globe_model):
    graph = onnx.load(str(globe_model))
    assert [o.name for o in graph.graph.output] == ["output", "land_distance_km"]
    model = load_model(globe_model, device="cpu", task="cities")
    rule = sea_rule(model)
    assert rule is not None and rule.output == 1 and rule.open_sea_km == pytest.approx(22.224)
    assert "AQ" in model.contract.label_codes
    card = json.loads(globe_model.with_suffix(".json").read_text())
    for key in ("open_sea_no_country", "antarctica_aq", "land_acc", "land_ece"):
        assert 0.0 <= card["metrics"][f"val_{key}"] <= 1.0
        assert f"test_{key}" in card["metrics"]


def test_open_sea_gets_no_country_unless_asked(globe_model):
    text = "id,lat,lon\nsea,0,-30\nparis,48.85,2.35\npole,-80,10\noff-france,46,-0.1\n"
    code, rows = classify_rows(globe_model, text)
    by_id = {row["id"]: row for row in rows}
    assert code == 1
    assert by_id["sea"]["country"] == "" and by_id["sea"]["confidence"] == ""
    assert by_id["sea"]["error"].startswith("line 2: open sea: nearest land ~")
    km = float(by_id["sea"]["error"].split("~")[1].split()[0])
    assert 2500 < km < 4500  # (0, -30) is ~3,400 km from the Spain box
    assert by_id["paris"]["country_code"] == "FR" and by_id["paris"]["error"] == ""
    assert by_id["pole"]["country_code"] == "AQ"
    assert by_id["off-france"]["country_code"] == "FR"  # within territorial waters
    code, rows = classify_rows(globe_model, text, "--sea", "nearest")
    assert code == 0 and all(row["country_code"] and not row["error"] for row in rows)


def test_everything_south_of_60s_is_antarctica(globe_run):
    result, onnx_path = globe_run
    points = np.array([[-60.5, 10.0], [-62.2, -58.96], [-75.0, 100.0], [-17.5, 179.5]],
                      dtype=np.float32)
    session = ort.InferenceSession(str(onnx_path), providers=["CPUExecutionProvider"])
    probabilities = session.run(None, {"input": points})[0]
    antarctica = load_model(onnx_path, task="cities").contract.label_codes.index("AQ")
    assert (probabilities[:3, antarctica] == 1.0).all()
    assert probabilities[3, antarctica] < 0.5  # Fiji, north of 60S, is learnt
    with torch.no_grad():
        np.testing.assert_allclose(result.model(torch.from_numpy(points))[0].numpy(),
                                   probabilities, atol=1e-5)


def test_model_without_sea_knowledge_answers_everywhere(cities_model):
    code, rows = classify_rows(cities_model, "lat,lon\n0,-30\n")
    assert code == 0 and rows[0]["country_code"] and rows[0]["error"] == ""


def test_int8_keeps_labels_and_the_features_float(globe_model, tmp_path, cities_data):
    from batch_classifier.trainer.cities.quantize import quantize_mlp

    copy = tmp_path / "int8.onnx"
    shutil.copy(globe_model, copy)
    figures = quantize_mlp(copy, cities_data.val.latlon, cities_data.train.latlon)
    assert figures["int8_label_agreement"] >= 0.999
    nodes = onnx.load(str(copy)).graph.node
    assert any(node.op_type in ("QGemm", "QLinearMatMul") for node in nodes)
    assert not any(node.op_type == "DynamicQuantizeLinear" for node in nodes)
    assert not any("/features/" in node.name and "Integer" in node.op_type for node in nodes)
    session = ort.InferenceSession(str(copy), providers=["CPUExecutionProvider"])
    assert len(session.get_outputs()) == 2
    model = load_model(copy, device="cpu", task="cities")  # rows stay independent
    points = cities_data.val.latlon
    together = run_model(model, points)[0]
    for start in (0, 3, 17):
        np.testing.assert_array_equal(run_model(model, points[start:start + 5])[0],
                                      together[start:start + 5])


def test_int8_that_changes_labels_is_refused(globe_model, tmp_path, cities_data, monkeypatch):
    from batch_classifier.trainer.cities import quantize

    copy = tmp_path / "int8.onnx"
    shutil.copy(globe_model, copy)
    monkeypatch.setattr(quantize, "MIN_LABEL_AGREEMENT", 1.01)
    with pytest.raises(quantize.QuantisationError):
        quantize.quantize_mlp(copy, cities_data.val.latlon, cities_data.train.latlon)
    assert copy.read_bytes() == globe_model.read_bytes()
    assert [p.name for p in tmp_path.iterdir()] == ["int8.onnx"]
