"""Telling linear-light profiles and files apart, and the sRGB curve the plugins use for them."""
from __future__ import annotations

import io

import numpy as np
import pytest
from PIL import ImageCms

from engine.imaging.icc import colour_space, is_linear_profile, tone_curves
from engine.imaging.linear import decode_linear, encode_linear, is_linear, srgb_decode, srgb_encode

from icc_profiles import (ADOBE_RGB, ADOBE_RGB_GAMMA, LINEAR_GRAY, LINEAR_SRGB, SRGB_COLORANTS, gamma_curve,
                          parametric_curve, profile, table_curve)

SRGB_PARAMETERS = (2.4, 1 / 1.055, 0.055 / 1.055, 1 / 12.92, 0.04045)


def test_test_profiles_are_valid_for_littlecms():
    for data in (ADOBE_RGB, LINEAR_SRGB, LINEAR_GRAY):
        assert "(test)" in ImageCms.getProfileDescription(ImageCms.ImageCmsProfile(io.BytesIO(data)))


def test_adobe_rgb_gamma_is_read_from_its_trc():
    curves = tone_curves(ADOBE_RGB)
    assert len(curves) == 3
    assert curves[0](0.5) == pytest.approx(0.5 ** ADOBE_RGB_GAMMA)


@pytest.mark.parametrize("data, linear", [
    (ADOBE_RGB, False),
    (LINEAR_SRGB, True),
    (LINEAR_GRAY, True),
    (ImageCms.ImageCmsProfile(ImageCms.createProfile("sRGB")).tobytes(), False),
    (profile("identity", b"curv" + bytes(8)), True),  # a curve with no entries is y = x
    (profile("ramp", table_curve(np.linspace(0, 1, 256))), True),
    (profile("sRGB table", table_curve(srgb_decode(np.linspace(0, 1, 1024)))), False),
    (profile("para gamma 1", parametric_curve(0, [1.0])), True),
    (profile("para sRGB", parametric_curve(3, SRGB_PARAMETERS), SRGB_COLORANTS), False),
    (profile("para linear with toe", parametric_curve(4, [1.0, 1.0, 0.0, 1.0, 0.0, 0.0, 0.0])), True),
    (profile("gamma 1.8", gamma_curve(1.8)), False),
])
def test_a_profile_is_linear_when_its_tone_curves_are_y_equals_x(data, linear):
    assert is_linear_profile(data) is linear


@pytest.mark.parametrize("data", [b"", b"not a profile" * 20, ADOBE_RGB[:140], ADOBE_RGB[:-30]])
def test_truncated_or_foreign_data_is_not_a_linear_profile(data):
    assert is_linear_profile(data) is False


def test_float_pixels_without_a_profile_are_linear_and_integers_are_not():
    assert is_linear(np.zeros((4, 4), np.float32), None)
    assert not is_linear(np.zeros((4, 4, 3), np.uint8), None)
    assert is_linear(np.zeros((4, 4, 3), np.uint8), LINEAR_SRGB)
    assert not is_linear(np.zeros((4, 4), np.float32), ADOBE_RGB)


def test_srgb_curve_matches_the_plugins_and_inverts():
    values = np.array([-0.5, 0.0, 0.002, 0.0031308, 0.18, 0.5, 1.0, 4.0], np.float32)
    encoded = srgb_encode(values)
    assert encoded[1] == 0 and encoded[6] == pytest.approx(1.0) and encoded[0] == -srgb_encode(np.float32(0.5))
    assert encoded[4] == pytest.approx(0.4614, abs=1e-4)  # 18 % grey
    assert encoded[7] > 1  # unbounded above, like the Krita plugin's curve
    np.testing.assert_allclose(srgb_decode(encoded), values, rtol=1e-5, atol=1e-7)


def test_encoding_keeps_dtype_and_alpha_and_untouched_pixels_come_back_exactly():
    rng = np.random.default_rng(1)
    original = rng.integers(0, 65536, (20, 30, 4), dtype=np.uint16)
    sent = encode_linear(original)
    assert sent.dtype == np.uint16 and np.array_equal(sent[..., 3], original[..., 3])
    assert sent[..., :3].mean() > original[..., :3].mean()  # encoding brightens the mid-tones
    result = sent.copy()
    result[5:10, 5:10, :3] = 30000  # "stylized" here only
    back = decode_linear(result, sent, original)
    assert np.array_equal(back[:5], original[:5]) and np.array_equal(back[10:], original[10:])
    assert np.all(back[5:10, 5:10, :3] == round(float(srgb_decode(np.float32(30000 / 65535))) * 65535))


def test_colour_space_of_a_profile():
    assert colour_space(ADOBE_RGB) == "RGB" and colour_space(LINEAR_GRAY) == "GRAY"
    assert colour_space(b"garbage" * 30) is None
