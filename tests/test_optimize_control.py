"""Spatial guides, luminance-only colour control and coarse-to-fine sizes."""
from __future__ import annotations

import numpy as np
import pytest
import torch

from engine.client.geometry import Extent
from engine.optimize import control


def test_pyramid_halves_down_to_the_coarsest_level_and_ends_at_full_size():
    assert control.pyramid(Extent(400, 300), 3) == [Extent(100, 75), Extent(200, 150), Extent(400, 300)]
    assert control.pyramid(Extent(400, 300), 1) == [Extent(400, 300)]


def test_pyramid_drops_levels_that_would_be_too_small():
    assert control.pyramid(Extent(80, 70), 4) == [Extent(40, 35), Extent(80, 70)]


def test_style_is_measured_at_style_scale_times_the_canvas():
    style = Extent(1000, 500)
    assert control.style_extent(style, Extent(300, 200), 1.0, 4096) == Extent(300, 150)
    assert control.style_extent(style, Extent(300, 200), 2.0, 4096) == Extent(600, 300)
    assert control.style_extent(style, Extent(300, 200), 4.0, 1024) == Extent(1024, 512)  # capped


def test_a_style_is_never_measured_thinner_than_the_network_can_take():
    thin = control.style_extent(Extent(400, 90), Extent(20, 16), 1.0, 4096)
    assert min(thin.width, thin.height) >= control.MIN_SIDE


def test_guides_add_an_outside_channel_only_when_something_is_outside():
    extent = Extent(4, 3)
    left = np.zeros((3, 4), np.float32)
    left[:, :2] = 1
    guides = control.region_guides([left], extent)
    assert guides.shape == (2, 3, 4)
    assert torch.equal(guides[1], 1 - guides[0])
    assert control.region_guides([None], extent).shape == (1, 3, 4)
    right = 1 - left
    assert control.region_guides([left, right], extent).shape == (2, 3, 4)


def test_soft_masks_leave_the_rest_to_the_outside_channel():
    soft = np.full((2, 2), 0.25, np.float32)
    guides = control.region_guides([soft, soft * 2], Extent(2, 2))
    assert torch.allclose(guides[2], torch.full((2, 2), 0.5))


def test_guides_at_a_layer_average_the_mask_over_each_feature_cell():
    guide = torch.zeros(1, 4, 4)
    guide[0, :2, :2] = 1
    small = control.guides_at(guide, 2, 2)
    assert small[0].tolist() == [[1.0, 0.0], [0.0, 0.0]]


def test_yiq_round_trip_is_lossless():
    image = torch.rand(1, 3, 5, 6)
    assert torch.allclose(control.yiq_to_rgb(control.rgb_to_yiq(image)), image, atol=1e-5)


def test_luminance_of_grey_is_the_grey_level():
    assert torch.allclose(control.luminance(torch.full((1, 3, 2, 2), 0.4)), torch.full((1, 1, 2, 2), 0.4), atol=1e-6)


def test_matched_luminance_takes_the_content_mean_and_spread():
    style = torch.rand(1, 3, 8, 8) * 0.2
    content = torch.rand(1, 3, 8, 8)
    matched = control.matched_luminance(style, content)
    content_y = control.luminance(content)
    assert matched.mean().item() == pytest.approx(content_y.mean().item(), abs=1e-5)
    assert matched.std().item() == pytest.approx(content_y.std().item(), rel=1e-4)


def test_colours_of_the_content_come_back_with_new_luminance():
    content = torch.rand(1, 3, 6, 6)
    new_y = torch.rand(1, 1, 6, 6)
    rgb = control.with_colours_of(new_y, content)
    yiq, content_yiq = control.rgb_to_yiq(rgb), control.rgb_to_yiq(content)
    assert torch.allclose(yiq[:, :1], new_y, atol=1e-5)
    assert torch.allclose(yiq[:, 1:], content_yiq[:, 1:], atol=1e-5)
