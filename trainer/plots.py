"""Training curves, shared by both trainers."""

from __future__ import annotations

from pathlib import Path

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402


def plot_curves(history: list[dict[str, float]], path: Path, title: str) -> None:
    """Loss and accuracy per epoch: every *_loss and *_acc* key of the history."""
    epochs = [row["epoch"] for row in history]
    fig, (loss_ax, acc_ax) = plt.subplots(1, 2, figsize=(11, 4))
    for key in history[0]:
        values = [row[key] for row in history]
        if key.endswith("_loss"):
            loss_ax.plot(epochs, values, label=key)
        elif "_acc" in key or key.endswith("_auc"):
            acc_ax.plot(epochs, values, label=key)
    loss_ax.set(xlabel="epoch", ylabel="loss", title="loss")
    acc_ax.set(xlabel="epoch", ylabel="accuracy", title="accuracy")
    for axis in (loss_ax, acc_ax):
        axis.grid(alpha=0.3)
        axis.legend(fontsize=8)
    fig.suptitle(title)
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)
