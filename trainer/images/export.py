"""Export a trained detector with its contract, and write its run folder."""

from __future__ import annotations

import shutil
from dataclasses import asdict
from pathlib import Path

import numpy as np
import torch

from batch_classifier.trainer import __version__
from batch_classifier.trainer.card import write_card
from batch_classifier.trainer.export import export_onnx
from batch_classifier.trainer.images.data import LABELS, ImageData
from batch_classifier.trainer.images.ensemble import EnsembleResult, member_summary, write
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
    metadata = contract_metadata(name, data, result.metrics, config.backbone,
                                 data.trained_on)
    parity = export_onnx(result.model, parity_inputs(data), onnx_path, metadata, atol=1e-4)
    plot_curves(result.history, folder / f"{name}.curves.png", f"{name}: training curves")
    _test_grid(data, result.test_probabilities, result.metrics, folder, name)
    write_card(onnx_path, "images", {
        "data": data_section(data, data.trained_on),
        "input_contract": input_contract(data.size),
        "config": asdict(config),
        "metrics": result.metrics,
        "parity_max_abs_diff": parity,
        "train_seconds": round(result.seconds, 1),
        "history": result.history,
    })
    return onnx_path


def save_ensemble(result: EnsembleResult, data: ImageData, folder: Path, name: str) -> Path:
    """Write the merged graph as <name>.onnx with its card, test grid and the members'
    training curves (<name>.member-<i>.curves.png, where a member has them)."""
    onnx_path = folder / f"{name}.onnx"
    members = [member_summary(member) for member in result.members]
    trained_on = sorted({source for member in members for source in member["trained_on"]})
    backbone = "ensemble of " + ", ".join(str(m["backbone"]) for m in members)
    write(result.model, contract_metadata(name, data, result.metrics, backbone, trained_on),
          onnx_path)
    _test_grid(data, result.test_probabilities, result.metrics, folder, name)
    for number, member in enumerate(result.members, 1):
        curves = member.path.with_suffix(".curves.png")
        if curves.is_file():
            shutil.copyfile(curves, folder / f"{name}.member-{number}.curves.png")
    write_card(onnx_path, "images", {
        "data": data_section(data, trained_on),
        "input_contract": input_contract(data.size),
        "members": members,
        "metrics": result.metrics,
        "parity_max_abs_diff": result.parity,
    })
    return onnx_path


def contract_metadata(name: str, data: ImageData, metrics: dict, backbone: str,
                      trained_on: list[str]) -> dict:
    """The ONNX metadata of an images model (the contract plus provenance)."""
    return {
        "task": "images", "model_name": name, "labels": LABELS,
        "input_contract": input_contract(data.size), "output": "probability_fake",
        "threshold": str(metrics["threshold"]), "data_fingerprint": data.fingerprint,
        "metrics": {k: v for k, v in metrics.items() if not isinstance(v, list | dict)},
        "trainer_version": __version__, "backbone": backbone, "trained_on": trained_on,
    }


def data_section(data: ImageData, trained_on: list[str]) -> dict:
    """The card's account of the data: sources, fingerprint, sizes per split and source."""
    return {"source": data.source, "fingerprint": data.fingerprint,
            "sizes": {s: len(getattr(data, s)) for s in ("train", "val", "test")},
            "labels": LABELS, "trained_on": trained_on, "held_out": list(data.held_out),
            "sizes_by_source": data.sizes_by_source()}


def _test_grid(data: ImageData, probabilities: np.ndarray, metrics: dict, folder: Path,
               name: str) -> None:
    if len(data.test):
        plot_prediction_grid(data.test, probabilities, metrics["threshold"],
                             folder / f"{name}.test-grid.png")
