"""classify-images through the CLI: formats, modes, EXIF, broken files, outputs, exit codes."""

from __future__ import annotations

import csv
import io
import json
import subprocess
import sys

import numpy as np
import pytest
from click.testing import CliRunner
from PIL import Image

from batch_classifier.inference.images.cli import main
from batch_classifier.inference.images.decode import ImageDecodeError, load_rgb
from tests.image_fixtures import SIZE, noisy, smooth, trained_run

RNG = np.random.default_rng(3)


def model_path() -> str:
    return str(trained_run()[1] / "deepfake.onnx")


def classify(*args: str) -> tuple[int, list[dict], str]:
    """Run classify-images; (exit code, CSV rows, stderr)."""
    result = CliRunner().invoke(main, ["--model", model_path(), "-q", *args])
    rows = list(csv.DictReader(io.StringIO(result.stdout))) if result.stdout else []
    return result.exit_code, rows, result.stderr


def write_good_images(folder) -> list[str]:
    """One file per format and awkward mode; returns their names."""
    folder.mkdir(parents=True, exist_ok=True)
    rgb = Image.fromarray(noisy(RNG, 40))
    gray16 = Image.fromarray(smooth(RNG, 40)[..., 0].astype(np.uint16) * 257)
    cases = {
        "rgb.jpg": rgb, "gray.png": rgb.convert("L"), "palette.gif": rgb.convert("P"),
        "rgba.png": rgb.convert("RGBA"), "cmyk.jpg": rgb.convert("CMYK"),
        "bilevel.bmp": rgb.convert("1"), "la.png": rgb.convert("LA"),
        "rgb.webp": rgb, "rgb.tiff": rgb, "gray16.png": gray16,
        "tall.JPG": Image.fromarray(smooth(RNG, 64)[:, :20]),
    }
    for name, image in cases.items():
        image.save(folder / name)
    frames = [Image.fromarray(noisy(RNG, 24)).convert("P") for _ in range(3)]
    frames[0].save(folder / "animated.gif", save_all=True, append_images=frames[1:])
    assert gray16.mode.startswith("I")
    return [*cases, "animated.gif"]


def write_bad_images(folder) -> dict[str, str]:
    """Broken files; returns name -> a word the error must contain."""
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "empty.jpg").write_bytes(b"")
    (folder / "text.jpg").write_text("this is not an image\n")
    buffer = io.BytesIO()
    Image.fromarray(noisy(RNG, 64)).save(buffer, format="JPEG")
    (folder / "truncated.jpg").write_bytes(buffer.getvalue()[:600])
    Image.new("1", (12000, 12000)).save(folder / "bomb.png")
    return {"empty.jpg": "not an image", "text.jpg": "not an image",
            "truncated.jpg": "broken", "bomb.png": "decompression bomb"}


def test_every_format_and_mode_is_classified(tmp_path):
    names = write_good_images(tmp_path / "in")
    code, rows, _ = classify(str(tmp_path / "in"))
    assert code == 0
    assert sorted(r["path"].rsplit("/", 1)[1] for r in rows) == sorted(names)
    for row in rows:
        assert row["error"] == "" and row["label"] in ("real", "fake")
        assert 0.0 <= float(row["fake_probability"]) <= 1.0


def test_broken_files_get_error_rows_and_the_batch_goes_on(tmp_path):
    bad = write_bad_images(tmp_path / "in")
    Image.fromarray(noisy(RNG, 40)).save(tmp_path / "in" / "good.png")
    code, rows, _ = classify(str(tmp_path / "in"), "--batch-size", "2")
    assert code == 1
    by_name = {r["path"].rsplit("/", 1)[1]: r for r in rows}
    assert set(by_name) == {*bad, "good.png"}
    assert by_name["good.png"]["error"] == "" and by_name["good.png"]["label"]
    for name, word in bad.items():
        assert word in by_name[name]["error"], (name, by_name[name]["error"])
        assert by_name[name]["label"] == "" and by_name[name]["fake_probability"] == ""


def test_max_pixels_option(tmp_path):
    Image.fromarray(noisy(RNG, 40)).save(tmp_path / "a.png")
    code, rows, _ = classify(str(tmp_path / "a.png"), "--max-pixels", "1000")
    assert code == 1 and "decompression bomb" in rows[0]["error"]


def test_exif_orientation_is_applied(tmp_path):
    array = np.zeros((20, 40, 3), np.uint8)
    array[:, 20:] = 255  # left half black, right half white
    exif = Image.Exif()
    exif[0x0112] = 6  # display rotated 90 degrees clockwise
    Image.fromarray(array).save(tmp_path / "r.jpg", exif=exif, quality=95)
    loaded = load_rgb(tmp_path / "r.jpg", 20)
    assert loaded[:5].mean() < 40 and loaded[-5:].mean() > 215  # black on top after rotation


