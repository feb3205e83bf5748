"""batch_classifier: coordinates -> country and real vs AI-generated images, in batches.

    from batch_classifier import CountryClassifier, FakeImageDetector

`batch_classifier.inference` serves the shipped ONNX models (no torch);
`batch_classifier.trainer` trains and exports them (the `train` extra). The two
classes are loaded on first use, so importing the namespace stays cheap.
"""

from __future__ import annotations

from typing import Any

__version__ = "0.2.0"
__all__ = ["CountryClassifier", "FakeImageDetector", "__version__"]

_API = {
    "CountryClassifier": "batch_classifier.inference.cities.classifier",
    "FakeImageDetector": "batch_classifier.inference.images.detector",
}


def __getattr__(name: str) -> Any:
    if name in _API:
        import importlib

        return getattr(importlib.import_module(_API[name]), name)
    raise AttributeError(f"module 'batch_classifier' has no attribute {name!r}")
