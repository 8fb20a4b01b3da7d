"""The new layer's pixels: the engine's result, transparent where it left the original alone.

Pure standard-library byte work (strided slices and big-integer bit operations run at C speed), so
GIMP's Python needs no numpy.
"""
from __future__ import annotations

from typing import Optional

from .formats import PixelFormat

NONZERO_TO_FF = bytes([0] + [0xFF] * 255)


def layer_pixels(result: bytes, original: bytes, mask: Optional[bytes], channels: int, fmt: PixelFormat) -> bytes:
    """RGBA pixels of the new layer, in ``fmt``.

    ``result`` and ``original`` hold the same pixels with ``channels`` (3 or 4) components; ``mask`` is
    one uint8 per pixel or None for the whole region. A pixel is kept (its alpha copied, or opaque when
    the original has none) where the mask is above 0 or the engine changed its colour (a feathered edge);
    everywhere else the layer is transparent, so the original shows through untouched.
    """
    stride = channels * fmt.itemsize
    if channels not in (3, 4) or len(result) != len(original) or len(result) % stride:
        raise ValueError("result and original must be equally long runs of RGB or RGBA pixels")
    count = len(result) // stride
    if mask is not None and len(mask) != count:
        raise ValueError(f"the mask has {len(mask)} values for {count} pixels")
    keep = _kept(result, original, mask, count, stride, 3 * fmt.itemsize)
    out_stride = 4 * fmt.itemsize
    out = bytearray(count * out_stride)
    for k in range(3 * fmt.itemsize):
        out[k::out_stride] = result[k::stride]
    for j in range(fmt.itemsize):
        alpha = result[3 * fmt.itemsize + j::stride] if channels == 4 else bytes([fmt.opaque[j]]) * count
        out[3 * fmt.itemsize + j::out_stride] = _and(alpha, keep)
    return bytes(out)


def _kept(result: bytes, original: bytes, mask: Optional[bytes], count: int, stride: int, colour: int) -> bytes:
    """One byte per pixel: 0xFF where the pixel belongs to the layer, 0 where it is transparent."""
    if mask is None:
        return b"\xff" * count
    flags = int.from_bytes(mask, "little")
    for k in range(colour):
        flags |= int.from_bytes(result[k::stride], "little") ^ int.from_bytes(original[k::stride], "little")
    return flags.to_bytes(count, "little").translate(NONZERO_TO_FF)


def _and(values: bytes, keep: bytes) -> bytes:
    """``values`` where ``keep`` is 0xFF, 0 where it is 0 (byte by byte)."""
    return (int.from_bytes(values, "little") & int.from_bytes(keep, "little")).to_bytes(len(values), "little")
