"""Int8 for the MLP of an exported cities model: ONNX Runtime *static* quantisation, int8
weights with one scale per output channel and activation scales fixed at export from
training points. (Dynamic quantisation computes activation scales per call, which makes
a row's probabilities depend on the other rows of its call: docs/cities-models.md.)"""

from __future__ import annotations

import os
import tempfile
from pathlib import Path

import numpy as np
import onnx

from batch_classifier.inference.cities.predict import run_model
from batch_classifier.inference.session import load_model

# The Fourier projection stays float: its angles reach ~1e3 rad, far beyond int8 steps.
KEEP_FLOAT = "/features/"
MIN_LABEL_AGREEMENT = 0.999


class QuantisationError(RuntimeError):
    """The int8 model disagrees with the float one on too many points."""


def quantize_mlp(onnx_path: Path, check_points: np.ndarray,
                 calibration_points: np.ndarray) -> dict[str, float]:
    """Replace `onnx_path` by its int8 version (atomically), its activation scales
    calibrated on `calibration_points` (training points), if the predicted labels on
    `check_points` agree with the float model's on at least MIN_LABEL_AGREEMENT of them;
    return the agreement and the largest probability change."""
    from onnxruntime.quantization import QuantFormat, QuantType, quantize_static

    graph = onnx.load(str(onnx_path))
    keep = [node.name for node in graph.graph.node if KEEP_FLOAT in node.name]
    before = run_model(load_model(onnx_path, device="cpu", task="cities"), check_points)[0]
    handle, temp = tempfile.mkstemp(suffix=".onnx", dir=onnx_path.parent)
    os.close(handle)
    try:
        quantize_static(str(onnx_path), temp, _Calibration(calibration_points),
                        quant_format=QuantFormat.QOperator, per_channel=True,
                        weight_type=QuantType.QInt8, activation_type=QuantType.QUInt8,
                        nodes_to_exclude=keep, op_types_to_quantize=["MatMul", "Gemm"])
        after = run_model(load_model(temp, device="cpu", task="cities"), check_points)[0]
        agreement = float((before.argmax(1) == after.argmax(1)).mean())
        if agreement < MIN_LABEL_AGREEMENT:
            raise QuantisationError(f"int8 labels agree with float on {agreement:.4%} of "
                                    f"the check points (< {MIN_LABEL_AGREEMENT:.1%})")
        os.replace(temp, onnx_path)
    finally:
        Path(temp).unlink(missing_ok=True)
    return {"int8_label_agreement": round(agreement, 6),
            "int8_max_probability_change": round(float(np.abs(before - after).max()), 6)}


class _Calibration:
    """Calibration batches for quantize_static: (lat, lon) points, 1,000 at a time."""

    def __init__(self, points: np.ndarray, batch: int = 1000):
        points = np.ascontiguousarray(points, dtype=np.float32)
        self._batches = iter([{"input": points[i:i + batch]}
                              for i in range(0, len(points), batch)])

    def get_next(self) -> dict[str, np.ndarray] | None:
        return next(self._batches, None)
