"""Pretrained feature networks the optimization method measures images with (VGG-19, MobileNetV2)."""
from __future__ import annotations

import copy
import threading
from pathlib import Path
from typing import Optional, Sequence

import torch
from torch import nn

from ..errors import WeightsMissing
from .weights import FETCH_HINT, locate_vgg19, vgg19_configured

IMAGENET_MEAN = (0.485, 0.456, 0.406)
IMAGENET_STD = (0.229, 0.224, 0.225)

# torchvision's vgg19().features up to relu5_1: convolution widths, "M" for a 2x2 max pool.
_VGG19_PLAN = (64, 64, "M", 128, 128, "M", 256, 256, 256, 256, "M", 512, 512, 512, 512, "M", 512)
# Index in that Sequential of the ReLU after each named convolution (torchvision's numbering).
VGG19_TAPS = {"relu1_1": "1", "relu2_1": "6", "relu3_1": "11", "relu4_1": "20", "relu4_2": "22", "relu5_1": "29"}
VGG19_BYTES_PER_PIXEL = 2900.0  # peak memory growth per image pixel, measured by bench/optimize.py
PIXELS = "pixels"  # a tap on the input image: its Gram is the colour statistics
# The style predictor's first convolution and the expansion (1x1 + ReLU6) of the first block at
# each stride: wider and closer to VGG's ReLUs than the narrow linear block outputs, which gave
# noisy, colourless textures. The pixels' Gram pins the palette, which MobileNet alone does not.
MOBILENET_TAPS = {
    "pixels": PIXELS,
    "conv0": "0",
    "expand2": "2.block.0",
    "expand4": "4.block.0",
    "expand7": "7.block.0",
    "expand8": "8.block.0",
    "expand14": "14.block.0",
}
MOBILENET_BYTES_PER_PIXEL = 2100.0  # as above
# TensorFlow's SAME padding pads stride-2 layers on the bottom/right only, which left a band of
# noise along those edges; mirrored borders put the edges inside the image.
MOBILENET_BORDER = 8


class Backbone(nn.Module):
    """A frozen feature network whose named layers are outputs of modules inside a sequential body.

    ``taps`` maps a layer name to the dotted path of a module in ``body`` ("1", "4.block.0"),
    or to ``PIXELS`` for the input image itself.
    """

    def __init__(
        self,
        name: str,
        body: nn.Sequential,
        taps: dict[str, str],
        style_layers: Sequence[str],
        content_layer: str,
        bytes_per_pixel: float,
        mean: Optional[Sequence[float]] = None,
        std: Optional[Sequence[float]] = None,
        border: int = 0,
    ) -> None:
        super().__init__()
        self.name = name
        self.body = body.eval().requires_grad_(False)
        self.taps = dict(taps)
        self.style_layers = tuple(style_layers)
        self.content_layer = content_layer
        self.bytes_per_pixel = bytes_per_pixel  # peak optimization memory per image pixel (measured)
        self.memory_format = torch.contiguous_format  # layout images are given in (see load_backbone)
        self.border = border  # mirrored pixels added around images so that edges look like the interior
        self.normalize = mean is not None
        self.register_buffer("mean", torch.tensor(mean or (0.0, 0.0, 0.0)).view(1, 3, 1, 1))
        self.register_buffer("std", torch.tensor(std or (1.0, 1.0, 1.0)).view(1, 3, 1, 1))
        self._captured: dict[str, torch.Tensor] = {}
        self._lock = threading.Lock()
        for layer, path in self.taps.items():
            if path != PIXELS:
                self.body.get_submodule(path).register_forward_hook(self._capture_hook(layer))

    def _capture_hook(self, layer: str):
        def hook(module: nn.Module, inputs, output: torch.Tensor) -> None:
            self._captured[layer] = output

        return hook

    @property
    def device(self) -> torch.device:
        return self.mean.device

    def forward(self, image: torch.Tensor, layers: Sequence[str]) -> dict[str, torch.Tensor]:
        """Features of ``image`` (N x 3 x H x W, RGB 0..1) at ``layers``, running only as deep as needed."""
        image = image.contiguous(memory_format=self.memory_format)
        blocks = [int(self.taps[name].split(".")[0]) for name in layers if self.taps[name] != PIXELS]
        x = (image - self.mean) / self.std if self.normalize else image
        with self._lock:
            self._captured = {}
            if blocks:
                self.body[: max(blocks) + 1](x)
            captured, self._captured = self._captured, {}
        return {name: image if self.taps[name] == PIXELS else captured[name] for name in layers}


