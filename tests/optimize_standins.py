"""Stand-in VGG-19 checkpoints (random weights in torchvision's layout) shared by the optimize tests.

The session fixtures built from them (``vgg19_checkpoint``, ``vgg19``) are in conftest.py.
"""
from __future__ import annotations

from pathlib import Path

import numpy as np
import torch
from torch import nn

# torchvision's vgg19().features in full (up to conv5_4): widths and "M" for max pools.
_FULL_PLAN = (64, 64, "M", 128, 128, "M", 256, 256, 256, 256, "M", 512, 512, 512, 512, "M", 512, 512, 512, 512, "M")


def standin_state_dict(seed: int = 0) -> dict[str, torch.Tensor]:
    """VGG-19 ``features.*`` tensors, randomly initialised the way torchvision does."""
    generator = torch.Generator().manual_seed(seed)
    state: dict[str, torch.Tensor] = {}
    channels, index = 3, 0
    for item in _FULL_PLAN:
        if item == "M":
            index += 1
            continue
        fan_out = item * 9
        state[f"features.{index}.weight"] = torch.randn(item, channels, 3, 3, generator=generator) * (2 / fan_out) ** 0.5
        state[f"features.{index}.bias"] = torch.zeros(item)
        channels, index = item, index + 2
    return state


def write_standin(path: Path, seed: int = 0) -> Path:
    """Save a stand-in checkpoint at ``path``."""
    torch.save(standin_state_dict(seed), path)
    return path


def random_image(height: int, width: int, seed: int) -> np.ndarray:
    """A smooth random RGB image (H x W x 3 float32 in 0..1): noise blurred into blobs."""
    rng = np.random.default_rng(seed)
    coarse = torch.from_numpy(rng.random((1, 3, max(2, height // 8), max(2, width // 8)), dtype=np.float32))
    smooth = nn.functional.interpolate(coarse, size=(height, width), mode="bicubic", align_corners=False)
    fine = torch.from_numpy(rng.random((1, 3, height, width), dtype=np.float32))
    return (0.8 * smooth + 0.2 * fine).clamp(0, 1)[0].permute(1, 2, 0).numpy().copy()
