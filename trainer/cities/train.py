"""Train the country MLP, selecting the epoch with the best validation accuracy."""

from __future__ import annotations

import copy
import time
from collections.abc import Callable
from dataclasses import asdict, dataclass, field

import numpy as np
import torch
from torch import nn

from batch_classifier.trainer.calibration import expected_calibration_error, fit_temperature
from batch_classifier.trainer.cities.land_distance import LandDistance
from batch_classifier.trainer.cities.land_points import ANTARCTICA
from batch_classifier.trainer.cities.model import (
    CoordinateFeatures,
    CountryMLP,
    CountryProbabilities,
)
from batch_classifier.trainer.cities.splits import CitiesData, CitySplit

# Per epoch, eval-mode train accuracy is measured on this many training points (the
# selected model's is measured on all of them at the end).
TRAIN_SAMPLE = 20000


@dataclass
class CitiesConfig:
    """Everything that decides the model and its training (recorded in the card)."""

    depth: int = 4
    width: int = 128
    batch_norm: bool = True
    residual: bool = True
    fourier: bool = True
    n_frequencies: int = 128
    max_frequency: float = 1000.0
    float64_features: bool = False
    epochs: int = 40
    batch_size: int = 512
    lr: float = 3e-3
    weight_decay: float = 1e-4
    label_smoothing: float = 0.0
    seed: int = 0
    land_points: int = 0
    land_label_km: float = 50.0
    land_min_km: float = 0.0
    sea_grid: float = 0.0
    int8: bool = False


@dataclass
class TrainResult:
    """The selected model (with fitted temperature), its history and its metrics."""

    model: CountryProbabilities
    config: CitiesConfig
    best_epoch: int
    history: list[dict[str, float]] = field(default_factory=list)
    metrics: dict[str, float] = field(default_factory=dict)
    seconds: float = 0.0


def build_model(config: CitiesConfig, data: CitiesData) -> CountryMLP:
    """A fresh MLP for `data`'s classes, its features normalised on the training split."""
    train = torch.from_numpy(data.train.latlon)
    features = CoordinateFeatures(config.fourier, config.n_frequencies, config.max_frequency,
                                  mean=train.mean(0), std=train.std(0), seed=config.seed,
                                  float64=config.float64_features)
    return CountryMLP(features, len(data.names), config.depth, config.width,
                      config.batch_norm, config.residual)


