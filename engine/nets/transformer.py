"""The feed-forward image transformer shared by both pretrained fast nets.

Both the Magenta arbitrary-style net and the 26-style net are the same shape: three contracting
convolutions (9x9, then two stride-2 3x3), residual blocks, two nearest-upsampling 3x3 convolutions
and a final 9x9 convolution with a sigmoid; reflect padding everywhere; conditional instance norm
whose scale and shift come from the style. They differ in widths, in the number of residual blocks
and in whether the contracting layers are normalised. The net is fully convolutional: it runs at
any size whose sides are multiples of :data:`SIZE_MULTIPLE`.
"""
from __future__ import annotations

import itertools
from dataclasses import dataclass
from typing import Callable, Optional, Sequence

import torch
import torch.nn.functional as F
from torch import nn

SIZE_MULTIPLE = 4  # two stride-2 convolutions, then two 2x upsamplings
NORM_EPS = 1e-5


@dataclass(frozen=True)
class TransformerSpec:
    """Widths and layout of a transformer net."""

    contract: tuple[int, int, int]  # output channels of the three contracting convolutions
    residual_blocks: int
    expand: tuple[int, int]  # output channels of the two upsampling convolutions
    normalize_contract: bool  # whether the contracting convolutions have instance norm


@dataclass(frozen=True)
class LayerSpec:
    """One convolution of the net."""

    name: str
    in_channels: int
    out_channels: int
    kernel: int
    stride: int = 1
    upsample: bool = False
    normalized: bool = True


@dataclass(frozen=True)
class Conditioning:
    """Per-layer instance-norm scale and shift (each ``1 x C``) for the normalised layers, in order."""

    gammas: tuple[torch.Tensor, ...]
    betas: tuple[torch.Tensor, ...]


NormStats = list[tuple[torch.Tensor, torch.Tensor]]  # per normalised layer: (mean, var), each 1 x C


def layer_specs(spec: TransformerSpec) -> list[LayerSpec]:
    """The convolutions of a net with this spec, in forward order."""
    c1, c2, c3 = spec.contract
    e1, e2 = spec.expand
    norm = spec.normalize_contract
    layers = [
        LayerSpec("contract.0", 3, c1, 9, normalized=norm),
        LayerSpec("contract.1", c1, c2, 3, stride=2, normalized=norm),
        LayerSpec("contract.2", c2, c3, 3, stride=2, normalized=norm),
    ]
    for block in range(spec.residual_blocks):
        layers += [LayerSpec(f"res.{block}.0", c3, c3, 3), LayerSpec(f"res.{block}.1", c3, c3, 3)]
    layers += [
        LayerSpec("expand.0", c3, e1, 3, upsample=True),
        LayerSpec("expand.1", e1, e2, 3, upsample=True),
        LayerSpec("expand.2", e2, 3, 9),
    ]
    return layers


class TransformerNet(nn.Module):
    """The transformer; the style enters only through :class:`Conditioning`."""

    def __init__(self, spec: TransformerSpec) -> None:
        super().__init__()
        self.spec = spec
        self.layers = layer_specs(spec)
        self.convs = nn.ModuleList(
            nn.Conv2d(l.in_channels, l.out_channels, l.kernel, stride=l.stride) for l in self.layers
        )

    @property
    def normalized_channels(self) -> list[int]:
        """Channel count of each normalised layer, in order (the shape of a Conditioning)."""
        return [l.out_channels for l in self.layers if l.normalized]

    def forward(
        self,
        x: torch.Tensor,
        cond: Conditioning,
        stats: Optional[NormStats] = None,
        record: Optional[NormStats] = None,
    ) -> torch.Tensor:
        """Stylize ``x`` (N x 3 x H x W, 0..1, sides multiples of 4) -> same shape, 0..1.

        Instance-norm statistics are the image's own, unless ``stats`` gives them. With ``record``,
        statistics are pooled over the whole batch (all crops count as one image) and appended.
        """
        counter = itertools.count()

        def normalize(h: torch.Tensor) -> torch.Tensor:
            return self._normalize(h, cond, next(counter), stats, record)

        return run_layers(self.layers, self.convs, x, normalize)

    @staticmethod
    def _normalize(
        h: torch.Tensor,
        cond: Conditioning,
        index: int,
        stats: Optional[NormStats],
        record: Optional[NormStats],
    ) -> torch.Tensor:
        gamma = cond.gammas[index][:, :, None, None]
        beta = cond.betas[index][:, :, None, None]
        if stats is not None:
            mean, var = (s[:, :, None, None] for s in stats[index])
        elif record is not None:
            var, mean = torch.var_mean(h, dim=(0, 2, 3), keepdim=True, correction=0)
            record.append((mean[:, :, 0, 0], var[:, :, 0, 0]))
        else:
            var, mean = torch.var_mean(h, dim=(2, 3), keepdim=True, correction=0)
        scale = gamma * torch.rsqrt(var + NORM_EPS)
        return h * scale + (beta - mean * scale)


def run_layers(
    layers: Sequence[LayerSpec],
    convs: Sequence[nn.Conv2d],
    x: torch.Tensor,
    normalize: Optional[Callable[[torch.Tensor], torch.Tensor]],
) -> torch.Tensor:
    """The reference forward pass; ``normalize`` is applied after normalised layers (see fast_form.py for speed)."""
    skip = x
    h = x
    last = len(layers) - 1
    for i, (layer, conv) in enumerate(zip(layers, convs)):
        is_res = layer.name.startswith("res.")
        if is_res and layer.name.endswith(".0"):
            skip = h
        if layer.upsample:
            h = F.interpolate(h, scale_factor=2.0, mode="nearest")
        h = conv(F.pad(h, [layer.kernel // 2] * 4, mode="reflect"))
        if normalize is not None and layer.normalized:
            h = normalize(h)
        if i == last:
            return torch.sigmoid(h)
        h = h + skip if is_res and layer.name.endswith(".1") else F.relu(h)
    raise ValueError("a transformer needs at least one layer")
