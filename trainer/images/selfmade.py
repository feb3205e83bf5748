"""Fakes made without any generator's weights: real photos passed through small
autoencoders trained here on real photos.

The idea of AutoGAN (Zhang et al. 2019) and of reconstruction-based training (DRCT, Chen
et al. 2024): a decoder that up-samples leaves the traces a generator's decoder leaves,
on content that is real, so a detector trained on them cannot lean on content. One
autoencoder per up-sampling kind (transposed convolutions as in GAN generators, nearest
neighbour + convolution as in latent-diffusion decoders) learns to reconstruct crops of
the training reals; each split's own reals are then reconstructed into that split, so no
training real's reconstruction is scored. Reconstructions are written as the shared sets
are made (square, `size` px, JPEG quality 75) to `<out>/<split>/fake/<kind>-<name>.jpg`:
`--data <out>` adds them as fake sources named `<out name>/fake/<kind>`.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Callable
from dataclasses import asdict, dataclass
from pathlib import Path

import numpy as np
import torch
from PIL import Image
from torch import nn

from batch_classifier.trainer.atomic import write_atomically
from batch_classifier.trainer.errors import TrainerUsageError
from batch_classifier.trainer.images.data import SPLITS, decode_split, list_splits

UPSAMPLERS = ("transposed", "nearest")
JPEG_QUALITY = 75  # as the shared sets were made


@dataclass(frozen=True)
class SelfMadeConfig:
    """How the autoencoders are trained and how many reals each split reconstructs."""

    size: int = 256
    width: int = 48
    latent: int = 12  # channels at 1/4 resolution: a 4x smaller code than the image
    crop: int = 64
    steps: int = 1500
    batch_size: int = 16
    lr: float = 2e-3
    max_per_split: int = 1000
    seed: int = 0


def _upsample(kind: str, channels_in: int, channels_out: int) -> nn.Module:
    """x2 up-sampling of the given kind."""
    if kind == "transposed":
        return nn.ConvTranspose2d(channels_in, channels_out, 4, stride=2, padding=1)
    return nn.Sequential(nn.Upsample(scale_factor=2, mode="nearest"),
                         nn.Conv2d(channels_in, channels_out, 3, padding=1))


class AutoEncoder(nn.Module):
    """Fully convolutional: /4 down to `latent` channels, x4 up with `kind`."""

    def __init__(self, kind: str, width: int, latent: int) -> None:
        super().__init__()
        self.encode = nn.Sequential(
            nn.Conv2d(3, width, 3, padding=1), nn.GELU(),
            nn.Conv2d(width, width, 4, stride=2, padding=1), nn.GELU(),
            nn.Conv2d(width, width, 4, stride=2, padding=1), nn.GELU(),
            nn.Conv2d(width, latent, 3, padding=1))
        self.decode = nn.Sequential(
            nn.Conv2d(latent, width, 3, padding=1), nn.GELU(),
            _upsample(kind, width, width), nn.GELU(),
            _upsample(kind, width, width), nn.GELU(),
            nn.Conv2d(width, 3, 3, padding=1))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.decode(self.encode(x))


def _to_tensor(images: np.ndarray) -> torch.Tensor:
    """uint8 [N, H, W, 3] -> float [N, 3, H, W] in [-1, 1]."""
    return torch.from_numpy(images).permute(0, 3, 1, 2).float().div(127.5).sub(1.0)


def _to_uint8(batch: torch.Tensor) -> np.ndarray:
    return batch.add(1.0).mul(127.5).round().clamp(0, 255).byte().permute(0, 2, 3, 1).numpy()


def train_autoencoder(kind: str, reals: np.ndarray, config: SelfMadeConfig,
                      log: Callable[[str], None]) -> tuple[AutoEncoder, float]:
    """Fit one autoencoder to random crops of `reals` (L1); returns it and its final loss
    (mean of the last 100 steps)."""
    torch.manual_seed(config.seed)
    rng = np.random.default_rng(config.seed)
    model = AutoEncoder(kind, config.width, config.latent)
    optimiser = torch.optim.Adam(model.parameters(), lr=config.lr)
    schedule = torch.optim.lr_scheduler.OneCycleLR(optimiser, config.lr, total_steps=config.steps)
    side, losses = reals.shape[1], []
    for step in range(config.steps):
        picks = rng.integers(0, len(reals), config.batch_size)
        y, x = rng.integers(0, side - config.crop + 1, 2)
        batch = _to_tensor(reals[picks, y:y + config.crop, x:x + config.crop])
        loss = (model(batch) - batch).abs().mean()
        optimiser.zero_grad()
        loss.backward()
        optimiser.step()
        schedule.step()
        losses.append(loss.item())
        if (step + 1) % 250 == 0:
            log(f"{kind} step {step + 1}/{config.steps}: L1 {np.mean(losses[-100:]):.4f}")
    return model.eval(), float(np.mean(losses[-100:]))


def chosen(paths: list[Path], limit: int) -> list[int]:
    """Indices of at most `limit` paths, picked by a hash of the file name (stable)."""
    order = sorted(range(len(paths)),
                   key=lambda i: hashlib.sha256(paths[i].name.encode()).hexdigest())
    return sorted(order[:limit])


def make_selfmade(sources: list[str], out: Path, config: SelfMadeConfig, command: str,
                  log: Callable[[str], None] = print) -> Path:
    """Train the autoencoders on the train reals of `sources`, write every split's
    reconstructions under `out` and a summary (`out/selfmade.json`, returned)."""
    if out.exists() and any(out.iterdir()):
        raise TrainerUsageError(f"{out}: exists and is not empty; choose a new folder")
    reals = {split: [] for split in SPLITS}
    for source in sources:
        for split, files in list_splits(Path(source)).items():
            reals[split] += [item for item in files if item.label == 0]
    if not reals["train"]:
        raise TrainerUsageError(f"{', '.join(sources)}: no real training images")
    train = decode_split(reals["train"], config.size).images
    models, losses = {}, {}
    for kind in UPSAMPLERS:
        models[kind], losses[kind] = train_autoencoder(kind, train, config, log)
    written: dict[str, dict[str, int]] = {}
    for split in SPLITS:
        files = reals[split]
        keep = chosen([item.path for item in files], config.max_per_split)
        images = decode_split([files[i] for i in keep], config.size).images
        folder = out / split / "fake"
        folder.mkdir(parents=True, exist_ok=True)
        counts = dict.fromkeys(UPSAMPLERS, 0)
        for n, (index, image) in enumerate(zip(keep, images, strict=True)):
            kind = UPSAMPLERS[n % len(UPSAMPLERS)]
            with torch.no_grad():
                made = _to_uint8(models[kind](_to_tensor(image[None])))[0]
            source = files[index]
            dataset = source.source.split("/")[0]
            name = f"{kind}-{dataset}-{source.path.stem}.jpg"
            Image.fromarray(made).save(folder / name, "JPEG", quality=JPEG_QUALITY)
            counts[kind] += 1
        written[split] = counts
        log(f"{split}: {sum(counts.values())} reconstructions")
    summary = {"command": command, "sources": sources, "config": asdict(config),
               "final_l1": losses, "written": written}
    path = out / "selfmade.json"
    write_atomically(path, json.dumps(summary, indent=2).encode())
    return path
