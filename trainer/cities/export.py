"""Export a trained country model with its contract, and write its run folder."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import torch

from batch_classifier.trainer import __version__
from batch_classifier.trainer.card import write_card
from batch_classifier.trainer.cities.data import CitiesData
from batch_classifier.trainer.cities.model import (
    CoordinateFeatures,
    CountryMLP,
    CountryProbabilities,
)
from batch_classifier.trainer.cities.plots import plot_regions
from batch_classifier.trainer.cities.train import CitiesConfig, TrainResult, config_dict
from batch_classifier.trainer.export import export_onnx
from batch_classifier.trainer.plots import plot_curves

INPUT_CONTRACT = {"dtype": "float32", "shape": ["N", 2], "columns": ["latitude", "longitude"],
                  "units": "degrees"}


def parity_inputs(data: CitiesData, n: int = 2048) -> torch.Tensor:
    """Validation points plus the awkward places: poles, the antimeridian, (0, 0)."""
    edges = np.array([[90, 0], [-90, 0], [0, 180], [0, -180], [0, 0], [65.5, -179.99],
                      [65.5, 179.99], [-17.8, 178.1]], dtype=np.float32)
    return torch.from_numpy(np.concatenate([data.val.latlon[:n], edges]))


def save_run(result: TrainResult, data: CitiesData, folder: Path, name: str) -> Path:
    """Write <name>.onnx, its card <name>.json, the PyTorch weights <name>.pt and the
    plots into `folder`; return the ONNX path."""
    onnx_path = folder / f"{name}.onnx"
    metadata = {
        "task": "cities", "model_name": name, "labels": data.names, "label_codes": data.codes,
        "input_contract": INPUT_CONTRACT, "output": "probabilities",
        "data_fingerprint": data.fingerprint, "metrics": result.metrics,
        "trainer_version": __version__,
    }
    torch.save({"config": config_dict(result.config), "n_classes": len(data.names),
                "state_dict": result.model.state_dict()}, folder / f"{name}.pt")
    parity = export_onnx(result.model, parity_inputs(data), onnx_path, metadata)
    plot_curves(result.history, folder / f"{name}.curves.png", f"{name}: training curves")
    plot_regions(result.model, data, folder / f"{name}.regions.png")
    write_card(onnx_path, "cities", {
        "data": {"source": data.source, "fingerprint": data.fingerprint,
                 "sizes": {"train": len(data.train), "val": len(data.val),
                           "test": len(data.test)},
                 "classes": len(data.names), **data.provenance},
        "config": config_dict(result.config),
        "metrics": result.metrics,
        "parity_max_abs_diff": parity,
        "train_seconds": round(result.seconds, 1),
        "history": result.history,
    })
    return onnx_path


def load_checkpoint(path: Path) -> CountryProbabilities:
    """The PyTorch model saved beside an export (<name>.pt), in eval mode."""
    saved = torch.load(path, map_location="cpu", weights_only=True)
    config = CitiesConfig(**saved["config"])
    features = CoordinateFeatures(config.fourier, config.n_frequencies, config.max_frequency,
                                  torch.zeros(2), torch.ones(2), config.seed)
    mlp = CountryMLP(features, saved["n_classes"], config.depth, config.width,
                     config.batch_norm, config.residual)
    model = CountryProbabilities(mlp)
    model.load_state_dict(saved["state_dict"])
    return model.eval()
