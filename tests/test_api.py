"""The Python API: CountryClassifier and FakeImageDetector, their columns and errors,
and agreement with the CLIs they run underneath."""

from __future__ import annotations

import csv
import io
from pathlib import Path

import numpy as np
import pytest
from click.testing import CliRunner
from PIL import Image

from batch_classifier import CountryClassifier, FakeImageDetector
from batch_classifier.inference.cities.cli import main as classify_cities
from batch_classifier.inference.errors import UsageError
from batch_classifier.inference.images.cli import main as classify_images
from tests.image_fixtures import noisy, smooth, trained_run

ROOT = Path(__file__).resolve().parent.parent


@pytest.fixture(scope="module")
def world() -> CountryClassifier:
    return CountryClassifier(device="cpu")  # the shipped default model


def test_capitals_with_the_shipped_model(world):
    result = world.predict([48.8566, 52.52], [2.3522, 13.405])
    assert list(result.country_code) == ["FR", "DE"]
    assert list(result.country) == ["France", "Germany"]
    assert result.confidence.dtype == np.float64 and (result.confidence > 0.9).all()
    assert list(result.error) == [None, None]
    assert list(result) == ["country", "country_code", "confidence", "error"]


def test_each_bad_point_gets_its_error_and_the_rest_are_classified(world):
    lat = [95, "x", None, float("nan"), "48,85", 0.0, 48.85]
    lon = [0, 1, 2, 3, "2,35", 0.0, 2.35]
    result = world.predict(lat, lon)
    assert list(result.error[:4]) == ["latitude 95 is outside [-90, 90]",
                                      "latitude 'x' is not a number", "missing latitude",
                                      "missing latitude"]
    assert result.error[4] is None and result.country_code[4] == "FR"  # a decimal comma
    assert result.error[5].startswith("open sea: nearest land ~")
    assert result.country_code[5] is None and np.isnan(result.confidence[5])
    assert result.country_code[6] == "FR"
    assert world.predict([0.0], [0.0], sea="nearest").error[0] is None


def test_runners_up_and_min_confidence(world):
    result = world.predict(np.array([48.85, 47.37]), np.array([2.35, 8.54]), top_k=3,
                           min_confidence=0.0)
    assert list(result)[:9] == ["country", "country_code", "confidence", "country_2",
                                "country_code_2", "confidence_2", "country_3",
                                "country_code_3", "confidence_3"]
    assert (result.confidence >= result.confidence_2).all()
    assert (result.confidence_2 >= result.confidence_3).all()
    unsure = world.predict([48.85], [2.35], min_confidence=1.0)
    assert unsure.country[0] is None and "below --min-confidence 1" in unsure.error[0]


def test_bad_options_and_shapes_are_usage_errors(world):
    for call in (lambda: world.predict([1, 2], [3]), lambda: world.predict([1], [2], top_k=0),
                 lambda: world.predict([1], [2], sea="maybe"),
                 lambda: world.predict([1], [2], min_confidence=2)):
        with pytest.raises(UsageError):
            call()


def test_api_and_cli_agree_on_every_row(tmp_path, world):
    rng = np.random.default_rng(5)
    lat, lon = rng.uniform(-89, 89, 10_000).round(4), rng.uniform(-179, 179, 10_000).round(4)
    lat[::97] = 123.0  # out of range
    source = tmp_path / "points.csv"
    source.write_text("lat,lon\n" + "".join(f"{a},{b}\n" for a, b in zip(lat, lon,
                                                                          strict=True)))
    result = CliRunner().invoke(classify_cities, [str(source), "-q", "--top-k", "2"])
    assert result.exit_code == 1  # the bad rows, and points at open sea
    rows = list(csv.DictReader(io.StringIO(result.stdout)))
    api = world.predict(lat, lon, top_k=2)
    assert len(rows) == 10_000
    for i, row in enumerate(rows):
        assert row["country_code"] == (api.country_code[i] or "")
        assert row["country_code_2"] == (api.country_code_2[i] or "")
        confidence = api.confidence[i]
        assert row["confidence"] == ("" if np.isnan(confidence) else f"{confidence:.6g}")
        assert row["error"] == (f"line {i + 2}: {api.error[i]}" if api.error[i] else "")


