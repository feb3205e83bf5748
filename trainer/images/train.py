"""Train the real/fake classifier, selecting the epoch (and flip TTA) on validation."""

from __future__ import annotations

import copy
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import NamedTuple

import numpy as np
import torch
from torch import nn

from batch_classifier.trainer.images.augment import Augmentation, augment_batch
from batch_classifier.trainer.images.data import ImageData, ImageSplit, matches
from batch_classifier.trainer.images.metrics import (
    best_threshold,
    binary_metrics,
    macro_accuracy,
    roc_auc,
    source_metrics,
)
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
    rescale_p: float = 0.0
    inputs: str = "rgb"
    tta: str = "auto"
    patch_scoring: str = "off"
    threshold: float | None = None
    hold_out: tuple[str, ...] = ()
    seed: int = 0
    weights: str | None = None

    @property
    def augmentation(self) -> Augmentation:
        """The training augmentation this config asks for (crop capped by `size`)."""
        return Augmentation(min(self.crop, self.size), self.blur_jpeg_p, self.rescale_p)


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
                          config.upsample, config.inputs)


def trainable_parameters(model: FakeDetector, regime: str) -> list[nn.Parameter]:
    """All parameters, or for a linear probe only the head's (the rest is frozen; an NPR
    input's normalisation stays trainable, it is part of the input, not the backbone)."""
    if regime != "linear-probe":
        return list(model.parameters())
    for parameter in model.parameters():
        parameter.requires_grad_(False)
    head = list(head_of(model.backbone).parameters())
    if model.npr_norm is not None:
        head += list(model.npr_norm.parameters())
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


def trained_sources(split: ImageSplit, hold_out: tuple[str, ...]) -> np.ndarray:
    """Mask of the images of `split` whose source is not held out of training."""
    return np.array([not any(matches(str(s), p) for p in hold_out) for s in split.sources],
                    dtype=bool)


@dataclass
class Selection:
    """The validation images that may steer choices: those of the sources trained on
    (a held-out generator is only measured, never selected on)."""

    split: ImageSplit

    @classmethod
    def of(cls, val: ImageSplit, hold_out: tuple[str, ...]) -> Selection:
        """`val` without the images of the held-out sources."""
        return cls(val.subset(trained_sources(val, hold_out)))

    def score(self, model: FakeDetector) -> SelectionScore:
        """How well `model` separates the selection images."""
        split = self.split
        probabilities = predict(model, split.images)
        threshold = best_threshold(split.labels, probabilities, split.sources)
        return SelectionScore(
            macro_accuracy(split.labels, probabilities, split.sources, threshold),
            roc_auc(split.labels, probabilities), threshold,
            binary_metrics(split.labels, probabilities)["loss"])


class SelectionScore(NamedTuple):
    """Macro accuracy over sources at the best threshold, ROC AUC, that threshold and
    the log loss; compared on (macro_acc, auc)."""

    macro_acc: float
    auc: float
    threshold: float
    loss: float

    @property
    def key(self) -> tuple[float, float]:
        """What selection maximises."""
        return self.macro_acc, self.auc


def split_metrics(name: str, split: ImageSplit, probabilities: np.ndarray,
                  threshold: float) -> dict:
    """Pooled metrics of a split at `threshold`, its macro accuracy over sources and the
    per-source table, as `<name>_<key>` entries."""
    metrics = {f"{name}_{key}": value for key, value
               in binary_metrics(split.labels, probabilities, threshold).items()}
    metrics[f"{name}_macro_acc"] = round(
        macro_accuracy(split.labels, probabilities, split.sources, threshold), 6)
    metrics[f"{name}_sources"] = source_metrics(split.labels, probabilities, split.sources,
                                                threshold)
    return metrics


