"""batch_classifier: coordinates -> country and real vs AI-generated images, in batches.

`batch_classifier.inference` serves the shipped ONNX models (no torch);
`batch_classifier.trainer` trains and exports them (the `train` extra).
"""

__version__ = "0.2.0"
