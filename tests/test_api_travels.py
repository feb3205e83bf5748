"""The API objects travel (issue 24): they pickle without their session (a shipped
model by name, a custom one with its bytes, checked on arrival), load once per process,
tokenize deterministically for Dask, and give on a real LocalCluster of worker
processes and in a multiprocessing.Pool the values they give in one process."""

from __future__ import annotations

import multiprocessing
import os
import pickle
import subprocess
import sys

import numpy as np
import pytest

from batch_classifier import CountryClassifier, FakeImageDetector
from batch_classifier.inference.errors import UsageError
from tests.jobs_support import brightness_model, write_images
from tests.test_dask_runs import cluster  # noqa: F401 - a fixture

pd = pytest.importorskip("pandas")
dask = pytest.importorskip("dask")
pytest.importorskip("distributed")


@pytest.fixture(scope="module")
def world() -> CountryClassifier:
    return CountryClassifier(device="cpu", threads=1)


@pytest.fixture(scope="module")
def places() -> pd.DataFrame:
    """Points over the whole globe, bad ones among them, some as text."""
    rng = np.random.default_rng(11)
    lat = rng.uniform(-89, 89, 3000).round(4).astype(object)
    lon = rng.uniform(-180, 180, 3000).round(4).astype(object)
    lat[::101], lon[::53], lat[7::211] = 123.0, "x", "48,85"
    return pd.DataFrame({"id": np.arange(3000), "Lat": lat, "lon": lon})


@pytest.fixture(scope="module")
def images(tmp_path_factory) -> tuple[FakeImageDetector, list[str]]:
    """A detector of a custom model (its bytes travel) and image files, bad ones too."""
    folder = tmp_path_factory.mktemp("travel-images")
    write_images(folder, 12)
    (folder / "broken.png").write_bytes(b"not an image")
    files = [*sorted(map(str, folder.rglob("img*.png"))), str(folder / "broken.png"),
             str(folder / "gone.png")]
    detector = FakeImageDetector(brightness_model(folder / "bright.onnx"), device="cpu",
                                 threshold=0.4, uncertain=(0.3, 0.5), threads=1)
    return detector, files


def test_a_shipped_model_pickles_by_name_small(world):
    data = pickle.dumps(world)
    assert len(data) < 10_000
    assert b"world" in data and world.model.path.read_bytes()[:4096] not in data
    detector = FakeImageDetector(device="cpu")  # the shipped images model, 26 MB
    assert len(pickle.dumps(detector)) < 10_000
    copy = pickle.loads(data)
    np.testing.assert_array_equal(copy.predict([48.85, 35.68], [2.35, 139.69]).confidence,
                                  world.predict([48.85, 35.68], [2.35, 139.69]).confidence)


LOADS_ONCE = """
import pickle, sys
import batch_classifier.inference.portable as portable
loads = []
load_model = portable.load_model
portable.load_model = lambda *args, **kwargs: loads.append(1) or load_model(*args, **kwargs)
copies = [pickle.loads(data) for data in pickle.load(sys.stdin.buffer)]
assert loads == [], "unpickling loaded a session"
assert all(len(copy.predict([48.85], [2.35]).country) == 1 for copy in copies)
print(len(loads), len({id(copy.model.session) for copy in copies}))
"""


def test_a_process_that_unpickles_many_copies_loads_each_model_once(world, cities_model):
    custom = CountryClassifier(cities_model, device="cpu", threads=1)
    copies = [pickle.dumps(classifier) for classifier in [world] * 3 + [custom] * 3]
    run = subprocess.run([sys.executable, "-c", LOADS_ONCE], input=pickle.dumps(copies),
                         capture_output=True, timeout=120)
    assert run.returncode == 0, run.stderr.decode()
    assert run.stdout.decode().split() == ["2", "2"]  # two models: two loads, two sessions


ELSEWHERE = """
import pickle, sys
from batch_classifier.inference.errors import UsageError
copy = pickle.loads(sys.stdin.buffer.read())
try:
    copy.predict([48.85], [2.35])
except UsageError as exc:
    print(exc)
"""


def test_a_shipped_model_that_differs_on_the_other_side_is_refused(world, tmp_path,
                                                                  cities_model):
    (tmp_path / "cities-world.onnx").write_bytes(cities_model.read_bytes())  # not the same
    run = subprocess.run([sys.executable, "-c", ELSEWHERE], input=pickle.dumps(world),
                         capture_output=True, timeout=120,
                         env={**os.environ, "BATCH_CLASSIFIER_MODELS": str(tmp_path)})
    assert run.returncode == 0, run.stderr.decode()
    assert "shipped model 'world'" in run.stdout.decode()
    assert "is not the model the classifier was made with" in run.stdout.decode()


