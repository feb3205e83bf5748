"""Export a PyTorch model to a self-describing ONNX file, checked against PyTorch."""

from __future__ import annotations

import io
import warnings
from pathlib import Path
from typing import Any

import numpy as np
import onnx
import onnxruntime as ort
import torch

from batch_classifier.inference.contract import ModelContract, encode_metadata
from batch_classifier.trainer.atomic import write_atomically

OPSET = 17


class ParityError(RuntimeError):
    """The exported graph does not reproduce the PyTorch model's outputs."""


def export_onnx(module: torch.nn.Module, example: torch.Tensor, path: Path,
                metadata: dict[str, Any], atol: float = 1e-4,
                output_names: list[str] | None = None) -> float:
    """Export `module` (eval mode) with `metadata`; check parity on `example`; write `path`.

    Returns the largest difference between ONNX Runtime and PyTorch outputs (absolute,
    relative for values above 1). The file is written only after the check passes, and
    atomically.
    """
    output_names = output_names or ["output"]
    module = module.eval()
    buffer = io.BytesIO()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        torch.onnx.export(
            module, (example,), buffer, input_names=["input"], output_names=output_names,
            dynamic_axes={"input": {0: "batch"}, **{name: {0: "batch"} for name in output_names}},
            opset_version=OPSET, dynamo=False,
        )
    model = onnx.load_from_string(buffer.getvalue())
    attach_metadata(model, metadata, path)
    onnx.checker.check_model(model)
    payload = model.SerializeToString()
    max_diff = parity_difference(module, payload, example)
    if not max_diff <= atol:
        raise ParityError(f"ONNX output differs from PyTorch by {max_diff:.3g} (> {atol:g})")
    write_atomically(path, payload)
    return max_diff


def attach_metadata(model: onnx.ModelProto, metadata: dict[str, Any], path: Path) -> None:
    """Set `model`'s metadata to the encoded `metadata`, refusing a broken contract (the
    error names `path`, where the model is going)."""
    strings = encode_metadata(metadata)
    ModelContract.from_metadata(strings, source=str(path))
    del model.metadata_props[:]
    for key, value in strings.items():
        entry = model.metadata_props.add()
        entry.key, entry.value = key, value


def with_metadata(source: Path, entries: dict[str, Any], out: Path) -> None:
    """Write the ONNX model `source` to `out` (atomically) with `entries` added to or
    replacing its metadata; the graph and its weights stay as they are."""
    model = onnx.load(str(source))
    metadata: dict[str, Any] = {entry.key: entry.value for entry in model.metadata_props}
    attach_metadata(model, {**metadata, **entries}, out)
    write_atomically(out, model.SerializeToString())


def parity_difference(module: torch.nn.Module, onnx_bytes: bytes, example: torch.Tensor) -> float:
    """Max |ONNX Runtime - PyTorch| / max(1, |PyTorch|) over every output for `example`."""
    session = ort.InferenceSession(onnx_bytes, providers=["CPUExecutionProvider"])
    onnx_outs = session.run(None, {"input": example.numpy()})
    with torch.no_grad():
        torch_outs = module(example)
    if isinstance(torch_outs, torch.Tensor):
        torch_outs = (torch_outs,)
    worst = 0.0
    for onnx_out, torch_out in zip(onnx_outs, torch_outs, strict=True):
        expected = torch_out.numpy().astype(np.float64)
        gap = np.abs(onnx_out.astype(np.float64) - expected) / np.maximum(1.0, np.abs(expected))
        worst = max(worst, float(gap.max(initial=0.0)))
    return worst
