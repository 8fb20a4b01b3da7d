"""Small ICC v2 matrix/TRC profiles built in the tests: an Adobe RGB (1998)-compatible one, linear ones."""
from __future__ import annotations

import struct
from typing import Sequence

D50 = (0.9642, 1.0, 0.82491)
# Adobe RGB (1998) colorants adapted to D50, and its gamma 563/256 (2.19921875)
ADOBE_RGB_COLORANTS = ((0.60974, 0.31111, 0.01947), (0.20528, 0.62567, 0.06087), (0.14919, 0.06322, 0.74457))
ADOBE_RGB_GAMMA = 563 / 256
SRGB_COLORANTS = ((0.43607, 0.22249, 0.01392), (0.38515, 0.71687, 0.09708), (0.14307, 0.06061, 0.71410))


def _s15(value: float) -> bytes:
    return struct.pack(">i", round(value * 65536))


def _xyz(xyz: Sequence[float]) -> bytes:
    return b"XYZ " + bytes(4) + b"".join(_s15(v) for v in xyz)


def gamma_curve(gamma: float) -> bytes:
    """A ``curv`` tag with one entry: a pure gamma."""
    return b"curv" + bytes(4) + struct.pack(">IH", 1, round(gamma * 256))


def table_curve(values: Sequence[float]) -> bytes:
    """A ``curv`` tag sampled at even steps (values 0..1)."""
    return b"curv" + bytes(4) + struct.pack(f">I{len(values)}H", len(values), *(round(v * 65535) for v in values))


def parametric_curve(function: int, params: Sequence[float]) -> bytes:
    """A ``para`` tag: ICC parametric function ``function`` with ``params`` (g, a, b, c, d, e, f)."""
    return b"para" + bytes(4) + struct.pack(">H", function) + bytes(2) + b"".join(_s15(p) for p in params)


def _desc(text: str) -> bytes:
    ascii_text = text.encode("ascii") + b"\0"
    return b"desc" + bytes(4) + struct.pack(">I", len(ascii_text)) + ascii_text + bytes(8) + bytes(3) + bytes(67)


def profile(name: str, curve: bytes, colorants=ADOBE_RGB_COLORANTS, gray: bool = False) -> bytes:
    """An ICC v2 display profile: RGB (matrix + the same tone curve for each channel) or gray (``kTRC``)."""
    tags = [(b"desc", _desc(name)), (b"cprt", b"text" + bytes(4) + b"No copyright, use freely\0"),
            (b"wtpt", _xyz(D50))]
    if gray:
        tags.append((b"kTRC", curve))
    else:
        tags += [(b"rXYZ", _xyz(colorants[0])), (b"gXYZ", _xyz(colorants[1])), (b"bXYZ", _xyz(colorants[2])),
                 (b"rTRC", curve), (b"gTRC", curve), (b"bTRC", curve)]
    offset = 128 + 4 + 12 * len(tags)
    table, data = b"", b""
    for signature, body in tags:
        data += bytes(-(offset + len(data)) % 4)
        table += signature + struct.pack(">II", offset + len(data), len(body))
        data += body
    body = struct.pack(">I", len(tags)) + table + data
    header = (struct.pack(">I", 128 + len(body)) + bytes(4) + struct.pack(">I", 0x02100000) + b"mntr"
              + (b"GRAY" if gray else b"RGB ") + b"XYZ " + bytes(12) + b"acsp" + bytes(28) + _s15(D50[0])
              + _s15(D50[1]) + _s15(D50[2]))
    return header + bytes(128 - len(header)) + body


ADOBE_RGB = profile("Adobe RGB (1998) compatible (test)", gamma_curve(ADOBE_RGB_GAMMA))
LINEAR_SRGB = profile("sRGB primaries, linear (test)", gamma_curve(1.0), SRGB_COLORANTS)
LINEAR_GRAY = profile("Gray, linear (test)", gamma_curve(1.0), gray=True)
