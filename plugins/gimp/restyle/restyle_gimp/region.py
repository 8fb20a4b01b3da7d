"""Which pixels are sent: the selection's bounds plus the engine's context margin, inside the layer."""
from __future__ import annotations

from dataclasses import dataclass
from typing import Optional

from engine.client.geometry import Bounds

from .errors import PluginError


@dataclass(frozen=True)
class Region:
    """The rectangle sent to the engine, in the layer's coordinates, and whether the selection masks it."""

    crop: Bounds
    layer: Bounds  # the layer's offset and size in the image
    masked: bool

    @property
    def in_image(self) -> Bounds:
        """The crop in image coordinates: where the selection is read and the new layer goes."""
        return Bounds(self.layer.x + self.crop.x, self.layer.y + self.crop.y, self.crop.width, self.crop.height)


def plan_region(layer: Bounds, selection: Optional[Bounds], margin: int) -> Region:
    """The region for a layer at ``layer`` (offset and size in the image).

    ``selection`` is the selection's bounds in the layer's coordinates, or None to send the whole
    layer; the crop grows it by ``margin`` pixels of context on each side, clamped to the layer.
    """
    if margin < 0:
        raise ValueError("the context margin cannot be negative")
    whole = Bounds(0, 0, layer.width, layer.height)
    if selection is None:
        return Region(whole, layer, masked=False)
    inside = selection.clamp(layer.extent)
    if inside.is_empty:
        raise PluginError("the selection does not cover any of the active layer: select part of the layer, "
                          "or use Select › None to stylize all of it")
    return Region(inside.pad(margin).clamp(layer.extent), layer, masked=True)
