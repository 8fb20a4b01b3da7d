"""The two fast methods: Magenta's arbitrary-style net (any style image) and the 26-preset net."""
from __future__ import annotations

import copy
import math
from typing import Optional, Sequence

import numpy as np
import torch
import torch.nn.functional as F

from ..client.geometry import Extent
from ..nets import load_arbitrary, load_presets, load_style_predictor
from ..nets.fast_form import ARBITRARY_PLAN, PRESET_PLAN, Plan
from ..nets.presets import PRESET_COUNT, find_preset
from ..nets.style_predictor import PREDICTOR_SIZE
from ..nets.transformer import Conditioning, TransformerNet
from ..imaging.resample import center_square, resize_tensor, to_array, to_tensor
from ..progress import CancelToken, ProgressCallback, ProgressMeter
from .base import MethodSettings, RegionJob, StyleRef
from .transformer_runner import TilingConfig, run_transformer, steps_for

RECEPTIVE_MARGIN = 64  # pixels of context either net needs around a region (its receptive field)


def on_device(module: torch.nn.Module, device: torch.device) -> torch.nn.Module:
    """``module`` on ``device``: the shared CPU instance itself, or a copy (the shared one stays on the CPU)."""
    return module if device.type == "cpu" else copy.deepcopy(module).to(device)


