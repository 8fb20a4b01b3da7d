"""Stand-in VGG-19 checkpoints (random weights in torchvision's layout) shared by the optimize tests."""
from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
import torch
from torch import nn

from engine.optimize.backbones import VGG19_TAPS, load_vgg19

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


@pytest.fixture(scope="session")
def vgg19_checkpoint(tmp_path_factory) -> Path:
    """A stand-in VGG-19 checkpoint file named like torchvision's."""
    return write_standin(tmp_path_factory.mktemp("vgg") / "vgg19-dcbb9e9d.pth")


@pytest.fixture(scope="session")
def vgg19(vgg19_checkpoint):
    """The stand-in VGG-19 backbone, loaded through the real loader."""
    return load_vgg19(vgg19_checkpoint)


def random_image(height: int, width: int, seed: int) -> np.ndarray:
    """A smooth random RGB image (H x W x 3 float32 in 0..1): noise blurred into blobs."""
    rng = np.random.default_rng(seed)
    coarse = torch.from_numpy(rng.random((1, 3, max(2, height // 8), max(2, width // 8)), dtype=np.float32))
    smooth = nn.functional.interpolate(coarse, size=(height, width), mode="bicubic", align_corners=False)
    fine = torch.from_numpy(rng.random((1, 3, height, width), dtype=np.float32))
    return (0.8 * smooth + 0.2 * fine).clamp(0, 1)[0].permute(1, 2, 0).numpy().copy()


def test_standin_loads_through_the_real_loader_and_matches_its_tensors(vgg19_checkpoint, vgg19):
    state = torch.load(vgg19_checkpoint, weights_only=True)
    assert torch.equal(vgg19.body[28].weight, state["features.28.weight"])
    assert torch.equal(vgg19.body[0].bias, state["features.0.bias"])
    assert len(vgg19.body) == 30  # truncated after relu5_1, the deepest layer used


def test_vgg19_layers_have_torchvision_shapes(vgg19):
    image = torch.rand(1, 3, 64, 48)
    features = vgg19(image, list(VGG19_TAPS))
    shapes = {name: tuple(f.shape[1:]) for name, f in features.items()}
    assert shapes == {
        "relu1_1": (64, 64, 48),
        "relu2_1": (128, 32, 24),
        "relu3_1": (256, 16, 12),
        "relu4_1": (512, 8, 6),
        "relu4_2": (512, 8, 6),
        "relu5_1": (512, 4, 3),
    }
    assert all((f >= 0).all() for f in features.values())  # taps are after the ReLUs
