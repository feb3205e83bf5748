"""Backbones with one logit, wrapped so the graph takes uint8 NHWC and returns P(fake)."""

from __future__ import annotations

from pathlib import Path

import torch
from torch import nn
from torch.nn import functional as F

from batch_classifier.trainer.images.weights import (
    EFFICIENTNET_LITES,
    efficientnet_lite_into,
    resnet18_state,
)

BACKBONES = ("resnet18", *EFFICIENTNET_LITES)
INPUTS = ("rgb", "npr", "rgb+npr")
IMAGENET_MEAN, IMAGENET_STD = (0.485, 0.456, 0.406), (0.229, 0.224, 0.225)
NORMALISATION = {"resnet18": (IMAGENET_MEAN, IMAGENET_STD),
                 **{lite: ((0.5, 0.5, 0.5), (0.5, 0.5, 0.5)) for lite in EFFICIENTNET_LITES}}


def build_backbone(name: str, imagenet: bool, weights_file: Path | None = None) -> nn.Module:
    """`name` with a single-logit head, ImageNet-initialised (all but the head) or random."""
    if name == "resnet18":
        from torchvision.models import resnet18

        model = resnet18()
        if imagenet:
            model.load_state_dict(resnet18_state(weights_file))
        model.fc = nn.Linear(model.fc.in_features, 1)
        return model
    if name in EFFICIENTNET_LITES:
        import timm

        model = timm.create_model(f"tf_{name}", num_classes=1000)
        if imagenet:
            efficientnet_lite_into(name, model)
        model.reset_classifier(1)
        return model
    raise ValueError(f"unknown backbone {name!r} (choose from {', '.join(BACKBONES)})")


def widen_stem(backbone: nn.Module, factor: int) -> None:
    """Let the first convolution take `factor` times its input channels; each added
    group starts as a copy of the original (ImageNet) filters, scaled down by `factor`
    so the initial response to the original channels is kept on average."""
    name = "conv1" if hasattr(backbone, "conv1") else "conv_stem"
    old: nn.Conv2d = getattr(backbone, name)
    new = nn.Conv2d(old.in_channels * factor, old.out_channels, old.kernel_size, old.stride,
                    old.padding, old.dilation, old.groups, old.bias is not None,
                    old.padding_mode)
    with torch.no_grad():
        new.weight.copy_(torch.cat([old.weight] * factor, dim=1) / factor)
        if old.bias is not None:
            new.bias.copy_(old.bias)
    setattr(backbone, name, new)


def neighbouring_pixel_residual(x: torch.Tensor) -> torch.Tensor:
    """NPR (Tan et al., CVPR 2024): x - up(down(x)) with nearest 2x resampling, i.e. each
    pixel minus the top-left pixel of its 2x2 cell: the local correlations that
    generators' upsampling layers leave. Odd trailing rows/columns are dropped."""
    height, width = x.shape[2] // 2 * 2, x.shape[3] // 2 * 2
    x = x[:, :, :height, :width]
    return x - F.interpolate(x[:, :, ::2, ::2], scale_factor=2.0, mode="nearest")


def tile_starts(length: int, tile: int) -> list[int]:
    """Starts of the fewest `tile`-long windows that cover `length`, evenly spread."""
    count = -(-length // tile)
    if count <= 1:
        return [0]
    return [round(i * (length - tile) / (count - 1)) for i in range(count)]


def head_of(backbone: nn.Module) -> nn.Module:
    """The final linear layer (the only part a linear probe trains)."""
    return backbone.fc if hasattr(backbone, "fc") else backbone.get_classifier()


class FakeDetector(nn.Module):
    """uint8 [N, H, W, 3] RGB -> P(fake) [N, 1]; casting, scaling, normalising,
    transposing and optional upsampling all happen inside, so they are in the ONNX graph.

    `inputs` picks what the backbone sees: the RGB image, its neighbouring-pixel
    residual (NPR, batch-normalised), or both stacked (6 channels). `flip_tta` averages
    the logits of the image and its mirror image; `patch` > 0 scores the image as the
    mean logit of `patch`-sized tiles covering it (the size the model was trained on)
    instead of in one piece.
    """

    def __init__(self, backbone: nn.Module, mean: tuple[float, ...], std: tuple[float, ...],
                 upsample: float = 1.0, flip_tta: bool = False, inputs: str = "rgb"):
        super().__init__()
        self.backbone = backbone
        self.register_buffer("scale", 1.0 / (255.0 * torch.tensor(std).view(1, 3, 1, 1)))
        self.register_buffer("shift", (torch.tensor(mean) / torch.tensor(std)).view(1, 3, 1, 1))
        self.upsample = upsample
        self.flip_tta = flip_tta
        self.inputs = inputs
        self.patch = 0
        self.npr_norm = nn.BatchNorm2d(3) if "npr" in inputs else None

    def preprocess(self, images: torch.Tensor) -> torch.Tensor:
        """uint8 NHWC -> normalised float NCHW (upsampled if configured), as the
        configured input channels."""
        x = images.permute(0, 3, 1, 2).float() * self.scale - self.shift
        if self.npr_norm is not None:
            npr = self.npr_norm(neighbouring_pixel_residual(x))
            x = npr if self.inputs == "npr" else torch.cat([x[:, :, :npr.shape[2],
                                                              :npr.shape[3]], npr], dim=1)
        if self.upsample != 1.0:
            x = F.interpolate(x, scale_factor=self.upsample, mode="bilinear",
                              align_corners=False)
        return x

    def logits(self, images: torch.Tensor) -> torch.Tensor:
        """One logit per image, [N] (positive means fake)."""
        return self._tiled_logits(images) if self.patch else self._whole_logits(images)

    def _whole_logits(self, images: torch.Tensor) -> torch.Tensor:
        x = self.preprocess(images)
        logit = self.backbone(x).squeeze(1)
        if self.flip_tta:
            logit = 0.5 * (logit + self.backbone(torch.flip(x, dims=[3])).squeeze(1))
        return logit

    def _tiled_logits(self, images: torch.Tensor) -> torch.Tensor:
        """Mean logit over the tiles of `patch` px that cover each image (the exported
        graph fixes the tiles for the contract's input size)."""
        size, height, width = self.patch, int(images.shape[1]), int(images.shape[2])
        tiles = [images[:, top:top + size, left:left + size]
                 for top in tile_starts(height, size) for left in tile_starts(width, size)]
        return self._whole_logits(torch.cat(tiles)).view(len(tiles), -1).mean(0)

    def forward(self, images: torch.Tensor) -> torch.Tensor:
        return torch.sigmoid(self.logits(images)).unsqueeze(1)


def build_detector(name: str, imagenet: bool, weights_file: Path | None = None,
                   upsample: float = 1.0, inputs: str = "rgb") -> FakeDetector:
    """A FakeDetector around a fresh `name` backbone with that backbone's normalisation,
    its stem widened when it sees RGB and NPR together."""
    mean, std = NORMALISATION[name]
    backbone = build_backbone(name, imagenet, weights_file)
    if inputs == "rgb+npr":
        widen_stem(backbone, 2)
    return FakeDetector(backbone, mean, std, upsample, inputs=inputs)
