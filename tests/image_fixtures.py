"""Tiny generated image data and a tiny images model trained once per test session."""

from __future__ import annotations

import atexit
import functools
import shutil
import tempfile
from pathlib import Path

import numpy as np
from PIL import Image

SIZE = 32


def smooth(rng: np.random.Generator, size: int = 48) -> np.ndarray:
    """A 'real' image: a smooth colour gradient."""
    ramp = np.linspace(0, 1, size)
    base = rng.uniform(40, 200, 3)
    image = base + 50 * ramp[:, None, None] * rng.uniform(-1, 1, 3)
    return np.broadcast_to(image, (size, size, 3)).clip(0, 255).astype(np.uint8)


def noisy(rng: np.random.Generator, size: int = 48) -> np.ndarray:
    """A 'fake' image: high-frequency noise."""
    return rng.integers(0, 256, (size, size, 3), dtype=np.uint8)


def make_faces(root: Path, counts: dict[str, int] | None = None) -> Path:
    """An ImageFolder tree root/{train,val,test}/{real,fake}/*.png (16 images by default)."""
    counts = counts or {"train": 4, "val": 2, "test": 2}
    rng = np.random.default_rng(0)
    for split, n in counts.items():
        for label, make in (("real", smooth), ("fake", noisy)):
            folder = root / split / label
            folder.mkdir(parents=True, exist_ok=True)
            for i in range(n):
                Image.fromarray(make(rng)).save(folder / f"{split}-{label}-{i}.png")
    return root


def scratch_dir() -> Path:
    """A temporary folder removed when the test process exits."""
    path = Path(tempfile.mkdtemp(prefix="images-tests-"))
    atexit.register(shutil.rmtree, path, ignore_errors=True)
    return path


def fit_args(data: Path, out: Path, *extra: str) -> list[str]:
    """A `train-images fit` command line that trains for two steps at 32 px."""
    return ["fit", "--data", str(data), "--size", str(SIZE), "--crop", "28",
            "--epochs", "1", "--batch-size", "4", "--out", str(out), "-q", *extra]


@functools.lru_cache(maxsize=1)
def trained_run() -> tuple[Path, Path]:
    """(data folder, run folder) of an EfficientNet-Lite0 trained through the CLI."""
    from click.testing import CliRunner

    from batch_classifier.trainer.images.cli import main

    root = scratch_dir()
    data = make_faces(root / "faces")
    result = CliRunner().invoke(main, fit_args(data, root / "run", "--upsample", "1.5",
                                               "--ema", "0.9", "--tta", "on"))
    assert result.exit_code == 0, result.output
    return data, root / "run"
