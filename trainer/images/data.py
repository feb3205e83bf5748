"""Image folders -> decoded uint8 splits, from one or several sources at once.

A source is a folder in the ImageFolder layout (train/, val/, test/ each with real/ and/or
fake/) or one folder with real/ and/or fake/ split 80/10/10 by a hash of the file name.
Every image remembers where it came from as `<folder name>/<class>` (e.g.
`faces-sd/fake`), so metrics can be reported per source and sources can be held out of
training (leave-one-generator-out). A class folder whose file names carry two or more
prefixes (`<prefix>-...`, e.g. `sdxl-...` and `flux-...`) is several sources, one per
prefix (`people-xl/fake/sdxl`): one folder may hold several generators.
"""

from __future__ import annotations

import hashlib
import re
from collections import Counter
from collections.abc import Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from batch_classifier.inference.images.decode import load_rgb
from batch_classifier.inference.images.walk import IMAGE_SUFFIXES
from batch_classifier.trainer.errors import TrainerError, TrainerUsageError
from batch_classifier.trainer.fingerprint import fingerprint_files, fingerprint_strings

LABELS = ["real", "fake"]
SPLITS = ("train", "val", "test")


@dataclass(frozen=True)
class LabelledFile:
    """One image file, its label (0 real, 1 fake) and its source name."""

    path: Path
    label: int
    source: str


@dataclass
class ImageSplit:
    """Decoded images (uint8 [N, S, S, 3]) with labels (0 real, 1 fake), files and the
    source of each."""

    paths: list[Path]
    labels: np.ndarray
    images: np.ndarray
    sources: np.ndarray

    def __len__(self) -> int:
        return len(self.paths)

    def subset(self, keep: np.ndarray) -> ImageSplit:
        """The images where the boolean mask `keep` is true."""
        return ImageSplit([p for p, k in zip(self.paths, keep, strict=True) if k],
                          self.labels[keep], self.images[keep], self.sources[keep])


@dataclass
class ImageData:
    """The three splits, where they came from and the data's fingerprint."""

    train: ImageSplit
    val: ImageSplit
    test: ImageSplit
    source: str
    fingerprint: str
    size: int
    held_out: tuple[str, ...] = ()

    @property
    def trained_on(self) -> list[str]:
        """The sources of the training split, sorted."""
        return sorted(set(self.train.sources.tolist()))

    def sizes_by_source(self) -> dict[str, dict[str, int]]:
        """Images per source in each split."""
        return {name: dict(sorted(Counter(getattr(self, name).sources.tolist()).items()))
                for name in SPLITS}


NAME_PREFIX = re.compile(r"([a-z][a-z0-9]*)-")


def name_prefix(path: Path) -> str | None:
    """The lower-case `<prefix>-` a file name starts with, if any."""
    found = NAME_PREFIX.match(path.name.lower())
    return found.group(1) if found else None


def source_names(paths: list[Path], folder_source: str) -> list[str]:
    """`folder_source` for each file, or `folder_source/<prefix>` when the files carry
    two or more name prefixes (files without one keep `folder_source`)."""
    prefixes = [name_prefix(p) for p in paths]
    if len({p for p in prefixes if p is not None}) < 2:
        return [folder_source] * len(paths)
    return [folder_source if p is None else f"{folder_source}/{p}" for p in prefixes]


def class_files(folder: Path, dataset: str) -> list[LabelledFile]:
    """Every image under folder/real and folder/fake (either may be absent), sorted."""
    found = []
    for label, name in enumerate(LABELS):
        sub = folder / name
        if sub.is_dir():
            paths = [p for p in sorted(sub.rglob("*"))
                     if p.is_file() and p.suffix.lower() in IMAGE_SUFFIXES]
            found += [LabelledFile(p, label, source)
                      for p, source in zip(paths, source_names(paths, f"{dataset}/{name}"),
                                           strict=True)]
    if not any((folder / name).is_dir() for name in LABELS):
        raise TrainerUsageError(f"{folder}: has neither a 'real/' nor a 'fake/' folder")
    return found


