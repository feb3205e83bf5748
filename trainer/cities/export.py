"""Export a trained country model with its contract, and write its run folder."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import onnx
import torch

from batch_classifier.inference.cities.predict import run_model
from batch_classifier.inference.contract import encode_metadata
from batch_classifier.inference.session import load_model
from batch_classifier.trainer import __version__
from batch_classifier.trainer.atomic import write_atomically
from batch_classifier.trainer.card import write_card
from batch_classifier.trainer.cities.globe_metrics import GlobeReference, globe_metrics
from batch_classifier.trainer.cities.land_distance import LandDistance, grid_nodes
from batch_classifier.trainer.cities.landmask import TERRITORIAL_SEA_KM
from batch_classifier.trainer.cities.model import (
    CoordinateFeatures,
    CountryMLP,
    CountryProbabilities,
)
from batch_classifier.trainer.cities.plots import plot_regions
from batch_classifier.trainer.cities.quantize import quantize_mlp
from batch_classifier.trainer.cities.splits import CitiesData
from batch_classifier.trainer.cities.train import CitiesConfig, TrainResult, config_dict
from batch_classifier.trainer.export import export_onnx
from batch_classifier.trainer.plots import plot_curves

# ONNX Runtime vs PyTorch, probabilities (absolute) and km to land (relative). Float32
# Fourier angles reach ~1e3 rad, where the two differ in the last bits: on the first
# world model's weights float32 features moved probabilities by at most 1.7e-4 and no
# validation label (docs/cities-models.md), so parity is held to 1e-3, not float64's 1e-4.
PARITY_ATOL = 1e-3
INPUT_CONTRACT = {"dtype": "float32", "shape": ["N", 2], "columns": ["latitude", "longitude"],
                  "units": "degrees"}


def parity_inputs(data: CitiesData, n: int = 2048) -> torch.Tensor:
    """Validation points plus the awkward places: poles, the antimeridian, (0, 0), 60S."""
    edges = np.array([[90, 0], [-90, 0], [0, 180], [0, -180], [0, 0], [65.5, -179.99],
                      [65.5, 179.99], [-17.8, 178.1], [-60.0, 10.0], [-62.2, -58.96]],
                     dtype=np.float32)
    return torch.from_numpy(np.concatenate([data.val.latlon[:n], edges]))


def land_distance_metadata(globe: GlobeReference | None) -> dict:
    """What inference needs to decide open sea: the output's name and the threshold."""
    source = globe.raster.source if globe is not None else "a land raster"
    return {"output": "land_distance_km", "open_sea_km": TERRITORIAL_SEA_KM,
            "land": f"{source} and the training places"}


def save_run(result: TrainResult, data: CitiesData, folder: Path, name: str,
             globe: GlobeReference | None = None) -> Path:
    """Write <name>.onnx, its card <name>.json, the PyTorch weights <name>.pt and the
    plots into `folder`; return the ONNX path.

    With `config.int8` the MLP's weights are quantised after the float export passed its
    parity check, and the card's val/test accuracy are then the int8 file's (the float
    model's kept as *_acc_float). With `globe`, the file is also measured on coasts, open
    sea, Antarctica and uniform land (validation and test samples).
    """
    onnx_path = folder / f"{name}.onnx"
    metadata = {
        "task": "cities", "model_name": name, "labels": data.names, "label_codes": data.codes,
        "input_contract": INPUT_CONTRACT, "output": "probabilities",
        "data_fingerprint": data.fingerprint, "metrics": result.metrics,
        "trainer_version": __version__,
    }
    if result.model.land_distance is not None:
        metadata["land_distance"] = land_distance_metadata(globe)
    torch.save({"config": config_dict(result.config), "n_classes": len(data.names),
                "state_dict": result.model.state_dict()}, folder / f"{name}.pt")
    parity = export_onnx(result.model, parity_inputs(data), onnx_path, metadata,
                         atol=PARITY_ATOL, output_names=result.model.output_names)
    metrics = {**result.metrics, **shipped_metrics(onnx_path, result, data, globe)}
    set_metadata(onnx_path, "metrics", metrics)
    plot_curves(result.history, folder / f"{name}.curves.png", f"{name}: training curves")
    plot_regions(result.model, data, folder / f"{name}.regions.png")
    write_card(onnx_path, "cities", {
        "data": {"source": data.source, "fingerprint": data.fingerprint,
                 "sizes": {"train": len(data.train), "val": len(data.val),
                           "test": len(data.test)},
                 "classes": len(data.names), **data.provenance},
        "config": config_dict(result.config),
        "metrics": metrics,
        "parity_max_abs_diff": parity,
        "train_seconds": round(result.seconds, 1),
        "history": result.history,
    })
    return onnx_path


def calibration_sample(data: CitiesData, count: int = 20_000) -> np.ndarray:
    """Training points for int8 activation scales (a fixed random sample)."""
    points = data.train.latlon
    chosen = np.random.default_rng(0).choice(len(points), min(count, len(points)),
                                             replace=False)
    return points[np.sort(chosen)]


def shipped_metrics(onnx_path: Path, result: TrainResult, data: CitiesData,
                    globe: GlobeReference | None) -> dict[str, float]:
    """Int8 quantisation (when configured) and the figures of the file as shipped."""
    metrics: dict[str, float] = {}
    if result.config.int8:
        metrics.update(quantize_mlp(onnx_path, data.val.latlon, calibration_sample(data)))
        model = load_model(onnx_path, device="cpu", task="cities")
        for split in ("val", "test"):
            probabilities = run_model(model, getattr(data, split).latlon)[0]
            metrics[f"{split}_acc_float"] = result.metrics[f"{split}_acc"]
            metrics[f"{split}_acc"] = round(float(
                (probabilities.argmax(1) == getattr(data, split).labels).mean()), 6)
    if globe is not None:
        model = load_model(onnx_path, device="cpu", task="cities")
        for split in ("val", "test"):
            figures = globe_metrics(model, getattr(data, split), data.codes, globe, split)
            metrics.update({k: round(v, 6) for k, v in figures.items()})
    return metrics


def set_metadata(onnx_path: Path, key: str, value: object) -> None:
    """Rewrite one metadata entry of an ONNX file, atomically."""
    model = onnx.load(str(onnx_path))
    for entry in model.metadata_props:
        if entry.key == key:
            entry.value = encode_metadata({key: value})[key]
    write_atomically(onnx_path, model.SerializeToString())


def load_checkpoint(path: Path) -> CountryProbabilities:
    """The PyTorch model saved beside an export (<name>.pt), in eval mode."""
    saved = torch.load(path, map_location="cpu", weights_only=True)
    # Checkpoints from before the float64_features option computed features in float64.
    config = CitiesConfig(**{"float64_features": True, **saved["config"]})
    features = CoordinateFeatures(config.fourier, config.n_frequencies, config.max_frequency,
                                  torch.zeros(2), torch.ones(2), config.seed,
                                  float64=config.float64_features)
    mlp = CountryMLP(features, saved["n_classes"], config.depth, config.width,
                     config.batch_norm, config.residual)
    land = None
    if config.sea_grid:
        land = LandDistance(np.zeros(grid_nodes(config.sea_grid), np.uint8), config.sea_grid)
    antarctica = saved["state_dict"].get("antarctica")
    model = CountryProbabilities(mlp, land_distance=land, antarctica=None if antarctica is None
                                 else int(antarctica.argmax()))
    model.load_state_dict(saved["state_dict"])
    return model.eval()
