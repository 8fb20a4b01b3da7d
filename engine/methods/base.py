"""The interface every stylization method implements, and the types it receives."""
from __future__ import annotations

from dataclasses import dataclass
from typing import Optional, Protocol, Sequence

import numpy as np

from ..client.geometry import Bounds
from ..progress import CancelToken, ProgressCallback


@dataclass(frozen=True)
class StyleRef:
    """One style of a blend: a preset name or an RGB image, and its weight."""

    weight: float = 1.0
    preset: Optional[str] = None
    image: Optional[np.ndarray] = None  # H x W x 3 float32 in 0..1
    key: str = ""  # stable identity of the style (preset name or content hash), for caches

    def __post_init__(self) -> None:
        if (self.preset is None) == (self.image is None):
            raise ValueError("a StyleRef needs exactly one of preset or image")


@dataclass(frozen=True)
class RegionJob:
    """One region to stylize: where, with which styles, how strongly.

    ``mask`` is the feathered coverage (float32, 0..1) over the whole image, ``None`` for
    "everything". ``bounds`` is the mask's non-zero box; ``context`` is that box grown by the
    method's context margin, clamped to the image, which is what the method computes on.
    """

    styles: tuple[StyleRef, ...]
    strength: float
    bounds: Bounds
    context: Bounds
    mask: Optional[np.ndarray] = None


@dataclass(frozen=True)
class MethodSettings:
    """Options shared by every method."""

    style_scale: float = 1.0
    detail: float = 1.0  # above style scale 1: 0 keeps the upscaled result (soft), 1 adds a full-resolution pass
    device: str = "cpu"
    tile_size: Optional[int] = None  # None: the method decides from its memory budget
    seed: int = 0
    extra: Optional[dict] = None  # method-specific options (e.g. the optimizer's)


class Method(Protocol):
    """A stylization method: turns regions of an RGB image into stylized pixels."""

    name: str

    def context_margin(self, settings: MethodSettings) -> int:
        """Pixels of context wanted around a region's mask box."""
        ...

    def render(
        self,
        rgb: np.ndarray,
        regions: Sequence[RegionJob],
        settings: MethodSettings,
        progress: Optional[ProgressCallback] = None,
        cancel: Optional[CancelToken] = None,
    ) -> list[np.ndarray]:
        """Stylize ``rgb`` (H x W x 3 float32, 0..1) for each region.

        Returns one float32 array per region, the stylized pixels of ``region.context``
        (shape ``context.height x context.width x 3``). Strength is applied by the method
        (its meaning differs per method); masks and compositing are the caller's job.
        """
        ...
