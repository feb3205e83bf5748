"""Training, evaluation and ONNX export for the batch classifiers (needs the train extra)."""

from batch_classifier import __version__  # noqa: F401  (one version for the namespace)
