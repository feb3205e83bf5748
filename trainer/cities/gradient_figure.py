"""The gradient study's figure: weight-gradient norm by layer, one line per variant."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402

from batch_classifier.trainer.cities.gradient_study import (  # noqa: E402
    GradientRun,
    first_to_last,
)

STYLES = {"plain, BN": ("tab:red", "-"), "residual, BN": ("tab:blue", "-"),
          "plain, no BN": ("tab:red", ":"), "residual, no BN": ("tab:blue", ":")}


def plot_gradients(runs: Sequence[GradientRun], path: Path) -> None:
    """One column per depth; rows: norms by layer at initialisation, norms by layer over
    the last epoch, and the layer-1 / last-hidden-layer ratio through training (log)."""
    depths = sorted({run.config.depth for run in runs})
    fig, axes = plt.subplots(3, len(depths), figsize=(5 * len(depths), 12), squeeze=False,
                             sharey="row")
    for column, depth in enumerate(depths):
        init_ax, last_ax, ratio_ax = axes[:, column]
        for run in (run for run in runs if run.config.depth == depth):
            colour, line = STYLES[run.label]
            epochs = run.record.epoch_means()
            layers = np.arange(1, len(epochs[-1]) + 1)
            init_ax.plot(layers, run.record.at_initialisation, line, color=colour,
                         label=run.label, marker=".")
            last_ax.plot(layers, epochs[-1], line, color=colour, label=run.label, marker=".")
            ratios = np.concatenate([[first_to_last(run.record.at_initialisation)],
                                     first_to_last(epochs)])
            ratio_ax.plot(np.arange(len(ratios)), ratios, line, color=colour, label=run.label,
                          marker=".")
        init_ax.set(title=f"depth {depth}: at initialisation (first batch)")
        last_ax.set(title=f"depth {depth}: mean over epoch {runs[0].config.epochs}")
        ratio_ax.set(title=f"depth {depth}: layer 1 / layer {depth} through training",
                     xlabel="epoch (0: initialisation; then epoch mean)")
        for axis in (init_ax, last_ax):
            axis.set_xlabel(f"weight layer (1..{depth} hidden, {depth + 1} output)")
        for axis in (init_ax, last_ax, ratio_ax):
            axis.set_yscale("log")
            axis.grid(alpha=0.3, which="both")
            axis.legend(fontsize=8)
    for axis, name in zip(axes[:, 0], ("gradient norm", "gradient norm", "ratio"), strict=True):
        axis.set_ylabel(name)
    fig.suptitle("Weight-gradient Frobenius norms of the cities MLP (width 16, raw lat/lon)")
    fig.tight_layout()
    fig.savefig(path, dpi=100)
    plt.close(fig)
