"""Selection masks: coercion from the many forms callers have, feathering, bounds and compositing."""
from __future__ import annotations

import math
from typing import Optional, Union

import numpy as np
from PIL import Image

from ..client.geometry import Bounds, Extent
from ..errors import BadInput
from .pixels import from_float, to_float

MaskLike = Union[np.ndarray, Image.Image]


def coerce_mask(mask: MaskLike, extent: Extent) -> np.ndarray:
    """A float32 coverage array (H x W, 0..1) from a PIL image (L, 1, I;16, F, LA, RGBA: its alpha) or array.

    Integer arrays are scaled by their dtype's range, booleans count as 0/1, float arrays must lie
    in 0..1. The mask must have the image's size.
    """
    if isinstance(mask, Image.Image):
        mask = _pil_coverage(mask)
    if not isinstance(mask, np.ndarray):
        raise BadInput(f"a mask must be a PIL image or a numpy array, got {type(mask).__name__}")
    if mask.ndim == 3 and mask.shape[2] in (1, 2, 4):
        mask = mask[:, :, -1] if mask.shape[2] != 1 else mask[:, :, 0]
    if mask.ndim != 2:
        raise BadInput(f"mask has shape {mask.shape}", "pass a single-channel H x W mask (or an image with alpha)")
    if (mask.shape[1], mask.shape[0]) != (extent.width, extent.height):
        raise BadInput(
            f"mask is {mask.shape[1]}x{mask.shape[0]} but the image is {extent.width}x{extent.height}",
            "give a mask of exactly the image's size",
        )
    if mask.dtype == bool:
        return mask.astype(np.float32)
    if mask.dtype.kind in "ui":
        if mask.dtype not in (np.uint8, np.uint16):
            mask = mask.astype(np.int64)
            if mask.min() < 0 or mask.max() > 255:
                raise BadInput("integer mask values must lie in 0..255", "pass uint8 (0..255) or float (0..1) values")
            return (mask / 255.0).astype(np.float32)
        return to_float(mask)
    values = mask.astype(np.float32)
    if not np.isfinite(values).all() or values.min() < 0 or values.max() > 1:
        raise BadInput("float mask values must be finite and lie in 0..1", "scale the mask to 0..1")
    return values


def _pil_coverage(image: Image.Image) -> np.ndarray:
    if image.mode in ("LA", "RGBA", "PA", "La", "RGBa"):
        return np.asarray(image.getchannel("A"))
    if image.mode == "1":
        return np.asarray(image, dtype=bool)
    if image.mode in ("L", "I;16", "F"):
        values = np.asarray(image)
        return values if image.mode != "F" else np.clip(values, 0, 1)
    if image.mode == "I":
        return (np.clip(np.asarray(image), 0, 65535)).astype(np.uint16)
    return np.asarray(image.convert("L"))


def feather_mask(mask: np.ndarray, radius: float) -> np.ndarray:
    """The mask blurred by a Gaussian whose 3-sigma reach is ``radius`` pixels (0: unchanged).

    The kernel is truncated at ``radius``, so coverage spreads at most ``radius`` pixels outward.
    """
    if radius <= 0:
        return mask
    sigma = radius / 3.0
    reach = int(math.ceil(radius))
    offsets = np.arange(-reach, reach + 1, dtype=np.float64)
    kernel = np.exp(-0.5 * (offsets / sigma) ** 2)
    kernel = (kernel / kernel.sum()).astype(np.float32)
    blurred = _convolve_axis(mask, kernel, axis=0)
    return np.clip(_convolve_axis(blurred, kernel, axis=1), 0.0, 1.0)


def _convolve_axis(values: np.ndarray, kernel: np.ndarray, axis: int) -> np.ndarray:
    """1-D convolution along ``axis`` with zero padding (coverage does not leak in from outside)."""
    import torch
    import torch.nn.functional as F

    reach = len(kernel) // 2
    data = torch.from_numpy(np.ascontiguousarray(values, dtype=np.float32))
    if axis == 0:
        data = data.T
    weight = torch.from_numpy(kernel).view(1, 1, -1)
    result = F.conv1d(data.reshape(-1, 1, data.shape[-1]), weight, padding=reach).reshape(data.shape)
    result = result.T if axis == 0 else result
    return result.contiguous().numpy()


def mask_bounds(mask: np.ndarray) -> Bounds:
    """The smallest rectangle holding every non-zero pixel (empty Bounds if there is none)."""
    rows = np.flatnonzero(mask.any(axis=1))
    cols = np.flatnonzero(mask.any(axis=0))
    if rows.size == 0:
        return Bounds(0, 0, 0, 0)
    return Bounds(int(cols[0]), int(rows[0]), int(cols[-1] - cols[0] + 1), int(rows[-1] - rows[0] + 1))


def composite(original: np.ndarray, stylized: np.ndarray, coverage: Optional[np.ndarray]) -> np.ndarray:
    """``stylized`` over ``original`` (same dtype and shape) where ``coverage`` > 0, blended by it.

    ``coverage`` None means everywhere. Pixels with zero coverage are bit-exact copies of
    ``original``. Only colour channels are blended: an alpha channel (4th, or 2nd for gray) is always
    the original's.
    """
    color = slice(0, 3) if original.shape[2] >= 3 else slice(0, 1)
    out = original.copy()
    if coverage is None or coverage.min() >= 1.0:
        out[:, :, color] = stylized[:, :, color]
        return out
    m = coverage[:, :, None]
    mixed = from_float(to_float(original[:, :, color]) * (1 - m) + to_float(stylized[:, :, color]) * m, original.dtype)
    out[:, :, color] = np.where(m > 0, mixed, original[:, :, color])
    return out
