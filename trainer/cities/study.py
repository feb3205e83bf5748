"""The original study's depth/width/residual grid, as a markdown table."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import replace

from batch_classifier.trainer.cities.splits import CitiesData
from batch_classifier.trainer.cities.train import CitiesConfig, train_cities

GRID = [(depth, 16) for depth in (1, 2, 6, 10)] + [(6, width) for width in (8, 32, 64)]


def run_study(data: CitiesData, base: CitiesConfig,
              log: Callable[[str], None] = print) -> str:
    """Train every grid point with and without residuals; return the markdown table."""
    lines = [
        "| depth | width | residual | best epoch | train acc (epoch avg, train-mode BN) "
        "| train acc (eval mode) | val acc | test acc |",
        "|---:|---:|:---:|---:|---:|---:|---:|---:|",
    ]
    for depth, width in GRID:
        for residual in (False, True):
            config = replace(base, depth=depth, width=width, residual=residual)
            result = train_cities(data, config, log=lambda _: None)
            m = result.metrics
            row = (f"| {depth} | {width} | {'yes' if residual else 'no'} | {m['best_epoch']} "
                   f"| {m['train_acc_epoch_avg']:.4f} | {m['train_acc_eval_mode']:.4f} "
                   f"| {m['val_acc']:.4f} | {m['test_acc']:.4f} |")
            log(row)
            lines.append(row)
    return "\n".join(lines)
