"""Parquet in (classify-cities) and out (both commands): the same values as the CSV path,
read back through pandas."""

from __future__ import annotations

import numpy as np
import pytest
from click.testing import CliRunner

from batch_classifier.inference.images.cli import main as classify_images
from tests.jobs_support import (
    brightness_model,
    classify_cities_without,
    finished,
    run_cli,
    write_images,
)

pd = pytest.importorskip("pandas")
pytest.importorskip("pyarrow")


@pytest.fixture
def places(tmp_path):
    """A CSV with good and bad rows (missing, not a number, out of range)."""
    path = tmp_path / "in.csv"
    rows = [f"{i},place {i},{40 + i / 50:.4f},{i / 20 - 2:.4f}" for i in range(300)]
    rows[3], rows[10], rows[11] = "3,x,,1.5", "10,y,abc,2", "11,z,45,999"
    path.write_text("id,name,lat,lon\n" + "\n".join(rows) + "\n")
    return path


def classify(*args):
    finished(run_cli(*args, "-q"))


def test_parquet_output_holds_the_csv_values(tmp_path, places, cities_model):
    classify(places, "--model", cities_model, "-o", tmp_path / "one.csv")
    classify(places, "--model", cities_model, "-o", tmp_path / "one.parquet")
    text = pd.read_csv(tmp_path / "one.csv", dtype=str, keep_default_na=False)
    frame = pd.read_parquet(tmp_path / "one.parquet")
    assert list(frame.columns) == list(text.columns)
    assert frame["confidence"].dtype == np.float64
    assert (frame["confidence"].fillna(-1) == pd.to_numeric(
        text["confidence"].replace("", "-1"))).all()
    strings = [c for c in text.columns if c != "confidence"]
    pd.testing.assert_frame_equal(frame[strings].fillna("").astype(object),
                                  text[strings].astype(object))


def test_parquet_input_gives_the_csv_results(tmp_path, places, cities_model):
    source = pd.read_csv(places, dtype={"lat": str, "lon": str}, keep_default_na=False)
    typed = source.assign(lat=pd.to_numeric(source["lat"], errors="coerce"),
                          lon=pd.to_numeric(source["lon"], errors="coerce"))
    typed.to_parquet(tmp_path / "in.parquet", row_group_size=64)
    classify(places, "--model", cities_model, "-o", tmp_path / "from-csv.csv")
    classify(tmp_path / "in.parquet", "--model", cities_model, "--batch-size", "50",
             "-o", tmp_path / "from-parquet.csv")
    want = pd.read_csv(tmp_path / "from-csv.csv", keep_default_na=False)
    got = pd.read_csv(tmp_path / "from-parquet.csv", keep_default_na=False)
    predicted = ["country", "country_code", "confidence"]
    pd.testing.assert_frame_equal(got[predicted], want[predicted])
    assert (got["error"] != "").tolist() == (want["error"] != "").tolist()
    assert got["error"][10] == "row 11: missing latitude"  # 'abc' became a null
    assert got["error"][11] == "row 12: longitude 999 is outside [-180, 180]"
    good = want["error"] == ""
    for column in ("lat", "lon"):  # floats written back as their shortest decimal
        assert (got[column][good].astype(float) == want[column][good].astype(float)).all()


def test_parquet_in_and_out(tmp_path, places, cities_model):
    pd.read_csv(places, dtype=str, keep_default_na=False).to_parquet(tmp_path / "in.parquet")
    classify(places, "--model", cities_model, "-o", tmp_path / "one.parquet")
    classify(tmp_path / "in.parquet", "--model", cities_model, "--format", "parquet",
             "-o", tmp_path / "two.pq")
    one, two = (pd.read_parquet(tmp_path / name) for name in ("one.parquet", "two.pq"))
    pd.testing.assert_frame_equal(one.drop(columns="error"), two.drop(columns="error"))


def test_images_parquet_output(tmp_path):
    model = brightness_model(tmp_path / "bright.onnx")
    write_images(tmp_path / "in", 5)
    (tmp_path / "in" / "broken.png").write_bytes(b"no")
    finished(CliRunner().invoke(classify_images, [str(tmp_path / "in"), "--model", str(model),
                                                  "-o", str(tmp_path / "out.parquet"), "-q"]))
    frame = pd.read_parquet(tmp_path / "out.parquet")
    assert list(frame.columns) == ["path", "label", "fake_probability", "evidence",
                                   "provenance", "error"]
    assert frame["fake_probability"].dtype == np.float64 and len(frame) == 6
    assert frame["label"].isna().sum() == 1 and frame["error"].notna().sum() == 1


@pytest.mark.parametrize(("extra", "message"), [
    (["-o", "out.parquet", "--resume"], "--resume cannot continue a Parquet file"),
    (["--format", "parquet"], "Parquet output needs -o FILE"),
])
def test_what_parquet_output_refuses(tmp_path, places, cities_model, monkeypatch, extra,
                                     message):
    monkeypatch.chdir(tmp_path)
    result = run_cli(places, "--model", cities_model, *extra)
    assert result.exit_code == 2 and message in result.stderr


def test_without_pyarrow_the_error_names_the_extra(tmp_path, places):
    result = classify_cities_without("pyarrow", places, "-o", tmp_path / "out.parquet")
    assert result.returncode == 2
    assert "pip install 'batch-classifier[parquet]'" in result.stderr
    assert len(result.stderr.strip().splitlines()) <= 2  # the model line, then the error
