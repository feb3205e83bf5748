"""Small poison images: a PNG of a few hundred KB that decodes to hundreds of MB. The
threads that decode share one byte budget, so memory does not grow with their number,
and such a file is a row like any other, locally and on a Dask worker with a memory
limit."""

from __future__ import annotations

import csv
import logging
import struct
import zlib
from pathlib import Path

import pytest
from click.testing import CliRunner

from batch_classifier.inference.images.cli import main as classify_images
from tests.jobs_support import brightness_model, cli_code, peak_rss_mib, write_images


def poison_png(path: Path, side: int, color_type: int = 0) -> Path:
    """A side x side 16-bit PNG of zeros (grey, or RGBA with `color_type` 6): a few
    hundred KB on disk, side * side * 2 (or 8) bytes decoded."""
    def chunk(kind: bytes, data: bytes) -> bytes:
        return (struct.pack(">I", len(data)) + kind + data
                + struct.pack(">I", zlib.crc32(kind + data)))

    row = b"\0" * (1 + side * (2 if color_type == 0 else 8))  # filter byte, then samples
    packer = zlib.compressobj(9)
    data = b"".join(packer.compress(row) for _ in range(side)) + packer.flush()
    ihdr = struct.pack(">IIBBBBB", side, side, 16, color_type, 0, 0, 0)
    path.write_bytes(b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", ihdr) + chunk(b"IDAT", data)
                     + chunk(b"IEND", b""))
    return path


@pytest.fixture
def poisoned(tmp_path) -> Path:
    """Ten good images and eight poison ones (4000 x 4000, 16-bit: six grey, two RGBA)."""
    folder = tmp_path / "in"
    write_images(folder, 10)
    for i in range(8):
        poison_png(folder / f"poison {i}.png", 4000, 6 if i % 4 == 3 else 0)
    return folder


def classified(out: Path) -> dict[str, dict[str, str]]:
    with open(out, encoding="utf-8", newline="") as handle:
        return {row["path"]: row for row in csv.DictReader(handle)}


def test_poison_images_decode_in_bounded_memory_whatever_the_threads(tmp_path, poisoned):
    """Eight threads used to hold eight decoded poisons at once (with their float and
    RGBA copies: ~3 GB); now the decoding threads share a budget."""
    model = brightness_model(tmp_path / "bright.onnx")
    out = tmp_path / "out.csv"
    result, peak = peak_rss_mib(cli_code("images"), poisoned, "--model", model,
                                "--workers", "8", "-q", "-o", out)
    assert result.returncode == 0, result.stderr
    rows = classified(out)
    assert len(rows) == 18 and all(row["label"] for row in rows.values())
    assert peak < 512, f"peak {peak:.0f} MiB"


def test_poison_images_on_a_dask_worker_with_a_memory_limit(tmp_path, poisoned):
    """The worker used to be killed for memory again and again (KilledWorker), and the
    good files of its parts were never classified."""
    distributed = pytest.importorskip("distributed")
    model = brightness_model(tmp_path / "bright.onnx")
    out = tmp_path / "out"
    with distributed.LocalCluster(n_workers=1, threads_per_worker=2, processes=True,
                                  memory_limit="900MiB", dashboard_address="127.0.0.1:0",
                                  silence_logs=logging.CRITICAL) as cluster:
        result = CliRunner().invoke(classify_images, [
            str(poisoned), "--model", str(model), "--dask", cluster.scheduler_address,
            "--files-per-task", "6", "--workers", "4", "-q", "-o", str(out)])
    assert result.exit_code == 0, result.output
    rows = {}
    for part in sorted(out.glob("part-*.csv")):
        rows |= classified(part)
    assert len(rows) == 18 and all(row["label"] for row in rows.values())


def test_an_image_that_would_take_too_much_memory_is_its_rows_error(tmp_path):
    """A 2 KB lossless WebP of 8000 x 8000 pixels used to take ~1 GB to decode (libwebp
    holds several copies): now it is refused from its header, and the others go on."""
    from PIL import Image

    folder = tmp_path / "in"
    write_images(folder, 4)
    Image.new("RGB", (8000, 8000), (10, 20, 30)).save(folder / "bomb.webp", lossless=True)
    assert (folder / "bomb.webp").stat().st_size < 10_000
    model = brightness_model(tmp_path / "bright.onnx")
    out = tmp_path / "out.csv"
    result, peak = peak_rss_mib(cli_code("images"), folder, "--model", model, "-q", "-o", out)
    assert result.returncode == 1, result.stderr
    rows = classified(out)
    bomb = rows.pop(str(folder / "bomb.webp"))
    assert bomb["error"].startswith("too large to decode: 8000x8000 WEBP pixels need ~")
    assert len(rows) == 4 and all(row["label"] for row in rows.values())
    assert peak < 400, f"peak {peak:.0f} MiB"


@pytest.mark.parametrize(("mode", "orientation"), [("RGB", 6), ("RGBA", 3), ("P", 8),
                                                    ("I;16", 1), ("LA", 5)])
def test_a_large_image_reduced_while_decoding_looks_as_a_direct_resize(tmp_path, mode,
                                                                       orientation):
    """Reduced first (box averages, tile by tile), then resized: the pixels of one bicubic
    resize of the whole image, up to small differences, in its EXIF orientation."""
    import numpy as np
    from PIL import Image, ImageOps

    from batch_classifier.inference.images.decode import load_rgb, square

    size = 64
    y, x = np.mgrid[0:1500, 0:2100]
    rgb = np.stack([x * 255 // 2100, y * 255 // 1500, (x + y) * 255 // 3600], axis=-1)
    image = Image.fromarray(rgb.astype(np.uint8))
    if mode == "RGBA":
        image.putalpha(Image.fromarray((y * 255 // 1500).astype(np.uint8)))
    elif mode == "LA":
        image = image.convert("LA")
    elif mode == "P":
        image = image.quantize(64)
    elif mode == "I;16":
        image = Image.fromarray((x * 30 + y).astype(np.uint16))
    exif = Image.Exif()
    exif[0x0112] = orientation
    path = tmp_path / "big.png"
    image.save(path, exif=exif)
    with Image.open(path) as opened:
        want = ImageOps.exif_transpose(opened)
        if mode == "I;16":
            want = Image.fromarray((np.asarray(want) / 65535 * 255 + 0.5).astype(np.uint8))
        want = want.convert("RGBA")
        want = square(Image.alpha_composite(Image.new("RGBA", want.size, "white"), want)
                      .convert("RGB"), size).astype(int)
    got = load_rgb(path, size).astype(int)
    assert np.abs(got - want).max() <= 4 and np.abs(got - want).mean() < 0.5


def test_the_budget_holds_at_most_its_capacity_or_one_larger_reservation():
    import threading
    import time

    from batch_classifier.inference.images.budget import ByteBudget

    budget = ByteBudget(100)
    held, peaks, lock = [], [], threading.Lock()

    def work(nbytes: int) -> None:
        with budget.reserve(nbytes):
            with lock:
                held.append(nbytes)
                peaks.append((sum(held), len(held)))
            time.sleep(0.01)
            with lock:
                held.remove(nbytes)

    threads = [threading.Thread(target=work, args=(n,)) for n in [30, 40, 150, 60, 20] * 4]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=30)
    assert len(peaks) == 20 and not held
    assert all(total <= 100 or count == 1 for total, count in peaks), peaks
    assert max(count for _, count in peaks) > 1  # small ones do run together
