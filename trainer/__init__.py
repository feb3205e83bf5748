"""Training, evaluation and ONNX export for the batch classifiers (needs the train extra)."""

__version__ = "0.1.0"
