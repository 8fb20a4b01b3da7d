"""The loss an image is optimized against: fixed content/style targets computed once, then evaluated."""
from __future__ import annotations

from dataclasses import dataclass
from typing import Optional, Sequence

import torch
import torch.nn.functional as F

from ..errors import BadInput
from . import losses
from .backbones import Backbone
from .control import guides_at
from .options import OptimizeOptions


@dataclass(frozen=True)
class RegionStyles:
    """The styles of one region: images (1 x 3 x H x W, 0..1) blended with weights, and a strength 0..1."""

    images: tuple[torch.Tensor, ...]
    weights: tuple[float, ...]
    strength: float = 1.0

    def blend(self) -> list[tuple[torch.Tensor, float]]:
        """(image, weight) pairs with the weights summing to one."""
        total = sum(self.weights)
        if total <= 0:
            raise BadInput("style weights sum to zero", "give at least one style a positive weight")
        return [(image, w / total) for image, w in zip(self.images, self.weights) if w > 0]


def layer_weights(backbone: Backbone, weights: Optional[Sequence[float]]) -> dict[str, float]:
    """Per style layer weights summing to one (equal when ``weights`` is None)."""
    layers = backbone.style_layers
    if weights is None:
        weights = [1.0] * len(layers)
    if len(weights) != len(layers):
        raise BadInput(
            f"layer_weights has {len(weights)} values but the {backbone.name} backbone has {len(layers)} style layers",
            f"give one weight per layer: {', '.join(layers)}",
        )
    total = sum(weights)
    return {name: w / total for name, w in zip(layers, weights) if w > 0}


