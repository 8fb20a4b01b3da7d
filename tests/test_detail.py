"""Style scale with detail: big strokes with sharp edges, "auto" strokes, and the guarantees kept on the way."""
from __future__ import annotations

import numpy as np
import pytest
import torch
import torch.nn.functional as F

import engine
from engine.client.geometry import Bounds, Extent
from engine.errors import BadInput
from engine.imaging.resample import resize
from engine.methods.base import MethodSettings, RegionJob, StyleRef
from engine.methods.feedforward import ArbitraryMethod
from engine.methods.transformer_runner import TilingConfig
from engine.style_scale import auto_style_scale

from conftest import bench_image

LAPLACIAN = torch.tensor([[0.0, 1.0, 0.0], [1.0, -4.0, 1.0], [0.0, 1.0, 0.0]])[None, None]


def _float(pixels: np.ndarray) -> np.ndarray:
    return pixels.astype(np.float32) / 255.0


def _laplacian_energy(rgb: np.ndarray) -> float:
    grey = torch.from_numpy(np.ascontiguousarray(_float(rgb).mean(axis=2)))[None, None]
    return float((F.conv2d(grey, LAPLACIAN) ** 2).mean())


def _shrink(rgb: np.ndarray, factor: int) -> np.ndarray:
    return resize(_float(rgb), Extent(rgb.shape[1] // factor, rgb.shape[0] // factor))


@pytest.fixture(scope="module")
def photo() -> np.ndarray:
    return bench_image("content", "golden_gate.jpg", (256, 256))


@pytest.mark.parametrize("size, expected", [
    ((1024, 1024), 1.0), ((4096, 2048), 4.0), ((2048, 3072), 3.0), ((512, 300), 0.5), ((100, 60), 0.25), ((20000, 90), 8.0),
])
def test_auto_style_scale_gives_the_strokes_of_a_1024_px_picture(size, expected):
    assert auto_style_scale(*size) == expected


def test_auto_is_the_scale_worked_out_for_the_image(stylizer, content_small, style_small):
    auto = stylizer.stylize(content_small, style_small, style_scale="auto")
    assert np.array_equal(auto, stylizer.stylize(content_small, style_small, style_scale=auto_style_scale(160, 120)))


@pytest.mark.parametrize("kwargs, match", [
    (dict(detail=-0.1), "detail"), (dict(detail=1.5), "detail"), (dict(detail=float("nan")), "detail"),
    (dict(detail="sharp"), "detail"), (dict(style_scale="big"), "auto"), (dict(style_scale=8.5), "0.25 and 8"),
    (dict(style_scale="Auto"), "auto"),
])
def test_detail_and_style_scale_outside_their_range_are_refused(stylizer, content_small, kwargs, match):
    with pytest.raises(BadInput, match=match):
        stylizer.stylize(content_small, "preset:frost", **kwargs)


@pytest.mark.parametrize("style_scale", [0.5, 1.0])
def test_detail_changes_nothing_at_or_below_scale_one(stylizer, content_small, style_small, style_scale):
    soft = stylizer.stylize(content_small, style_small, style_scale=style_scale, detail=0.0)
    assert np.array_equal(soft, stylizer.stylize(content_small, style_small, style_scale=style_scale, detail=1.0))


@pytest.mark.parametrize("style", ["la_muse.jpg", "preset:frost"])
def test_big_strokes_keep_the_fine_detail_of_scale_one(stylizer, photo, style):
    source = style if style.startswith("preset:") else bench_image("style", style, (256, 256))
    one = stylizer.stylize(photo, source)
    energies = {d: _laplacian_energy(stylizer.stylize(photo, source, style_scale=4, detail=d)) / _laplacian_energy(one)
                for d in (0.0, 0.5, 1.0)}
    assert energies[0.0] < 0.05  # upscaled from 64²: soft
    assert energies[0.0] < energies[0.5] < energies[1.0]
    assert energies[1.0] >= 0.5


@pytest.mark.parametrize("style_scale", [2, 4])
def test_strokes_stay_as_big_as_the_scale_asks(stylizer, photo, style_scale):
    style = bench_image("style", "brushstrokes.jpg", (256, 256))
    result = stylizer.stylize(photo, style, style_scale=style_scale)
    plain_low = stylizer.stylize(_shrink(photo, style_scale), style)  # the strokes scale s asks for
    fine = _shrink(stylizer.stylize(photo, style), style_scale)  # the strokes of scale 1
    small = _shrink(result, style_scale)
    assert np.abs(small - plain_low).mean() < 0.9 * np.abs(small - fine).mean()


@pytest.mark.parametrize("dtype, channels", [("uint8", 4), ("uint16", 3), ("uint16", 4), ("float16", 4), ("float32", 3)])
def test_pixels_outside_the_mask_stay_bit_exact_in_every_dtype(stylizer, photo, style_small, dtype, channels):
    pixels = photo[:200, :240].astype(np.float32) / 255
    if channels == 4:
        pixels = np.dstack([pixels, np.linspace(0, 1, 200 * 240, dtype=np.float32).reshape(200, 240)])
    content = (pixels * 65535).astype(dtype) if dtype == "uint16" else (pixels * 255).astype(dtype) if dtype == "uint8" \
        else pixels.astype(dtype)
    mask = np.zeros((200, 240), np.float32)
    mask[40:150, 70:200] = 1.0
    out = stylizer.stylize(content, style_small, style_scale=3, detail=0.7, mask=mask, feather=6)
    assert out.dtype == content.dtype and out.shape == content.shape
    outside = np.ones((200, 240), bool)
    outside[40 - 7 : 150 + 7, 70 - 7 : 200 + 7] = False
    assert np.array_equal(out[outside], content[outside])
    if channels == 4:
        assert np.array_equal(out[..., 3], content[..., 3])
    assert np.abs(out[60:130, 90:180, :3].astype(np.float64) - content[60:130, 90:180, :3]).mean() > 0


def test_tiles_equal_one_piece_with_the_same_statistics_in_both_passes():
    photo = _float(bench_image("content", "flowers.jpg", (384, 300)))
    style = _float(bench_image("style", "la_muse.jpg", (256, 256)))
    method = ArbitraryMethod(torch.device("cpu"))
    box = Bounds(0, 0, 384, 300)
    job = RegionJob((StyleRef(image=style, key="la_muse"),), 1.0, box, box)
    results = []
    for tile in (96, 384):  # 4 x 4 tiles at full size and 2 x 2 at the coarse one, against one piece each
        method.tiling = TilingConfig(whole_max_pixels=0, tile=tile, margin=64, sample_crop=64)
        results.append(method.render(photo, [job], MethodSettings(style_scale=2.0, detail=1.0))[0])
    assert np.abs(results[0] - results[1]).max() < 1e-5


def test_progress_counts_the_full_resolution_pass_and_cancel_stops_it(stylizer, photo, style_small):
    reports = []
    stylizer.stylize(photo, style_small, style_scale=2, progress=reports.append)
    assert [r.done for r in reports] == [1, 2] and reports[-1].total == 2
    token = engine.CancelToken()

    def cancel_after_the_coarse_pass(report):
        token.cancel()

    with pytest.raises(engine.Cancelled):
        stylizer.stylize(photo, style_small, style_scale=2, progress=cancel_after_the_coarse_pass, cancel=token)


def test_results_are_deterministic(stylizer, photo, style_small):
    a = stylizer.stylize(photo, style_small, style_scale=2.5, detail=0.6)
    assert np.array_equal(a, engine.Stylizer(device="cpu").stylize(photo, style_small, style_scale=2.5, detail=0.6))


@pytest.mark.slow
def test_a_4096_square_canvas_gets_the_strokes_of_1024_with_sharp_edges():
    from PIL import Image

    photo = np.asarray(Image.fromarray(bench_image("content", "chicago.jpg")).resize((4096, 4096), Image.LANCZOS))
    style = bench_image("style", "la_muse.jpg", (512, 512))
    stylizer = engine.Stylizer(device="cpu")
    out = stylizer.stylize(photo.astype(np.uint16) * 257, style, style_scale="auto")  # 4; the full-size pass tiles
    assert out.shape == (4096, 4096, 3) and out.dtype == np.uint16
    small = (out // 257).astype(np.uint8)
    at_1024 = stylizer.stylize(np.asarray(Image.fromarray(photo).resize((1024, 1024), Image.LANCZOS)), style)
    shrunk = _shrink(small, 4)
    assert np.abs(shrunk - _float(at_1024)).mean() < 0.5 * np.abs(shrunk - _shrink(stylizer.stylize(photo, style), 4)).mean()
    assert _laplacian_energy(small) > 0.5 * _laplacian_energy(stylizer.stylize(photo, style))
