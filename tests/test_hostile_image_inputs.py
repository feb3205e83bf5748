"""classify-images on what a hostile folder holds: formats it must not decode, decoders
that raise anything, thin images, look-alike names, links out of the folder, nested
roots; and the memory of a model call."""

from __future__ import annotations

import csv
import io
import os
import random
import struct
from pathlib import Path

import numpy as np
import pytest
from click.testing import CliRunner
from PIL import Image

import batch_classifier.inference.images.decode as decode
from batch_classifier.inference.files.keys import display_path
from batch_classifier.inference.images.cli import main as classify_images
from tests.jobs_support import brightness_model, cli_code, peak_rss_mib

DDS_NOT_IMPLEMENTED = (  # 128 bytes: Pillow's DDS plugin raises NotImplementedError
    struct.pack("<4sIIIIIII", b"DDS ", 124, 0x1007, 4, 4, 0, 0, 0) + b"\0" * 44
    + struct.pack("<II4sIIIII", 32, 0x4, b"XYZW", 0, 0, 0, 0, 0)
    + struct.pack("<IIIII", 0x1000, 0, 0, 0, 0))
EPS = b"%!PS-Adobe-3.0 EPSF-3.0\n%%BoundingBox: 0 0 8 8\nshowpage\n"


@pytest.fixture(scope="module")
def model(tmp_path_factory):
    return brightness_model(tmp_path_factory.mktemp("model") / "bright.onnx")


def run(*args) -> tuple[int, dict[str, dict], str]:
    """(exit code, rows by path, stderr) of classify-images."""
    result = CliRunner().invoke(classify_images, [str(a) for a in args])
    rows = list(csv.DictReader(io.StringIO(result.stdout))) if result.stdout else []
    return result.exit_code, {row["path"]: row for row in rows}, result.stderr


def png(path: Path, size: tuple[int, int] = (8, 8)) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    Image.new("RGB", size, (120, 80, 40)).save(path, format="PNG")
    return path


def test_formats_not_meant_are_unsupported_never_decoded(tmp_path, model):
    folder = tmp_path / "in"
    png(folder / "good.png")
    (folder / "ppm.jpg").write_bytes(b"P6\n4 4\n255\n" + b"\x80" * 48)
    (folder / "eps.png").write_bytes(EPS)
    (folder / "dds.jpg").write_bytes(DDS_NOT_IMPLEMENTED)
    (folder / "text.png").write_text("hello")
    code, rows, stderr = run(folder, "--model", model, "-q")
    assert code == 1, stderr
    errors = {Path(path).name: row["error"] for path, row in rows.items()}
    assert errors["good.png"] == ""
    assert errors["ppm.jpg"].startswith("unsupported format (PPM")
    assert errors["eps.png"].startswith("unsupported format (EPS")
    assert errors["dds.jpg"].startswith("unsupported format (DDS")
    assert errors["text.png"].startswith("not an image")


@pytest.mark.parametrize("exception", [NotImplementedError, ZeroDivisionError, KeyError,
                                       RecursionError, AssertionError, struct.error])
def test_any_exception_a_decoder_raises_is_that_files_error(tmp_path, model, monkeypatch,
                                                             exception):
    folder = tmp_path / "in"
    for name in ("a.png", "boom.png", "c.png"):
        png(folder / name)
    real = decode.reduced  # the first step given the opened file

    def flaky(image, *args, **kwargs):  # as a crafted file would make a decoder do
        if Path(image.filename).name == "boom.png":
            raise exception("crafted")
        return real(image, *args, **kwargs)

    monkeypatch.setattr(decode, "reduced", flaky)
    out = tmp_path / "out.csv"
    result = CliRunner().invoke(classify_images, [str(folder), "--model", str(model), "-o",
                                                  str(out), "--resume", "-q"])
    assert result.exit_code == 1, result.output
    with open(out, newline="") as handle:
        rows = {Path(row["path"]).name: row for row in csv.DictReader(handle)}
    assert rows["boom.png"]["error"].startswith(f"broken image ({exception.__name__}")
    assert rows["a.png"]["label"] and rows["c.png"]["label"]


def test_a_real_dds_does_not_stop_the_run(tmp_path, model):
    png(tmp_path / "a.png")
    (tmp_path / "b.dds.png").write_bytes(DDS_NOT_IMPLEMENTED)
    code, rows, _ = run(tmp_path, "--model", model, "-q")
    assert code == 1 and len(rows) == 2


THIN = """
from PIL import Image
from batch_classifier.inference.images.decode import load_rgb
Image.new("RGB", (16_000, 1), (10, 200, 30)).save(sys.argv[1])
Image.new("RGB", (1, 16_000), (10, 200, 30)).save(sys.argv[2])
for path in sys.argv[1:]:
    assert load_rgb(path, 256).shape == (256, 256, 3)
"""


def test_thin_images_decode_in_bounded_memory(tmp_path):
    result, peak = peak_rss_mib(THIN, tmp_path / "wide.png", tmp_path / "tall.png")
    assert result.returncode == 0, result.stderr
    assert peak < 512, f"peak {peak:.0f} MiB for 16000x1"


@pytest.mark.parametrize("shape", [(400, 10), (10, 400), (1000, 3), (333, 17)])
def test_thin_images_get_the_pixels_of_a_full_resize(shape):
    """Up to rounding: PIL may order its two passes differently for the two calls."""
    rng = np.random.default_rng(1)
    ramp = np.add.outer(np.linspace(0, 120, shape[1]), np.linspace(0, 100, shape[0]))
    pixels = ramp[..., None] + rng.uniform(0, 30, (shape[1], shape[0], 3))
    image = Image.fromarray(pixels.astype(np.uint8))
    size = 16
    scale = size / min(shape)
    new = (max(size, round(shape[0] * scale)), max(size, round(shape[1] * scale)))
    left, top = (new[0] - size) // 2, (new[1] - size) // 2
    full = np.asarray(image.resize(new, Image.BICUBIC).crop((left, top, left + size,
                                                             top + size)), dtype=int)
    assert np.abs(decode.square(image, size).astype(int) - full).max() <= 3


