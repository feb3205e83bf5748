"""The study's claim that residual connections prevent vanishing gradients, measured:
per-layer weight-gradient norms for several depths, with and without residual
connections and batch norm, and a markdown table of them."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, replace

import numpy as np

from batch_classifier.trainer.cities.gradients import GradientRecorder
from batch_classifier.trainer.cities.splits import CitiesData
from batch_classifier.trainer.cities.train import CitiesConfig, train_cities

DEPTHS = (6, 20, 50)


@dataclass
class GradientRun:
    """One variant's recorded gradient norms and its metrics (epoch chosen on validation)."""

    config: CitiesConfig
    record: GradientRecorder
    metrics: dict[str, float]

    @property
    def label(self) -> str:
        """E.g. `residual, BN` or `plain, no BN`."""
        return (f"{'residual' if self.config.residual else 'plain'}, "
                f"{'BN' if self.config.batch_norm else 'no BN'}")


def first_to_last(norms: np.ndarray) -> np.ndarray:
    """Layer 1's gradient norm over the last hidden layer's (the head is the last
    column of `norms` and is left out), for every row."""
    with np.errstate(divide="ignore", invalid="ignore"):
        return norms[..., 0] / norms[..., -2]


def run_gradient_study(data: CitiesData, base: CitiesConfig, depths: Sequence[int] = DEPTHS,
                       log: Callable[[str], None] = print) -> list[GradientRun]:
    """Train every depth with and without batch norm and residual connections (`base`
    gives the rest), recording the weight-gradient norms of every step."""
    runs = []
    for depth in depths:
        for batch_norm in (True, False):
            for residual in (False, True):
                config = replace(base, depth=depth, batch_norm=batch_norm, residual=residual)
                record = GradientRecorder()
                result = train_cities(data, config, log=lambda _: None, after_backward=record)
                run = GradientRun(config, record, result.metrics)
                ratio = first_to_last(record.at_initialisation)
                log(f"depth {depth} {run.label}: val {run.metrics['val_acc']:.4f}, "
                    f"layer 1/{depth} gradient at init {ratio:.3g}")
                runs.append(run)
    return runs


def gradient_table(runs: Sequence[GradientRun]) -> str:
    """Accuracy and the layer-1 / last-hidden-layer gradient ratio of each variant."""
    last_epoch = len(runs[0].record.epoch_means())
    lines = [
        "| depth | batch norm | residual | best epoch | val acc | test acc "
        "| layer 1 / last hidden layer gradient norm: at init | epoch 1 mean "
        f"| epoch {last_epoch} mean |",
        "|---:|:---:|:---:|---:|---:|---:|---:|---:|---:|",
    ]
    for run in runs:
        epochs = run.record.epoch_means()
        ratios = [first_to_last(run.record.at_initialisation), first_to_last(epochs[0]),
                  first_to_last(epochs[-1])]
        m = run.metrics
        lines.append(
            f"| {run.config.depth} | {'yes' if run.config.batch_norm else 'no'} "
            f"| {'yes' if run.config.residual else 'no'} | {m['best_epoch']} "
            f"| {m['val_acc']:.4f} | {m['test_acc']:.4f} | "
            + " | ".join(f"{ratio:.3g}" for ratio in ratios) + " |")
    return "\n".join(lines)
