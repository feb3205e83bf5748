"""Export a trained detector with its contract, and write its run folder."""

from __future__ import annotations

from dataclasses import asdict
from pathlib import Path

import torch

from batch_classifier.trainer import __version__
from batch_classifier.trainer.card import write_card
from batch_classifier.trainer.export import export_onnx
from batch_classifier.trainer.images.data import LABELS, ImageData
from batch_classifier.trainer.images.plots import plot_prediction_grid
from batch_classifier.trainer.images.train import TrainResult
from batch_classifier.trainer.plots import plot_curves


def input_contract(size: int) -> dict:
    """What the loader must hand the graph (read back by classify-images)."""
    return {"dtype": "uint8", "layout": "NHWC", "channels": "RGB", "height": size,
            "width": size, "exif_orientation": "applied",
            "resize": f"shorter side to {size} px, bicubic", "crop": "center square"}


def parity_inputs(data: ImageData, n: int = 8) -> torch.Tensor:
    """Real validation images plus a black and a white one (uint8 NHWC)."""
    images = torch.from_numpy(data.val.images[:n])
    edges = torch.stack([torch.zeros_like(images[0]), torch.full_like(images[0], 255)])
    return torch.cat([images, edges])


def save_run(result: TrainResult, data: ImageData, folder: Path, name: str) -> Path:
    """Write <name>.onnx, <name>.json, <name>.curves.png and <name>.test-grid.png."""
    onnx_path = folder / f"{name}.onnx"
    config = result.config
    metadata = {
        "task": "images", "model_name": name, "labels": LABELS,
        "input_contract": input_contract(data.size), "output": "probability_fake",
        "threshold": str(result.metrics["threshold"]), "data_fingerprint": data.fingerprint,
        "metrics": {k: v for k, v in result.metrics.items()
                    if not isinstance(v, list | dict)},
        "trainer_version": __version__, "backbone": config.backbone,
        "trained_on": data.trained_on,
    }
    parity = export_onnx(result.model, parity_inputs(data), onnx_path, metadata, atol=1e-4)
    plot_curves(result.history, folder / f"{name}.curves.png", f"{name}: training curves")
    if len(data.test):
        plot_prediction_grid(data.test, result.test_probabilities, result.metrics["threshold"],
                             folder / f"{name}.test-grid.png")
    write_card(onnx_path, "images", {
        "data": {"source": data.source, "fingerprint": data.fingerprint,
                 "sizes": {s: len(getattr(data, s)) for s in ("train", "val", "test")},
                 "labels": LABELS, "trained_on": data.trained_on,
                 "held_out": list(data.held_out),
                 "sizes_by_source": data.sizes_by_source()},
        "input_contract": input_contract(data.size),
        "config": asdict(config),
        "metrics": result.metrics,
        "parity_max_abs_diff": parity,
        "train_seconds": round(result.seconds, 1),
        "history": result.history,
    })
    return onnx_path
