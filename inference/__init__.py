"""Torch-free batch inference for the shipped ONNX models."""

from batch_classifier import __version__  # noqa: F401  (one version for the namespace)
