"""Linear-light pixels, handled as the plugins handle linear layers: sRGB-encoded for the nets, decoded after.

The nets were trained on sRGB-encoded values. An image in linear light (a float file without a profile,
or a profile whose tone curve is gamma 1.0) is encoded with the sRGB curve before stylizing and decoded
afterwards, in its own dtype, alpha untouched: what the Krita plugin does for ``...-g10`` layers and
what GIMP's ``R'G'B'`` formats do for linear images.
"""
from __future__ import annotations

from typing import Optional

import numpy as np

from .icc import is_linear_profile
from .pixels import from_float, to_float


def is_linear(pixels: np.ndarray, icc_profile: Optional[bytes]) -> bool:
    """Whether pixels hold linear light: their profile's tone curve is linear, or they are float without one."""
    if icc_profile:
        return is_linear_profile(icc_profile)
    return pixels.dtype.kind == "f"


def srgb_encode(values: np.ndarray) -> np.ndarray:
    """Linear light -> sRGB-encoded values (float32; sign-preserving, unbounded above)."""
    v = np.abs(values.astype(np.float32))
    encoded = np.where(v <= 0.0031308, v * 12.92, 1.055 * np.power(v, 1 / 2.4) - 0.055)
    return (np.sign(values) * encoded).astype(np.float32)


def srgb_decode(values: np.ndarray) -> np.ndarray:
    """sRGB-encoded values -> linear light (float32; sign-preserving, unbounded above)."""
    v = np.abs(values.astype(np.float32))
    decoded = np.where(v <= 0.04045, v / 12.92, np.power((v + 0.055) / 1.055, 2.4))
    return (np.sign(values) * decoded).astype(np.float32)


def encode_linear(pixels: np.ndarray) -> np.ndarray:
    """Linear-light pixels (H x W or H x W x C, any supported dtype) sRGB-encoded in the same dtype; alpha kept."""
    return _apply(pixels, srgb_encode)


def decode_linear(result: np.ndarray, sent: np.ndarray, original: np.ndarray) -> np.ndarray:
    """A result stylized from ``sent`` (the encoded ``original``) back in linear light.

    Pixels the engine left as they were sent become ``original``'s exactly, so unstylized pixels
    (outside a mask) stay bit-exact even where decoding would round differently.
    """
    decoded = _apply(result, srgb_decode)
    untouched = result == sent
    if untouched.ndim == 3:
        untouched = untouched.all(axis=2, keepdims=True)
    return np.where(untouched, original, decoded)


def _apply(pixels: np.ndarray, curve) -> np.ndarray:
    """``curve`` applied to the colour channels (the first one of gray + alpha, the first three of RGBA)."""
    if pixels.ndim == 2:
        return from_float(curve(to_float(pixels)), pixels.dtype)
    colour = 1 if pixels.shape[2] in (1, 2) else 3
    out = pixels.copy()
    out[:, :, :colour] = from_float(curve(to_float(pixels[:, :, :colour])), pixels.dtype)
    return out
