"""Small immutable geometry types: image sizes and rectangles with the arithmetic on them."""
from __future__ import annotations

from dataclasses import dataclass
from typing import Iterator


@dataclass(frozen=True)
class Extent:
    """A width and height in pixels."""

    width: int
    height: int

    @property
    def pixels(self) -> int:
        return self.width * self.height

    def scaled(self, factor: float) -> "Extent":
        """This extent scaled by ``factor``, at least one pixel on each side."""
        return Extent(max(1, round(self.width * factor)), max(1, round(self.height * factor)))

    def fit_within(self, max_side: int) -> "Extent":
        """This extent shrunk (never grown) so that its longer side is at most ``max_side``."""
        longest = max(self.width, self.height)
        return self if longest <= max_side else self.scaled(max_side / longest)


@dataclass(frozen=True)
class Bounds:
    """A rectangle: top-left corner ``(x, y)`` and size ``(width, height)``."""

    x: int
    y: int
    width: int
    height: int

    @staticmethod
    def of(extent: Extent) -> "Bounds":
        return Bounds(0, 0, extent.width, extent.height)

    @property
    def extent(self) -> Extent:
        return Extent(self.width, self.height)

    @property
    def right(self) -> int:
        return self.x + self.width

    @property
    def bottom(self) -> int:
        return self.y + self.height

    @property
    def is_empty(self) -> bool:
        return self.width <= 0 or self.height <= 0

    @property
    def slices(self) -> tuple[slice, slice]:
        """Row and column slices that cut this rectangle out of an ``H x W`` array."""
        return slice(self.y, self.bottom), slice(self.x, self.right)

    def pad(self, margin: int) -> "Bounds":
        """This rectangle grown by ``margin`` on every side."""
        return Bounds(self.x - margin, self.y - margin, self.width + 2 * margin, self.height + 2 * margin)

    def clamp(self, extent: Extent) -> "Bounds":
        """The part of this rectangle that lies inside ``(0, 0, extent)``."""
        x0, y0 = max(0, self.x), max(0, self.y)
        x1, y1 = min(extent.width, self.right), min(extent.height, self.bottom)
        return Bounds(x0, y0, max(0, x1 - x0), max(0, y1 - y0))

    def relative_to(self, outer: "Bounds") -> "Bounds":
        """This rectangle in the coordinates of ``outer``'s top-left corner."""
        return Bounds(self.x - outer.x, self.y - outer.y, self.width, self.height)

    def union(self, other: "Bounds") -> "Bounds":
        """The smallest rectangle holding both (an empty one counts for nothing)."""
        if self.is_empty:
            return other
        if other.is_empty:
            return self
        x0, y0 = min(self.x, other.x), min(self.y, other.y)
        x1, y1 = max(self.right, other.right), max(self.bottom, other.bottom)
        return Bounds(x0, y0, x1 - x0, y1 - y0)


def tile_grid(extent: Extent, tile: int, step_multiple: int = 1) -> Iterator[Bounds]:
    """Non-overlapping tiles of at most ``tile`` pixels covering ``extent``, row by row.

    Tile corners fall on multiples of ``step_multiple`` (``tile`` must be one).
    """
    if tile % step_multiple:
        raise ValueError(f"tile size {tile} is not a multiple of {step_multiple}")
    for y in range(0, extent.height, tile):
        for x in range(0, extent.width, tile):
            yield Bounds(x, y, min(tile, extent.width - x), min(tile, extent.height - y))
