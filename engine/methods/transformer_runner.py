"""Running a feed-forward transformer over an image of any size with bounded memory.

An image that fits the memory budget runs in one piece, with instance-norm statistics of its own.
A larger one runs in tiles: statistics are first gathered from a stratified sample of
full-resolution crops (one batched pass, pooled as if the crops were one image), then folded into
the net, which becomes a pure function applied to overlapping tiles. Each tile keeps only its
interior, and the overlap is at least the net's receptive field, so tiles agree exactly: no seams.
"""
from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Iterator, Optional

import torch
import torch.nn.functional as F

from ..client.geometry import Bounds, Extent, tile_grid
from ..nets.fast_form import FastTransformer, Margins, Plan
from ..nets.transformer import SIZE_MULTIPLE, Conditioning, TransformerNet
from ..progress import ProgressMeter

MIN_SIDE = 16  # the nets need a few pixels at quarter resolution to reflect into


@dataclass(frozen=True)
class TilingConfig:
    """When and how to tile."""

    whole_max_pixels: int  # images up to this many pixels run in one piece
    tile: int = 1024  # interior side of a tile (multiple of 4)
    margin: int = 64  # context on each inner side of a tile: at least the receptive field (multiple of 4)
    sample_crop: int = 256  # interior side of a statistics crop (small crops spread the sample wider)
    sample_pixels: int = 1 << 21  # pixels of the image sampled for statistics


def steps_for(extent: Extent, config: TilingConfig) -> int:
    """Progress steps :func:`run_transformer` takes for an image of ``extent``: 1, or the tile count (+1)."""
    padded = _padded_extent(extent)
    if padded.pixels <= config.whole_max_pixels:
        return 1
    return 1 + sum(1 for _ in tile_grid(padded, config.tile, SIZE_MULTIPLE))


def run_transformer(
    net: TransformerNet,
    cond: Conditioning,
    plan: Plan,
    image: torch.Tensor,
    config: TilingConfig,
    meter: Optional[ProgressMeter] = None,
) -> torch.Tensor:
    """Stylize ``image`` (1 x 3 x H x W, 0..1) -> 1 x 3 x H x W, in one piece or in tiles."""
    height, width = image.shape[-2:]
    if min(height, width) < MIN_SIDE:
        raise ValueError(f"image is {width}x{height}; both sides need at least {MIN_SIDE} pixels")
    padded = _padded_extent(Extent(width, height))
    x = F.pad(image, [0, padded.width - width, 0, padded.height - height], mode="reflect")
    with torch.inference_mode():
        if padded.pixels <= config.whole_max_pixels:
            out = FastTransformer(net, cond, plan)(x)
            if meter is not None:
                meter.step()
        else:
            out = _run_tiled(net, cond, plan, x, config, meter)
    return out[:, :, :height, :width]


def _padded_extent(extent: Extent) -> Extent:
    def up(v: int) -> int:
        return -(-v // SIZE_MULTIPLE) * SIZE_MULTIPLE

    return Extent(up(extent.width), up(extent.height))


def _run_tiled(
    net: TransformerNet, cond: Conditioning, plan: Plan, x: torch.Tensor, config: TilingConfig, meter: Optional[ProgressMeter]
) -> torch.Tensor:
    extent = Extent(x.shape[-1], x.shape[-2])
    stats = gather_stats(net, cond, plan, x, config)
    if meter is not None:
        meter.step()
    fast = FastTransformer(net, cond, plan).freeze(stats)
    out = torch.empty_like(x)
    for tile in tile_grid(extent, config.tile, SIZE_MULTIPLE):
        context = tile.pad(config.margin).clamp(extent)
        rows, cols = context.slices
        y = fast(x[:, :, rows, cols])
        inner = tile.relative_to(context)
        out_rows, out_cols = tile.slices
        in_rows, in_cols = inner.slices
        out[:, :, out_rows, out_cols] = y[:, :, in_rows, in_cols]
        if meter is not None:
            meter.step()
    return out


def gather_stats(net: TransformerNet, cond: Conditioning, plan: Plan, x: torch.Tensor, config: TilingConfig):
    """Instance-norm statistics of ``x`` estimated from a stratified sample of full-resolution crops."""
    extent = Extent(x.shape[-1], x.shape[-2])
    crops = list(sample_crops(extent, config))
    batch = torch.cat([x[:, :, c.slices[0], c.slices[1]] for c, _ in crops])
    record: list = []
    FastTransformer(net, cond, plan)(batch, record=record, margins=[m for _, m in crops])
    return record


def sample_crops(extent: Extent, config: TilingConfig) -> Iterator[tuple[Bounds, Margins]]:
    """Equal-size crops spread evenly over the image, each with the margins its statistics leave out.

    A crop side that lies on the image border leaves nothing out there: the net reflects at the
    border exactly as it does for the whole image. Inner sides leave out ``config.margin``.
    """
    side = config.sample_crop + 2 * config.margin
    width, height = min(side, extent.width), min(side, extent.height)
    count = max(1, round(config.sample_pixels / config.sample_crop**2))
    columns = max(1, min(round(math.sqrt(count * extent.width / extent.height)), extent.width // config.sample_crop))
    rows = max(1, min(math.ceil(count / columns), extent.height // config.sample_crop))
    for r in range(rows):
        for c in range(columns):
            x0 = _spread(c, columns, extent.width - width)
            y0 = _spread(r, rows, extent.height - height)
            crop = Bounds(x0, y0, width, height)
            m = config.margin
            yield crop, (
                0 if y0 == 0 else m,
                0 if crop.bottom == extent.height else m,
                0 if x0 == 0 else m,
                0 if crop.right == extent.width else m,
            )


def _spread(index: int, count: int, span: int) -> int:
    """Position of crop ``index`` of ``count`` spread evenly over ``span`` pixels, on the 4-pixel grid."""
    if count == 1:
        return span // 2 // SIZE_MULTIPLE * SIZE_MULTIPLE
    return round(index * span / (count - 1)) // SIZE_MULTIPLE * SIZE_MULTIPLE
