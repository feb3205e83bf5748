"""Hostile provenance: malformed JUMBF boxes, a manifest at a remote URL, a 50 MB XMP
packet, 10,000 PNG text chunks, text chunks that inflate without bound. Each is a note
(or, where the pixel decoder refuses the file, an error) on its own row: classify-images
runs to its end in a fresh process, under 500 MB peak, and nothing connects to the URL."""

from __future__ import annotations

import json
import socket
import struct
import subprocess
import sys
import threading
import zlib
from pathlib import Path

import pytest

from batch_classifier.inference.images.provenance.reader import read_provenance
from tests.jobs_support import brightness_model
from tests.provenance_fixtures import dark_pixels, encoded, png_with_texts, signed

MB = 1 << 20
PEAK_LIMIT_MIB = 500
# files Pillow itself refuses to decode (its own text-chunk limit; a truncated file)
PIXELS_REFUSED = {"ztxt-bomb.png", "itxt-bomb.png", "jumbf-past-the-end.jpg"}
RUN_CLI = """
import json, sys
from batch_classifier.inference.images.cli import main
try:
    main(sys.argv[1:])
except SystemExit as exc:
    code = exc.code
hwm = next(line for line in open("/proc/self/status") if line.startswith("VmHWM"))
print(json.dumps({"exit": code, "peak_mib": int(hwm.split()[1]) / 1024}))
"""  # VmHWM is this process's own peak: ru_maxrss keeps the forking test process's RSS


def png_chunk(kind: bytes, data: bytes) -> bytes:
    return struct.pack(">I", len(data)) + kind + data + \
        struct.pack(">I", zlib.crc32(kind + data) & 0xFFFFFFFF)


def with_png_chunks(png: bytes, chunks: list[bytes]) -> bytes:
    """The PNG with `chunks` inserted after its IHDR chunk."""
    ihdr_end = 8 + 8 + 13 + 4
    return png[:ihdr_end] + b"".join(chunks) + png[ihdr_end:]


def with_jpeg_segments(jpeg: bytes, segments: list[tuple[int, bytes]]) -> bytes:
    """The JPEG with (marker, payload) segments inserted after its SOI."""
    return jpeg[:2] + b"".join(struct.pack(">BBH", 0xFF, marker, len(data) + 2) + data
                               for marker, data in segments) + jpeg[2:]


