"""Gram matrices (plain and guided by masks), attention targets and total variation."""
from __future__ import annotations

import pytest
import torch

from engine.optimize import losses


def features(seed: int, channels: int = 4, height: int = 6, width: int = 5) -> torch.Tensor:
    return torch.rand(1, channels, height, width, generator=torch.Generator().manual_seed(seed))


def test_gram_is_the_mean_outer_product_over_positions():
    f = features(0)
    flat = f[0].reshape(4, -1)
    expected = sum(torch.outer(flat[:, i], flat[:, i]) for i in range(flat.shape[1])) / flat.shape[1]
    assert torch.allclose(losses.gram(f)[0], expected, atol=1e-6)


def test_gram_is_the_same_in_channels_last_layout():
    f = features(1)
    assert torch.allclose(losses.gram(f.contiguous(memory_format=torch.channels_last)), losses.gram(f), atol=1e-6)


def test_guided_gram_of_a_binary_mask_is_the_gram_of_the_masked_pixels_alone():
    f = features(2)
    mask = torch.zeros(1, 6, 5)
    mask[0, 1:4, 2:5] = 1
    expected = losses.gram(f[:, :, 1:4, 2:5])
    assert torch.allclose(losses.gram(f, mask), expected, atol=1e-6)


def test_guided_gram_is_normalized_by_mask_mass_not_by_image_size():
    f = torch.ones(1, 2, 4, 4)
    small, large = torch.zeros(1, 4, 4), torch.ones(1, 4, 4)
    small[0, 0, 0] = 1
    both = losses.gram(f, torch.cat([small, large]))
    assert torch.allclose(both, torch.ones(2, 2, 2))  # a constant feature has Gram 1 whatever the mass
    half = torch.full((1, 4, 4), 0.5)
    assert torch.allclose(losses.gram(f, half), torch.ones(1, 2, 2))  # soft masks too


def test_guided_gram_keeps_regions_apart():
    f = torch.zeros(1, 1, 2, 2)
    f[0, 0, 0] = 3.0  # top row bright, bottom row dark
    top, bottom = torch.zeros(1, 2, 2), torch.zeros(1, 2, 2)
    top[0, 0], bottom[0, 1] = 1, 1
    grams = losses.gram(f, torch.cat([top, bottom]))
    assert grams[:, 0, 0].tolist() == [9.0, 0.0]


def test_relative_error_scales_with_the_target_norm():
    target = torch.full((3,), 2.0)
    value = torch.full((3,), 3.0)
    assert losses.relative_error(value, target, target.square().sum()).item() == pytest.approx(3 / 12)


def test_guided_gram_loss_sums_each_guide_relative_to_its_own_target():
    targets = torch.stack([torch.eye(2), 10 * torch.eye(2)])
    grams = targets * 1.1
    norms = targets.square().sum((1, 2))
    assert losses.guided_gram_loss(grams, targets, norms).item() == pytest.approx(2 * 0.01, rel=1e-5)


def test_total_variation_is_zero_for_flat_images_and_counts_neighbour_steps():
    assert losses.total_variation(torch.full((1, 3, 5, 5), 0.3)).item() == 0
    stripes = torch.zeros(1, 1, 2, 2)
    stripes[..., :, 1] = 1  # vertical stripes: every horizontal step is 1, no vertical step
    assert losses.total_variation(stripes).item() == pytest.approx(1.0)


def centred(t: torch.Tensor) -> torch.Tensor:
    return (t - t.mean((2, 3), keepdim=True)).flatten()


def test_attention_target_has_the_content_shape():
    content, style = features(3, 8, 7, 9), features(4, 8, 5, 4)
    target = losses.attention_target(content, style, max_keys=64, generator=torch.Generator().manual_seed(0))
    assert target.shape == content.shape


def test_attention_over_a_single_style_position_copies_that_position_everywhere():
    content = features(5, 3, 4, 4)
    style = torch.tensor([0.2, 0.7, 0.4]).view(1, 3, 1, 1)
    target = losses.attention_target(content, style, 16, torch.Generator().manual_seed(0))
    assert torch.allclose(target, style.expand_as(content), atol=1e-5)  # mean = that value, std = 0


def test_attention_target_takes_the_style_statistics_and_the_content_layout():
    gen = torch.Generator().manual_seed(0)
    content = features(6, 4, 8, 8)
    style = 5 + 2 * torch.randn(1, 4, 16, 16, generator=gen)
    target = losses.attention_target(content, style, 256, torch.Generator().manual_seed(0))
    # Channel means move to the style's (about 5) from the content's (about 0.5).
    assert torch.allclose(target.mean((2, 3)), style.mean((2, 3)), atol=0.6)
    # The content's spatial pattern survives: where the content is brighter, so is the target.
    corr = torch.corrcoef(torch.stack([centred(content), centred(target)]))
    assert corr[0, 1] > 0.5


def test_attention_key_sampling_is_bounded_and_reproducible():
    style = features(7, 3, 30, 30)
    a = losses.sample_positions(style, 100, torch.Generator().manual_seed(1))
    b = losses.sample_positions(style, 100, torch.Generator().manual_seed(1))
    assert a.shape == (1, 100, 3) and torch.equal(a, b)
    assert losses.sample_positions(style, 10_000, torch.Generator()).shape == (1, 900, 3)


def test_attention_target_is_the_same_whatever_the_query_chunk():
    content, style = features(8, 4, 9, 9), features(9, 4, 6, 6)
    whole = losses.attention_target(content, style, 64, torch.Generator().manual_seed(0), chunk=4096)
    chunked = losses.attention_target(content, style, 64, torch.Generator().manual_seed(0), chunk=7)
    assert torch.allclose(whole, chunked, atol=1e-5)
