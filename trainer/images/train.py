"""Train the real/fake classifier, selecting the epoch (and flip TTA) on validation."""

from __future__ import annotations

import copy
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import torch
from torch import nn

from batch_classifier.trainer.images.augment import augment_batch
from batch_classifier.trainer.images.data import ImageData, ImageSplit
from batch_classifier.trainer.images.metrics import binary_metrics
from batch_classifier.trainer.images.model import FakeDetector, build_detector, head_of

REGIMES = ("finetune", "linear-probe", "scratch")


@dataclass
class ImagesConfig:
    """Everything that decides the model and its training (recorded in the card)."""

    backbone: str = "efficientnet_lite0"
    regime: str = "finetune"
    size: int = 256
    crop: int = 224
    upsample: float = 1.0
    epochs: int = 6
    batch_size: int = 32
    optimizer: str = "adamw"
    schedule: str = "onecycle"
    lr: float = 1e-3
    weight_decay: float = 0.05
    label_smoothing: float = 0.0
    ema: float = 0.0
    blur_jpeg_p: float = 0.1
    tta: str = "auto"
    threshold: float = 0.5
    seed: int = 0
    weights: str | None = None


@dataclass
class TrainResult:
    """The selected model, its history, metrics and test-set predictions."""

    model: FakeDetector
    config: ImagesConfig
    best_epoch: int
    history: list[dict[str, float]] = field(default_factory=list)
    metrics: dict = field(default_factory=dict)
    test_probabilities: np.ndarray = field(default_factory=lambda: np.zeros(0))
    seconds: float = 0.0


def make_detector(config: ImagesConfig) -> FakeDetector:
    """The detector for `config`, ImageNet-initialised unless the regime is scratch."""
    weights = Path(config.weights) if config.weights else None
    return build_detector(config.backbone, config.regime != "scratch", weights,
                          config.upsample)


def trainable_parameters(model: FakeDetector, regime: str) -> list[nn.Parameter]:
    """All parameters, or for a linear probe only the head's (the rest is frozen)."""
    if regime != "linear-probe":
        return list(model.parameters())
    for parameter in model.parameters():
        parameter.requires_grad_(False)
    head = list(head_of(model.backbone).parameters())
    for parameter in head:
        parameter.requires_grad_(True)
    return head


def set_train_mode(model: FakeDetector, regime: str) -> None:
    """Train mode, except a probed backbone keeps its BatchNorm statistics frozen."""
    model.train()
    if regime == "linear-probe":
        model.backbone.eval()


def make_optimizer(config: ImagesConfig, params: list[nn.Parameter],
                   total_steps: int) -> tuple[torch.optim.Optimizer, object | None]:
    """Adam (the study's protocol) or AdamW; a one-cycle schedule or a constant rate."""
    if config.optimizer == "adam":
        optimizer: torch.optim.Optimizer = torch.optim.Adam(params, lr=config.lr)
    else:
        optimizer = torch.optim.AdamW(params, lr=config.lr, weight_decay=config.weight_decay)
    schedule = None
    if config.schedule == "onecycle":
        schedule = torch.optim.lr_scheduler.OneCycleLR(
            optimizer, max_lr=config.lr, total_steps=total_steps, pct_start=0.15)
    return optimizer, schedule


@torch.no_grad()
def update_ema(ema: nn.Module, model: nn.Module, decay: float) -> None:
    """ema <- decay * ema + (1 - decay) * model, for weights and BatchNorm statistics."""
    for averaged, current in zip(ema.state_dict().values(), model.state_dict().values(),
                                 strict=True):
        if averaged.dtype.is_floating_point:
            averaged.mul_(decay).add_(current, alpha=1 - decay)
        else:
            averaged.copy_(current)


@torch.no_grad()
def predict(model: FakeDetector, images: np.ndarray, batch_size: int = 64) -> np.ndarray:
    """P(fake) for uint8 NHWC images, in eval mode."""
    model.eval()
    out = [model(torch.from_numpy(images[i:i + batch_size])).squeeze(1).numpy()
           for i in range(0, len(images), batch_size)]
    return np.concatenate(out) if out else np.zeros(0, np.float32)


def evaluate(model: FakeDetector, split: ImageSplit, threshold: float = 0.5) -> dict:
    """Accuracy, AUC, loss and confusion matrix of `model` on `split`."""
    return binary_metrics(split.labels, predict(model, split.images), threshold)


