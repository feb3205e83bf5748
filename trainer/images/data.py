"""Image folders -> decoded uint8 splits (ImageFolder layout or one folder split by hash)."""

from __future__ import annotations

import hashlib
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from batch_classifier.inference.images.decode import load_rgb
from batch_classifier.inference.images.walk import IMAGE_SUFFIXES
from batch_classifier.trainer.errors import TrainerUsageError
from batch_classifier.trainer.fingerprint import fingerprint_files

LABELS = ["real", "fake"]
SPLITS = ("train", "val", "test")


@dataclass
class ImageSplit:
    """Decoded images (uint8 [N, S, S, 3]) with labels (0 real, 1 fake) and their files."""

    paths: list[Path]
    labels: np.ndarray
    images: np.ndarray

    def __len__(self) -> int:
        return len(self.paths)


@dataclass
class ImageData:
    """The three splits, where they came from and the data's fingerprint."""

    train: ImageSplit
    val: ImageSplit
    test: ImageSplit
    source: str
    fingerprint: str
    size: int


def class_files(folder: Path) -> list[tuple[Path, int]]:
    """(file, label) for every image under folder/real and folder/fake, sorted."""
    found = []
    for label, name in enumerate(LABELS):
        sub = folder / name
        if not sub.is_dir():
            raise TrainerUsageError(f"{folder}: has no '{name}/' folder")
        found += [(p, label) for p in sorted(sub.rglob("*"))
                  if p.is_file() and p.suffix.lower() in IMAGE_SUFFIXES]
    return found


def hash_split(name: str) -> str:
    """train/val/test (80/10/10) from a hash of the file name: stable across machines."""
    bucket = int(hashlib.sha256(name.encode()).hexdigest()[:8], 16) % 10
    return "train" if bucket < 8 else "val" if bucket == 8 else "test"


def list_splits(root: Path) -> dict[str, list[tuple[Path, int]]]:
    """The files of each split: from train/val/test folders, else split by name hash."""
    if not root.is_dir():
        raise TrainerUsageError(f"{root}: not a folder")
    if all((root / split).is_dir() for split in SPLITS):
        return {split: class_files(root / split) for split in SPLITS}
    splits: dict[str, list[tuple[Path, int]]] = {split: [] for split in SPLITS}
    for path, label in class_files(root):
        splits[hash_split(f"{LABELS[label]}/{path.name}")].append((path, label))
    return splits


def decode_split(files: list[tuple[Path, int]], size: int, workers: int = 4) -> ImageSplit:
    """Decode every file with the inference loader (threads: PIL releases the GIL)."""
    paths = [path for path, _ in files]
    with ThreadPoolExecutor(workers) as pool:
        arrays = list(pool.map(lambda p: load_rgb(p, size), paths))
    images = np.stack(arrays) if arrays else np.zeros((0, size, size, 3), np.uint8)
    return ImageSplit(paths, np.array([label for _, label in files], dtype=np.int64), images)


def load_image_data(source: str | Path, size: int = 256) -> ImageData:
    """Load and decode all splits of `source`; refuse empty train or val splits."""
    root = Path(source)
    listed = list_splits(root)
    for split in ("train", "val"):
        labels = {label for _, label in listed[split]}
        if labels != {0, 1}:
            raise TrainerUsageError(f"{root}: the {split} split needs both real and fake images")
    every = [path for files in listed.values() for path, _ in files]
    return ImageData(
        **{split: decode_split(files, size) for split, files in listed.items()},
        source=str(root), fingerprint=fingerprint_files(every, root), size=size,
    )
