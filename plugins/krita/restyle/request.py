"""What to send the engine for a job: style entries, options, the context margin, the new layer's name."""
from __future__ import annotations

from typing import Any, Dict, List, Mapping, Sequence, Tuple

from .engine_link import stroke_size as stroke
from .settings import Settings, StyleChoice

MAX_LAYER_NAME = 80
context_margin = stroke.context_margin


class RequestError(Exception):
    """The dialog's choices do not make a job; the message says what to change."""


def engine_method(settings: Settings, choices: Sequence[StyleChoice], pong: Mapping[str, Any]) -> str:
    """The engine method for the chosen quality and styles; raise ``RequestError`` when they do not fit.

    Fast is the preset nets for presets and the arbitrary net for style images; Quality is the
    optimization method, which works from style images only.
    """
    presets = any(c.kind == "preset" for c in choices)
    images = any(c.kind != "preset" for c in choices)
    if settings.method == "quality":
        if presets:
            raise RequestError("Quality works from style images (an image file or a layer), not presets: "
                               "choose Fast for presets")
        method = "optimize"
    elif presets and images:
        raise RequestError("Fast cannot blend presets with style images: blend only presets or only images")
    else:
        method = "preset" if presets else "arbitrary"
    margins = pong.get("context_margins")
    if isinstance(margins, dict) and margins and method not in margins:
        raise RequestError(f"this engine has no {method} method; choose Fast")
    return method


def style_scale(settings: Settings, pong: Mapping[str, Any], canvas: Tuple[int, int]) -> float:
    """The style scale the job runs at, for its context margin: "auto" worked out for the whole image."""
    return stroke.request_style_scale(pong, settings.style_scale_auto, settings.style_scale, canvas)


def engine_options(settings: Settings, method: str, masked: bool, pong: Mapping[str, Any],
                   canvas: Tuple[int, int]) -> Dict[str, Any]:
    """The ``options`` of a stylize request; feathering only applies to a selection.

    ``canvas`` is the image's size: with auto stroke size a selection gets the strokes of the whole image.
    """
    preserve = {"off": False, "luminance": "luminance", "histogram": "histogram"}[settings.preserve_colors]
    options = {"method": method, "strength": settings.strength, "preserve_colors": preserve,
               "feather": settings.feather if masked else 0.0}
    options.update(stroke.stroke_options(pong, settings.style_scale_auto, settings.style_scale, settings.detail,
                                         canvas))
    return options


def active_styles(choices: Sequence[StyleChoice]) -> List[StyleChoice]:
    """The styles that take part (weight above 0); raise ``RequestError`` when there is none."""
    active = [c for c in choices if c.weight > 0]
    if not active:
        raise RequestError("pick a style (or give one of the chosen styles a weight above 0)")
    return active


def style_entries(choices: Sequence[StyleChoice], images: Mapping[int, Any]) -> List[Dict[str, Any]]:
    """The ``styles`` of a stylize request; ``images[i]`` is the loaded image of non-preset choice ``i``."""
    entries = []
    for i, choice in enumerate(choices):
        if choice.kind == "preset":
            entries.append({"preset": choice.value, "weight": choice.weight})
        elif i in images:
            entries.append({"image": images[i], "weight": choice.weight})
        else:
            raise RequestError(f"the style '{choice.name}' has no image loaded")
    return entries


def layer_name(choices: Sequence[StyleChoice]) -> str:
    """The new layer's name: the styles it was made with."""
    name = " + ".join(c.name for c in choices) or "Style"
    if len(name) > MAX_LAYER_NAME:
        name = name[:MAX_LAYER_NAME - 1] + "…"
    return f"{name} (style transfer)"
