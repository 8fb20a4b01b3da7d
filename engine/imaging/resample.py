"""Resizing float RGB images (antialiased when shrinking)."""
from __future__ import annotations

import numpy as np
import torch
import torch.nn.functional as F

from ..client.geometry import Extent


def to_tensor(rgb: np.ndarray) -> torch.Tensor:
    """H x W x 3 float array -> 1 x 3 x H x W tensor (shares memory where it can)."""
    return torch.from_numpy(np.ascontiguousarray(rgb)).permute(2, 0, 1)[None]


def to_array(x: torch.Tensor) -> np.ndarray:
    """1 x 3 x H x W tensor -> H x W x 3 float32 array."""
    return np.ascontiguousarray(x[0].permute(1, 2, 0).float().cpu().numpy())


def resize_tensor(x: torch.Tensor, extent: Extent, mode: str = "bicubic") -> torch.Tensor:
    """Resize an N x C x H x W tensor to ``extent``, clamped to 0..1.

    ``mode``: "bicubic" (antialiased when shrinking), "bilinear" (about 3x faster when enlarging) or
    "area" (the mean of each output pixel's footprint: the fastest way to shrink).
    """
    if (x.shape[-1], x.shape[-2]) == (extent.width, extent.height):
        return x
    shrinking = extent.width < x.shape[-1] or extent.height < x.shape[-2]
    size = (extent.height, extent.width)
    if mode == "area":
        return F.interpolate(x, size=size, mode="area")  # a mean of inputs: stays in 0..1
    y = F.interpolate(x, size=size, mode=mode, align_corners=False, antialias=shrinking)
    return y.clamp_(0.0, 1.0) if mode == "bicubic" else y  # bilinear weights are convex: no overshoot to clamp


def resize(rgb: np.ndarray, extent: Extent) -> np.ndarray:
    """Bicubic resize of an H x W x 3 float image to ``extent``."""
    return to_array(resize_tensor(to_tensor(rgb), extent))


def center_square(rgb: np.ndarray) -> np.ndarray:
    """The largest centred square of an image."""
    h, w = rgb.shape[:2]
    side = min(h, w)
    top, left = (h - side) // 2, (w - side) // 2
    return rgb[top : top + side, left : left + side]
