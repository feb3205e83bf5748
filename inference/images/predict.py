"""The inference core for images: a uint8 batch in, (label, P(fake)) per image out."""

from __future__ import annotations

import numpy as np

from batch_classifier.inference.errors import ModelContractError
from batch_classifier.inference.session import LoadedModel

COLUMNS = ["path", "label", "fake_probability", "evidence", "provenance", "error"]
TALLY_COLUMN = "evidence"  # the summary counts the rows by it
# Arrow types of the columns that are not text (with the resume keys size and mtime_ns)
COLUMN_TYPES = {"fake_probability": "float64", "size": "int64", "mtime_ns": "int64"}


def input_size(model: LoadedModel) -> int:
    """The square side the model's input contract asks the loader for."""
    contract = model.contract.input_contract
    height, width = contract.get("height"), contract.get("width")
    if contract.get("dtype") != "uint8" or contract.get("layout") != "NHWC" \
            or not isinstance(height, int) or height != width:
        raise ModelContractError(
            f"{model.path}: input_contract must be uint8 NHWC with equal height and width "
            f"(got {contract})")
    return height


def fake_probabilities(model: LoadedModel, images: np.ndarray) -> np.ndarray:
    """P(fake) for each image of a uint8 [N, H, W, 3] batch."""
    if len(images) == 0:
        return np.zeros(0, dtype=np.float32)
    return model.run(np.ascontiguousarray(images, dtype=np.uint8)).reshape(len(images))
