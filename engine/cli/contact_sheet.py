"""Contact sheets: many small results on one labelled image."""
from __future__ import annotations

from typing import Optional, Sequence

import numpy as np
from PIL import Image, ImageDraw

from ..imaging.io import array_to_image


def grid(tiles: Sequence[tuple[str, np.ndarray]], columns: int, pad: int = 6, label: int = 16) -> np.ndarray:
    """Labelled tiles (uint8 RGB arrays of one size) laid out row by row on white."""
    tile_h, tile_w = tiles[0][1].shape[:2]
    rows = -(-len(tiles) // columns)
    sheet = Image.new("RGB", (columns * (tile_w + pad) + pad, rows * (tile_h + label + pad) + pad), "white")
    draw = ImageDraw.Draw(sheet)
    for n, (name, pixels) in enumerate(tiles):
        r, c = divmod(n, columns)
        x, y = pad + c * (tile_w + pad), pad + r * (tile_h + label + pad)
        sheet.paste(array_to_image(pixels).convert("RGB"), (x, y + label))
        draw.text((x + 2, y + 2), name, fill="black")
    return np.asarray(sheet)


def preset_sheet(photo: Optional[np.ndarray] = None, tile: int = 192, columns: int = 7) -> np.ndarray:
    """Every preset applied to ``photo`` (default: the bundled sample), with the original first."""
    from ..nets.presets import PRESETS
    from ..samples import sample_photo
    from ..stylizer import Stylizer

    source = array_to_image(sample_photo() if photo is None else photo).convert("RGB")
    source.thumbnail((tile, tile), Image.LANCZOS)
    small = np.asarray(source)
    stylizer = Stylizer()
    tiles = [("original", small)] + [(p.name, stylizer.stylize(small, f"preset:{p.name}")) for p in PRESETS]
    return grid(tiles, columns)
