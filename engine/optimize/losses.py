"""Loss terms of neural style transfer: Gram (plain and guided), attention targets, total variation."""
from __future__ import annotations

from typing import Optional

import torch
import torch.nn.functional as F

EPS = 1e-8


def gram(features: torch.Tensor, guides: Optional[torch.Tensor] = None) -> torch.Tensor:
    """Gram matrices (R x C x C) of ``features`` (1 x C x H x W), one per guide.

    With ``guides`` (R x H x W, 0..1, at the features' size) each matrix is the guided Gram
    of Gatys et al. 2017, sum over positions of ``g^2 f f^T``, divided by the guide's mass
    ``sum g^2``; without, one plain Gram divided by ``H * W``. Either layout (NCHW or
    channels-last) works without a copy.
    """
    flat = features[0].flatten(1)  # C x HW, a view in both memory layouts
    if guides is None:
        return (flat @ flat.T / flat.shape[1]).unsqueeze(0)
    weight = guides.flatten(1).square()  # R x HW
    mass = weight.sum(1).clamp_min(EPS)
    return torch.matmul(flat.unsqueeze(0) * weight.unsqueeze(1), flat.T) / mass.view(-1, 1, 1)


def squared_error(value: torch.Tensor, target: torch.Tensor) -> torch.Tensor:
    """Sum of squared differences."""
    return (value - target).square().sum()


def relative_error(value: torch.Tensor, target: torch.Tensor, target_norm: torch.Tensor) -> torch.Tensor:
    """Squared error divided by the target's squared norm (``target_norm``), so every layer counts alike."""
    return squared_error(value, target) / target_norm


def guided_gram_loss(grams: torch.Tensor, targets: torch.Tensor, target_norms: torch.Tensor) -> torch.Tensor:
    """Sum over guides of each Gram's relative squared error against its target."""
    return ((grams - targets).square().sum((1, 2)) / target_norms).sum()


def total_variation(image: torch.Tensor) -> torch.Tensor:
    """Mean squared difference between neighbouring pixels, across and down."""
    across = (image[..., :, 1:] - image[..., :, :-1]).square().mean()
    down = (image[..., 1:, :] - image[..., :-1, :]).square().mean()
    return across + down


def channel_normalized(features: torch.Tensor) -> torch.Tensor:
    """Features with each channel shifted and scaled to mean 0, std 1 over positions."""
    mean = features.mean((2, 3), keepdim=True)
    std = features.std((2, 3), keepdim=True, unbiased=False)
    return (features - mean) / (std + 1e-5)


def sample_positions(features: torch.Tensor, count: int, generator: torch.Generator) -> torch.Tensor:
    """At most ``count`` positions of ``features`` (1 x C x H x W) as a 1 x M x C matrix, drawn at random."""
    flat = features[0].flatten(1).T  # HW x C
    if flat.shape[0] <= count:
        return flat.unsqueeze(0)
    pick = torch.randperm(flat.shape[0], generator=generator)[:count].to(flat.device)
    return flat[pick].unsqueeze(0)


def attention_target(
    content: torch.Tensor,
    style: torch.Tensor,
    max_keys: int,
    generator: torch.Generator,
    chunk: int = 4096,
) -> torch.Tensor:
    """Per-position target features: the style, re-arranged by attention to match the content.

    Queries are the content's channel-normalized features, keys the style's; the attention
    weights give, for every content position, a weighted mean and std of the style features, and
    the target is ``std * normalized content + mean`` (AdaAttN's form, untrained). The result
    has the content's shape. ``max_keys`` style positions are used at most, drawn at random.
    """
    _, channels, height, width = content.shape
    query = channel_normalized(content)[0].flatten(1).T.unsqueeze(0)  # 1 x N x C
    keys_raw = sample_positions(style, max_keys, generator)
    keys = (keys_raw - keys_raw.mean(1, keepdim=True)) / (keys_raw.std(1, keepdim=True, unbiased=False) + 1e-5)
    values = torch.cat([keys_raw, keys_raw.square()], dim=2)  # 1 x M x 2C
    parts = []
    for start in range(0, query.shape[1], chunk):
        q = query[:, start : start + chunk]
        moments = F.scaled_dot_product_attention(q, keys, values)
        mean, square = moments.split(channels, dim=2)
        std = (square - mean.square()).clamp_min(0).sqrt()
        parts.append(std * q + mean)
    target = torch.cat(parts, dim=1)  # 1 x N x C
    return target[0].T.reshape(1, channels, height, width)
