"""Krita layer bytes <-> engine RGBA images, in every RGBA depth (no Krita needed)."""
from __future__ import annotations

import struct
import sys
from pathlib import Path

import numpy as np
import pytest

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "plugins" / "krita"))

from restyle import pixels  # noqa: E402

F = pixels.FORMATS


def test_u8_bgra_becomes_rgba_and_back() -> None:
    krita = bytes([10, 20, 30, 255, 1, 2, 3, 4])  # B, G, R, A
    sent = pixels.to_engine(krita, F["U8"], linear=False)
    assert sent == bytes([30, 20, 10, 255, 3, 2, 1, 4])
    assert pixels.from_engine(sent, F["U8"], linear=False) == krita


def test_u16_bgra_becomes_rgba_little_endian() -> None:
    krita = struct.pack("<8H", 1000, 2000, 3000, 65535, 7, 8, 9, 10)
    sent = pixels.to_engine(krita, F["U16"], linear=False)
    assert struct.unpack("<8H", sent) == (3000, 2000, 1000, 65535, 9, 8, 7, 10)
    assert pixels.from_engine(sent, F["U16"], linear=False) == krita


@pytest.mark.parametrize("depth,code", [("F16", "e"), ("F32", "f")])
def test_float_depths_are_already_rgba(depth: str, code: str) -> None:
    krita = struct.pack(f"<4{code}", 0.25, 0.5, 0.75, 1.0)
    assert pixels.to_engine(krita, F[depth], linear=False) == krita


def test_linear_u16_is_encoded_to_srgb_and_decoded_back_within_one_step() -> None:
    rng = np.random.default_rng(0)
    values = rng.integers(0, 65536, size=(64, 4), dtype=np.uint16)
    krita = values.astype("<u2").tobytes()
    sent = np.frombuffer(pixels.to_engine(krita, F["U16"], linear=True), "<u2").reshape(-1, 4)
    bgr = values[:, :3].astype(np.float64) / 65535
    expected = np.where(bgr <= 0.0031308, bgr * 12.92, 1.055 * bgr ** (1 / 2.4) - 0.055)[:, ::-1] * 65535
    assert np.abs(sent[:, :3] - expected).max() <= 0.5 + 1e-9
    assert (sent[:, 3] == values[:, 3]).all()  # alpha is not a colour channel
    back = np.frombuffer(pixels.from_engine(sent.tobytes(), F["U16"], linear=True), "<u2").reshape(-1, 4)
    assert (back[:, 3] == values[:, 3]).all()
    # sRGB's slope near black is steep one way and flat the other: compare in linear light
    assert np.abs(back[:, :3].astype(int) - values[:, :3]).max() <= 40


def test_linear_u8_is_encoded_too() -> None:
    sent = pixels.to_engine(bytes([0, 46, 255, 128]), F["U8"], linear=True)  # B, G, R, A
    assert sent[0] == 255 and sent[1] == round(pixels.srgb_encode(46 / 255) * 255) and sent[2] == 0
    assert sent[3] == 128


@pytest.mark.parametrize("depth,dtype", [("F16", "<f2"), ("F32", "<f4")])
def test_linear_float_roundtrip_keeps_values_and_alpha(depth: str, dtype: str) -> None:
    values = np.array([[0.0, 0.002, 0.18, 0.5], [1.0, 0.04, 0.7, 0.25], [2.0, -0.1, 0.3, 1.0]], dtype)
    sent = np.frombuffer(pixels.to_engine(values.tobytes(), F[depth], linear=True), dtype).reshape(-1, 4)
    assert sent[0, 2] == pytest.approx(0.4613, abs=2e-3)  # 18% grey is about 46% in sRGB
    assert sent[1, 0] == pytest.approx(1.0, abs=1e-3)
    assert sent[2, 1] < 0  # negative (out of gamut) values keep their sign
    assert list(sent[:, 3]) == list(values[:, 3])
    back = np.frombuffer(pixels.from_engine(sent.tobytes(), F[depth], linear=True), dtype).reshape(-1, 4)
    assert np.allclose(back, values, rtol=2e-3, atol=1e-3)


def test_only_rgba_layers_are_accepted_with_a_hint() -> None:
    assert pixels.pixel_format("RGBA", "F16", "Sky").dtype == "float16"
    with pytest.raises(pixels.UnsupportedLayer, match="'Sky' is a GRAYA layer.*Convert Image Color Space"):
        pixels.pixel_format("GRAYA", "U8", "Sky")
    with pytest.raises(pixels.UnsupportedLayer, match="depth F64"):
        pixels.pixel_format("RGBA", "F64", "Sky")


def test_linear_profiles_are_recognised_by_name() -> None:
    assert pixels.is_linear("sRGB-elle-V2-g10.icc")
    assert pixels.is_linear("Rec2020-elle-V4-linear")
    assert not pixels.is_linear("sRGB-elle-V2-srgbtrc.icc")


def test_keep_changed_clears_exactly_the_pixels_the_engine_copied() -> None:
    fmt = F["U16"]
    sent = struct.pack("<12H", 1, 2, 3, 65535, 4, 5, 6, 65535, 7, 8, 9, 30000)
    result = struct.pack("<12H", 1, 2, 3, 65535, 40, 5, 6, 65535, 7, 8, 9, 30001)
    out = struct.unpack("<12H", pixels.keep_changed(sent, result, fmt))
    assert out == (0, 0, 0, 0, 40, 5, 6, 65535, 7, 8, 9, 30001)


def test_keep_changed_refuses_results_of_another_size() -> None:
    with pytest.raises(ValueError, match="bytes"):
        pixels.keep_changed(bytes(8), bytes(4), F["U8"])


def test_bytes_that_are_not_whole_pixels_are_refused() -> None:
    with pytest.raises(ValueError, match="not whole U16 RGBA pixels"):
        pixels.to_engine(bytes(7), F["U16"], linear=False)


def test_preview_is_small_8bit_rgba_sampled_from_the_layer() -> None:
    width, height = 40, 20
    layer = np.zeros((height, width, 4), "<u2")
    layer[:, :, 2] = 65535  # red in BGRA
    layer[:, :, 3] = 65535
    layer[:, 20:, 0] = 65535  # right half: + blue
    w, h, data = pixels.preview_rgba8(layer.tobytes(), width, height, F["U16"], linear=False, max_side=10)
    assert (w, h) == (10, 5)
    small = np.frombuffer(data, np.uint8).reshape(h, w, 4)
    assert (small[:, :5] == [255, 0, 0, 255]).all()
    assert (small[:, 5:] == [255, 0, 255, 255]).all()
