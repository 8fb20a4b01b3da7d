"""Linear-light files (a linear profile, float pixels) stylized sRGB-encoded, as the plugins do with linear layers."""
from __future__ import annotations

import numpy as np
import pytest
from PIL import Image

from engine.cli import main
from engine.imaging.linear import decode_linear, encode_linear, srgb_decode, srgb_encode
from engine.imaging.pixels import from_float, to_float

from conftest import BENCH, bench_image
from icc_profiles import LINEAR_SRGB


@pytest.fixture()
def linear_photo(tmp_path):
    """An 8-bit PNG in linear light, tagged with a linear (gamma 1.0) sRGB-primaries profile, and its pixels."""
    stored = from_float(srgb_decode(to_float(bench_image("content", "cornell.jpg", (80, 60)))), np.uint8)
    path = tmp_path / "linear.png"
    Image.fromarray(stored).save(path, icc_profile=LINEAR_SRGB)
    return path, stored


def _stylize(path, out, *extra, style: str = "preset:frost") -> np.ndarray:
    assert main(["stylize", str(path), "--style", style, "-o", str(out), "-q", *extra]) == 0
    written = Image.open(out)
    assert written.info["icc_profile"] == LINEAR_SRGB
    return np.asarray(written)


@pytest.mark.parametrize("colors", [[], ["--preserve-colors"], ["--preserve-colors", "histogram"]])
def test_linear_files_are_stylized_encoded_and_written_back_linear(linear_photo, tmp_path, stylizer, colors):
    path, stored = linear_photo
    style = str(BENCH / "style" / "sketch.png")
    written = _stylize(path, tmp_path / "out.png", *colors, style=style)
    sent = encode_linear(stored)
    preserve = {0: False, 1: "luminance", 2: "histogram"}[len(colors)]
    expected = decode_linear(stylizer.stylize(sent, style, preserve_colors=preserve), sent, stored)
    assert np.array_equal(written, expected)
    naive = stylizer.stylize(stored, style, preserve_colors=preserve)  # linear values taken as sRGB
    assert np.abs(written.astype(int) - naive).mean() > 3


def test_linear_pixels_outside_the_mask_stay_bit_exact(linear_photo, tmp_path):
    path, stored = linear_photo
    mask = np.zeros(stored.shape[:2], np.uint8)
    mask[:, 40:] = 255
    Image.fromarray(mask).save(tmp_path / "mask.png")
    written = _stylize(path, tmp_path / "out.png", "--mask", str(tmp_path / "mask.png"))
    assert np.array_equal(written[:, :36], stored[:, :36])
    assert not np.array_equal(written[:, 44:], stored[:, 44:])


def test_float_tiff_without_profile_is_linear_and_written_as_srgb_8_bit(tmp_path, stylizer):
    gray = to_float(bench_image("content", "cornell.jpg", (80, 60)).mean(axis=2).astype(np.uint8))
    linear = srgb_decode(gray)
    Image.fromarray(linear, mode="F").save(tmp_path / "float.tif")
    out = tmp_path / "out.png"
    assert main(["stylize", str(tmp_path / "float.tif"), "--style", "preset:frost", "-o", str(out), "-q"]) == 0
    written = Image.open(out)
    assert written.mode == "L" and "icc_profile" not in written.info
    expected = from_float(stylizer.stylize(srgb_encode(linear), "preset:frost"), np.uint8)
    assert np.array_equal(np.asarray(written), expected)
