"""The original study's protocol: Adam, batch 32, one epoch, per regime and learning rate."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import replace

from batch_classifier.trainer.images.data import ImageData
from batch_classifier.trainer.images.train import REGIMES, ImagesConfig, train_images

STUDY_LRS = (1e-1, 1e-2, 1e-3, 1e-4, 1e-5)


def study_config(base: ImagesConfig, regime: str, lr: float) -> ImagesConfig:
    """The protocol's settings on top of `base` (backbone, sizes, augmentation, seed)."""
    return replace(base, regime=regime, lr=lr, optimizer="adam", schedule="constant",
                   batch_size=32, epochs=1, ema=0.0, tta="off", patch_scoring="off",
                   threshold=0.5)


def run_study(data: ImageData, base: ImagesConfig, lrs: Sequence[float] = STUDY_LRS,
              regimes: Sequence[str] = REGIMES, log: Callable[[str], None] = print) -> str:
    """Train every (regime, lr); return a markdown table of val and test accuracy."""
    lines = [f"backbone {base.backbone}, Adam, batch 32, 1 epoch, crop {base.crop} of "
             f"{base.size} px", "",
             "| regime | lr | val acc | val auc | test acc | test auc |",
             "|:---|---:|---:|---:|---:|---:|"]
    for regime in regimes:
        for lr in lrs:
            m = train_images(data, study_config(base, regime, lr), log=lambda _: None).metrics
            row = (f"| {regime} | {lr:g} | {m['val_acc']:.4f} | {m['val_auc']:.4f} "
                   f"| {m.get('test_acc', float('nan')):.4f} "
                   f"| {m.get('test_auc', float('nan')):.4f} |")
            log(row)
            lines.append(row)
    return "\n".join(lines)
