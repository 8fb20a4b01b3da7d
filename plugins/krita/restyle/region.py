"""Where a job reads and writes: the selection's bounds plus the engine's context margin, and its mask."""
from __future__ import annotations

from dataclasses import dataclass
from typing import Optional

from .engine_link import geometry

Bounds = geometry.Bounds
Extent = geometry.Extent


class EmptySelection(Exception):
    """The selection covers no pixel of the image; the message says what to do."""


@dataclass(frozen=True)
class Region:
    """The content box read from the layer (and where the new layer's pixels go) and the selection in it."""

    content: Bounds  # image coordinates: what is sent to the engine and written back
    selection: Optional[Bounds]  # image coordinates; None: the whole content box is stylized

    @property
    def masked(self) -> bool:
        return self.selection is not None


def job_region(image: Extent, selection: Optional[Bounds], margin: int, selection_only: bool) -> Region:
    """The region of a job on an ``image``-sized canvas: selection bounds padded by ``margin``, or everything."""
    if margin < 0:
        raise ValueError("the context margin cannot be negative")
    whole = Bounds.of(image)
    if selection is None or not selection_only:
        return Region(whole, None)
    inside = selection.clamp(image)
    if inside.is_empty:
        raise EmptySelection("the selection lies outside the image: select a part of the image, "
                             "or untick 'Selection only'")
    return Region(inside.pad(margin).clamp(image), inside)


def check_mask(mask: bytes) -> None:
    """Raise ``EmptySelection`` when a selection mask read from Krita selects nothing."""
    if not any(mask):
        raise EmptySelection("the selection is empty inside the image: select the part to stylize, "
                             "or untick 'Selection only'")
