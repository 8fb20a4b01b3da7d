"""The optimization loop: coarse-to-fine levels, L-BFGS or Adam, progress, previews and cancel."""
from __future__ import annotations

from dataclasses import dataclass
from typing import Callable, Optional, Sequence

import numpy as np
import torch

from ..client.geometry import Extent
from ..progress import CancelToken, ProgressCallback, ProgressMeter
from .backbones import Backbone
from ..imaging.resample import resize_tensor, to_tensor
from .control import luminance, matched_luminance, pyramid, style_extent, with_colours_of
from .objective import Objective, RegionStyles
from .options import OptimizeOptions

PREVIEW_SIDE = 256


@dataclass(frozen=True)
class Problem:
    """What to optimize: the content (1 x 3 x H x W, 0..1), guide channels (R x H x W) and each
    region's styles at full size, and the starting image (``None``: noise)."""

    content: torch.Tensor
    guides: torch.Tensor
    regions: tuple[RegionStyles, ...]
    initial: Optional[torch.Tensor] = None

    @property
    def extent(self) -> Extent:
        return Extent(self.content.shape[-1], self.content.shape[-2])


def optimize(
    problem: Problem,
    backbone: Backbone,
    options: OptimizeOptions,
    style_scale: float = 1.0,
    seed: int = 0,
    progress: Optional[ProgressCallback] = None,
    cancel: Optional[CancelToken] = None,
) -> torch.Tensor:
    """The stylized image (1 x 3 x H x W, clamped to 0..1) after every level's iterations."""
    generator = torch.Generator().manual_seed(seed)
    levels = pyramid(problem.extent, options.scales)
    first = options.scales - len(levels)  # levels too small to exist are skipped, with their iterations
    meter = ProgressMeter(
        total=sum(options.iterations_at(first + i) for i in range(len(levels))),
        stage="optimize",
        callback=progress,
        cancel=cancel,
    )
    image = None
    for index, extent in enumerate(levels):
        if cancel is not None:
            cancel.check()  # before the targets are computed, which costs about an iteration
        if len(levels) > 1:
            meter.stage = f"optimize {extent.width}x{extent.height} ({index + 1}/{len(levels)})"
        content = resize_tensor(problem.content, extent)
        start = _start_image(problem, image, extent, generator)
        level = _level_inputs(problem, content, extent, style_scale, options.color == "luminance")
        objective = Objective(backbone, level.content, level.guides, level.regions, options, generator)
        variable = luminance(start) if options.color == "luminance" else start
        result = _run_level(objective, variable, level.render, options, options.iterations_at(first + index), meter)
        image = level.render(result)
    return image.clamp(0, 1)


@dataclass(frozen=True)
class _Level:
    """Inputs of one level: what the objective sees, and how the optimized variable becomes RGB."""

    content: torch.Tensor
    guides: torch.Tensor
    regions: tuple[RegionStyles, ...]
    render: Callable[[torch.Tensor], torch.Tensor]


def _level_inputs(problem: Problem, content: torch.Tensor, extent: Extent, style_scale: float, lum: bool) -> _Level:
    """Content, guides and styles resized for ``extent``; luminance-only inputs when ``lum``."""
    max_side = max(1024, extent.width, extent.height)

    def prepared(style: torch.Tensor) -> torch.Tensor:
        style_size = style_extent(Extent(style.shape[-1], style.shape[-2]), extent, style_scale, max_side)
        style = resize_tensor(style, style_size)
        return matched_luminance(style, content).expand(-1, 3, -1, -1) if lum else style

    regions = tuple(
        RegionStyles(tuple(prepared(s) for s in r.images), r.weights, r.strength) for r in problem.regions
    )
    guides = resize_tensor(problem.guides.unsqueeze(0), extent)[0]
    if lum:
        return _Level(
            luminance(content).expand(-1, 3, -1, -1), guides, regions, lambda y: with_colours_of(y, content)
        )
    return _Level(content, guides, regions, lambda x: x)


def _start_image(problem: Problem, previous: Optional[torch.Tensor], extent: Extent, generator) -> torch.Tensor:
    """The previous level's result upsampled, else the problem's initial image, else noise."""
    if previous is not None:
        return resize_tensor(previous, extent)
    if problem.initial is not None:
        return resize_tensor(problem.initial, extent)
    noise = torch.rand((1, 3, extent.height, extent.width), generator=generator)
    return noise.to(problem.content)


def _run_level(
    objective: Objective,
    start: torch.Tensor,
    render: Callable[[torch.Tensor], torch.Tensor],
    options: OptimizeOptions,
    iterations: int,
    meter: ProgressMeter,
) -> torch.Tensor:
    """Optimize ``start`` for ``iterations`` steps, reporting (and honouring cancel) after each one."""
    variable = start.detach().clone(memory_format=torch.contiguous_format).requires_grad_(True)
    if options.optimizer == "lbfgs":
        # One L-BFGS iteration per step() call keeps its history and costs one evaluation.
        optimizer = torch.optim.LBFGS([variable], lr=1.0, max_iter=1, history_size=50)
    else:
        optimizer = torch.optim.Adam([variable], lr=options.learning_rate)
    parts: dict[str, torch.Tensor] = {}

    def closure() -> torch.Tensor:
        optimizer.zero_grad(set_to_none=True)
        total, terms = objective(render(variable))
        total.backward()
        parts.clear()
        parts.update({name: value.detach() for name, value in terms.items()}, total=total.detach())
        return total

    for step in range(1, iterations + 1):
        optimizer.step(closure)
        if options.optimizer == "adam":
            with torch.no_grad():
                variable.clamp_(0, 1)
        preview = None
        if options.preview_every and step % options.preview_every == 0:
            preview = preview_image(render(variable.detach()))
        meter.step(losses={name: float(value) for name, value in parts.items()}, preview=preview)
    return variable.detach()


def preview_image(image: torch.Tensor, side: int = PREVIEW_SIDE) -> np.ndarray:
    """A small uint8 RGB copy (H x W x 3, longer side at most ``side``) of a 1 x 3 x H x W image."""
    extent = Extent(image.shape[-1], image.shape[-2]).fit_within(side)
    small = resize_tensor(image.float(), extent).clamp(0, 1)[0]
    return (small.permute(1, 2, 0) * 255 + 0.5).to(torch.uint8).cpu().numpy()


def full_problem(content: np.ndarray, styles: Sequence[np.ndarray], device: torch.device) -> Problem:
    """A single-region problem over the whole of ``content`` with equally weighted ``styles``."""
    image = to_tensor(content).to(device)
    guides = torch.ones(1, image.shape[-2], image.shape[-1], device=device)
    region = RegionStyles(tuple(to_tensor(s).to(device) for s in styles), tuple(1.0 for _ in styles))
    return Problem(image, guides, (region,), image)
