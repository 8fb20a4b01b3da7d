"""Reading an ICC profile: its colour space, and its tone curves (``rTRC``.., ``kTRC``) to tell linear light."""
from __future__ import annotations

import struct
from typing import Callable, Optional

ToneCurve = Callable[[float], float]
TRC_TAGS = (b"rTRC", b"gTRC", b"bTRC", b"kTRC")
LINEAR_TOLERANCE = 0.01  # of full scale: a curve this close to y = x is linear light
_PROBES = (0.05, 0.2, 0.5, 0.8)
_PARAMETERS = {0: 1, 1: 3, 2: 4, 3: 5, 4: 7}  # parametricCurveType function type -> its number of parameters


def colour_space(icc: bytes) -> Optional[str]:
    """The colour space of the pixels a profile describes (``RGB``, ``GRAY``, ``CMYK``, ...); None if not a profile."""
    if len(icc) < 128 or icc[36:40] != b"acsp":
        return None
    return icc[16:20].decode("latin-1").strip()


def tone_curves(icc: bytes) -> list[ToneCurve]:
    """The tone curves (encoded value -> linear light, 0..1) of a matrix/TRC profile; empty when it has none."""
    curves = []
    for signature, data in _tags(icc).items():
        if signature in TRC_TAGS:
            curve = _curve(data)
            if curve is not None:
                curves.append(curve)
    return curves


def is_linear_profile(icc: bytes) -> bool:
    """Whether an ICC profile encodes linear light: every tone curve it has is y = x (gamma 1.0)."""
    curves = tone_curves(icc)
    return bool(curves) and all(abs(curve(x) - x) <= LINEAR_TOLERANCE for curve in curves for x in _PROBES)


def _tags(icc: bytes) -> dict[bytes, bytes]:
    """The tag table of a profile: signature -> data; empty for data that is not an ICC profile."""
    if len(icc) < 132 or icc[36:40] != b"acsp":
        return {}
    (count,) = struct.unpack_from(">I", icc, 128)
    tags = {}
    for i in range(min(count, (len(icc) - 132) // 12)):
        signature, offset, size = struct.unpack_from(">4sII", icc, 132 + 12 * i)
        if offset + size <= len(icc):
            tags[signature] = icc[offset:offset + size]
    return tags


def _curve(data: bytes) -> Optional[ToneCurve]:
    """A ``curv`` or ``para`` tag as a function; None for other types or truncated data."""
    kind = data[:4]
    if kind == b"curv" and len(data) >= 12:
        (count,) = struct.unpack_from(">I", data, 8)
        if len(data) < 12 + 2 * count:
            return None
        if count == 0:
            return lambda x: x
        if count == 1:
            gamma = struct.unpack_from(">H", data, 12)[0] / 256.0
            return lambda x: x ** gamma
        table = struct.unpack_from(f">{count}H", data, 12)
        return lambda x: _interpolate(table, x)
    if kind == b"para" and len(data) >= 12:
        (function,) = struct.unpack_from(">H", data, 8)
        needed = _PARAMETERS.get(function)
        if needed is None or len(data) < 12 + 4 * needed:
            return None
        params = [v / 65536.0 for v in struct.unpack_from(f">{needed}i", data, 12)]
        return lambda x: _parametric(function, params, x)
    return None


def _interpolate(table: tuple[int, ...], x: float) -> float:
    """A sampled curve (values 0..65535 at even steps) at ``x``, linearly interpolated."""
    position = x * (len(table) - 1)
    low = min(int(position), len(table) - 2)
    fraction = position - low
    return (table[low] * (1 - fraction) + table[low + 1] * fraction) / 65535.0


def _parametric(function: int, p: list[float], x: float) -> float:
    """ICC parametricCurveType functions 0-4 (ICC.1:2010, table 65) at ``x``."""
    g = p[0]
    if function == 0:
        return x ** g
    a, b = p[1], p[2]
    if function == 1:
        return _power(a * x + b, g)
    if function == 2:
        return _power(a * x + b, g) + p[3]
    if function == 3:
        return _power(a * x + b, g) if x >= p[4] else p[3] * x
    return _power(a * x + b, g) + p[5] if x >= p[4] else p[3] * x + p[6]


def _power(base: float, exponent: float) -> float:
    """``base ** exponent`` with a negative base clamped to 0, as the curves do below their break point."""
    return max(base, 0.0) ** exponent
