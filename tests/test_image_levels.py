"""Images deeper than 8 bits (16-bit PNG and TIFF, 32-bit integer and float TIFF) are
scaled to 8 bits by the range their values are written in; values that fit no known
range are the file's error, never a black or white image called real."""

from __future__ import annotations

import numpy as np
import pytest
from PIL import Image

from batch_classifier.inference.errors import RowError
from batch_classifier.inference.images.decode import decode_file

SIZE = 8


def saved(path, array: np.ndarray, mode: str | None = None):
    image = Image.fromarray(array) if mode is None else Image.fromarray(array, mode)
    image.save(path)
    return path


@pytest.mark.parametrize(("array", "suffix", "want"), [
    (np.full((32, 32), 0.5, np.float32), "tif", 128),        # float, 0 to 1
    (np.full((32, 32), 1.0, np.float32), "tif", 255),
    (np.zeros((32, 32), np.float32), "tif", 0),
    (np.full((32, 32), 200.0, np.float32), "tif", 200),      # float, 0 to 255
    (np.full((32, 32), 51400.0, np.float32), "tif", 200),    # float, 0 to 65535
    (np.full((32, 32), 200, np.int32), "tif", 200),          # 32-bit integer
    (np.full((32, 32), 51400, np.int32), "tif", 200),
    (np.full((32, 32), 51400, np.uint16), "tif", 200),       # 16-bit
    (np.full((32, 32), 51400, np.uint16), "png", 200),
    (np.full((32, 32), 200, np.uint16), "png", 1),           # a dark 16-bit image stays dark
])
def test_deep_images_are_scaled_by_their_range(tmp_path, array, suffix, want):
    decoded = decode_file(saved(tmp_path / f"deep.{suffix}", array), SIZE)
    assert not isinstance(decoded, RowError), decoded
    assert decoded.shape == (SIZE, SIZE, 3) and (decoded == want).all(), decoded[0, 0]


def test_a_float_image_keeps_its_gradient(tmp_path):
    """A [0, 1] float ramp, large enough to be reduced while decoding, reads as the same
    ramp in 8 bits."""
    ramp = np.tile(np.linspace(0, 1, 2400, dtype=np.float32), (2400, 1))
    decoded = decode_file(saved(tmp_path / "ramp.tif", ramp), SIZE)
    want = np.linspace(0, 255, SIZE * 2 + 1)[1::2]  # the centres of SIZE equal columns
    assert np.abs(decoded[0, :, 0].astype(float) - want).max() <= 3, decoded[0, :, 0]


@pytest.mark.parametrize(("array", "says"), [
    (np.array([[0.5, -0.25], [0.1, 0.9]], np.float32), "[-0.25, 0.9]"),
    (np.array([[0.5, 1e6], [0.1, 0.9]], np.float32), "[0.1, 1e+06]"),
    (np.array([[0.5, np.nan], [0.1, 0.9]], np.float32), "not a number"),
    (np.array([[0.5, np.inf], [0.1, 0.9]], np.float32), "not a number"),
    (np.array([[5, -3], [1, 9]], np.int32), "[-3, 9]"),
    (np.array([[5, 70_000], [1, 9]], np.int32), "[1, 70000]"),
])
def test_values_in_no_known_range_are_the_files_error(tmp_path, array, says):
    decoded = decode_file(saved(tmp_path / "odd.tif", np.kron(array, np.ones((8, 8),
                                                                             array.dtype))), SIZE)
    assert isinstance(decoded, RowError), decoded[0, 0]
    assert decoded.kind == "unsupported pixel values" and says in decoded.message, decoded