def train_cities(data: CitiesData, config: CitiesConfig, log: Callable[[str], None] = print,
                 land_distance: LandDistance | None = None,
                 after_backward: Callable[[CountryMLP, int], None] | None = None,
                 ) -> TrainResult:
    """Train, keep the best-on-validation epoch, calibrate, and measure every split.

    Soft-labelled training rows get a label drawn anew each epoch; `land_distance`
    (no weights to train) joins the exported model as its second output; a model with
    an Antarctica class gives it to every point south of 60S. `after_backward(model,
    epoch)` is called after every backward pass, before the optimiser step (the
    gradients of that batch are in the parameters' `.grad`).
    """
    torch.manual_seed(config.seed)
    torch.use_deterministic_algorithms(True)
    started = time.time()
    model = build_model(config, data)
    x_train = torch.from_numpy(data.train.latlon)
    y_train = torch.from_numpy(data.train.labels.copy())
    steps = max(1, (len(x_train) + config.batch_size - 1) // config.batch_size)
    optimizer = torch.optim.AdamW(model.parameters(), lr=config.lr,
                                  weight_decay=config.weight_decay)
    schedule = torch.optim.lr_scheduler.OneCycleLR(optimizer, max_lr=config.lr,
                                                   total_steps=config.epochs * steps)
    loss_fn = nn.CrossEntropyLoss(label_smoothing=config.label_smoothing)
    generator = torch.Generator().manual_seed(config.seed)
    label_rng = np.random.default_rng([config.seed, 2])
    train_sample = _sample(data.train, TRAIN_SAMPLE, config.seed)
    history: list[dict[str, float]] = []
    best_state, best_acc, best_epoch = None, -1.0, 0
    for epoch in range(1, config.epochs + 1):
        model.train()
        order = torch.randperm(len(x_train), generator=generator)
        if data.soft_labels is not None:
            y_train[data.soft_labels.rows] = torch.from_numpy(data.soft_labels.draw(label_rng))
        total_loss, total_correct = 0.0, 0
        for start in range(0, len(order), config.batch_size):
            batch = order[start:start + config.batch_size]
            if len(batch) < 2 and config.batch_norm:
                continue
            logits = model(x_train[batch])
            loss = loss_fn(logits, y_train[batch])
            optimizer.zero_grad(set_to_none=True)
            loss.backward()
            if after_backward is not None:
                after_backward(model, epoch)
            optimizer.step()
            schedule.step()
            total_loss += loss.item() * len(batch)
            total_correct += int((logits.argmax(1) == y_train[batch]).sum())
        val_loss, val_acc = evaluate(model, data.val)
        record = {"epoch": epoch, "train_loss": total_loss / len(order),
                  "train_acc_epoch_avg": total_correct / len(order),
                  "train_acc_eval_mode_sample": evaluate(model, train_sample)[1],
                  "val_loss": val_loss, "val_acc": val_acc}
        history.append(record)
        log(f"epoch {epoch:3d}  loss {record['train_loss']:.4f}  train "
            f"{record['train_acc_epoch_avg']:.4f}/{record['train_acc_eval_mode_sample']:.4f}  "
            f"val {val_acc:.4f}")
        if val_acc > best_acc:
            best_state, best_acc, best_epoch = copy.deepcopy(model.state_dict()), val_acc, epoch
    model.load_state_dict(best_state)
    model.eval()
    antarctica = data.codes.index(ANTARCTICA[1]) if ANTARCTICA[1] in data.codes else None
    calibrated = calibrate(model, data.val, land_distance, antarctica)
    metrics = measure(calibrated, data, history[best_epoch - 1])
    return TrainResult(calibrated, config, best_epoch, history, metrics, time.time() - started)


def _sample(split: CitySplit, n: int, seed: int) -> CitySplit:
    """A fixed random subset of `split` (all of it when smaller than `n`)."""
    keep = np.random.default_rng(seed).permutation(len(split))[:n]
    return CitySplit(split.latlon[keep], split.labels[keep])


@torch.no_grad()
def logits_of(model: nn.Module, split: CitySplit, batch_size: int = 65536) -> torch.Tensor:
    """Model outputs for a whole split, in eval mode and in batches."""
    model.eval()
    x = torch.from_numpy(split.latlon)
    return torch.cat([model(x[i:i + batch_size]) for i in range(0, len(x), batch_size)])


def evaluate(model: CountryMLP, split: CitySplit) -> tuple[float, float]:
    """(mean cross-entropy, accuracy) of `model` on `split`, in eval mode."""
    if len(split) == 0:
        return float("nan"), float("nan")
    logits = logits_of(model, split)
    labels = torch.from_numpy(split.labels)
    loss = float(nn.functional.cross_entropy(logits, labels))
    return loss, float((logits.argmax(1) == labels).float().mean())


def calibrate(model: CountryMLP, val: CitySplit, land_distance: LandDistance | None = None,
              antarctica: int | None = None) -> CountryProbabilities:
    """Wrap `model` with the softmax temperature that fits the validation split best."""
    temperature = fit_temperature(logits_of(model, val), torch.from_numpy(val.labels))
    return CountryProbabilities(model, temperature, land_distance, antarctica).eval()


def measure(model: CountryProbabilities, data: CitiesData,
            best: dict[str, float]) -> dict[str, float]:
    """Accuracy on every split and ECE on validation/test before and after calibration."""
    metrics = {"best_epoch": best["epoch"], "train_acc_epoch_avg": best["train_acc_epoch_avg"],
               "temperature": float(model.temperature)}
    for name in ("train", "val", "test"):
        split: CitySplit = getattr(data, name)
        if len(split) == 0:
            continue
        labels = torch.from_numpy(split.labels)
        logits = logits_of(model.mlp, split)
        metrics[f"{name}_acc" if name != "train" else "train_acc_eval_mode"] = float(
            (logits.argmax(1) == labels).float().mean())
        if name != "train":
            metrics[f"{name}_ece_uncalibrated"] = expected_calibration_error(
                logits.softmax(1), labels)
            metrics[f"{name}_ece"] = expected_calibration_error(
                (logits / model.temperature).softmax(1), labels)
    return {k: round(v, 6) if isinstance(v, float) else v for k, v in metrics.items()}


def config_dict(config: CitiesConfig) -> dict:
    """The config as plain JSON values."""
    return asdict(config)


def predict_grid(model: CountryProbabilities, lat: np.ndarray, lon: np.ndarray) -> np.ndarray:
    """Predicted class for every (lat, lon) pair of a mesh (for the decision-region map)."""
    points = np.stack([lat.ravel(), lon.ravel()], axis=1).astype(np.float32)
    split = CitySplit(points, np.zeros(len(points), dtype=np.int64))
    return logits_of(model.mlp, split).argmax(1).numpy().reshape(lat.shape)
