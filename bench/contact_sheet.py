"""Render docs/fast_sheet.png: the fast methods on the shared bench images (a small PNG for the README)."""
from __future__ import annotations

import sys
from pathlib import Path

import numpy as np
from PIL import Image

REPO = Path(__file__).resolve().parents[1]
BENCH = REPO.parent / "shared" / "bench"
sys.path.insert(0, str(REPO))

import engine  # noqa: E402
from engine.cli.contact_sheet import grid  # noqa: E402

TILE = 176


def _load(kind: str, name: str, side: int) -> np.ndarray:
    image = Image.open(BENCH / kind / name).convert("RGB")
    image.thumbnail((side, side), Image.LANCZOS)
    return np.asarray(image)


def main(out: str = str(REPO / "docs" / "fast_sheet.png")) -> None:
    stylizer = engine.Stylizer(device="cpu")
    contents = ["chicago.jpg", "cornell.jpg", "sailboat.jpg"]
    styles = ["la_muse.jpg", "the_resevoir_at_poitiers.jpg", "sketch.png"]
    tiles = []
    for name in contents:
        # Stylize at 3x the tile size, then shrink: what a user sees on a real photo, not a thumbnail.
        photo = _load("content", name, TILE * 3)
        small = lambda a: np.asarray(Image.fromarray(a).resize((TILE, TILE * a.shape[0] // a.shape[1]), Image.LANCZOS))  # noqa: E731
        row = [("photo", small(photo))]
        for style in styles:
            row.append((Path(style).stem[:18], small(stylizer.stylize(photo, _load("style", style, 512)))))
        row.append(("+preserve colors", small(stylizer.stylize(photo, _load("style", styles[0], 512), preserve_colors=True))))
        row.append(("preset:blue-swirl", small(stylizer.stylize(photo, "preset:blue-swirl"))))
        mask = np.zeros(photo.shape[:2], np.uint8)
        mask[:, photo.shape[1] // 2 :] = 255
        row.append(("right half, feather 24", small(stylizer.stylize(photo, "preset:woven-grid", mask=mask, feather=24))))
        tiles.extend(row)
    height = min(t.shape[0] for _, t in tiles)
    tiles = [(label, t[:height]) for label, t in tiles]
    sheet = Image.fromarray(grid(tiles, columns=7)).quantize(colors=256, method=Image.Quantize.MEDIANCUT)
    sheet.save(out, optimize=True)  # a palette PNG keeps the repository small
    print(f"wrote {out}")


if __name__ == "__main__":
    main(*sys.argv[1:])
