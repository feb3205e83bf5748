"""Training augmentation that keeps GAN traces: native-resolution crops, flips, and
occasional blur / JPEG re-compression as in Wang et al. 2020."""

from __future__ import annotations

import io

import numpy as np
import torch
from PIL import Image, ImageFilter


def augment_batch(images: np.ndarray, crop: int, blur_jpeg_p: float,
                  rng: np.random.Generator) -> torch.Tensor:
    """uint8 [B, S, S, 3] -> uint8 [B, crop, crop, 3]: random crop (no resizing), random
    horizontal flip, and with probability `blur_jpeg_p` each a Gaussian blur
    (sigma 0-3) and a JPEG re-compression (quality 30-100)."""
    out = np.empty((len(images), crop, crop, 3), dtype=np.uint8)
    size = images.shape[1]
    for i, image in enumerate(images):
        top, left = rng.integers(0, size - crop + 1, size=2)
        patch = image[top:top + crop, left:left + crop]
        if rng.random() < 0.5:
            patch = patch[:, ::-1]
        out[i] = degrade(patch, blur_jpeg_p, rng) if blur_jpeg_p > 0 else patch
    return torch.from_numpy(out)


def degrade(patch: np.ndarray, p: float, rng: np.random.Generator) -> np.ndarray:
    """Blur and/or JPEG-compress one uint8 HWC patch, each with probability `p`."""
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
