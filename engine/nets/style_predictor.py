"""Magenta's style-prediction network: a MobileNetV2 that maps a style image to a 100-d style vector.

Input is RGB in 0..1 (N x 3 x H x W), 256 x 256 for the pretrained weights (any size works).
Padding follows TensorFlow's ``SAME`` rule, which is asymmetric for stride-2 layers.
"""
from __future__ import annotations

import math

import torch
import torch.nn.functional as F
from torch import nn

STYLE_VECTOR_SIZE = 100
PREDICTOR_SIZE = 256

# (expansion, output channels, stride) of MobileNetV2's 17 inverted-residual blocks.
BLOCKS = [
    (1, 16, 1),
    (6, 24, 2), (6, 24, 1),
    (6, 32, 2), (6, 32, 1), (6, 32, 1),
    (6, 64, 2), (6, 64, 1), (6, 64, 1), (6, 64, 1),
    (6, 96, 1), (6, 96, 1), (6, 96, 1),
    (6, 160, 2), (6, 160, 1), (6, 160, 1),
    (6, 320, 1),
]


class SameConv(nn.Conv2d):
    """A convolution with TensorFlow's ``SAME`` padding (extra pixel at the bottom/right)."""

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        k, s = self.kernel_size[0], self.stride[0]
        pads = []
        for size in (x.shape[-1], x.shape[-2]):
            total = max((math.ceil(size / s) - 1) * s + k - size, 0)
            pads += [total // 2, total - total // 2]
        return super().forward(F.pad(x, pads) if any(pads) else x)


class ConvReLU6(nn.Sequential):
    """Convolution followed by ReLU6 (batch norm is folded into the convolution)."""

    def __init__(self, cin: int, cout: int, kernel: int, stride: int = 1, groups: int = 1) -> None:
        super().__init__(SameConv(cin, cout, kernel, stride=stride, groups=groups), nn.ReLU6())


class InvertedResidual(nn.Module):
    """MobileNetV2 block: 1x1 expand, 3x3 depthwise, linear 1x1 project, skip when shapes match."""

    def __init__(self, cin: int, cout: int, expansion: int, stride: int) -> None:
        super().__init__()
        hidden = cin * expansion
        layers: list[nn.Module] = [ConvReLU6(cin, hidden, 1)] if expansion != 1 else []
        layers += [ConvReLU6(hidden, hidden, 3, stride=stride, groups=hidden), SameConv(hidden, cout, 1)]
        self.block = nn.Sequential(*layers)
        self.residual = stride == 1 and cin == cout

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        y = self.block(x)
        return x + y if self.residual else y


class StylePredictor(nn.Module):
    """MobileNetV2 features, global average pooling and a 1x1 bottleneck to the style vector."""

    def __init__(self) -> None:
        super().__init__()
        layers: list[nn.Module] = [ConvReLU6(3, 32, 3, stride=2)]
        cin = 32
        for expansion, cout, stride in BLOCKS:
            layers.append(InvertedResidual(cin, cout, expansion, stride))
            cin = cout
        layers.append(ConvReLU6(cin, 1280, 1))
        self.features = nn.Sequential(*layers)
        self.bottleneck = nn.Conv2d(1280, STYLE_VECTOR_SIZE, 1)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """Style vectors (N x 100) of RGB images in 0..1."""
        pooled = self.features(x).mean(dim=(2, 3), keepdim=True)
        return self.bottleneck(pooled).flatten(1)
