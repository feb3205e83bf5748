"""Per-layer weight-gradient norms of the country MLP, recorded while it trains."""

from __future__ import annotations

import numpy as np
import torch
from torch import nn

from batch_classifier.trainer.cities.model import CountryMLP


def linear_layers(model: CountryMLP) -> list[nn.Linear]:
    """The MLP's weight layers in forward order: each hidden layer's Linear, then the head."""
    return [layer.linear for layer in model.hidden] + [model.head]


def weight_gradient_norms(model: CountryMLP) -> np.ndarray:
    """The Frobenius norm of each weight layer's current `.grad` (biases and batch-norm
    scales left out), in forward order."""
    with torch.no_grad():
        return np.array([float(layer.weight.grad.norm()) for layer in linear_layers(model)])


class GradientRecorder:
    """Keeps every layer's weight-gradient norm after every backward pass.

    Pass it as `train_cities(..., after_backward=recorder)`; step 0 is the first batch's
    gradient at initialisation (before any update)."""

    def __init__(self) -> None:
        self.epochs: list[int] = []
        self.steps: list[np.ndarray] = []

    def __call__(self, model: CountryMLP, epoch: int) -> None:
        self.epochs.append(epoch)
        self.steps.append(weight_gradient_norms(model))

    @property
    def norms(self) -> np.ndarray:
        """[steps, layers]: every recorded step's norms."""
        return np.stack(self.steps)

    @property
    def at_initialisation(self) -> np.ndarray:
        """[layers]: the norms of the first batch, before any update."""
        return self.steps[0]

    def epoch_means(self) -> np.ndarray:
        """[epochs, layers]: each layer's mean norm over each epoch's steps."""
        epochs = np.array(self.epochs)
        norms = self.norms
        return np.stack([norms[epochs == epoch].mean(0) for epoch in np.unique(epochs)])
