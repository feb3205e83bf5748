"""Torch-free batch inference for the shipped ONNX models."""

__version__ = "0.1.0"
