"""Perceptual controls of Gatys et al. 2017: spatial guides, luminance-only colour, coarse-to-fine scale."""
from __future__ import annotations

from typing import Optional, Sequence

import numpy as np
import torch
import torch.nn.functional as F

from ..client.geometry import Extent
from ..imaging.resample import resize_tensor

# YIQ (NTSC) as in Gatys et al. 2017, section 4: Y carries luminance, I and Q the colour.
_RGB_TO_YIQ = torch.tensor(
    [[0.299, 0.587, 0.114], [0.595716, -0.274453, -0.321263], [0.211456, -0.522591, 0.311135]]
)
_YIQ_TO_RGB = torch.linalg.inv(_RGB_TO_YIQ)
MIN_SIDE = 32  # smallest side a coarse level may have; the deepest VGG-19 layer is 1/16 of it


def pyramid(extent: Extent, scales: int, min_side: int = MIN_SIDE) -> list[Extent]:
    """Sizes of the coarse-to-fine levels, coarsest first, each half the next, ending at ``extent``.

    Levels whose shorter side would fall under ``min_side`` are dropped.
    """
    levels = [extent]
    for _ in range(scales - 1):
        smaller = levels[0].scaled(0.5)
        if min(smaller.width, smaller.height) < min_side:
            break
        levels.insert(0, smaller)
    return levels


def style_extent(style: Extent, canvas: Extent, style_scale: float, max_side: int) -> Extent:
    """The size a style image is measured at: its longer side ``style_scale`` times the canvas's,
    at most ``max_side``, and its shorter side never under ``MIN_SIDE`` (the network needs it)."""
    longest = min(max(canvas.width, canvas.height) * style_scale, max_side)
    factor = longest / max(style.width, style.height)
    factor = max(factor, MIN_SIDE / min(style.width, style.height))
    return style.scaled(factor)


def region_guides(masks: Sequence[Optional[np.ndarray]], extent: Extent) -> torch.Tensor:
    """Guide channels (R x H x W float32): one per region mask (``None``: everywhere), plus one for
    the area outside every region when any of it is left."""
    full = torch.ones(extent.height, extent.width)
    stacked = torch.stack([full if m is None else torch.from_numpy(np.asarray(m, dtype=np.float32)) for m in masks])
    outside = (1 - stacked.amax(0)).clamp_min(0)
    if float(outside.max()) > 0:
        stacked = torch.cat([stacked, outside.unsqueeze(0)])
    return stacked


def guides_at(guides: torch.Tensor, height: int, width: int) -> torch.Tensor:
    """Guide channels (R x H x W) averaged down (or spread) to a ``height x width`` feature map."""
    return F.adaptive_avg_pool2d(guides.unsqueeze(0), (height, width))[0]


def rgb_to_yiq(image: torch.Tensor) -> torch.Tensor:
    """N x 3 x H x W RGB to YIQ."""
    return torch.einsum("ij,njhw->nihw", _RGB_TO_YIQ.to(image), image)


def yiq_to_rgb(image: torch.Tensor) -> torch.Tensor:
    """N x 3 x H x W YIQ to RGB."""
    return torch.einsum("ij,njhw->nihw", _YIQ_TO_RGB.to(image), image)


def luminance(image: torch.Tensor) -> torch.Tensor:
    """The Y channel (N x 1 x H x W) of an RGB image."""
    return rgb_to_yiq(image)[:, :1]


def matched_luminance(style: torch.Tensor, content: torch.Tensor) -> torch.Tensor:
    """The style's luminance shifted and scaled to the content luminance's mean and std (2017, eq. 8)."""
    style_y, content_y = luminance(style), luminance(content)
    scale = content_y.std() / style_y.std().clamp_min(1e-5)
    return (style_y - style_y.mean()) * scale + content_y.mean()


def with_colours_of(lum: torch.Tensor, content: torch.Tensor) -> torch.Tensor:
    """RGB from luminance ``lum`` (N x 1 x H x W) and the I/Q colour channels of ``content``."""
    yiq = rgb_to_yiq(resize_tensor(content, Extent(lum.shape[-1], lum.shape[-2])))
    return yiq_to_rgb(torch.cat([lum, yiq[:, 1:]], dim=1))
