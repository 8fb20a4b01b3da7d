"""Render docs/detail_sheet.png: one photo at 1024², 2048² and 4096², style scale 1 against "auto", with 1:1 crops.

Each row is one size: the whole result at scale 1 (shrunk) and a 1:1 crop of it; the whole result
with ``style_scale="auto"`` (shrunk), a 1:1 crop of it without the full-resolution pass (``detail=0``,
what the engine gave before) and with it (the default). The crops are the red squares.

    python bench/detail_sheet.py                 # writes docs/detail_sheet.png
    python bench/detail_sheet.py out.png --photo cornell.jpg --style brushstrokes.jpg
"""
from __future__ import annotations

import argparse
import sys
from pathlib import Path

import numpy as np
from PIL import Image, ImageDraw

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

import engine  # noqa: E402
from engine.cli.contact_sheet import grid  # noqa: E402
from engine.style_scale import auto_style_scale  # noqa: E402

from detail import BENCH, load_square  # noqa: E402

SIZES = (1024, 2048, 4096)
TILE = 256
CROP_AT = (0.5, 0.42)  # centre of the 1:1 crops, as a fraction of the picture's width and height


def crop_box(side: int) -> tuple[int, int, int, int]:
    """The 1:1 crop (left, top, right, bottom) of a ``side`` x ``side`` picture."""
    left, top = int(side * CROP_AT[0]) - TILE // 2, int(side * CROP_AT[1]) - TILE // 2
    return left, top, left + TILE, top + TILE


def overview(pixels: np.ndarray) -> np.ndarray:
    """The whole picture shrunk to the tile, with the crop marked."""
    side = pixels.shape[0]
    image = Image.fromarray(pixels).resize((TILE, TILE), Image.LANCZOS)
    left, top, right, bottom = (round(v * TILE / side) for v in crop_box(side))
    ImageDraw.Draw(image).rectangle((left - 1, top - 1, right, bottom), outline=(230, 0, 0))
    return np.asarray(image)


def one_to_one(pixels: np.ndarray) -> np.ndarray:
    left, top, right, bottom = crop_box(pixels.shape[0])
    return pixels[top:bottom, left:right]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("out", nargs="?", default=str(REPO / "docs" / "detail_sheet.png"))
    parser.add_argument("--photo", default="chicago.jpg")
    parser.add_argument("--style", default="la_muse.jpg")
    args = parser.parse_args()
    stylizer = engine.Stylizer(device="cpu")
    style = np.asarray(Image.open(BENCH / "style" / args.style).convert("RGB"))
    tiles = []
    for side in SIZES:
        photo = load_square("content", args.photo, side)
        scale_one = stylizer.stylize(photo, style, style_scale=1.0)
        soft = stylizer.stylize(photo, style, style_scale="auto", detail=0.0)
        auto = stylizer.stylize(photo, style, style_scale="auto")
        label = f"{side}x{side}, auto = {auto_style_scale(side, side):g}"
        tiles += [(f"{side}x{side}, scale 1", overview(scale_one)), ("scale 1, 1:1", one_to_one(scale_one)),
                  (label, overview(auto)), ("auto, detail 0 (before), 1:1", one_to_one(soft)),
                  ("auto (detail 1), 1:1", one_to_one(auto))]
        print(f"  rendered {side}x{side}", file=sys.stderr)
    sheet = Image.fromarray(grid(tiles, columns=5)).quantize(colors=256, method=Image.Quantize.MEDIANCUT)
    sheet.save(args.out, optimize=True)  # a palette PNG keeps the repository small
    print(f"wrote {args.out} ({Path(args.out).stat().st_size / 1e6:.2f} MB)")


if __name__ == "__main__":
    main()
