"""The GIMP plug-in's pixel logic without GIMP: formats per precision and the new layer's pixels."""
from __future__ import annotations

import sys
from pathlib import Path

import numpy as np
import pytest

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "plugins" / "gimp" / "restyle"))

from restyle_gimp.errors import PluginError  # noqa: E402
from restyle_gimp.formats import FLOAT, HALF, U8, U16, check_rgb, pixel_format  # noqa: E402
from restyle_gimp.pixels import layer_pixels  # noqa: E402


@pytest.mark.parametrize("precision, fmt", [
    ("u8-non-linear", U8), ("u8-linear", U8), ("u8-perceptual", U8), ("u16-non-linear", U16),
    ("u32-linear", FLOAT), ("half-linear", HALF), ("float-non-linear", FLOAT), ("double-linear", FLOAT),
])
def test_each_precision_travels_in_a_dtype_the_engine_takes(precision, fmt):
    assert pixel_format(precision) == fmt
    assert fmt.dtype in ("uint8", "uint16", "float16", "float32")
    assert np.dtype(fmt.dtype).itemsize == fmt.itemsize


def test_babl_formats_are_perceptual_rgb_of_the_component_type():
    assert U8.babl(alpha=False) == "R'G'B' u8"
    assert U16.babl(alpha=True) == "R'G'B'A u16"
    assert HALF.babl(alpha=True) == "R'G'B'A half"
    assert FLOAT.babl(alpha=False) == "R'G'B' float"


def test_opaque_alpha_is_one_in_every_dtype():
    for fmt in (U8, U16, HALF, FLOAT):
        value = np.frombuffer(fmt.opaque, fmt.dtype)[0]
        assert value == (np.iinfo(fmt.dtype).max if fmt.dtype.startswith("uint") else 1.0)


def test_unknown_precision_says_how_to_convert():
    with pytest.raises(PluginError, match="Image › Precision"):
        pixel_format("u64-linear")


@pytest.mark.parametrize("base, word", [("gray", "grayscale"), ("indexed", "indexed")])
def test_non_rgb_images_are_refused_with_the_menu_that_converts_them(base, word):
    with pytest.raises(PluginError, match=f"this one is {word}.*Image › Mode › RGB"):
        check_rgb(base)
    check_rgb("rgb")


def _frame(rng, h, w, c, dtype):
    if np.dtype(dtype).kind == "u":
        return rng.integers(0, np.iinfo(dtype).max, (h, w, c), endpoint=True).astype(dtype)
    return rng.random((h, w, c)).astype(dtype)


def test_layer_is_the_result_inside_the_mask_and_transparent_where_unchanged_outside():
    rng = np.random.default_rng(1)
    original = _frame(rng, 6, 8, 3, np.uint8)
    mask = np.zeros((6, 8), np.uint8)
    mask[1:4, 2:6] = 255
    mask[4, 2] = 7  # a soft edge pixel still belongs to the layer
    result = original.copy()
    result[mask > 0] = 255 - original[mask > 0]
    result[5, 7] = original[5, 7] ^ 1  # outside the mask but changed by the engine (feathering): kept
    layer = np.frombuffer(layer_pixels(result.tobytes(), original.tobytes(), mask.tobytes(), 3, U8), np.uint8)
    layer = layer.reshape(6, 8, 4)
    assert (layer[..., :3] == result).all()
    kept = (mask > 0)
    kept[5, 7] = True
    assert (layer[..., 3][kept] == 255).all()
    assert (layer[..., 3][~kept] == 0).all()


def test_layer_keeps_pixels_the_engine_left_equal_inside_the_mask():
    original = np.full((2, 2, 3), 9, np.uint8)
    mask = np.array([[255, 0], [0, 0]], np.uint8)
    layer = layer_pixels(original.tobytes(), original.tobytes(), mask.tobytes(), 3, U8)
    assert list(np.frombuffer(layer, np.uint8).reshape(2, 2, 4)[..., 3].ravel()) == [255, 0, 0, 0]


@pytest.mark.parametrize("fmt", [U16, HALF, FLOAT])
def test_wide_formats_copy_alpha_inside_and_clear_it_outside(fmt):
    rng = np.random.default_rng(2)
    original = _frame(rng, 5, 7, 4, fmt.dtype)
    mask = np.zeros((5, 7), np.uint8)
    mask[2:, 3:] = 255
    result = original.copy()
    result[mask > 0, :3] = original[mask > 0, :3] / 2 if fmt.dtype != "uint16" else original[mask > 0, :3] // 2
    out = np.frombuffer(layer_pixels(result.tobytes(), original.tobytes(), mask.tobytes(), 4, fmt), fmt.dtype)
    out = out.reshape(5, 7, 4)
    assert (out[..., :3] == result[..., :3]).all()
    assert (out[..., 3][mask > 0] == original[..., 3][mask > 0]).all()
    assert (out[..., 3][mask == 0] == 0).all()


@pytest.mark.parametrize("fmt", [U8, U16, HALF, FLOAT])
def test_without_a_mask_every_pixel_is_opaque_when_the_layer_has_no_alpha(fmt):
    original = _frame(np.random.default_rng(3), 3, 4, 3, fmt.dtype)
    out = np.frombuffer(layer_pixels(original.tobytes(), original.tobytes(), None, 3, fmt), fmt.dtype).reshape(3, 4, 4)
    assert (out[..., :3] == original).all()
    assert (out[..., 3] == np.frombuffer(fmt.opaque, fmt.dtype)[0]).all()


def test_mismatched_buffers_are_refused():
    with pytest.raises(ValueError, match="equally long"):
        layer_pixels(b"\0" * 6, b"\0" * 3, None, 3, U8)
    with pytest.raises(ValueError, match="mask has 3 values for 2 pixels"):
        layer_pixels(b"\0" * 6, b"\0" * 6, b"\0" * 3, 3, U8)
