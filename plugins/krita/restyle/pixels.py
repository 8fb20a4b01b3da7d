"""Pixel formats: Krita's RGBA layer bytes <-> the engine's RGBA images, in every RGBA colour depth.

Krita stores 8- and 16-bit integer RGBA as B, G, R, A and 16/32-bit float RGBA as R, G, B, A, all
little-endian. Krita's default profile for 16-bit and float images is linear (``...-g10.icc``); the
engine's nets expect sRGB-encoded values, so linear pixels are encoded to sRGB on the way out and
decoded on the way back. Pure Python (no numpy in Krita's Python); runs off the UI thread.
"""
from __future__ import annotations

import struct
from array import array
from dataclasses import dataclass
from functools import lru_cache
from typing import Callable, List, Tuple


class UnsupportedLayer(Exception):
    """The layer's colour model or depth cannot be stylized; the message says what to do."""


@dataclass(frozen=True)
class PixelFormat:
    """How one Krita RGBA depth is laid out and which engine dtype carries it."""

    depth: str  # Krita's colorDepth(): U8, U16, F16, F32
    dtype: str  # the engine's dtype
    itemsize: int
    bgr: bool  # blue first (integer depths) rather than red first (float depths)

    @property
    def pixel_bytes(self) -> int:
        return 4 * self.itemsize


FORMATS = {
    "U8": PixelFormat("U8", "uint8", 1, True),
    "U16": PixelFormat("U16", "uint16", 2, True),
    "F16": PixelFormat("F16", "float16", 2, False),
    "F32": PixelFormat("F32", "float32", 4, False),
}
CONVERT_HINT = "convert it with Image › Convert Image Color Space… to RGB/Alpha, then try again"


def pixel_format(color_model: str, depth: str, layer_name: str = "the layer") -> PixelFormat:
    """The format of an RGBA layer; raise ``UnsupportedLayer`` for other colour models and depths."""
    if color_model != "RGBA":
        raise UnsupportedLayer(f"'{layer_name}' is a {color_model} layer; Style Transfer works on RGB layers: "
                               f"{CONVERT_HINT}")
    if depth not in FORMATS:
        raise UnsupportedLayer(f"'{layer_name}' has colour depth {depth}, which Style Transfer cannot read: "
                               f"{CONVERT_HINT} (8-bit, 16-bit or 32-bit float)")
    return FORMATS[depth]


def is_linear(profile: str) -> bool:
    """Whether a Krita colour profile name denotes linear light (gamma 1.0)."""
    name = profile.lower()
    return "g10" in name or "linear" in name


def srgb_encode(v: float) -> float:
    """Linear light -> sRGB-encoded value (sign-preserving, unbounded above)."""
    if v < 0:
        return -srgb_encode(-v)
    return v * 12.92 if v <= 0.0031308 else 1.055 * v ** (1 / 2.4) - 0.055


def srgb_decode(v: float) -> float:
    """sRGB-encoded value -> linear light (sign-preserving, unbounded above)."""
    if v < 0:
        return -srgb_decode(-v)
    return v / 12.92 if v <= 0.04045 else ((v + 0.055) / 1.055) ** 2.4


@lru_cache(maxsize=None)
def _int_table(curve: Callable[[float], float], top: int) -> List[int]:
    """``curve`` tabulated for every integer value ``0..top``."""
    return [min(top, max(0, round(curve(i / top) * top))) for i in range(top + 1)]


def _channels(data: bytes, fmt: PixelFormat) -> Tuple[list, Callable[[list], bytes]]:
    """The values of ``data`` as a mutable sequence, and how to turn that sequence back into bytes."""
    if fmt.depth == "U8":
        return array("B", data), lambda a: a.tobytes()
    if fmt.depth == "U16":
        return array("H", data), lambda a: a.tobytes()
    if fmt.depth == "F32":
        return array("f", data), lambda a: a.tobytes()
    count = len(data) // 2
    return list(struct.unpack(f"<{count}e", data)), lambda a: struct.pack(f"<{len(a)}e", *a)


