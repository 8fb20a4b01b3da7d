"""How GIMP pixels travel: image precision -> Babl format and the engine's dtype."""
from __future__ import annotations

from dataclasses import dataclass

from .errors import PluginError


@dataclass(frozen=True)
class PixelFormat:
    """One component type: its Babl name, the engine's dtype and the bytes per component."""

    babl_type: str
    dtype: str
    itemsize: int

    def babl(self, alpha: bool) -> str:
        """The Babl format name of perceptual (sRGB-curve) RGB or RGBA pixels of this type."""
        return f"R'G'B'{'A' if alpha else ''} {self.babl_type}"

    @property
    def opaque(self) -> bytes:
        """One fully opaque alpha component, little-endian."""
        return OPAQUE[self.dtype]


U8 = PixelFormat("u8", "uint8", 1)
U16 = PixelFormat("u16", "uint16", 2)
HALF = PixelFormat("half", "float16", 2)
FLOAT = PixelFormat("float", "float32", 4)

# GIMP's component types -> what is sent; 32-bit integer and double travel as float32 (the engine's widest).
COMPONENTS = {"u8": U8, "u16": U16, "u32": FLOAT, "half": HALF, "float": FLOAT, "double": FLOAT}
OPAQUE = {"uint8": b"\xff", "uint16": b"\xff\xff", "float16": b"\x00\x3c", "float32": b"\x00\x00\x80\x3f"}
MASK_FORMAT = "Y u8"  # the selection, 0..255, sent as a uint8 mask
STYLE_FORMAT = U8  # style images are read as 8-bit RGB


def pixel_format(precision: str) -> PixelFormat:
    """The format for a GIMP precision given by its nick, e.g. ``u16-non-linear`` or ``float-linear``."""
    component = precision.split("-", 1)[0]
    if component not in COMPONENTS:
        raise PluginError(f"unknown image precision {precision!r}; convert the image with Image › Precision "
                          "to 8-bit or 16-bit integer and run Style Transfer again")
    return COMPONENTS[component]


def check_rgb(base_type: str) -> None:
    """Raise unless the image's base type (nick: ``rgb``, ``gray`` or ``indexed``) is RGB."""
    if base_type != "rgb":
        mode = {"gray": "grayscale", "indexed": "indexed"}.get(base_type, base_type)
        raise PluginError(f"Style Transfer needs an RGB image, and this one is {mode}: "
                          "convert it with Image › Mode › RGB, then run Style Transfer again")
