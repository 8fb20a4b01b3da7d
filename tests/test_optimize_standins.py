"""The stand-in VGG-19 checkpoints load through the real loader."""
from __future__ import annotations

import torch

from engine.optimize.backbones import VGG19_TAPS


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
