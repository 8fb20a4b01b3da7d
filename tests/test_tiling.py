"""Large images run in tiles that share instance-norm statistics: no seams, same picture."""
from __future__ import annotations

import numpy as np
import pytest
import torch

import engine
import engine.nets as nets
from engine.client.geometry import Extent
from engine.methods.transformer_runner import TilingConfig, gather_stats, run_transformer, sample_crops, steps_for
from engine.nets.fast_form import ARBITRARY_PLAN, PRESET_PLAN, FastTransformer
from engine.progress import ProgressMeter

from conftest import bench_image


def _tensor(pixels: np.ndarray) -> torch.Tensor:
    return torch.from_numpy(pixels.astype(np.float32) / 255).permute(2, 0, 1)[None].contiguous()


@pytest.fixture(scope="module")
def photo() -> torch.Tensor:
    return _tensor(bench_image("content", "golden_gate.jpg", (300, 236)))


@pytest.mark.parametrize("which", ["arbitrary", "preset"])
def test_tiles_equal_one_pass_with_the_same_statistics(photo, which):
    loaded = nets.load_arbitrary() if which == "arbitrary" else nets.load_presets()
    plan = ARBITRARY_PLAN if which == "arbitrary" else PRESET_PLAN
    config = TilingConfig(whole_max_pixels=0, tile=64, margin=64, sample_crop=64, sample_pixels=64 * 64 * 6)
    with torch.inference_mode():
        cond = loaded.conditioner(torch.randn(1, 100) * 0.5 if which == "arbitrary" else torch.eye(26)[5])
        tiled = run_transformer(loaded.transformer, cond, plan, photo, config)
        padded = torch.nn.functional.pad(photo, [0, 0, 0, 0])
        stats = gather_stats(loaded.transformer, cond, plan, padded, config)
        whole = FastTransformer(loaded.transformer, cond, plan).freeze(stats)(padded)
    assert tiled.shape == photo.shape
    assert (tiled - whole).abs().max() < 1e-5


def test_no_seams_along_tile_borders():
    photo = _tensor(bench_image("content", "flowers.jpg", (384, 384)))
    loaded = nets.load_presets()
    config = TilingConfig(whole_max_pixels=0, tile=96, margin=64, sample_crop=64)
    with torch.inference_mode():
        out = run_transformer(loaded.transformer, loaded.conditioner(torch.eye(26)[16]), PRESET_PLAN, photo, config)
    gray = out[0].mean(0).numpy()
    column_steps = np.abs(np.diff(gray, axis=1)).mean(axis=0)  # energy between column x and x+1
    borders = [x - 1 for x in range(96, 384, 96)]
    interior = np.delete(column_steps, borders)
    assert column_steps[borders].mean() < 1.5 * interior.mean()
    row_steps = np.abs(np.diff(gray, axis=0)).mean(axis=1)
    assert row_steps[borders].mean() < 1.5 * np.delete(row_steps, borders).mean()


def test_sample_crops_lie_inside_on_the_grid_and_skip_border_margins():
    extent = Extent(1000, 604)
    config = TilingConfig(whole_max_pixels=0, sample_crop=128, margin=64, sample_pixels=128 * 128 * 8)
    crops = list(sample_crops(extent, config))
    assert len(crops) >= 6
    for crop, (top, bottom, left, right) in crops:
        assert crop.x % 4 == 0 and crop.y % 4 == 0 and crop.x >= 0 and crop.right <= extent.width
        assert crop.y >= 0 and crop.bottom <= extent.height
        assert top == (0 if crop.y == 0 else 64) and left == (0 if crop.x == 0 else 64)
        assert bottom == (0 if crop.bottom == extent.height else 64)
    assert any(c.x == 0 for c, _ in crops) and any(c.right == extent.width for c, _ in crops)


def test_progress_counts_statistics_and_every_tile(photo):
    config = TilingConfig(whole_max_pixels=0, tile=64, margin=64, sample_crop=64)
    reports = []
    meter = ProgressMeter(steps_for(Extent(300, 236), config), "stylize", reports.append)
    loaded = nets.load_presets()
    with torch.inference_mode():
        run_transformer(loaded.transformer, loaded.conditioner(torch.eye(26)[0]), PRESET_PLAN, photo, config, meter)
    assert [r.done for r in reports] == list(range(1, 1 + 1 + 5 * 4))
    assert reports[-1].done == reports[-1].total


def test_stylizer_tiles_when_over_budget_and_the_picture_stays_the_same():
    photo = bench_image("content", "sailboat.jpg", (512, 384))
    whole = engine.Stylizer(device="cpu").stylize(photo, "preset:cobalt-gold")
    tiled_stylizer = engine.Stylizer(device="cpu", memory_budget_mb=16)  # forces tiling at this size
    tiled = tiled_stylizer.stylize(photo, "preset:cobalt-gold")
    assert tiled_stylizer._method("preset").tiling.whole_max_pixels < 512 * 384
    diff = np.abs(tiled.astype(np.float64) - whole.astype(np.float64)) / 255
    psnr = 10 * np.log10(1 / np.mean(diff**2))
    assert psnr > 24, f"tiled result differs from the one-pass result: {psnr:.1f} dB"


@pytest.mark.slow
def test_4096_square_image_stylizes():
    photo = np.asarray(
        __import__("PIL.Image", fromlist=["Image"]).fromarray(bench_image("content", "chicago.jpg")).resize((4096, 4096))
    )
    out = engine.Stylizer(device="cpu").stylize(photo, "preset:blue-swirl")
    assert out.shape == (4096, 4096, 3) and out.dtype == np.uint8
    assert out.std() > 10 and np.abs(out.astype(int) - photo.astype(int)).mean() > 10
