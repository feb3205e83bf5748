"""A map of the decision regions over the data's extent, with the test points on it."""

from __future__ import annotations

from pathlib import Path

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402

from batch_classifier.trainer.cities.model import CountryProbabilities  # noqa: E402
from batch_classifier.trainer.cities.splits import CitiesData  # noqa: E402
from batch_classifier.trainer.cities.train import predict_grid  # noqa: E402


def plot_regions(model: CountryProbabilities, data: CitiesData, path: Path,
                 resolution: int = 600) -> None:
    """Predicted country over a lon/lat grid; test points coloured by truth, errors as x."""
    points = np.concatenate([data.train.latlon, data.test.latlon])
    lat_lo, lon_lo = points.min(0) - 1
    lat_hi, lon_hi = points.max(0) + 1
    lat_lo, lat_hi = max(lat_lo, -90), min(lat_hi, 90)
    lon_lo, lon_hi = max(lon_lo, -180), min(lon_hi, 180)
    lon, lat = np.meshgrid(np.linspace(lon_lo, lon_hi, resolution),
                           np.linspace(lat_lo, lat_hi, resolution // 2))
    regions = predict_grid(model, lat, lon)
    n = len(data.names)
    cmap = plt.get_cmap("tab20", 20)
    colours = cmap(np.arange(n) % 20)
    fig, ax = plt.subplots(figsize=(12, 7))
    ax.imshow(colours[regions], origin="lower", extent=(lon_lo, lon_hi, lat_lo, lat_hi),
              aspect="auto", alpha=0.45, interpolation="nearest")
    test = data.test
    predicted = predict_grid(model, test.latlon[:, 0:1], test.latlon[:, 1:2]).ravel()
    wrong = predicted != test.labels
    ax.scatter(test.latlon[~wrong, 1], test.latlon[~wrong, 0], s=1.5,
               c=colours[test.labels[~wrong]], linewidths=0)
    ax.scatter(test.latlon[wrong, 1], test.latlon[wrong, 0], s=14, marker="x", c="black",
               linewidths=0.8, label=f"misclassified test points ({int(wrong.sum())})")
    ax.set(xlabel="longitude", ylabel="latitude",
           title=f"Decision regions ({n} countries) and {len(test)} test points")
    ax.legend(loc="lower left", fontsize=8)
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)
