"""Strength, blends, colour preservation, style scale, determinism, progress and cancel."""
from __future__ import annotations

import numpy as np
import pytest

import engine
from engine.imaging.color import _RGB_TO_YUV


def _distance(a: np.ndarray, b: np.ndarray) -> float:
    return float(np.abs(a.astype(np.float64) - b.astype(np.float64)).mean())


def test_preset_strength_zero_returns_the_content_and_grows_with_strength(stylizer, content_small):
    none = stylizer.stylize(content_small, "preset:carnival", strength=0.0)
    assert np.array_equal(none, content_small)
    half = stylizer.stylize(content_small, "preset:carnival", strength=0.5)
    full = stylizer.stylize(content_small, "preset:carnival", strength=1.0)
    assert 0 < _distance(half, content_small) < _distance(full, content_small)


def test_arbitrary_strength_moves_from_the_contents_own_style(stylizer, content_small, style_other):
    own = stylizer.stylize(content_small, style_other, strength=0.0)
    full = stylizer.stylize(content_small, style_other, strength=1.0)
    styled_palette = stylizer.stylize(content_small, style_other, strength=0.6)
    assert _distance(own, content_small) < _distance(full, content_small)
    assert _distance(own, full) > _distance(styled_palette, full)


def test_blend_weights_mix_styles(stylizer, content_small, style_small, style_other):
    only_first = stylizer.stylize(content_small, [style_small, style_other], weights=[1, 0])
    first = stylizer.stylize(content_small, style_small)
    assert np.array_equal(only_first, first)
    mixed = stylizer.stylize(content_small, [style_small, style_other], weights=[0.5, 0.5])
    second = stylizer.stylize(content_small, style_other)
    assert _distance(mixed, first) > 1 and _distance(mixed, second) > 1


def test_preset_blend_differs_from_both_presets(stylizer, content_small):
    a = stylizer.stylize(content_small, "preset:scarlet")
    b = stylizer.stylize(content_small, "preset:frost")
    ab = stylizer.stylize(content_small, ["preset:scarlet", "preset:frost"], weights=[0.5, 0.5])
    assert _distance(ab, a) > 2 and _distance(ab, b) > 2


def _chroma(rgb: np.ndarray) -> np.ndarray:
    return (rgb.astype(np.float32) / 255 @ _RGB_TO_YUV.T)[..., 1:]


def test_preserve_colors_keeps_the_contents_chroma(stylizer, content_small, style_small):
    plain = stylizer.stylize(content_small, style_small)
    kept = stylizer.stylize(content_small, style_small, preserve_colors=True)
    assert np.abs(_chroma(kept) - _chroma(content_small)).mean() < 0.01
    assert np.abs(_chroma(plain) - _chroma(content_small)).mean() > 0.03
    luma = np.array([0.299, 0.587, 0.114])
    assert np.abs(kept @ luma - plain @ luma).mean() < 3  # the stylized light and dark stay


def test_histogram_matching_brings_the_contents_palette(stylizer, content_small, style_other):
    plain = stylizer.stylize(content_small, style_other)
    matched = stylizer.stylize(content_small, style_other, preserve_colors="histogram")
    target = content_small.reshape(-1, 3).mean(0)
    assert np.abs(matched.reshape(-1, 3).mean(0) - target).sum() < np.abs(plain.reshape(-1, 3).mean(0) - target).sum()


def test_histogram_matching_with_a_preset_recolours_the_result_to_the_contents_palette(stylizer, content_small):
    plain = stylizer.stylize(content_small, "preset:frost")
    matched = stylizer.stylize(content_small, "preset:frost", preserve_colors="histogram")
    target = content_small.reshape(-1, 3).astype(float)
    for statistic in (lambda x: x.mean(0), lambda x: x.std(0)):
        off_matched = np.abs(statistic(matched.reshape(-1, 3).astype(float)) - statistic(target)).sum()
        off_plain = np.abs(statistic(plain.reshape(-1, 3).astype(float)) - statistic(target)).sum()
        assert off_matched < 0.5 * off_plain


def test_style_scale_changes_stroke_size_not_image_size(stylizer, content_small, style_small):
    fine = stylizer.stylize(content_small, style_small, style_scale=1.0)
    coarse = stylizer.stylize(content_small, style_small, style_scale=2.0)
    assert coarse.shape == fine.shape
    detail = lambda img: np.abs(np.diff(img.astype(float), axis=1)).mean()  # noqa: E731
    assert detail(coarse) < detail(fine)


def test_output_is_deterministic(stylizer, content_small, style_small):
    a = stylizer.stylize(content_small, style_small, strength=0.7)
    b = engine.Stylizer(device="cpu").stylize(content_small, style_small, strength=0.7)
    assert np.array_equal(a, b)


def test_progress_reports_reach_the_total(stylizer, content_small):
    reports = []
    stylizer.stylize(content_small, "preset:batik", progress=reports.append)
    assert reports and reports[-1].done == reports[-1].total
    assert [r.done for r in reports] == sorted(r.done for r in reports)


def test_cancel_stops_the_job(content_small):
    stylizer = engine.Stylizer(device="cpu", memory_budget_mb=1)  # tiles: several steps
    token = engine.CancelToken()

    def cancel_after_first(report):
        token.cancel()

    with pytest.raises(engine.Cancelled):
        stylizer.stylize(np.tile(content_small, (3, 3, 1)), "preset:batik", progress=cancel_after_first, cancel=token)
    done = engine.CancelToken()
    done.cancel()
    with pytest.raises(engine.Cancelled):
        stylizer.stylize(content_small, "preset:batik", cancel=done)


def test_one_shot_function_and_pil_round_trip(content_small):
    from PIL import Image

    out = engine.stylize(Image.fromarray(content_small), "preset:porcelain")
    assert isinstance(out, Image.Image) and out.size == (160, 120) and out.mode == "RGB"


def test_parts_of_a_job_report_on_one_scale_that_never_runs_backwards():
    from engine.progress import Progress, part_of

    seen = []
    for index in range(3):
        report = part_of(seen.append, index, 3)
        for done in range(1, 5):
            report(Progress(done, 4, "stylize", eta_s=1.0))
    assert [p.done for p in seen] == sorted(p.done for p in seen)
    assert seen[-1].done == seen[-1].total and {p.total for p in seen} == {seen[0].total}
    assert all(p.eta_s is None for p in seen[:8]) and seen[-1].eta_s == 1.0  # time left: known in the last part
    assert part_of(seen.append, 0, 1) == seen.append and part_of(None, 0, 3) is None


def test_a_style_image_edited_in_place_is_not_served_from_the_cache(stylizer, content_small, style_small):
    style = style_small.copy()
    first = stylizer.stylize(content_small, style)
    assert np.array_equal(stylizer.stylize(content_small, style.copy()), first)  # same pixels: same result
    style[:, : style.shape[1] // 2] = 255 - style[:, : style.shape[1] // 2]  # the caller edits its array
    assert not np.array_equal(stylizer.stylize(content_small, style), first)


def test_style_keys_follow_pixels_dtype_and_shape():
    from engine.styles import pixels_key

    rng = np.random.default_rng(0)
    a = rng.integers(0, 256, (20, 30, 3), dtype=np.uint8)
    b = a.copy()
    b[5, 5, 1] ^= 1
    assert pixels_key(a) == pixels_key(a.copy()) == pixels_key(np.asfortranarray(a))
    assert len({pixels_key(a), pixels_key(b), pixels_key(a.astype(np.uint16)), pixels_key(a.reshape(30, 20, 3))}) == 4