def train_images(data: ImageData, config: ImagesConfig, log: Callable[[str], None] = print,
                 model: FakeDetector | None = None) -> TrainResult:
    """Train `model` (default: a fresh one for `config`); keep the best epoch on validation
    (of the EMA weights when enabled)."""
    started = time.time()
    torch.manual_seed(config.seed)
    rng = np.random.default_rng(config.seed)
    model = model or make_detector(config)
    params = trainable_parameters(model, config.regime)
    steps = max(1, len(data.train) // config.batch_size)
    optimizer, schedule = make_optimizer(config, params, config.epochs * steps)
    ema = copy.deepcopy(model) if config.ema > 0 else None
    loss_fn = nn.BCEWithLogitsLoss()
    crop = min(config.crop, data.size)
    history: list[dict[str, float]] = []
    best_state, best_key, best_epoch, step = None, None, 0, 0
    for epoch in range(1, config.epochs + 1):
        set_train_mode(model, config.regime)
        order = rng.permutation(len(data.train))[:steps * config.batch_size]
        total_loss, total_correct = 0.0, 0
        for start in range(0, len(order), config.batch_size):
            batch = order[start:start + config.batch_size]
            images = augment_batch(data.train.images[batch], crop, config.blur_jpeg_p, rng)
            labels = torch.from_numpy(data.train.labels[batch]).float()
            targets = labels * (1 - config.label_smoothing) + 0.5 * config.label_smoothing
            logits = model.logits(images)
            loss = loss_fn(logits, targets)
            optimizer.zero_grad(set_to_none=True)
            loss.backward()
            optimizer.step()
            if schedule is not None:
                schedule.step()
            step += 1
            if ema is not None:
                update_ema(ema, model, min(config.ema, (1 + step) / (10 + step)))
            total_loss += loss.item() * len(batch)
            total_correct += int(((logits > 0).float() == labels).sum())
            if step % 10 == 0:
                log(f"  step {step}  loss {loss.item():.4f}  ({time.time() - started:.0f}s)")
        selected = ema if ema is not None else model
        val = evaluate(selected, data.val)
        history.append({"epoch": epoch, "train_loss": total_loss / len(order),
                        "train_acc_epoch_avg": total_correct / len(order),
                        "val_loss": val["loss"], "val_acc": val["acc"], "val_auc": val["auc"]})
        log(f"epoch {epoch:2d}  loss {total_loss / len(order):.4f}  "
            f"train {total_correct / len(order):.4f}  val acc {val['acc']:.4f}  "
            f"auc {val['auc']:.4f}  ({time.time() - started:.0f}s)")
        key = (val["acc"], val["auc"])
        if best_key is None or key > best_key:
            best_state, best_key, best_epoch = copy.deepcopy(selected.state_dict()), key, epoch
    model.load_state_dict(best_state)
    model.eval()
    metrics = {"best_epoch": best_epoch, **choose_tta(model, data.val, config, log)}
    probabilities = {}
    for name in ("val", "test"):
        split: ImageSplit = getattr(data, name)
        probabilities[name] = predict(model, split.images)
        if len(split):
            for key, value in binary_metrics(split.labels, probabilities[name],
                                             config.threshold).items():
                metrics[f"{name}_{key}"] = value
    return TrainResult(model, config, best_epoch, history, metrics, probabilities["test"],
                       time.time() - started)


def choose_tta(model: FakeDetector, val: ImageSplit, config: ImagesConfig,
               log: Callable[[str], None]) -> dict:
    """Decide flip test-time augmentation: on, off, or (auto) on only if val improves."""
    if config.tta != "auto":
        model.flip_tta = config.tta == "on"
        return {"flip_tta": model.flip_tta}
    plain = evaluate(model, val)
    model.flip_tta = True
    flipped = evaluate(model, val)
    model.flip_tta = (flipped["acc"], flipped["auc"]) > (plain["acc"], plain["auc"])
    log(f"flip TTA on val: acc {flipped['acc']:.4f} auc {flipped['auc']:.4f} vs "
        f"{plain['acc']:.4f} {plain['auc']:.4f} without -> {'on' if model.flip_tta else 'off'}")
    return {"flip_tta": model.flip_tta, "val_acc_without_tta": plain["acc"],
            "val_acc_with_tta": flipped["acc"]}
