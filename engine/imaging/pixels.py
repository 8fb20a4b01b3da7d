"""Conversions between the caller's pixel arrays (any supported dtype, RGB or RGBA) and float RGB."""
from __future__ import annotations

from dataclasses import dataclass
from typing import Optional

import numpy as np

from ..errors import BadInput

SUPPORTED_DTYPES = (np.uint8, np.uint16, np.float16, np.float32)
_SCALE = {np.dtype(np.uint8): 255.0, np.dtype(np.uint16): 65535.0}


@dataclass(frozen=True)
class SplitPixels:
    """An image as float RGB (H x W x 3, 0..1) plus what is needed to rebuild the original layout."""

    rgb: np.ndarray
    alpha: Optional[np.ndarray]  # the untouched alpha channel, in the original dtype
    dtype: np.dtype
    gray: bool  # the input had one colour channel


def check_array(image: np.ndarray) -> np.ndarray:
    """Validate an image array's shape and dtype, raising :class:`BadInput` with a fix."""
    if not isinstance(image, np.ndarray):
        raise BadInput(f"expected a numpy array, got {type(image).__name__}")
    if image.ndim == 2:
        image = image[:, :, None]
    if image.ndim != 3 or image.shape[2] not in (1, 2, 3, 4):
        raise BadInput(
            f"image array has shape {image.shape}", "pass H x W (gray), H x W x 3 (RGB) or H x W x 4 (RGBA)"
        )
    if image.dtype not in [np.dtype(d) for d in SUPPORTED_DTYPES]:
        raise BadInput(f"image dtype {image.dtype} is not supported", "use uint8, uint16, float16 or float32")
    if image.shape[0] < 1 or image.shape[1] < 1:
        raise BadInput(f"image is empty ({image.shape[1]}x{image.shape[0]})")
    if image.dtype.kind == "f" and not np.isfinite(image).all():
        raise BadInput("image contains NaN or infinite values", "clamp or repair the pixel data first")
    return image


def to_float(values: np.ndarray) -> np.ndarray:
    """Pixel values of any supported dtype as float32 in 0..1 (floats are kept as they are)."""
    scale = _SCALE.get(values.dtype)
    if scale is None:
        return values.astype(np.float32, copy=False)
    return values.astype(np.float32) * np.float32(1.0 / scale)


def from_float(values: np.ndarray, dtype: np.dtype) -> np.ndarray:
    """Float pixel values (0..1) in ``dtype``: integers rounded and clamped, floats passed through."""
    scale = _SCALE.get(np.dtype(dtype))
    if scale is None:
        return values.astype(dtype)
    return np.clip(np.rint(values * np.float32(scale)), 0, scale).astype(dtype)


def split(image: np.ndarray) -> SplitPixels:
    """Float RGB of ``image`` and its alpha (if any); gray images are expanded to RGB."""
    image = check_array(image)
    channels = image.shape[2]
    gray = channels in (1, 2)
    color = image[:, :, :1] if gray else image[:, :, :3]
    alpha = image[:, :, channels - 1] if channels in (2, 4) else None
    rgb = to_float(color)
    if gray:
        rgb = np.repeat(rgb, 3, axis=2)
    return SplitPixels(np.ascontiguousarray(rgb), alpha, image.dtype, gray)


def merge(rgb: np.ndarray, like: SplitPixels) -> np.ndarray:
    """Rebuild an array in the layout of ``like`` (dtype, gray, alpha) from float RGB."""
    color = from_float(rgb, like.dtype)
    if like.gray:
        luma = rgb @ np.array([0.299, 0.587, 0.114], dtype=np.float32)
        color = from_float(luma[:, :, None], like.dtype)
    if like.alpha is None:
        return color
    return np.concatenate([color, like.alpha[:, :, None]], axis=2)