class FeedForwardMethod:
    """What both fast methods share: working scale, tiling, progress; subclasses supply the style."""

    name = "feedforward"
    plan: Plan = {}
    bytes_per_pixel = 200  # peak working memory per pixel of a whole-image pass (measured, rounded up)

    def __init__(self, device: torch.device, memory_budget_mb: int = 1536) -> None:
        self.device = device
        self.tiling = TilingConfig(whole_max_pixels=memory_budget_mb * (1 << 20) // self.bytes_per_pixel)

    def context_margin(self, settings: MethodSettings) -> int:
        """Pixels of context wanted around a region: the receptive field at the working scale."""
        return 4 * math.ceil(RECEPTIVE_MARGIN * max(1.0, settings.style_scale) / 4)

    def render(
        self,
        rgb: np.ndarray,
        regions: Sequence[RegionJob],
        settings: MethodSettings,
        progress: Optional[ProgressCallback] = None,
        cancel: Optional[CancelToken] = None,
    ) -> list[np.ndarray]:
        """Stylized pixels of each region's context box (see :class:`engine.methods.base.Method`)."""
        working = [self._working_extent(r.context.extent, settings.style_scale) for r in regions]
        full_passes = [settings.detail > 0 and e.pixels < r.context.extent.pixels for r, e in zip(regions, working)]
        steps = sum(steps_for(e, self.tiling) + (steps_for(r.context.extent, self.tiling) if full else 0)
                    for r, e, full in zip(regions, working, full_passes))
        meter = ProgressMeter(steps, "stylize", progress, cancel)
        results = []
        for region, extent, full_pass in zip(regions, working, full_passes):
            rows, cols = region.context.slices
            crop = to_tensor(rgb[rows, cols]).to(self.device)
            with torch.inference_mode():
                cond = self.conditioning(region, crop)
                x = resize_tensor(crop, extent)
                y = run_transformer(self.transformer, cond, self.plan, x, self.tiling, meter)
                if full_pass:
                    y = self.sharpen(y, region.context.extent, cond, settings.detail, meter)
                else:
                    y = resize_tensor(y, region.context.extent)
                y = self.apply_strength(y, crop, region.strength)
            results.append(to_array(y))
        return results

    def sharpen(
        self,
        coarse: torch.Tensor,
        extent: Extent,
        cond: Conditioning,
        detail: float,
        meter: Optional[ProgressMeter] = None,
    ) -> torch.Tensor:
        """The result of a large style scale (``coarse``, at the working size) at ``extent``, with crisp edges.

        The net restyles its own upscaled output once more at full resolution. Of that pass only the
        frequencies finer than the working size are kept, ``detail`` times (0..1); the coarser ones,
        which carry the big strokes, their colours and their places, stay those of ``coarse``:
        ``out = up(coarse) + detail * (fine - up(down(fine)))``, computed in place of the pass's output
        as ``detail * fine + up(coarse - detail * down(fine))``: one full-size image less, and the
        pass's memory layout, which the caller reads without a copy.
        """
        coarse = coarse.contiguous()  # the net's channels-last output: enlarging it as NCHW is 2x faster here
        fine = run_transformer(self.transformer, cond, self.plan, resize_tensor(coarse, extent, mode="bilinear"),
                               self.tiling, meter)
        working = Extent(coarse.shape[-1], coarse.shape[-2])
        base = coarse - detail * resize_tensor(fine, working, mode="area")
        upscaled = F.interpolate(base, size=(extent.height, extent.width), mode="bilinear", align_corners=False)
        if detail < 1.0:
            fine.mul_(detail)
        return fine.add_(upscaled).clamp_(0.0, 1.0)

    @staticmethod
    def _working_extent(extent: Extent, style_scale: float) -> Extent:
        """The size the net runs at: larger ``style_scale`` means a smaller image, so bigger strokes."""
        scaled = extent.scaled(1.0 / style_scale)
        return Extent(max(16, scaled.width), max(16, scaled.height))

    @property
    def transformer(self) -> TransformerNet:
        raise NotImplementedError

    def conditioning(self, region: RegionJob, content: torch.Tensor) -> Conditioning:
        raise NotImplementedError

    def apply_strength(self, stylized: torch.Tensor, content: torch.Tensor, strength: float) -> torch.Tensor:
        return stylized


class ArbitraryMethod(FeedForwardMethod):
    """Any style image: its 100-d style vector conditions the transformer.

    Blends mix style vectors; ``strength`` moves from the content's own style vector (0) to the
    blend (1), which keeps structure better than fading pixels.
    """

    name = "arbitrary"
    plan = ARBITRARY_PLAN
    bytes_per_pixel = 120  # measured 109 B/px at 2048²

    def __init__(self, device: torch.device, memory_budget_mb: int = 1536) -> None:
        super().__init__(device, memory_budget_mb)
        self.nets = on_device(load_arbitrary(), device)
        self.predictor = on_device(load_style_predictor(), device)
        self._vectors: dict[str, torch.Tensor] = {}

    @property
    def transformer(self) -> TransformerNet:
        return self.nets.transformer

    def style_vector(self, image: torch.Tensor) -> torch.Tensor:
        """Style vector (1 x 100) of an RGB image tensor (1 x 3 x H x W): centre square at 256 x 256."""
        side = min(image.shape[-2:])
        top, left = (image.shape[-2] - side) // 2, (image.shape[-1] - side) // 2
        square = image[:, :, top : top + side, left : left + side]
        return self.predictor(resize_tensor(square, Extent(PREDICTOR_SIZE, PREDICTOR_SIZE)))

    def cached_style_vector(self, ref: StyleRef) -> torch.Tensor:
        """Style vector of a style image, computed once per style key."""
        if ref.image is None:
            raise ValueError("the arbitrary method needs style images, not presets")
        key = ref.key or str(id(ref.image))
        if key not in self._vectors:
            self._vectors[key] = self.style_vector(to_tensor(center_square(ref.image)).to(self.device))
        return self._vectors[key]

    def conditioning(self, region: RegionJob, content: torch.Tensor) -> Conditioning:
        total = sum(ref.weight for ref in region.styles)
        vector = sum(ref.weight / total * self.cached_style_vector(ref) for ref in region.styles)
        if region.strength < 1.0:
            vector = region.strength * vector + (1.0 - region.strength) * self.style_vector(content)
        return self.nets.conditioner(vector)


class PresetMethod(FeedForwardMethod):
    """The 26 built-in styles; blends mix their normalisation tables, ``strength`` fades pixels."""

    name = "preset"
    plan = PRESET_PLAN
    bytes_per_pixel = 200  # measured 190 B/px at 2048²

    def __init__(self, device: torch.device, memory_budget_mb: int = 1536) -> None:
        super().__init__(device, memory_budget_mb)
        self.nets = on_device(load_presets(), device)

    @property
    def transformer(self) -> TransformerNet:
        return self.nets.transformer

    def conditioning(self, region: RegionJob, content: torch.Tensor) -> Conditioning:
        weights = torch.zeros(PRESET_COUNT, device=self.device)
        total = sum(ref.weight for ref in region.styles)
        for ref in region.styles:
            if ref.preset is None:
                raise ValueError("the preset method needs preset styles, not images")
            weights[find_preset(ref.preset).index] += ref.weight / total
        return self.nets.conditioner(weights)

    def apply_strength(self, stylized: torch.Tensor, content: torch.Tensor, strength: float) -> torch.Tensor:
        return stylized if strength >= 1.0 else torch.lerp(content, stylized, strength)
