"""Find a model file: by path, by short name, or the task's default."""

from __future__ import annotations

import os
import sys
from pathlib import Path

from batch_classifier.inference.errors import UsageError

# Short names a user can pass to --model, per task; the first one found is the default.
MODEL_FILES = {
    "cities": {"world": "cities-world.onnx", "eu": "cities-eu.onnx"},
    "images": {"deepfake": "deepfake.onnx"},
}
MODELS_DIR_ENV = "BATCH_CLASSIFIER_MODELS"


def model_dirs() -> list[Path]:
    """Folders searched for shipped models, in order."""
    dirs = []
    if os.environ.get(MODELS_DIR_ENV):
        dirs.append(Path(os.environ[MODELS_DIR_ENV]))
    dirs.append(Path(__file__).resolve().parent.parent / "exported")
    dirs.append(Path(sys.prefix) / "share" / "batch-classifier" / "models")
    return dirs


def resolve_model(task: str, spec: str | None) -> Path:
    """Turn a --model value (a path, a short name or None for the default) into a file."""
    names = MODEL_FILES[task]
    if spec is not None and spec not in names:
        return Path(spec)
    wanted = [names[spec]] if spec is not None else list(names.values())
    for filename in wanted:
        for folder in model_dirs():
            if (folder / filename).is_file():
                return folder / filename
    searched = ", ".join(str(d) for d in model_dirs())
    raise UsageError(
        f"no {' or '.join(wanted)} found (searched {searched}); pass --model PATH "
        f"or set {MODELS_DIR_ENV}"
    )
