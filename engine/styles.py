"""Turning what callers pass as a style (paths, preset names, images, arrays) into StyleRefs."""
from __future__ import annotations

import hashlib
import math
import os
from pathlib import Path
from typing import Optional, Sequence, Union

import numpy as np
from PIL import Image

from .errors import BadInput
from .imaging.io import image_to_array, read_image
from .imaging.pixels import split
from .methods.base import StyleRef
from .nets.presets import find_preset

PRESET_PREFIX = "preset:"
StyleSource = Union[str, "os.PathLike[str]", Image.Image, np.ndarray, StyleRef]


def resolve_styles(style: Union[StyleSource, Sequence[StyleSource], None], weights: Optional[Sequence[float]]) -> tuple[StyleRef, ...]:
    """StyleRefs for one style or a list of them, with blend weights (equal when not given)."""
    if style is None:
        raise BadInput("no style given", "pass a style image or preset:NAME (`restyle styles` lists presets)")
    sources = list(style) if isinstance(style, (list, tuple)) else [style]
    if not sources:
        raise BadInput("the style list is empty", "pass at least one style")
    weights = check_weights(weights, len(sources))
    return tuple(_style_ref(source, weight) for source, weight in zip(sources, weights))


def check_weights(weights: Optional[Sequence[float]], count: int) -> list[float]:
    """Validated blend weights: one per style, finite, non-negative, not all zero."""
    if weights is None:
        return [1.0] * count
    values = [float(w) for w in weights]
    if len(values) != count:
        raise BadInput(f"{len(values)} weights for {count} styles", "give one weight per style, e.g. --weights 0.7,0.3")
    if any(not math.isfinite(w) or w < 0 for w in values) or sum(values) <= 0:
        raise BadInput("style weights must be finite, non-negative and not all zero", "e.g. --weights 0.7,0.3")
    return values


def _style_ref(source: StyleSource, weight: float) -> StyleRef:
    if isinstance(source, StyleRef):
        return StyleRef(weight=weight, preset=source.preset, image=source.image, key=source.key)
    if isinstance(source, (str, os.PathLike)):
        text = os.fspath(source)
        if text.startswith(PRESET_PREFIX):
            return StyleRef(weight=weight, preset=find_preset(text[len(PRESET_PREFIX) :]).name, key=text)
        if not Path(text).exists():
            try:
                return StyleRef(weight=weight, preset=find_preset(text).name, key=PRESET_PREFIX + text)
            except BadInput:
                raise BadInput(
                    f"style image not found: {text}", "check the path; for a built-in style use preset:NAME (see `restyle styles`)"
                ) from None
        return _image_ref(read_image(text), weight)
    if isinstance(source, Image.Image):
        return _image_ref(image_to_array(source), weight)
    if isinstance(source, np.ndarray):
        return _image_ref(source, weight)
    raise BadInput(f"cannot use a {type(source).__name__} as a style", "pass a path, preset:NAME, a PIL image or an array")


def _image_ref(pixels: np.ndarray, weight: float) -> StyleRef:
    rgb = split(pixels).rgb
    if min(rgb.shape[:2]) < 16:
        raise BadInput(f"style image is {rgb.shape[1]}x{rgb.shape[0]}", "use a style image of at least 16x16 pixels")
    return StyleRef(weight=weight, image=rgb, key=pixels_key(pixels))


def pixels_key(pixels: np.ndarray) -> str:
    """Cache key of an image: a digest of its dtype, shape and pixels as given (not of a float copy, 4x larger)."""
    digest = hashlib.sha1(f"{pixels.dtype.str}{pixels.shape}".encode())
    digest.update(np.ascontiguousarray(pixels).data)
    return "image:" + digest.hexdigest()