def vgg19_body() -> nn.Sequential:
    """torchvision's VGG-19 ``features`` truncated after relu5_1, randomly initialised."""
    layers: list[nn.Module] = []
    channels = 3
    for item in _VGG19_PLAN:
        if item == "M":
            layers.append(nn.MaxPool2d(kernel_size=2, stride=2))
        else:
            layers += [nn.Conv2d(channels, item, kernel_size=3, padding=1), nn.ReLU(inplace=True)]
            channels = item
    return nn.Sequential(*layers)


def load_vgg19(path: Path) -> Backbone:
    """VGG-19 (relu1_1..relu5_1 style, relu4_2 content) with weights from a torchvision checkpoint."""
    try:
        state = torch.load(path, map_location="cpu", weights_only=True)
    except Exception as exc:  # noqa: BLE001 - any unreadable file means the same to the user
        raise WeightsMissing(f"{path} is not a readable VGG-19 checkpoint ({exc})", FETCH_HINT) from exc
    if not isinstance(state, dict):
        raise WeightsMissing(f"{path} holds a {type(state).__name__}, not a state dict", FETCH_HINT)
    body = vgg19_body()
    wanted = body.state_dict()
    features = {}
    for key, expected in wanted.items():
        tensor = state.get(f"features.{key}")
        if not isinstance(tensor, torch.Tensor) or tensor.shape != expected.shape:
            raise WeightsMissing(
                f"{path} is not a torchvision VGG-19 checkpoint (features.{key} missing or of the wrong shape)",
                FETCH_HINT,
            )
        features[key] = tensor.float()
    body.load_state_dict(features)
    return Backbone(
        "vgg19",
        body,
        VGG19_TAPS,
        style_layers=("relu1_1", "relu2_1", "relu3_1", "relu4_1", "relu5_1"),
        content_layer="relu4_2",
        bytes_per_pixel=VGG19_BYTES_PER_PIXEL,
        mean=IMAGENET_MEAN,
        std=IMAGENET_STD,
    )


def resolve_backbone(name: str, weights: Optional[str]) -> tuple[str, Optional[Path]]:
    """The concrete backbone ("vgg19" or "mobilenet") and, for VGG-19, its checkpoint file.

    "auto" is VGG-19 when its weights are given or installed, else MobileNet.
    """
    if name == "auto":
        name = "vgg19" if vgg19_configured(weights) else "mobilenet"
    return (name, locate_vgg19(weights)) if name == "vgg19" else (name, None)


def load_backbone(name: str, weights: Optional[Path], device: torch.device) -> Backbone:
    """The backbone ``name`` ("vgg19" with its checkpoint ``weights``, or "mobilenet") on ``device``."""
    net = load_vgg19(weights) if name == "vgg19" else load_mobilenet()
    # Channels-last is what CUDA's tensor cores want; on CPU it measured within +-10 % of NCHW
    # either way in bench/optimize.py, so one layout serves both.
    net.memory_format = torch.channels_last
    return net.to(device, memory_format=net.memory_format)


def load_mobilenet() -> Backbone:
    """The MobileNetV2 feature layers of the embedded style-prediction net (shipped offline)."""
    from ..nets import load_style_predictor

    body = copy.deepcopy(load_style_predictor().features)  # the shared predictor stays untouched
    return Backbone(
        "mobilenet",
        body,
        MOBILENET_TAPS,
        style_layers=("pixels", "conv0", "expand2", "expand4", "expand7", "expand14"),
        content_layer="expand8",
        bytes_per_pixel=MOBILENET_BYTES_PER_PIXEL,
        border=MOBILENET_BORDER,
    )
