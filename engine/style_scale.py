"""Stroke size in the engine: the style scale's range and detail's, and "auto" (the strokes of a 1024 px
picture at any size). Standard library only: the Stylizer and the server's request checks use it.

What a client sends for these is engine/client/stroke_size.py, which works "auto" out from the pong
(``style_scale_range``, ``style_scale_auto_side``: the numbers here).
"""
from __future__ import annotations

from typing import Union

AUTO = "auto"
AUTO_REFERENCE_SIDE = 1024  # "auto": strokes as large, relative to the picture, as at this longer side
STYLE_SCALE_RANGE = (0.25, 8.0)
DETAIL_RANGE = (0.0, 1.0)

StyleScale = Union[float, str]  # a number in STYLE_SCALE_RANGE, or AUTO


def is_auto(value: object) -> bool:
    """Whether ``value`` asks for the automatic style scale."""
    return isinstance(value, str) and value == AUTO


def auto_style_scale(width: int, height: int) -> float:
    """The style scale that gives a ``width`` x ``height`` picture the strokes of an AUTO_REFERENCE_SIDE px one."""
    low, high = STYLE_SCALE_RANGE
    return min(high, max(low, max(width, height) / AUTO_REFERENCE_SIDE))
