"""The Python API under hostile arguments (issue 20, items 16 and 20): every bad item
is an error row, every bad argument a UsageError naming it, and
CountryClassifier.predict's memory stays flat in the number of points."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from batch_classifier import CountryClassifier, FakeImageDetector
from batch_classifier.inference.errors import UsageError
from tests.jobs_support import brightness_model, peak_rss_mib


@pytest.fixture(scope="module")
def world() -> CountryClassifier:
    return CountryClassifier(device="cpu")


@pytest.fixture(scope="module")
def detector(tmp_path_factory) -> FakeImageDetector:
    return FakeImageDetector(brightness_model(tmp_path_factory.mktemp("m") / "b.onnx"),
                             device="cpu")


@pytest.fixture(scope="module")
def photo(tmp_path_factory) -> Path:
    path = tmp_path_factory.mktemp("photo") / "a.png"
    Image.fromarray(np.full((20, 20, 3), 200, np.uint8)).save(path)
    return path


def test_predict_frame_never_overwrites_and_matches_names_in_any_case(world):
    pd = pytest.importorskip("pandas")
    frame = pd.DataFrame({"lat": [48.8566], "lon": [2.3522], "Country": ["mine"],
                          "country_code": ["keep"], "predicted_country_code": ["keep too"],
                          "ERROR": ["mine too"]})
    out = world.predict_frame(frame)
    assert list(out.columns) == [*frame.columns, "predicted_country",
                                 "predicted_country_code_2", "confidence", "predicted_error"]
    for name in frame.columns:  # every input column as it was
        assert out[name].tolist() == frame[name].tolist()
    assert out["predicted_country"].iloc[0] == "France"
    assert out["predicted_country_code_2"].iloc[0] == "FR"
    assert out["predicted_error"].iloc[0] is None


def test_bad_cities_arguments_are_usage_errors(world):
    calls = {"top_k=2.5": lambda: world.predict([1], [2], top_k=2.5),
             "top_k=True": lambda: world.predict([1], [2], top_k=True),
             "min_confidence='0.5'": lambda: world.predict([1], [2], min_confidence="0.5"),
             "sea=None": lambda: world.predict([1], [2], sea=None),
             "device": lambda: CountryClassifier(device="tpu"),
             "threads": lambda: CountryClassifier(threads=-1)}
    for what, call in calls.items():
        with pytest.raises(UsageError):
            call()
            pytest.fail(what)


def test_huge_and_odd_coordinates_are_error_rows(world):
    result = world.predict([10**400, -(10**400), 48.85, True, b"48.85"],
                           [0, 0, 10**400, 2.35, 2.35])
    assert list(result.country) == [None] * 5
    assert result.error[0].startswith("latitude 1000") and "outside [-90, 90]" in result.error[0]
    assert result.error[1].startswith("latitude -1000")
    assert result.error[2].startswith("longitude 1000")
    assert result.error[3] == "latitude 'True' is not a number"
    single = world.predict(48.8566, 2.3522)  # one point given as two numbers
    assert list(single.country_code) == ["FR"]


def test_bad_items_are_error_rows_not_exceptions(detector, photo, tmp_path):
    items = [b"\x89PNG", 7, None, 3.5, tmp_path / "missing.png", str(photo)]
    result = detector.predict(items)
    assert len(result.label) == len(items)
    assert result.error[0] == "not an image: want a file path or a uint8 array, got bytes"
    assert result.error[1].endswith("got int") and result.error[2].endswith("got NoneType")
    assert result.error[3].endswith("got float")
    assert result.error[4] == "no such file"
    assert result.error[5] is None and result.label[5] in ("real", "fake")
    assert list(result.label[:5]) == [None] * 5 and np.isnan(result.fake_probability[:5]).all()


def test_one_path_or_a_non_list_is_refused_not_taken_apart(detector, photo):
    for items in (str(photo), photo, b"a.jpg", 10**400, np.zeros((8, 8, 3), np.uint8)):
        with pytest.raises(UsageError, match="a list of images"):
            detector.predict(items)
    stacked = np.stack([np.asarray(Image.open(photo))] * 3)  # [N, H, W, 3]: N images
    assert len(detector.predict(stacked).label) == 3


def test_bad_detector_arguments_are_usage_errors(detector, photo):
    calls = {"batch_size=-1": lambda: detector.predict([photo], batch_size=-1),
             "batch_size=0": lambda: detector.predict([photo], batch_size=0),
             "batch_size=2.5": lambda: detector.predict([photo], batch_size=2.5),
             "workers=-2": lambda: detector.predict([photo], workers=-2),
             "max_pixels=0": lambda: detector.predict([photo], max_pixels=0),
             "device": lambda: FakeImageDetector(detector.model.path, device="tpu"),
             "threshold": lambda: FakeImageDetector(detector.model.path, threshold="high"),
             "uncertain": lambda: FakeImageDetector(detector.model.path, uncertain=0.5)}
    for what, call in calls.items():
        with pytest.raises(UsageError):
            call()
            pytest.fail(what)


FLAT = """
import sys
import numpy as np
from batch_classifier import CountryClassifier
points = int(sys.argv[1])
rng = np.random.default_rng(0)
lat, lon = rng.uniform(-60, 70, points), rng.uniform(-180, 180, points)
result = CountryClassifier(device="cpu", threads=1).predict(lat, lon)
assert len(result.country) == points
"""


def test_predict_memory_is_flat_in_the_number_of_points():
    """400,000 points need little more than 20,000 beyond their input and result
    columns (about 60 bytes a point; the whole-input way needed about 2 KB)."""
    small, small_peak = peak_rss_mib(FLAT, 20_000)
    large, large_peak = peak_rss_mib(FLAT, 400_000)
    assert small.returncode == 0 and large.returncode == 0, large.stderr
    growth = large_peak - small_peak
    print(f"peak {small_peak:.0f} MiB at 20,000 points, {large_peak:.0f} MiB at 400,000")
    assert growth < 150, f"peak memory grew by {growth:.0f} MiB from 20,000 to 400,000 points"