def test_names_that_look_alike_stay_apart_and_resume_keeps_both(tmp_path, model):
    folder = tmp_path / "in"
    folder.mkdir()
    for raw in (b"caf\xff.png", b"caf\\xff.png", b"a\\\\b.png", b"a\\b.png"):
        png(Path(os.fsdecode(os.fsencode(folder) + b"/" + raw)))
    out = tmp_path / "out.csv"
    args = [folder, "--model", model, "-o", out, "--resume", "-q"]
    assert run(*args)[0] == 0
    with open(out, newline="") as handle:
        paths = [row["path"] for row in csv.DictReader(handle)]
    assert len(set(paths)) == 4
    result = CliRunner().invoke(classify_images, [str(a) for a in args[:-1]])
    assert "4 images seen, 0 classified, 4 skipped" in result.stderr, result.output
    assert result.exit_code == 0


def undo_display(text: str) -> bytes:
    """The inverse of display_path, as a reader of the output would write it."""
    out, i = bytearray(), 0
    while i < len(text):
        if text[i] == "\\" and text[i + 1] == "\\":
            out += b"\\"
            i += 2
        elif text[i] == "\\" and text[i + 1] == "x":
            out.append(int(text[i + 2:i + 4], 16))
            i += 4
        else:
            out += text[i].encode("utf-8")
            i += 1
    return bytes(out)


def test_path_text_is_one_to_one_and_reversible():
    rng = random.Random(5)
    alphabet = [bytes([b]) for b in range(1, 256) if b != ord("/")] + [b"\\x", b"\xc3\xa9"]
    names = {b"".join(rng.choice(alphabet) for _ in range(rng.randint(1, 8)))
             for _ in range(3000)}
    texts = {display_path(os.fsdecode(name)): name for name in names}
    assert len(texts) == len(names)
    assert all(undo_display(text) == name for text, name in texts.items())
    assert all(text.encode("utf-8") for text in texts)  # always writable as UTF-8


def test_links_out_of_the_folder_are_reported_unless_followed(tmp_path, model):
    folder, outside = tmp_path / "in", tmp_path / "outside"
    png(folder / "inside.png")
    png(outside / "secret.png")
    png(outside / "deeper" / "more.png")
    (folder / "leak.png").symlink_to(outside / "secret.png")
    (folder / "leakdir").symlink_to(outside)
    (folder / "alias.png").symlink_to(folder / "inside.png")  # stays inside: followed
    code, rows, _ = run(folder, "--model", model, "-q")
    errors = {Path(path).name: row["error"] for path, row in rows.items()}
    assert code == 1 and sorted(errors) == ["alias.png", "inside.png", "leak.png", "leakdir"]
    assert errors["leak.png"].startswith("symbolic link to a path outside the folder")
    assert errors["leakdir"].startswith("symbolic link to a path outside the folder")
    assert errors["alias.png"] == errors["inside.png"] == ""
    code, rows, _ = run(folder, "--model", model, "-q", "--follow-links")
    assert code == 0 and sorted(Path(path).name for path in rows) == [
        "alias.png", "inside.png", "leak.png", "more.png", "secret.png"]


@pytest.mark.parametrize("order", ["outer first", "inner first", "twice", "file inside"])
def test_nested_roots_are_walked_once_without_a_false_loop(tmp_path, model, order):
    folder = tmp_path / "in"
    for name in ("a.png", "sub/b.png", "sub/deeper/c.png"):
        png(folder / name)
    roots = {"outer first": [folder, folder / "sub"], "inner first": [folder / "sub", folder],
             "twice": [folder, folder], "file inside": [folder, folder / "sub" / "b.png"]}
    result = CliRunner().invoke(classify_images, [*map(str, roots[order]), "--model",
                                                  str(model), "-q"])
    assert result.exit_code == 0, result.output
    paths = [row["path"] for row in csv.DictReader(io.StringIO(result.stdout))]
    assert sorted(Path(path).name for path in paths) == ["a.png", "b.png", "c.png"]


def test_a_second_way_into_a_folder_is_not_called_a_loop(tmp_path, model):
    folder = tmp_path / "in"
    png(folder / "real" / "a.png")
    (folder / "zalias").symlink_to(folder / "real")
    (folder / "real" / "up").symlink_to(folder)
    code, rows, _ = run(folder, "--model", model, "-q")
    errors = {Path(path).name: row["error"] for path, row in rows.items() if row["error"]}
    assert errors["zalias"].startswith("a second way into a folder already walked")
    assert errors["up"].startswith("symlink loop")


def test_a_batch_runs_through_the_model_a_few_images_at_a_time(tmp_path):
    """A model with large activations (x8 upsampling inside): 32 images at once would
    hold ~1.6 GB; a few at a time stay far below."""
    model = brightness_model(tmp_path / "big.onnx", size=256, upsample=8)
    for i in range(32):
        png(tmp_path / "in" / f"{i}.png", (256, 256))
    result, peak = peak_rss_mib(cli_code("images"), tmp_path / "in", "--model", model, "-q",
                                "--batch-size", "32", "-o", tmp_path / "out.csv")
    assert result.returncode == 0, result.stderr
    assert peak < 900, f"peak {peak:.0f} MiB"
