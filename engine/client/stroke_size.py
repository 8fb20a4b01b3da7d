"""What a client sends for the stroke size (style scale, "auto", detail), worked out from the engine's pong.

The engine states its reference side and range in the pong; the numbers here are what protocol v1 means
when a pong does not say. Standard library only, Python >= 3.8.
"""
from __future__ import annotations

import math
from typing import Any, Dict, Mapping, Tuple

AUTO = "auto"
FEATURES = ("detail", "style_scale_auto")  # what an engine's pong lists when it takes "auto", detail, canvas_size
AUTO_REFERENCE_SIDE = 1024  # "auto" on an engine whose pong gives no style_scale_auto_side
STYLE_SCALE_RANGE = (0.25, 8.0)  # the range of an engine whose pong gives no style_scale_range
DEFAULT_MARGIN = 64  # context pixels at style scale 1 when an engine does not say


def engine_takes_stroke_size(pong: Mapping[str, Any]) -> bool:
    """Whether the engine takes "auto", ``detail`` and ``canvas_size`` (its pong lists both features)."""
    features = pong.get("features")
    return isinstance(features, list) and all(name in features for name in FEATURES)


def engine_auto_scale(pong: Mapping[str, Any], canvas: Tuple[int, int]) -> float:
    """The number "auto" stands for on this engine (its pong's reference side and range) for ``canvas``."""
    side = pong.get("style_scale_auto_side")
    scale_range = pong.get("style_scale_range")
    if not (isinstance(side, int) and side > 0):
        side = AUTO_REFERENCE_SIDE
    if not (isinstance(scale_range, list) and len(scale_range) == 2
            and all(isinstance(v, (int, float)) and v > 0 for v in scale_range)):
        scale_range = STYLE_SCALE_RANGE
    low, high = scale_range
    return min(high, max(low, max(canvas[0], canvas[1]) / side))


def request_style_scale(pong: Mapping[str, Any], auto: bool, style_scale: float, canvas: Tuple[int, int]) -> float:
    """The style scale a request will run at: "auto" worked out for ``canvas`` where the engine takes it."""
    return engine_auto_scale(pong, canvas) if auto and engine_takes_stroke_size(pong) else style_scale


def stroke_options(pong: Mapping[str, Any], auto: bool, style_scale: float, detail: float,
                   canvas: Tuple[int, int]) -> Dict[str, Any]:
    """The request options for the stroke size; an engine without the features gets the number only."""
    if not engine_takes_stroke_size(pong):
        return {"style_scale": style_scale}
    if auto:
        return {"style_scale": AUTO, "canvas_size": [int(canvas[0]), int(canvas[1])], "detail": detail}
    return {"style_scale": style_scale, "detail": detail}


def context_margin(pong: Mapping[str, Any], method: str, style_scale: float = 1.0) -> int:
    """Pixels of context the engine wants around a selection for ``method`` at ``style_scale``.

    The engine states margins at style scale 1; a larger scale runs the net on a smaller image, so
    its receptive field covers proportionally more pixels (rounded up to the net's 4-pixel grid).
    """
    margins = pong.get("context_margins")
    base = margins.get(method) if isinstance(margins, dict) else None
    if not isinstance(base, int):
        base = pong.get("context_margin") if isinstance(pong.get("context_margin"), int) else DEFAULT_MARGIN
    return 4 * math.ceil(max(0, base) * max(1.0, style_scale) / 4)