def test_a_custom_model_travels_as_its_bytes_and_a_damaged_copy_is_refused(tmp_path,
                                                                           cities_model):
    path = tmp_path / "mine.onnx"
    path.write_bytes(cities_model.read_bytes())
    classifier = CountryClassifier(path, device="cpu")
    data = pickle.dumps(classifier)
    assert path.read_bytes() in data
    path.unlink()  # the copy needs no file: the bytes came with it
    copy = pickle.loads(data)
    np.testing.assert_array_equal(copy.predict([46.0, 52.0], [2.0, 20.0]).confidence,
                                  classifier.predict([46.0, 52.0], [2.0, 20.0]).confidence)
    middle = data.index(cities_model.read_bytes()) + len(cities_model.read_bytes()) // 2
    damaged = data[:middle] + bytes([data[middle] ^ 0x01]) + data[middle + 1:]
    with pytest.raises(UsageError, match="mine.onnx: the pickled model is damaged"):
        pickle.loads(damaged)


def test_same_model_and_options_same_dask_token(world, cities_model, images):
    from dask.base import tokenize

    detector, _ = images
    again = CountryClassifier(device="cpu", threads=1)
    assert tokenize(world) == tokenize(again) == tokenize(pickle.loads(pickle.dumps(world)))
    assert tokenize(world.predict_frame) == tokenize(again.predict_frame)
    others = [CountryClassifier("eu", device="cpu", threads=1),
              CountryClassifier(device="cpu", threads=2),
              CountryClassifier(cities_model, device="cpu", threads=1)]
    assert len({tokenize(c) for c in [world, *others]}) == 4
    moved = FakeImageDetector(detector.model.path, device="cpu", threshold=0.45,
                              uncertain=(0.3, 0.5), threads=1)
    assert tokenize(moved) != tokenize(detector) == tokenize(pickle.loads(pickle.dumps(detector)))


def test_multiprocessing_pool_equals_one_process(world, places, images, cities_model):
    detector, files = images
    custom = CountryClassifier(cities_model, device="cpu", threads=1)
    chunks = [places.iloc[start:start + 700] for start in range(0, len(places), 700)]
    # before the cluster's tests: no Dask threads are running when the pool forks
    for context in ("fork", "spawn"):  # a forked child loads its own session
        with multiprocessing.get_context(context).Pool(2) as pool:
            for classifier in (world, custom):
                out = pd.concat(pool.map(classifier.predict_frame, chunks))
                pd.testing.assert_frame_equal(out, classifier.predict_frame(places))
            parts = pool.map(detector.predict, [files[:5], files[5:]])
            assert_same_predictions(parts, detector.predict(files))


def test_map_partitions_on_a_local_cluster_equals_pandas(cluster, world,  # noqa: F811
                                                         places):
    import dask.dataframe as dd

    with dask.config.set({"dataframe.convert-string": False}):  # text coordinates as given
        frame = dd.from_pandas(places, npartitions=5)
        out = frame.map_partitions(world.predict_frame,
                                   meta=world.predict_frame(places.head(2))).compute()
        without_meta = frame.map_partitions(world.predict_frame, top_k=2).compute()
    want = world.predict_frame(places)
    pd.testing.assert_frame_equal(out, want)
    assert want["error"].notna().sum() > 30 and want["country_code"].notna().sum() > 500
    pd.testing.assert_frame_equal(without_meta, world.predict_frame(places, top_k=2))


def test_detector_on_a_local_cluster_equals_one_process(cluster, images):  # noqa: F811
    detector, files = images
    chunks = [files[start:start + 4] for start in range(0, len(files), 4)]
    parts = cluster.gather(cluster.map(detector.predict, chunks))
    assert_same_predictions(parts, detector.predict(files))


def assert_same_predictions(parts: list, whole) -> None:
    """Predictions of consecutive chunks equal those of the whole list, column by column."""
    assert list(parts[0]) == list(whole)
    for name in whole:
        joined = np.concatenate([part[name] for part in parts])
        if joined.dtype == object:
            assert joined.tolist() == whole[name].tolist(), name
        else:
            np.testing.assert_array_equal(joined, whole[name])
    assert whole["error"][-1] == "no such file" and whole["label"][0] is not None