def deflate_bomb(expanded: int) -> bytes:
    """zlib data that inflates to `expanded` zero bytes (made a MiB at a time)."""
    deflater, block = zlib.compressobj(9), bytes(MB)
    return b"".join(deflater.compress(block) for _ in range(expanded // MB)) + deflater.flush()


def fifty_mb_xmp() -> bytes:
    return b'<x:xmpmeta xmlns:x="adobe:ns:meta/">' + b"<!-- padding -->" * (50 * MB // 16) + \
        b"<Iptc4xmpExt:DigitalSourceType>trainedAlgorithmicMedia</Iptc4xmpExt:DigitalSourceType>"


def hostile_files(folder: Path, remote_url: str) -> dict[str, str]:
    """Write the hostile files; {file name: what its provenance column must hold}."""
    folder.mkdir()
    png, jpeg = encoded(dark_pixels(0), "PNG"), encoded(dark_pixels(0), "JPEG")
    xmp = fifty_mb_xmp()
    extended = b"http://ns.adobe.com/xmp/extension/\0" + b"0" * 32
    step = 65000
    files = {
        "bad-jumbf.jpg": (with_jpeg_segments(jpeg, [(0xEB, b"JP\0\1\0\0\0\1" + b"\xff" * 64)]),
                          "c2pa manifest unreadable"),
        "bad-cabx.png": (with_png_chunks(png, [png_chunk(b"caBX", b"\0\0\0\x10jumb" * 8)]),
                         "c2pa manifest unreadable"),
        "jumbf-past-the-end.jpg": (jpeg[:2] + b"\xff\xeb\xff\xf0JP\0\1",
                                   "c2pa manifest unreadable"),
        "remote.jpg": (signed(jpeg, "JPEG", remote_url=remote_url),
                       f"c2pa manifest stored remotely at {remote_url}: not fetched "
                       "(no network)"),
        "xmp-50mb.png": (with_png_chunks(png, [png_chunk(
            b"iTXt", b"XML:com.adobe.xmp\0\0\0\0\0" + xmp)]), "png text chunk of 50 MB not read"),
        "xmp-50mb.jpg": (with_jpeg_segments(jpeg, [
            (0xE1, extended + struct.pack(">II", len(xmp), at) + xmp[at:at + step])
            for at in range(0, len(xmp), step)]), "jpeg xmp over 1 MiB: the rest not read"),
        "xmp-50mb.webp": (_webp_with_chunk(encoded(dark_pixels(0), "WEBP"), b"XMP ", xmp),
                          "webp xmp of 50 MB not read"),
        "10000-texts.png": (with_png_chunks(png, [
            png_chunk(b"tEXt", b"Comment\0note %d" % i) for i in range(10_000)]
            + [png_chunk(b"tEXt", b"parameters\0Steps: 20")]),
            "png over 1,000 text chunks: the rest not read"),
        "ztxt-bomb.png": (with_png_chunks(png, [png_chunk(
            b"zTXt", b"parameters\0\0" + deflate_bomb(1024 * MB))]),
            "png zTXt 'parameters' expands beyond 1 MiB: not read"),
        "itxt-bomb.png": (with_png_chunks(png, [png_chunk(
            b"iTXt", b"XML:com.adobe.xmp\0\1\0\0\0" + deflate_bomb(256 * MB))]),
            "png iTXt 'XML:com.adobe.xmp' expands beyond 1 MiB: not read"),
    }
    for name, (data, _) in files.items():
        (folder / name).write_bytes(data)
    return {name: text for name, (_, text) in files.items()}


def _webp_with_chunk(webp: bytes, kind: bytes, data: bytes) -> bytes:
    """A simple (VP8L) WebP with one more chunk after the image."""
    body = webp[12:] + kind + struct.pack("<I", len(data)) + data + b"\0" * (len(data) & 1)
    return b"RIFF" + struct.pack("<I", 4 + len(body)) + b"WEBP" + body


class Listener:
    """A TCP port on 127.0.0.1 that counts the connections made to it."""

    def __init__(self):
        self.socket = socket.create_server(("127.0.0.1", 0))
        self.socket.settimeout(0.2)
        self.port = self.socket.getsockname()[1]
        self.connections = 0
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._serve, daemon=True)
        self._thread.start()

    def _serve(self) -> None:
        while not self._stop.is_set():
            try:
                connection, _ = self.socket.accept()
            except TimeoutError:
                continue
            self.connections += 1
            connection.close()

    def close(self) -> None:
        self._stop.set()
        self._thread.join()
        self.socket.close()


@pytest.fixture
def listener():
    listening = Listener()
    yield listening
    listening.close()


def test_hostile_provenance_is_noted_in_bounded_memory_without_network(tmp_path, listener):
    url = f"http://127.0.0.1:{listener.port}/manifest.c2pa"
    expected = hostile_files(tmp_path / "in", url)
    model = brightness_model(tmp_path / "bright.onnx")
    out = tmp_path / "out.jsonl"
    # two decoder threads, as on the 2-core machine the figure was measured on: Pillow
    # holds ~250 MB decoding the pixels of the PNG with a 50 MB text chunk, so the peak
    # grows with the number of such files decoded at once, provenance or not
    done = subprocess.run([sys.executable, "-c", RUN_CLI, str(tmp_path / "in"), "--model",
                           str(model), "-o", str(out), "-q", "--workers", "2"],
                          capture_output=True, text=True, timeout=600)
    report = json.loads(done.stdout.splitlines()[-1])
    rows = {Path(row["path"]).name: row for row in map(json.loads, out.read_text().splitlines())}
    assert set(rows) == set(expected)
    assert report["exit"] == 1, done.stderr  # some files the pixel decoder refuses too
    for name, text in expected.items():
        assert text in (rows[name]["provenance"] or ""), (name, rows[name])
    refused = {name for name, row in rows.items() if row["error"]}
    assert refused == PIXELS_REFUSED, rows
    assert all(rows[name]["error"].startswith("broken image") for name in refused)
    assert all((row["label"], row["evidence"]) == ("real", "pixels")
               for name, row in rows.items() if name not in refused), rows
    assert report["peak_mib"] < PEAK_LIMIT_MIB, report
    print(f"peak {report['peak_mib']:.0f} MiB")
    assert listener.connections == 0


def test_text_nested_too_deep_for_json_costs_only_itself(tmp_path):
    path = tmp_path / "deep.png"
    path.write_bytes(png_with_texts(dark_pixels(0), {"prompt": "[" * 200_000,
                                                     "parameters": "Steps: 20"}))
    assert read_provenance(path).text == "png parameters: Stable Diffusion, Steps 20"


def test_a_broken_exif_ifd_costs_only_itself(tmp_path):
    exif = encoded(dark_pixels(0), "JPEG", exif=b"Exif\0\0MM\0*\0\0\0\x08\0\x01"
                   b"\x87\x69\0\x04\0\0\0\x01\x7f\xff\xff\xff" + b"\0" * 8,
                   xmp=b'<x DigitalSourceType="trainedAlgorithmicMedia"/>')
    (tmp_path / "exif.jpg").write_bytes(exif)
    assert read_provenance(tmp_path / "exif.jpg").text == \
        "xmp DigitalSourceType: trainedAlgorithmicMedia"
