"""Region-selective stylization: masks honoured bit-exactly, dtypes and alpha kept, several regions."""
from __future__ import annotations

import numpy as np
import pytest
from PIL import Image

import engine
from engine.imaging.masks import feather_mask, mask_bounds


def _box_mask(shape, top, left, bottom, right, value=255):
    mask = np.zeros(shape[:2], np.uint8)
    mask[top:bottom, left:right] = value
    return mask


@pytest.mark.parametrize("dtype", [np.uint8, np.uint16, np.float32])
def test_pixels_outside_mask_are_unchanged_for_every_dtype(stylizer, content_small, style_small, dtype):
    scale = {np.uint8: 1, np.uint16: 257, np.float32: 1 / 255}[dtype]
    content = (content_small.astype(np.float64) * scale).astype(dtype)
    rgba = np.concatenate([content, np.full(content.shape[:2] + (1,), content.max() if dtype != np.float32 else 0.5, dtype)], 2)
    rgba[::7, ::5, 3] = 0  # a patterned alpha channel, to see that it survives
    mask = _box_mask(content.shape, 30, 40, 90, 120)
    out = stylizer.stylize(rgba, style_small, mask=mask, feather=6)
    assert out.dtype == dtype and out.shape == rgba.shape
    coverage = feather_mask(mask.astype(np.float32) / 255, 6)
    outside = coverage == 0
    assert outside.sum() > 0.5 * outside.size
    assert np.array_equal(out[outside], rgba[outside])
    assert np.array_equal(out[..., 3], rgba[..., 3])
    inside = mask > 0
    changed = np.abs(out[inside][:, :3].astype(np.float64) - rgba[inside][:, :3]).mean() / (scale * 255)
    assert changed > 0.05


def test_feathered_edge_blends_between_original_and_stylized(stylizer, content_small, style_small):
    mask = _box_mask(content_small.shape, 20, 20, 100, 140)
    hard = stylizer.stylize(content_small, style_small, mask=mask)
    soft = stylizer.stylize(content_small, style_small, mask=mask, feather=12)
    coverage = feather_mask(mask.astype(np.float32) / 255, 12)
    edge = (coverage > 0.2) & (coverage < 0.8)
    assert edge.any()
    d_soft = np.abs(soft[edge].astype(float) - content_small[edge]).mean()
    d_hard = np.abs(hard[edge].astype(float) - content_small[edge]).mean()
    assert 0 < d_soft < d_hard or d_hard == 0  # pixels outside a hard edge stay, inside soften
    assert not np.array_equal(soft, hard)


def test_inverted_mask_stylizes_the_other_part(stylizer, content_small, style_small):
    mask = _box_mask(content_small.shape, 0, 0, 120, 80)  # left half
    out = stylizer.stylize(content_small, style_small, mask=mask, invert_mask=True)
    assert np.array_equal(out[:, :80], content_small[:, :80])
    assert np.abs(out[:, 80:].astype(float) - content_small[:, 80:]).mean() > 10


@pytest.mark.parametrize("form", ["L", "1", "RGBA-alpha", "bool", "float"])
def test_mask_forms_are_accepted(stylizer, content_small, form):
    box = _box_mask(content_small.shape, 10, 10, 60, 60)
    mask = {
        "L": Image.fromarray(box),
        "1": Image.fromarray(box).convert("1"),
        "RGBA-alpha": Image.fromarray(np.dstack([np.zeros_like(box)] * 3 + [box])),
        "bool": box > 0,
        "float": box.astype(np.float32) / 255,
    }[form]
    out = stylizer.stylize(content_small, "preset:scarlet", mask=mask)
    assert np.array_equal(out[70:], content_small[70:])
    assert not np.array_equal(out[10:60, 10:60], content_small[10:60, 10:60])


def test_work_is_limited_to_the_mask_box_plus_context(stylizer, content_small, monkeypatch):
    seen = []
    method = stylizer._method("preset")
    original = method.render

    def spy(rgb, regions, settings, progress=None, cancel=None):
        seen.extend(r.context for r in regions)
        return original(rgb, regions, settings, progress, cancel)

    monkeypatch.setattr(method, "render", spy)
    big = np.pad(content_small, ((0, 200), (0, 200), (0, 0)), mode="reflect")
    stylizer.stylize(big, "preset:frost", mask=_box_mask(big.shape, 150, 160, 158, 170))
    margin = stylizer.context_margin("preset")
    assert seen == [engine.client.geometry.Bounds(160 - margin, 150 - margin, 10 + 2 * margin, 8 + 2 * margin)]


def test_several_regions_get_their_own_styles(stylizer, content_small):
    left = _box_mask(content_small.shape, 0, 0, 120, 70)
    right = _box_mask(content_small.shape, 0, 90, 120, 160)
    out = stylizer.stylize(
        content_small,
        regions=[engine.Region(left, "preset:scarlet"), engine.Region(right, "preset:frost", strength=0.5)],
    )
    alone = stylizer.stylize(content_small, "preset:scarlet", mask=left)
    assert np.array_equal(out[:, :70], alone[:, :70])
    assert np.array_equal(out[:, 70:90], content_small[:, 70:90])
    red = out[:, :70].astype(float)
    pale = out[:, 90:].astype(float)
    assert red[..., 0].mean() - red[..., 2].mean() > pale[..., 0].mean() - pale[..., 2].mean()


def test_a_preset_region_and_a_style_image_region_in_one_call(stylizer, content_small, style_small):
    left = _box_mask(content_small.shape, 0, 0, 120, 70)
    right = _box_mask(content_small.shape, 0, 90, 120, 160)
    out = stylizer.stylize(content_small, regions=[engine.Region(left, "preset:scarlet"), engine.Region(right, style_small)])
    # Each region as its own method would render it alone (preset beside arbitrary).
    assert np.array_equal(out[:, :70], stylizer.stylize(content_small, "preset:scarlet", mask=left)[:, :70])
    assert np.array_equal(out[:, 90:], stylizer.stylize(content_small, style_small, mask=right)[:, 90:])
    assert np.array_equal(out[:, 70:90], content_small[:, 70:90])
    reports = []
    stylizer.stylize(content_small, regions=[engine.Region(left, "preset:scarlet"), engine.Region(right, style_small)],
                     progress=reports.append)
    done = [r.done for r in reports]
    assert done == sorted(done) and done[-1] == reports[-1].total and len({r.total for r in reports}) == 1
    with pytest.raises(engine.BadInput, match="takes style images"):  # an explicit method applies to every region
        stylizer.stylize(content_small, method="arbitrary", regions=[engine.Region(left, "preset:scarlet"), engine.Region(right, style_small)])


def test_gray_images_stay_gray(stylizer, content_small, style_small):
    gray = np.asarray(Image.fromarray(content_small).convert("L"))
    out = stylizer.stylize(gray, style_small)
    assert out.shape == gray.shape and out.dtype == np.uint8
    assert np.abs(out.astype(float) - gray).mean() > 5


def test_mask_bounds_and_feather_reach():
    mask = np.zeros((50, 60), np.float32)
    mask[10:20, 30:35] = 1
    assert mask_bounds(mask) == engine.client.geometry.Bounds(30, 10, 5, 10)
    soft = feather_mask(mask, 4)
    assert mask_bounds(soft) == engine.client.geometry.Bounds(26, 6, 13, 18)
    assert soft.max() <= 1 and soft[15, 32] > 0.9
