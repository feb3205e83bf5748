"""decoded_batches: each found file's record goes through in order, failed ones untouched."""

from __future__ import annotations

import os

import numpy as np
from PIL import Image

from batch_classifier.inference.errors import RowError
from batch_classifier.inference.files.walk import FoundFile
from batch_classifier.inference.images.pipeline import decoded_batches


def test_records_pass_through_in_order_and_failed_files_are_never_opened(tmp_path):
    good = []
    for i in range(3):
        good.append(tmp_path / f"{i}.png")
        Image.fromarray(np.full((8, 8, 3), 60 * i, np.uint8)).save(good[-1])
    os.mkfifo(tmp_path / "pipe.png")  # opening it would hang the decoder
    (tmp_path / "text.png").write_text("not an image")
    failed = FoundFile(tmp_path / "pipe.png", error=RowError("not a regular file", "FIFO"))
    files = [FoundFile(good[0]), failed, FoundFile(good[1]), FoundFile(tmp_path / "text.png"),
             FoundFile(good[2])]
    batches = list(decoded_batches(files, 4, batch_size=2, workers=2))
    assert [f for b in batches for f in b.files] == files
    errors = [e for b in batches for e in b.errors]
    assert errors[1] is failed.error
    assert errors[3].kind == "not an image" and "not an image" in errors[3].message
    assert [e is None for e in errors] == [True, False, True, False, True]
    images = np.concatenate([b.images for b in batches])
    assert images.shape == (3, 4, 4, 3) and images[:, 0, 0, 0].tolist() == [0, 60, 120]