class Objective:
    """Content, style (guided Gram and/or attention) and smoothness losses against fixed targets.

    ``guides`` (R x H x W) has one channel per region of ``regions`` (same order) and, when more
    channels than regions are given, a last one for the area to keep as it is (outside every
    region): there the target is the content's own statistics. Targets are computed once, under
    ``torch.inference_mode``; calling the objective only runs the backbone on the image.
    """

    def __init__(
        self,
        backbone: Backbone,
        content: torch.Tensor,
        guides: torch.Tensor,
        regions: Sequence[RegionStyles],
        options: OptimizeOptions,
        generator: torch.Generator,
    ) -> None:
        self.backbone = backbone
        self.options = options
        self.layer_weights = layer_weights(backbone, options.layer_weights)
        self.content_layer = backbone.content_layer
        self.layers = list(dict.fromkeys([*self.layer_weights, self.content_layer]))
        self.plain = guides.shape[0] == 1 and bool((guides == 1).all())
        with torch.inference_mode():
            targets, layer_guides = self._targets(content, guides, regions, generator)
        # Clones made outside inference mode, so that autograd may save them for the backward pass.
        self.targets = {key: {name: t.clone() for name, t in value.items()} for key, value in targets.items()}
        self.guides = {name: g.clone() for name, g in layer_guides.items()}
        self.norms = {
            key: {name: _norms(t, per_guide=key == "gram") for name, t in value.items()}
            for key, value in self.targets.items()
        }

    def _features(self, image: torch.Tensor) -> dict[str, torch.Tensor]:
        border = self.backbone.border
        if not border:
            return self.backbone(image, self.layers)
        features = self.backbone(padded(image, border), self.layers)
        return {name: interior(f, border, *image.shape[-2:]) for name, f in features.items()}

    def _targets(self, content, guides, regions, generator) -> tuple[dict, dict[str, torch.Tensor]]:
        """Targets by kind ("content", "gram", "attention") and layer; the guides at each layer."""
        content_features = self._features(content)
        styles = [[(self._features(image), w) for image, w in region.blend()] for region in regions]
        targets: dict[str, dict[str, torch.Tensor]] = {"content": {self.content_layer: content_features[self.content_layer]}}
        all_guides: dict[str, torch.Tensor] = {}
        if self.options.uses_gram:
            targets["gram"] = {}
        if self.options.uses_attention:
            targets["attention"] = {}
        for name in self.layer_weights:
            feats = content_features[name]
            layer_guides = None if self.plain else guides_at(guides.to(feats), *feats.shape[-2:])
            if self.options.uses_gram:
                own = losses.gram(feats, layer_guides)
                per_guide = []
                for index, region in enumerate(regions):
                    style = sum(w * losses.gram(f[name]) for f, w in styles[index])
                    per_guide.append(region.strength * style[0] + (1 - region.strength) * own[index])
                per_guide += list(own[len(regions) :])  # the area outside every region keeps its own
                targets["gram"][name] = torch.stack(per_guide)
                if layer_guides is not None:
                    all_guides[name] = layer_guides
            if self.options.uses_attention:
                targets["attention"][name] = self._attention_target(
                    feats, layer_guides, regions, [[(f[name], w) for f, w in s] for s in styles], generator
                )
        return targets, all_guides

    def _attention_target(self, feats, layer_guides, regions, styles, generator) -> torch.Tensor:
        """Attention targets of each region blended by the guides; the content itself elsewhere."""
        per_region = []
        for region, blend in zip(regions, styles):
            styled = sum(
                w * losses.attention_target(feats, f, self.options.max_attention_keys, generator) for f, w in blend
            )
            per_region.append(region.strength * styled + (1 - region.strength) * feats)
        if layer_guides is None:
            return per_region[0]
        weights = layer_guides.unsqueeze(1)  # R x 1 x h x w
        blended = sum(weights[i] * t for i, t in enumerate(per_region)) + weights[len(regions) :].sum(0) * feats
        return blended / weights.sum(0).clamp_min(losses.EPS)

    def __call__(self, image: torch.Tensor) -> tuple[torch.Tensor, dict[str, torch.Tensor]]:
        """The total loss of ``image`` (1 x 3 x H x W) and its parts, as differentiable tensors."""
        features = self._features(image)
        parts: dict[str, torch.Tensor] = {}
        opts = self.options
        target = self.targets["content"][self.content_layer]
        parts["content"] = opts.content_weight * losses.relative_error(
            features[self.content_layer], target, self.norms["content"][self.content_layer]
        )
        if opts.uses_gram:
            guides = self.guides
            parts["style"] = opts.style_weight * sum(
                w * losses.guided_gram_loss(
                    losses.gram(features[name], guides.get(name)), self.targets["gram"][name], self.norms["gram"][name]
                )
                for name, w in self.layer_weights.items()
            )
        if opts.uses_attention:
            parts["attention"] = opts.attention_weight * sum(
                w * losses.relative_error(features[name], self.targets["attention"][name], self.norms["attention"][name])
                for name, w in self.layer_weights.items()
            )
        parts["tv"] = opts.tv_weight * losses.total_variation(image)
        return sum(parts.values()), parts


def padded(image: torch.Tensor, border: int) -> torch.Tensor:
    """``image`` (N x C x H x W) grown by ``border`` mirrored pixels on every side, so that the
    network sees its edges as it sees the interior (the features over the border are cut off)."""
    return F.pad(image, (border,) * 4, mode="reflect") if border else image


def interior(features: torch.Tensor, border: int, height: int, width: int) -> torch.Tensor:
    """The part of a layer's ``features`` that lies over the image, not over its mirrored border
    (at least one position on each axis, however deep the layer)."""
    rows, cols = features.shape[-2:]
    cut_rows = _cut(rows, border * rows / (height + 2 * border))
    cut_cols = _cut(cols, border * cols / (width + 2 * border))
    return features[..., cut_rows : rows - cut_rows, cut_cols : cols - cut_cols]


def _cut(size: int, margin: float) -> int:
    """``margin`` rounded, or less, so that ``size - 2 * cut`` stays at least one."""
    return max(0, min(round(margin), (size - 1) // 2))


def _norms(target: torch.Tensor, per_guide: bool) -> torch.Tensor:
    """Squared norm of a target (per guide for stacked Grams), never zero."""
    dims = tuple(range(1, target.dim())) if per_guide else tuple(range(target.dim()))
    return target.square().sum(dims).clamp_min(losses.EPS)
