"""The country MLP: coordinate features, a configurable residual MLP, a serving wrapper."""

from __future__ import annotations

import math

import torch
from torch import nn

from batch_classifier.trainer.cities.land_distance import LandDistance
from batch_classifier.trainer.cities.landmask import ANTARCTIC_LATITUDE


class CoordinateFeatures(nn.Module):
    """(lat, lon) in degrees -> input features, computed inside the exported graph.

    With Fourier features the point goes onto the unit sphere (x, y, z), so longitude
    wraps at +-180 and the poles are single points, then through sin/cos of random
    projections at log-uniformly spread frequencies (1 to `max_frequency` cycles per
    radian). Without them, (lat, lon) are standardised with the training statistics.
    `float64` computes the angles in double precision (the first world model did; float32
    moves a feature by ~1e-4 at the highest frequencies, see docs/cities-models.md).
    """

    def __init__(self, fourier: bool, n_frequencies: int, max_frequency: float,
                 mean: torch.Tensor, std: torch.Tensor, seed: int, float64: bool = False):
        super().__init__()
        self.fourier = fourier
        self.dtype = torch.float64 if float64 else torch.float32
        generator = torch.Generator().manual_seed(seed)
        directions = torch.randn(3, n_frequencies, generator=generator)
        directions = directions / directions.norm(dim=0, keepdim=True)
        log_scale = torch.rand(n_frequencies, generator=generator) * math.log(max_frequency)
        self.register_buffer("projection", directions * log_scale.exp())
        self.register_buffer("mean", mean.float())
        self.register_buffer("std", std.float())
        self.out_features = 3 + 2 * n_frequencies if fourier else 2

    def forward(self, latlon: torch.Tensor) -> torch.Tensor:
        if not self.fourier:
            return (latlon - self.mean) / self.std
        radians = latlon.to(self.dtype) * (math.pi / 180.0)
        lat, lon = radians[:, 0:1], radians[:, 1:2]
        xyz = torch.cat([lat.cos() * lon.cos(), lat.cos() * lon.sin(), lat.sin()], dim=1)
        angles = xyz @ self.projection.to(self.dtype)
        return torch.cat([xyz, angles.sin(), angles.cos()], dim=1).float()


class HiddenLayer(nn.Module):
    """Linear -> (batch norm) -> ReLU, with an identity shortcut when `residual`."""

    def __init__(self, in_features: int, width: int, batch_norm: bool, residual: bool):
        super().__init__()
        self.linear = nn.Linear(in_features, width)
        self.norm = nn.BatchNorm1d(width) if batch_norm else nn.Identity()
        self.residual = residual and in_features == width

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        out = torch.relu(self.norm(self.linear(x)))
        return x + out if self.residual else out


class CountryMLP(nn.Module):
    """features -> `depth` hidden layers of `width` -> one logit per country."""

    def __init__(self, features: CoordinateFeatures, n_classes: int, depth: int, width: int,
                 batch_norm: bool = True, residual: bool = True):
        super().__init__()
        self.features = features
        sizes = [features.out_features] + [width] * depth
        self.hidden = nn.Sequential(*[
            HiddenLayer(sizes[i], sizes[i + 1], batch_norm, residual) for i in range(depth)
        ])
        self.head = nn.Linear(width, n_classes)

    def forward(self, latlon: torch.Tensor) -> torch.Tensor:
        return self.head(self.hidden(self.features(latlon)))


class CountryProbabilities(nn.Module):
    """What gets exported: softmax(logits / temperature), temperature fitted on validation;
    with `land_distance`, also the km from each point to the nearest land. With an
    `antarctica` class, every point south of 60S gets it with probability 1: the
    Antarctic Treaty area holds no other country, so the graph says so exactly instead
    of leaving a learnt boundary near the islands there."""

    def __init__(self, mlp: CountryMLP, temperature: float = 1.0,
                 land_distance: LandDistance | None = None, antarctica: int | None = None):
        super().__init__()
        self.mlp = mlp
        self.land_distance = land_distance
        self.register_buffer("temperature", torch.tensor(float(temperature)))
        self.register_buffer("antarctica", None if antarctica is None else (
            nn.functional.one_hot(torch.tensor([antarctica]), mlp.head.out_features).float()))

    @property
    def output_names(self) -> list[str]:
        """Names of the exported graph's outputs, in `forward`'s order."""
        return ["output"] + (["land_distance_km"] if self.land_distance is not None else [])

    def forward(self, latlon: torch.Tensor) -> torch.Tensor | tuple[torch.Tensor, torch.Tensor]:
        probabilities = torch.softmax(self.mlp(latlon) / self.temperature, dim=1)
        if self.antarctica is not None:
            south = latlon[:, 0:1] < ANTARCTIC_LATITUDE
            probabilities = torch.where(south, self.antarctica, probabilities)
        if self.land_distance is None:
            return probabilities
        return probabilities, self.land_distance(latlon)
