"""method="optimize": Gatys-style optimization of the pixels against a pretrained CNN's features."""
from __future__ import annotations

import dataclasses
from typing import Optional, Sequence

import numpy as np
import torch

from ..client.geometry import Bounds
from ..errors import BadInput
from ..optimize.backbones import Backbone, load_backbone, resolve_backbone
from ..optimize.control import region_guides
from ..imaging.resample import to_array, to_tensor
from ..optimize.loop import Problem, optimize
from ..optimize.memory import check_fits
from ..optimize.objective import RegionStyles
from ..optimize.options import OptimizeOptions
from ..progress import CancelToken, ProgressCallback
from .base import Method, MethodSettings, RegionJob

CONTEXT_MARGIN = 48


class OptimizeMethod:
    """Optimizes the union of the regions' context boxes in one run, a guided style per region.

    ``fast`` is the method whose result starts the optimization when ``init="fast"`` (by default
    the arbitrary-style method, made when first needed).
    """

    name = "optimize"

    def __init__(self, device: torch.device, fast: Optional[Method] = None) -> None:
        self.device = torch.device(device)
        self.fast = fast
        self._backbones: dict[tuple, Backbone] = {}

    def context_margin(self, settings: MethodSettings) -> int:
        """Pixels of context wanted around a region: enough for the deepest layer to see past the edge."""
        return CONTEXT_MARGIN

    def backbone(self, options: OptimizeOptions) -> Backbone:
        """The backbone the options ask for, loaded once per (backbone, weights file)."""
        key = resolve_backbone(options.backbone, options.weights)
        if key not in self._backbones:
            self._backbones[key] = load_backbone(*key, self.device)
        return self._backbones[key]

    def render(
        self,
        rgb: np.ndarray,
        regions: Sequence[RegionJob],
        settings: MethodSettings,
        progress: Optional[ProgressCallback] = None,
        cancel: Optional[CancelToken] = None,
    ) -> list[np.ndarray]:
        """Stylize the regions of ``rgb``; returns each region's context box (see ``Method``)."""
        options = OptimizeOptions.from_dict(settings.extra)
        device = self.device
        box = union_box(regions)
        net = self.backbone(options)
        check_fits(box.extent, net.bytes_per_pixel, device)
        content = to_tensor(rgb[box.slices]).to(device)
        guides = region_guides([None if r.mask is None else r.mask[box.slices] for r in regions], box.extent)
        initial = self._initial(options.init, rgb, regions, settings, box, cancel)
        problem = Problem(
            content,
            guides.to(device),
            tuple(region_styles(r, device) for r in regions),
            None if initial is None else to_tensor(initial).to(device),
        )
        result = to_array(optimize(problem, net, options, settings.style_scale, settings.seed, progress, cancel))
        return [result[r.context.relative_to(box).slices] for r in regions]

    def _initial(self, init, rgb, regions, settings, box: Bounds, cancel) -> Optional[np.ndarray]:
        """The starting image over ``box``: the content, the fast method's result, or None (noise)."""
        if init == "noise":
            return None
        start = rgb[box.slices]
        if init == "content":
            return start
        if self.fast is None:
            from .feedforward import ArbitraryMethod

            self.fast = ArbitraryMethod(self.device)
        # The upscaled coarse result, without the full-resolution pass: the optimizer measures the style at
        # the style scale, and from the sharpened start its loss stays higher (12 iterations at 384²,
        # scale 2: 0.124 against 0.087 from the upscaled one; scale 4: 0.129 against 0.084).
        fast_settings = dataclasses.replace(settings, extra=None, detail=0.0)
        pieces = self.fast.render(rgb, regions, fast_settings, None, cancel)
        return paste_regions(start, regions, pieces, box)


def union_box(regions: Sequence[RegionJob]) -> Bounds:
    """The smallest rectangle holding every region's context box."""
    box = Bounds(0, 0, 0, 0)
    for region in regions:
        box = box.union(region.context)
    if box.is_empty:
        raise BadInput("nothing to stylize: every region is empty", "give a mask that covers some pixels")
    return box


def region_styles(region: RegionJob, device: torch.device) -> RegionStyles:
    """A region's style images as tensors with their weights; presets have no image to measure."""
    if any(style.image is None for style in region.styles):
        raise BadInput(
            "method='optimize' needs style images, and presets have none",
            "give a style image, or use method='preset' for the built-in styles",
        )
    return RegionStyles(
        tuple(to_tensor(style.image).to(device) for style in region.styles),
        tuple(style.weight for style in region.styles),
        region.strength,
    )


def paste_regions(
    base: np.ndarray, regions: Sequence[RegionJob], pieces: Sequence[np.ndarray], box: Bounds
) -> np.ndarray:
    """``base`` (the pixels of ``box``) with each region's piece blended in through its mask."""
    out = base.copy()
    for region, piece in zip(regions, pieces):
        where = region.context.relative_to(box).slices
        if region.mask is None:
            out[where] = piece
        else:
            alpha = region.mask[region.context.slices][..., None]
            out[where] = out[where] * (1 - alpha) + piece * alpha
    return out