def train_images(data: ImageData, config: ImagesConfig, log: Callable[[str], None] = print,
                 model: FakeDetector | None = None) -> TrainResult:
    """Train `model` (default: a fresh one for `config`); keep the best epoch on the
    validation images of the trained sources (of the EMA weights when enabled), then
    choose flip TTA, patch scoring and the threshold on them too."""
    started = time.time()
    torch.manual_seed(config.seed)
    rng = np.random.default_rng(config.seed)
    model = model or make_detector(config)
    params = trainable_parameters(model, config.regime)
    steps = max(1, len(data.train) // config.batch_size)
    optimizer, schedule = make_optimizer(config, params, config.epochs * steps)
    ema = copy.deepcopy(model) if config.ema > 0 else None
    loss_fn = nn.BCEWithLogitsLoss()
    selection = Selection.of(data.val, config.hold_out)
    history: list[dict[str, float]] = []
    best_state, best_key, best_epoch, step = None, None, 0, 0
    for epoch in range(1, config.epochs + 1):
        set_train_mode(model, config.regime)
        order = rng.permutation(len(data.train))[:steps * config.batch_size]
        total_loss, total_correct = 0.0, 0
        for start in range(0, len(order), config.batch_size):
            batch = order[start:start + config.batch_size]
            images = augment_batch(data.train.images[batch], config.augmentation, rng)
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
        val = selection.score(selected)
        history.append({"epoch": epoch, "train_loss": total_loss / len(order),
                        "train_acc_epoch_avg": total_correct / len(order),
                        "val_loss": val.loss, "val_macro_acc": val.macro_acc,
                        "val_auc": val.auc, "val_threshold": val.threshold})
        log(f"epoch {epoch:2d}  loss {total_loss / len(order):.4f}  "
            f"train {total_correct / len(order):.4f}  val macro acc {val.macro_acc:.4f} "
            f"(threshold {val.threshold:.3f})  auc {val.auc:.4f}  "
            f"({time.time() - started:.0f}s)")
        if best_key is None or val.key > best_key:
            best_state, best_key, best_epoch = copy.deepcopy(selected.state_dict()), \
                val.key, epoch
    model.load_state_dict(best_state)
    model.eval()
    metrics: dict = {"best_epoch": best_epoch}
    metrics.update(choose_scoring(model, selection, data.val, config, log))
    threshold = config.threshold
    if threshold is None:
        threshold = selection.score(model).threshold
    metrics["threshold"] = threshold
    metrics["threshold_tuned_on"] = ("given" if config.threshold is not None else
                                     "val of " + ", ".join(sorted(set(
                                         selection.split.sources.tolist()))))
    probabilities = {}
    for name in ("val", "test"):
        split: ImageSplit = getattr(data, name)
        probabilities[name] = predict(model, split.images)
        if len(split):
            metrics.update(split_metrics(name, split, probabilities[name], threshold))
    return TrainResult(model, config, best_epoch, history, metrics, probabilities["test"],
                       time.time() - started)


def choose_scoring(model: FakeDetector, selection: Selection, val: ImageSplit,
                   config: ImagesConfig, log: Callable[[str], None]) -> dict:
    """Decide flip TTA and patch scoring: on, off, or auto (whichever combination scores
    best on the selection images; ties go to the cheaper one). Each combination tried
    is recorded with its per-source table on all of `val` at its selection threshold."""
    flips = [False, True] if config.tta == "auto" else [config.tta == "on"]
    patches = [False, True] if config.patch_scoring == "auto" \
        else [config.patch_scoring == "on"]
    combos = [(flip, patch) for patch in patches for flip in flips]
    choices = []
    for flip, patch in combos if len(combos) > 1 else ():
        _configure(model, flip, patch, config)
        score = selection.score(model)
        sources = source_metrics(val.labels, predict(model, val.images), val.sources,
                                 score.threshold)
        choices.append({"flip_tta": flip, "patches": patch,
                        "val_macro_acc": score.macro_acc, "val_auc": score.auc,
                        "val_threshold": score.threshold, "val_sources": sources})
        log(f"scoring flip_tta={flip} patches={patch}: val macro acc "
            f"{score.macro_acc:.4f} auc {score.auc:.4f}")
    if choices:
        best = max(choices, key=lambda c: (c["val_macro_acc"], c["val_auc"],
                                           -(c["flip_tta"] + c["patches"])))
        combos = [(best["flip_tta"], best["patches"])]
    _configure(model, *combos[0], config)
    return {"flip_tta": model.flip_tta, "patch_scoring": model.patch,
            "scoring_choices": choices}


def _configure(model: FakeDetector, flip: bool, patch: bool, config: ImagesConfig) -> None:
    model.flip_tta, model.patch = flip, config.augmentation.crop if patch else 0