def test_a_point_does_not_depend_on_the_points_around_it(world):
    rng = np.random.default_rng(9)
    lat, lon = rng.uniform(-60, 70, 333), rng.uniform(-180, 180, 333)
    together = world.predict(lat, lon)
    for start, size in ((0, 1), (5, 7), (100, 200)):
        alone = world.predict(lat[start:start + size], lon[start:start + size])
        np.testing.assert_array_equal(alone.confidence, together.confidence[start:start + size])


def test_predict_frame_adds_the_columns(world):
    pd = pytest.importorskip("pandas")
    frame = pd.DataFrame({"Latitude": [48.8566, 91.0], "LNG": [2.3522, 0.0],
                          "country": ["x", "y"]})
    out = world.predict_frame(frame)
    assert list(out.columns) == ["Latitude", "LNG", "country", "predicted_country",
                                 "country_code", "confidence", "error"]
    assert out["country_code"].iloc[0] == "FR" and pd.isna(out["country_code"].iloc[1])
    assert list(frame.columns) == ["Latitude", "LNG", "country"]  # the input is untouched
    with pytest.raises(UsageError, match="no column named 'nope'"):
        world.predict_frame(frame, lat_col="nope")


@pytest.fixture(scope="module")
def image_files(tmp_path_factory) -> list[Path]:
    folder = tmp_path_factory.mktemp("api-images")
    rng = np.random.default_rng(4)
    files = []
    for i, make in enumerate([smooth, noisy] * 3):
        path = folder / f"{i}.png"
        Image.fromarray(make(rng, 40)).save(path)
        files.append(path)
    (folder / "broken.jpg").write_bytes(b"\xff\xd8 not really")
    return [*files, folder / "broken.jpg"]


@pytest.fixture(scope="module")
def images_model() -> Path:
    return trained_run()[1] / "deepfake.onnx"


def test_detector_agrees_with_classify_images(image_files, images_model):
    detector = FakeImageDetector(images_model, device="cpu")
    api = detector.predict(image_files)
    result = CliRunner().invoke(classify_images, [*map(str, image_files), "--model",
                                                  str(images_model), "-q"])
    assert result.exit_code == 1  # the broken file
    rows = {row["path"]: row for row in csv.DictReader(io.StringIO(result.stdout))}
    for i, path in enumerate(image_files):
        row = rows[str(path)]
        assert row["label"] == (api.label[i] or "")
        assert row["error"] == (api.error[i] or "")
        if api.label[i]:
            assert float(row["fake_probability"]) == api.fake_probability[i]
    assert api.error[-1] and api.label[-1] is None and np.isnan(api.fake_probability[-1])
    again = detector.predict(image_files)  # loaded once, safe to call again
    np.testing.assert_array_equal(again.fake_probability, api.fake_probability)


def test_detector_takes_arrays_as_the_files_decode(image_files, images_model):
    detector = FakeImageDetector(images_model, device="cpu")
    arrays = [np.asarray(Image.open(path)) for path in image_files[:3]]
    by_array = detector.predict([*arrays, np.zeros((4, 4), np.float32), np.zeros((9, 7),
                                                                               np.uint8)])
    by_file = detector.predict(image_files[:3])
    np.testing.assert_array_equal(by_array.fake_probability[:3], by_file.fake_probability)
    assert "not an image array" in by_array.error[3]
    assert by_array.error[4] is None  # grayscale of any size is resized like a file


def test_threshold_and_uncertain_band(image_files, images_model):
    probabilities = FakeImageDetector(images_model).predict(image_files[:6]).fake_probability
    q = np.unique(probabilities)
    assert len(q) >= 5
    low, threshold, high = (q[0] + q[1]) / 2, (q[1] + q[2]) / 2, (q[3] + q[4]) / 2
    detector = FakeImageDetector(images_model, threshold=threshold, uncertain=(low, high))
    labels = detector.predict(image_files[:6]).label
    for label, p in zip(labels, probabilities, strict=True):
        assert label == ("real" if p < low else "fake" if p >= high else "uncertain")
    with pytest.raises(UsageError, match="contain the threshold"):
        FakeImageDetector(images_model, threshold=0.5, uncertain=(0.6, 0.7))