def hash_split(name: str) -> str:
    """train/val/test (80/10/10) from a hash of the file name: stable across machines."""
    bucket = int(hashlib.sha256(name.encode()).hexdigest()[:8], 16) % 10
    return "train" if bucket < 8 else "val" if bucket == 8 else "test"


def list_splits(root: Path) -> dict[str, list[LabelledFile]]:
    """The files of each split of one source: from train/val/test folders, else split
    by name hash."""
    if not root.is_dir():
        raise TrainerUsageError(f"{root}: not a folder")
    dataset = root.resolve().name
    if all((root / split).is_dir() for split in SPLITS):
        return {split: class_files(root / split, dataset) for split in SPLITS}
    splits: dict[str, list[LabelledFile]] = {split: [] for split in SPLITS}
    for item in class_files(root, dataset):
        splits[hash_split(f"{LABELS[item.label]}/{item.path.name}")].append(item)
    return splits


def decode_split(files: list[LabelledFile], size: int, workers: int = 4) -> ImageSplit:
    """Decode every file with the inference loader (threads: PIL releases the GIL)."""
    paths = [item.path for item in files]
    with ThreadPoolExecutor(workers) as pool:
        arrays = list(pool.map(lambda p: load_rgb(p, size), paths))
    images = np.stack(arrays) if arrays else np.zeros((0, size, size, 3), np.uint8)
    return ImageSplit(paths, np.array([item.label for item in files], dtype=np.int64),
                      images, np.array([item.source for item in files], dtype=object))


def matches(source: str, pattern: str) -> bool:
    """`faces-sd` matches both classes of that folder, `faces-sd/fake` only the fakes."""
    return source == pattern or source.startswith(pattern.rstrip("/") + "/")


def load_image_data(sources: str | Path | Sequence[str | Path], size: int = 256,
                    held_out: Sequence[str] = ()) -> ImageData:
    """Load and decode all splits of every source; the training split leaves out the
    sources matching `held_out` (val and test keep them, for measuring).

    Refuses source folders with the same name, unknown `held_out` names, and train or
    val splits without both classes."""
    roots = [Path(s) for s in ([sources] if isinstance(sources, str | Path) else sources)]
    names = [root.resolve().name for root in roots]
    if len(set(names)) < len(names):
        raise TrainerError(f"two sources share a folder name ({', '.join(names)}); "
                           "source names must be unique")
    listed: dict[str, list[LabelledFile]] = {split: [] for split in SPLITS}
    for root in roots:
        for split, files in list_splits(root).items():
            listed[split] += files
    known = {item.source for files in listed.values() for item in files}
    for pattern in held_out:
        if not any(matches(source, pattern) for source in known):
            raise TrainerError(f"--hold-out {pattern}: no such source "
                               f"(sources: {', '.join(sorted(known))})")
    listed["train"] = [item for item in listed["train"]
                       if not any(matches(item.source, p) for p in held_out)]
    for split in ("train", "val"):
        if {item.label for item in listed[split]} != {0, 1}:
            raise TrainerError(f"{', '.join(map(str, roots))}: the {split} split needs both "
                               "real and fake images")
    return ImageData(
        **{split: decode_split(files, size) for split, files in listed.items()},
        source=",".join(str(root) for root in roots),
        fingerprint=_fingerprint(roots, listed), size=size,
        held_out=tuple(held_out),
    )


def _fingerprint(roots: list[Path], listed: dict[str, list[LabelledFile]]) -> str:
    """One source: its files' fingerprint (as before). Several: a fingerprint of each
    source's fingerprint with its name."""
    every = [item.path for files in listed.values() for item in files]
    if len(roots) == 1:
        return fingerprint_files(every, roots[0])
    per_source = []
    for root in roots:
        files = [path for path in every if path.is_relative_to(root)]
        per_source.append(f"{root.resolve().name}:{fingerprint_files(files, root)}")
    return fingerprint_strings(per_source)
