"""Which files count as images when folders are walked (files.walk does the walk)."""

from batch_classifier.inference.images.decode import IMAGE_FORMATS

_PLUGIN_SUFFIXES = {"AVIF": {".avif"}, "HEIF": {".heic", ".heif"}}  # where a plugin reads them
IMAGE_SUFFIXES = frozenset(
    {".jpg", ".jpeg", ".jpe", ".png", ".webp", ".bmp", ".tif", ".tiff", ".gif"}
    | {suffix for name, suffixes in _PLUGIN_SUFFIXES.items() if name in IMAGE_FORMATS
       for suffix in suffixes})