def test_folders_are_walked_recursively_skipping_hidden_and_non_images(tmp_path):
    (tmp_path / "a" / "b").mkdir(parents=True)
    (tmp_path / "a" / ".hidden").mkdir()
    Image.fromarray(noisy(RNG, 40)).save(tmp_path / "a" / "b" / "deep.png")
    Image.fromarray(noisy(RNG, 40)).save(tmp_path / "a" / ".hidden" / "skip.png")
    Image.fromarray(noisy(RNG, 40)).save(tmp_path / "a" / ".dot.png")
    (tmp_path / "a" / "notes.txt").write_text("x")
    single = tmp_path / "single.png"
    Image.fromarray(smooth(RNG, 40)).save(single)
    code, rows, _ = classify(str(tmp_path / "a"), str(single))
    assert code == 0
    assert [r["path"] for r in rows] == [str(tmp_path / "a" / "b" / "deep.png"), str(single)]


def test_batching_does_not_change_results(tmp_path):
    for i in range(7):
        Image.fromarray(noisy(RNG, 40) if i % 2 else smooth(RNG, 40)).save(
            tmp_path / f"{i}.png")
    _, one_batch, _ = classify(str(tmp_path), "--batch-size", "32")
    _, small, _ = classify(str(tmp_path), "--batch-size", "3", "--workers", "2")
    assert [r["path"] for r in small] == [r["path"] for r in one_batch]
    np.testing.assert_allclose([float(r["fake_probability"]) for r in small],
                               [float(r["fake_probability"]) for r in one_batch], atol=1e-6)


def test_threshold_and_jsonl_output_file(tmp_path):
    Image.fromarray(noisy(RNG, 40)).save(tmp_path / "x.png")
    out = tmp_path / "out.jsonl"
    code, _, _ = classify(str(tmp_path / "x.png"), "--threshold", "0", "-o", str(out))
    assert code == 0
    (record,) = [json.loads(line) for line in out.read_text().splitlines()]
    assert record["label"] == "fake" and record["error"] is None
    assert set(record) == {"path", "label", "fake_probability", "evidence", "provenance",
                           "error"}
    code, rows, _ = classify(str(tmp_path / "x.png"), "--threshold", "1", "--format", "csv")
    assert rows[0]["label"] == "real" or float(rows[0]["fake_probability"]) == 1.0


def test_usage_errors_exit_2_with_one_line(tmp_path):
    result = CliRunner().invoke(main, ["--model", str(tmp_path / "none.onnx"), str(tmp_path)])
    assert result.exit_code == 2
    assert result.stderr.strip().splitlines() == [
        f"error: {tmp_path / 'none.onnx'}: model file not found"]
    result = CliRunner().invoke(main, ["--model", model_path(), str(tmp_path / "missing")])
    assert result.exit_code == 2 and "does not exist" in result.stderr


def test_help_documents_exit_codes():
    result = CliRunner().invoke(main, ["--help"])
    assert result.exit_code == 0
    assert "Exit codes" in result.output and "--batch-size" in result.output


def test_loader_matches_what_training_saw():
    """The model input contract: the loader's square equals the training decode."""
    image = Image.fromarray(noisy(RNG, SIZE))
    buffer = io.BytesIO()
    image.save(buffer, format="PNG")
    buffer.seek(0)
    assert np.array_equal(load_rgb(buffer, SIZE), np.asarray(image))
    with pytest.raises(ImageDecodeError):
        load_rgb(io.BytesIO(b"GIF89a broken"), SIZE)


def test_classify_images_never_imports_torch(tmp_path):
    Image.fromarray(noisy(RNG, 40)).save(tmp_path / "x.png")
    code = (
        "import sys\n"
        "from click.testing import CliRunner\n"
        "from batch_classifier.inference.images.cli import main\n"
        f"r = CliRunner().invoke(main, ['--model', {model_path()!r}, '-q', {str(tmp_path)!r}])\n"
        "assert r.exit_code == 0, r.output\n"
        "assert 'torch' not in sys.modules, 'torch was imported'\n"
    )
    subprocess.run([sys.executable, "-c", code], check=True)


def test_uncertain_band_labels_and_bad_bands(tmp_path):
    folder = tmp_path / "imgs"
    write_good_images(folder)
    code, rows, _ = classify(str(folder), "--uncertain", "0,1")
    assert code == 0 and rows and {row["label"] for row in rows} == {"uncertain"}
    assert all(row["fake_probability"] for row in rows)  # the probability is still written
    for band in ("0.9,0.1", "x", "0.2", "0.1,2"):
        code, _, stderr = classify(str(folder), "--uncertain", band)
        assert code == 2 and "--uncertain" in stderr
    code, _, stderr = classify(str(folder), "--threshold", "0.5", "--uncertain", "0.6,0.7")
    assert code == 2 and "contain the threshold" in stderr
