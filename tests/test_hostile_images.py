"""Hostile folders for classify-images: odd names, links, FIFOs, unreadable, vanishing and
enormous files. Each gets one row, classified or with a clear error; no crash, no hang."""

from __future__ import annotations

import json
import os
import struct
import zlib
from pathlib import Path

import numpy as np
import pytest
from click.testing import CliRunner
from PIL import Image

import batch_classifier.inference.images.cli as images_cli
import batch_classifier.inference.images.decode as decode
from tests.jobs_support import brightness_model


def png_header_only(path: Path, width: int, height: int) -> None:
    """A PNG that claims width x height pixels but holds almost no data (a few bytes)."""
    def chunk(kind: bytes, data: bytes) -> bytes:
        return struct.pack(">I", len(data)) + kind + data + struct.pack(
            ">I", zlib.crc32(kind + data))
    ihdr = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    path.write_bytes(b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", ihdr)
                     + chunk(b"IDAT", zlib.compress(b"\0" * 64)) + chunk(b"IEND", b""))


def small_png(path: Path, value: int = 100) -> Path:
    Image.fromarray(np.full((8, 8, 3), value, np.uint8)).save(path)
    return path


EXPECTED = {  # name as the output shows it -> error ("" when classified)
    "caf\\xe9 latin-1.png": "",
    "with space.png": "",
    "new\nline.png": "",
    "animated.gif": "",
    "huge 30000x30000.png": "decompression bomb: 30000x30000 pixels",
    "pipe.png": "not a regular file",
    "dangling.png": "broken symbolic link",
    "loop": "symlink loop",
    "secret.png": "permission denied",
    "doomed.png": "no such file",
}


@pytest.fixture
def hostile(tmp_path, monkeypatch):
    folder = tmp_path / "in"
    folder.mkdir()
    small_png(Path(os.fsdecode(os.fsencode(folder) + b"/caf\xe9 latin-1.png")))
    for name in ("with space.png", "new\nline.png", "secret.png", "doomed.png"):
        small_png(folder / name)
    frames = [Image.new("P", (8, 8), i) for i in range(3)]
    frames[0].save(folder / "animated.gif", save_all=True, append_images=frames[1:])
    png_header_only(folder / "huge 30000x30000.png", 30_000, 30_000)
    os.mkfifo(folder / "pipe.png")
    os.symlink(folder / "gone.png", folder / "dangling.png")
    os.symlink(folder, folder / "loop")

    real_open = decode.Image.open

    def guarded_open(path, *args, **kwargs):  # root ignores chmod 000, so pretend
        if str(path).endswith("secret.png"):
            raise PermissionError(13, "Permission denied", str(path))
        return real_open(path, *args, **kwargs)

    real_walk = images_cli.walk_files

    def walk_then_delete(*args, **kwargs):  # the file goes after the walk found it
        for found in real_walk(*args, **kwargs):
            if found.path.name == "doomed.png":
                found.path.unlink()
            yield found

    monkeypatch.setattr(decode.Image, "open", guarded_open)
    monkeypatch.setattr(images_cli, "walk_files", walk_then_delete)
    return folder


def test_every_hostile_file_gets_one_clear_row(tmp_path, hostile):
    model = brightness_model(tmp_path / "bright.onnx")
    out, summary = tmp_path / "out.jsonl", tmp_path / "summary.json"
    args = [str(hostile), "--model", str(model), "-o", str(out), "--resume",
            "--summary-json", str(summary), "--batch-size", "3"]
    result = CliRunner().invoke(images_cli.main, args)
    assert result.exit_code == 1, result.output
    records = [json.loads(line) for line in out.read_text(encoding="utf-8").splitlines()]
    by_name = {r["path"].rsplit("/", 1)[1]: r for r in records}
    assert sorted(by_name) == sorted(EXPECTED)
    for name, error in EXPECTED.items():
        record = by_name[name]
        if error:
            assert error in record["error"] and record["label"] is None, (name, record)
        else:
            assert record["error"] is None and record["label"] in ("real", "fake"), name
    kinds = json.loads(summary.read_text())["failed_by_kind"]
    assert kinds["decompression bomb"] == 1 and kinds["symlink loop"] == 1
    again = CliRunner().invoke(images_cli.main, args)  # error rows count as done
    assert again.exit_code == 0, again.output
    assert len(out.read_text(encoding="utf-8").splitlines()) == len(records)
