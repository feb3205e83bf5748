"""Training augmentation that keeps generation traces but hides a source's signature:
random rescaling (so no class is recognisable by its softness or resampling), crops at
the (rescaled) native resolution, flips, and blur / JPEG re-compression as in Wang et al.
2020."""

from __future__ import annotations

import io
from dataclasses import dataclass

import numpy as np
import torch
from PIL import Image, ImageFilter

RESAMPLERS = (Image.BILINEAR, Image.BICUBIC, Image.LANCZOS)


@dataclass(frozen=True)
class Augmentation:
    """What happens to each training image; probabilities are per image."""

    crop: int
    blur_jpeg_p: float = 0.1
    rescale_p: float = 0.0
    rescale_range: tuple[float, float] = (0.5, 1.5)


def augment_batch(images: np.ndarray, augmentation: Augmentation,
                  rng: np.random.Generator) -> torch.Tensor:
    """uint8 [B, S, S, 3] -> uint8 [B, crop, crop, 3]: with probability `rescale_p` a
    resize by a log-uniform factor in `rescale_range` (never below the crop), a random
    crop (no other resizing), a random horizontal flip, and with probability
    `blur_jpeg_p` each a Gaussian blur (sigma 0-3) and a JPEG re-compression
    (quality 30-100)."""
    crop = augmentation.crop
    out = np.empty((len(images), crop, crop, 3), dtype=np.uint8)
    for i, image in enumerate(images):
        if augmentation.rescale_p > 0 and rng.random() < augmentation.rescale_p:
            image = rescale(image, augmentation.rescale_range, crop, rng)
        top, left = rng.integers(0, len(image) - crop + 1, size=2)  # images are square
        patch = image[top:top + crop, left:left + crop]
        if rng.random() < 0.5:
            patch = patch[:, ::-1]
        out[i] = degrade(patch, augmentation.blur_jpeg_p, rng)
    return torch.from_numpy(out)


def rescale(image: np.ndarray, factors: tuple[float, float], smallest: int,
            rng: np.random.Generator) -> np.ndarray:
    """The square `image` resized by a log-uniform factor from `factors` with a random
    resampling filter, its side kept at least `smallest`."""
    low, high = np.log(factors[0]), np.log(factors[1])
    factor = float(np.exp(rng.uniform(low, high)))
    side = len(image)
    new = max(smallest, round(side * max(factor, smallest / side)))
    if new == side:
        return image
    resampler = RESAMPLERS[int(rng.integers(len(RESAMPLERS)))]
    return np.asarray(Image.fromarray(image).resize((new, new), resampler))


def degrade(patch: np.ndarray, p: float, rng: np.random.Generator) -> np.ndarray:
    """Blur and/or JPEG-compress one uint8 HWC patch, each with probability `p`."""
    if p <= 0:
        return patch
    blur, jpeg = rng.random() < p, rng.random() < p
    if not (blur or jpeg):
        return patch
    image = Image.fromarray(np.ascontiguousarray(patch))
    if blur:
        image = image.filter(ImageFilter.GaussianBlur(float(rng.uniform(0, 3))))
    if jpeg:
        buffer = io.BytesIO()
        image.save(buffer, format="JPEG", quality=int(rng.integers(30, 101)))
        image = Image.open(buffer).convert("RGB")
    return np.asarray(image)
