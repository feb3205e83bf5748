"""Backbones with one logit, wrapped so the graph takes uint8 NHWC and returns P(fake)."""

from __future__ import annotations

from pathlib import Path

import torch
from torch import nn
from torch.nn import functional as F

from batch_classifier.trainer.images.weights import efficientnet_lite0_into, resnet18_state

BACKBONES = ("resnet18", "efficientnet_lite0")
IMAGENET_MEAN, IMAGENET_STD = (0.485, 0.456, 0.406), (0.229, 0.224, 0.225)
NORMALISATION = {"resnet18": (IMAGENET_MEAN, IMAGENET_STD),
                 "efficientnet_lite0": ((0.5, 0.5, 0.5), (0.5, 0.5, 0.5))}


def build_backbone(name: str, imagenet: bool, weights_file: Path | None = None) -> nn.Module:
    """`name` with a single-logit head, ImageNet-initialised (all but the head) or random."""
    if name == "resnet18":
        from torchvision.models import resnet18

        model = resnet18()
        if imagenet:
            model.load_state_dict(resnet18_state(weights_file))
        model.fc = nn.Linear(model.fc.in_features, 1)
        return model
    if name == "efficientnet_lite0":
        import timm

        model = timm.create_model("tf_efficientnet_lite0", num_classes=1000)
        if imagenet:
            efficientnet_lite0_into(model)
        model.reset_classifier(1)
        return model
    raise ValueError(f"unknown backbone {name!r} (choose from {', '.join(BACKBONES)})")


def head_of(backbone: nn.Module) -> nn.Module:
    """The final linear layer (the only part a linear probe trains)."""
    return backbone.fc if hasattr(backbone, "fc") else backbone.get_classifier()


class FakeDetector(nn.Module):
    """uint8 [N, H, W, 3] RGB -> P(fake) [N, 1]; casting, scaling, normalising,
    transposing and optional upsampling all happen inside, so they are in the ONNX graph.

    `flip_tta` averages the logits of the image and its mirror image.
    """

    def __init__(self, backbone: nn.Module, mean: tuple[float, ...], std: tuple[float, ...],
                 upsample: float = 1.0, flip_tta: bool = False):
        super().__init__()
        self.backbone = backbone
        self.register_buffer("scale", 1.0 / (255.0 * torch.tensor(std).view(1, 3, 1, 1)))
        self.register_buffer("shift", (torch.tensor(mean) / torch.tensor(std)).view(1, 3, 1, 1))
        self.upsample = upsample
        self.flip_tta = flip_tta

    def preprocess(self, images: torch.Tensor) -> torch.Tensor:
        """uint8 NHWC -> normalised float NCHW (upsampled if configured)."""
        x = images.permute(0, 3, 1, 2).float() * self.scale - self.shift
        if self.upsample != 1.0:
            x = F.interpolate(x, scale_factor=self.upsample, mode="bilinear",
                              align_corners=False)
        return x

    def logits(self, images: torch.Tensor) -> torch.Tensor:
        """One logit per image, [N] (positive means fake)."""
        x = self.preprocess(images)
        logit = self.backbone(x).squeeze(1)
        if self.flip_tta:
            logit = 0.5 * (logit + self.backbone(torch.flip(x, dims=[3])).squeeze(1))
        return logit

    def forward(self, images: torch.Tensor) -> torch.Tensor:
        return torch.sigmoid(self.logits(images)).unsqueeze(1)


def build_detector(name: str, imagenet: bool, weights_file: Path | None = None,
                   upsample: float = 1.0) -> FakeDetector:
    """A FakeDetector around a fresh `name` backbone with that backbone's normalisation."""
    mean, std = NORMALISATION[name]
    return FakeDetector(build_backbone(name, imagenet, weights_file), mean, std, upsample)