def _apply_curve(values: list, fmt: PixelFormat, curve: Callable[[float], float]) -> None:
    """Apply ``curve`` to the colour channels (not alpha) of RGBA ``values`` in place."""
    for c in range(3):
        if fmt.depth in ("U8", "U16"):
            table = _int_table(curve, 255 if fmt.depth == "U8" else 65535)
            values[c::4] = array(values.typecode, map(table.__getitem__, values[c::4]))
        else:
            converted = [curve(v) for v in values[c::4]]
            values[c::4] = array("f", converted) if isinstance(values, array) else converted


def _swap_red_blue(values: list) -> None:
    values[0::4], values[2::4] = values[2::4], values[0::4]


def to_engine(data: bytes, fmt: PixelFormat, linear: bool) -> bytes:
    """Krita layer bytes -> the engine's RGBA bytes of the same dtype, sRGB-encoded."""
    _check_length(data, fmt)
    if not fmt.bgr and not linear:
        return bytes(data)
    values, pack = _channels(bytes(data), fmt)
    if fmt.bgr:
        _swap_red_blue(values)
    if linear:
        _apply_curve(values, fmt, srgb_encode)
    return pack(values)


def from_engine(data: bytes, fmt: PixelFormat, linear: bool) -> bytes:
    """The engine's RGBA bytes -> Krita layer bytes (the inverse of :func:`to_engine`)."""
    _check_length(data, fmt)
    if not fmt.bgr and not linear:
        return bytes(data)
    values, pack = _channels(bytes(data), fmt)
    if linear:
        _apply_curve(values, fmt, srgb_decode)
    if fmt.bgr:
        _swap_red_blue(values)
    return pack(values)


def keep_changed(sent: bytes, result: bytes, fmt: PixelFormat) -> bytes:
    """``result`` with every pixel the engine left bit-identical to ``sent`` made fully transparent.

    The engine copies pixels outside the (feathered) mask exactly, so this keeps what it stylized and
    clears the rest: over the original layer, the new layer then shows exactly the engine's result.
    """
    if len(sent) != len(result):
        raise ValueError(f"the result has {len(result)} bytes, the content {len(sent)}")
    _check_length(sent, fmt)
    size = fmt.pixel_bytes
    out = bytearray(result)
    clear = bytes(size)
    for o in range(0, len(out), size):
        if sent[o:o + size] == result[o:o + size]:
            out[o:o + size] = clear
    return bytes(out)


def preview_rgba8(data: bytes, width: int, height: int, fmt: PixelFormat, linear: bool,
                  max_side: int) -> Tuple[int, int, bytes]:
    """A small 8-bit RGBA copy (nearest neighbour, at most ``max_side`` px) of Krita layer bytes."""
    _check_length(data, fmt, width * height)
    scale = max(width, height) / max_side if max(width, height) > max_side else 1.0
    w, h = max(1, int(width / scale)), max(1, int(height / scale))
    size = fmt.pixel_bytes
    rows = []
    for y in range(h):
        sy = min(height - 1, int(y * scale))
        for x in range(w):
            o = (sy * width + min(width - 1, int(x * scale))) * size
            rows.append(data[o:o + size])
    small = to_engine(b"".join(rows), fmt, linear)
    if fmt.depth == "U8":
        return w, h, small
    values, _ = _channels(small, fmt)
    top = 65535 if fmt.depth == "U16" else 1.0
    return w, h, bytes(round(max(0.0, min(255.0, v / top * 255))) for v in values)


def _check_length(data: bytes, fmt: PixelFormat, pixels: int = 0) -> None:
    n = len(data)
    if n % fmt.pixel_bytes or (pixels and n != pixels * fmt.pixel_bytes):
        raise ValueError(f"{n} bytes are not whole {fmt.depth} RGBA pixels" +
                         (f" ({pixels} expected)" if pixels else ""))
