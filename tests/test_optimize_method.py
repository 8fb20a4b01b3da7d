"""method="optimize" end to end: regions with guided Grams, init, refusals, the Stylizer and the CLI."""
from __future__ import annotations

import numpy as np
import pytest
import torch
from PIL import Image

from engine.cli import main
from engine.client.geometry import Bounds, Extent
from engine.errors import BadInput, TooLarge
from engine.methods.base import MethodSettings, RegionJob, StyleRef
from engine.methods.optimize import OptimizeMethod, paste_regions
from engine.optimize import memory
from engine.optimize.memory import check_fits
from optimize_standins import random_image, write_standin

CPU = torch.device("cpu")


def flat(colour, size=32) -> np.ndarray:
    """A style image of one colour with a little texture."""
    rng = np.random.default_rng(0)
    return np.clip(np.array(colour, np.float32) + 0.05 * rng.standard_normal((size, size, 3)), 0, 1).astype(np.float32)


def job(styles, mask=None, extent=Extent(64, 48), strength=1.0, context=None) -> RegionJob:
    refs = tuple(StyleRef(image=s) for s in styles)
    full = Bounds.of(extent)
    return RegionJob(refs, strength, full, context or full, mask)


def settings(**options) -> MethodSettings:
    return MethodSettings(extra={"init": "content", **options})


@pytest.fixture
def vgg_env(vgg19_checkpoint, monkeypatch):  # noqa: F811
    monkeypatch.setenv("RESTYLE_VGG19", str(vgg19_checkpoint))


def test_a_whole_image_region_comes_back_at_its_context_size(vgg_env):
    content = random_image(48, 64, 0)
    out = OptimizeMethod(CPU).render(content, [job([random_image(40, 40, 1)])], settings(iterations=2, backbone="vgg19"))
    assert len(out) == 1 and out[0].shape == (48, 64, 3) and out[0].dtype == np.float32
    assert 0 <= out[0].min() and out[0].max() <= 1
    assert np.abs(out[0] - content).mean() > 1e-4


def test_outside_every_region_the_content_is_kept(vgg_env):
    content = random_image(48, 64, 0)
    mask = np.zeros((48, 64), np.float32)
    mask[:, :24] = 1
    region = job([flat((0.9, 0.1, 0.1))], mask)
    out = OptimizeMethod(CPU).render(content, [region], settings(iterations=5, backbone="vgg19", tv_weight=0))[0]
    change = np.abs(out - content).mean(2)
    assert change[:, :24].mean() > 3 * change[:, 44:].mean()


def test_each_region_takes_its_own_style_in_one_optimization():
    content = np.full((64, 64, 3), 0.5, np.float32) + 0.1 * random_image(64, 64, 3)
    left, right = np.zeros((64, 64), np.float32), np.zeros((64, 64), np.float32)
    left[:, :32], right[:, 32:] = 1, 1
    regions = [job([flat((0.9, 0.1, 0.1))], left, Extent(64, 64)), job([flat((0.1, 0.1, 0.9))], right, Extent(64, 64))]
    out = OptimizeMethod(CPU).render(content, regions, settings(iterations=30, backbone="mobilenet", content_weight=0.01))
    a, b = out  # each region's crop is its context: here the whole image
    red_minus_blue = a[..., 0] - a[..., 2]
    assert red_minus_blue[:, :28].mean() > 0.1 and red_minus_blue[:, 36:].mean() < -0.1
    assert np.array_equal(a, b)  # one optimization serves both regions


def test_multi_region_crops_are_cut_from_the_union_box(vgg_env):
    content = random_image(48, 96, 0)
    left_box, right_box = Bounds(0, 0, 40, 48), Bounds(56, 0, 40, 48)
    mask_l, mask_r = np.zeros((48, 96), np.float32), np.zeros((48, 96), np.float32)
    mask_l[:, :20], mask_r[:, 76:] = 1, 1
    regions = [
        RegionJob((StyleRef(image=flat((1, 0, 0))),), 1.0, Bounds(0, 0, 20, 48), left_box, mask_l),
        RegionJob((StyleRef(image=flat((0, 0, 1))),), 1.0, Bounds(76, 0, 20, 48), right_box, mask_r),
    ]
    a, b = OptimizeMethod(CPU).render(content, regions, settings(iterations=1, backbone="vgg19"))
    assert a.shape == (48, 40, 3) and b.shape == (48, 40, 3)


def test_presets_are_refused_with_a_pointer_to_the_preset_method():
    region = RegionJob((StyleRef(preset="wave"),), 1.0, Bounds(0, 0, 8, 8), Bounds(0, 0, 8, 8))
    with pytest.raises(BadInput, match="presets") as err:
        OptimizeMethod(CPU).render(np.zeros((8, 8, 3), np.float32), [region], settings(backbone="mobilenet"))
    assert "method='preset'" in err.value.hint


class RecordingFast:
    """A stand-in fast method: paints every context box one colour and records the call."""

    def __init__(self, colour):
        self.colour = np.array(colour, np.float32)
        self.calls = []

    def render(self, rgb, regions, settings, progress=None, cancel=None):
        self.calls.append(settings)
        return [np.broadcast_to(self.colour, (r.context.height, r.context.width, 3)).copy() for r in regions]


def test_fast_init_starts_from_the_fast_result_inside_the_mask_only(vgg_env):
    content = random_image(48, 64, 0)
    mask = np.zeros((48, 64), np.float32)
    mask[:, 32:] = 1
    fast = RecordingFast((0.0, 1.0, 0.0))
    region = job([random_image(32, 32, 1)], mask)
    start = OptimizeMethod(CPU, fast=fast)._initial("fast", content, [region], settings(), Bounds(0, 0, 64, 48), None)
    assert fast.calls and fast.calls[0].extra is None  # the fast method gets none of our options
    assert fast.calls[0].detail == 0.0  # the upscaled coarse result: the optimizer's loss falls further from it
    assert np.array_equal(start[:, :32], content[:, :32])
    assert np.allclose(start[:, 32:], (0.0, 1.0, 0.0))


def test_paste_regions_leaves_pixels_outside_the_masks_alone():
    base = random_image(10, 10, 0)
    mask = np.zeros((10, 10), np.float32)
    mask[2:5, 2:5] = 0.5
    region = RegionJob((StyleRef(image=flat((0, 0, 0), 4)),), 1.0, Bounds(2, 2, 3, 3), Bounds(0, 0, 10, 10), mask)
    out = paste_regions(base, [region], [np.ones((10, 10, 3), np.float32)], Bounds(0, 0, 10, 10))
    outside = mask == 0
    assert np.array_equal(out[outside], base[outside])
    assert np.allclose(out[3, 3], base[3, 3] * 0.5 + 0.5)


def test_what_would_not_fit_is_refused_with_a_size_that_would():
    with pytest.raises(TooLarge) as err:
        check_fits(Extent(4000, 3000), 4000.0, CPU, free=8 * 2**30)
    assert "4000x3000" in err.value.message and "GiB" in err.value.message
    assert "scale the image down to about" in err.value.hint
    check_fits(Extent(500, 500), 4000.0, CPU, free=8 * 2**30)  # fits: no error


def test_render_checks_memory_before_working(monkeypatch):
    monkeypatch.setattr(memory, "free_memory", lambda device: 1024)
    content = random_image(32, 32, 0)
    with pytest.raises(TooLarge):
        OptimizeMethod(CPU).render(content, [job([flat((1, 0, 0))], extent=Extent(32, 32))], settings(backbone="mobilenet"))


def test_stylizer_keeps_pixels_outside_the_mask_bit_exact(stylizer):
    content = (random_image(64, 80, 2) * 255).astype(np.uint8)
    mask = np.zeros((64, 80), np.float32)
    mask[16:48, 20:60] = 1
    out = stylizer.stylize(
        content, random_image(48, 48, 5), method="optimize", mask=mask,
        options={"iterations": 2, "backbone": "mobilenet", "init": "content"},
    )
    assert out.dtype == np.uint8 and out.shape == content.shape
    assert np.array_equal(out[mask == 0], content[mask == 0])
    assert not np.array_equal(out[mask == 1], content[mask == 1])


def test_cli_runs_the_optimize_method(tmp_path, capsys):
    content, style, output = tmp_path / "photo.png", tmp_path / "painting.png", tmp_path / "out.png"
    Image.fromarray((random_image(48, 48, 0) * 255).astype(np.uint8)).save(content)
    Image.fromarray((random_image(40, 40, 1) * 255).astype(np.uint8)).save(style)
    code = main([
        "stylize", str(content), "--style", str(style), "--method", "optimize", "-o", str(output), "-q",
        "--option", "iterations=2", "--option", "backbone=mobilenet", "--option", "init=content",
    ])
    assert code == 0 and Image.open(output).size == (48, 48)


def test_cli_without_vgg19_weights_exits_2_naming_the_fetch_command(tmp_path, monkeypatch, capsys):
    monkeypatch.setenv("TORCH_HOME", str(tmp_path / "torch"))
    monkeypatch.setenv("RESTYLE_CACHE_DIR", str(tmp_path / "cache"))
    monkeypatch.delenv("RESTYLE_VGG19", raising=False)
    content = tmp_path / "photo.png"
    Image.fromarray(np.zeros((32, 32, 3), np.uint8)).save(content)
    code = main(["stylize", str(content), "--style", str(content), "--method", "optimize", "-o", str(tmp_path / "o.png"),
                 "--option", "backbone=vgg19"])
    err = capsys.readouterr().err
    assert code == 2
    assert "restyle fetch-weights vgg19" in err and "Traceback" not in err
    assert not (tmp_path / "o.png").exists()


def test_cli_with_a_stand_in_vgg19_from_the_hub_cache_runs(tmp_path, monkeypatch):
    monkeypatch.setenv("TORCH_HOME", str(tmp_path / "torch"))
    monkeypatch.delenv("RESTYLE_VGG19", raising=False)
    hub = tmp_path / "torch" / "hub" / "checkpoints"
    hub.mkdir(parents=True)
    write_standin(hub / "vgg19-dcbb9e9d.pth")
    content = tmp_path / "photo.png"
    Image.fromarray((random_image(40, 40, 0) * 255).astype(np.uint8)).save(content)
    code = main(["stylize", str(content), "--style", str(content), "--method", "optimize", "-o", str(tmp_path / "o.png"),
                 "-q", "--option", "iterations=1", "--option", "init=content"])  # backbone auto -> vgg19
    assert code == 0


@pytest.mark.parametrize("backbone", ["vgg19", "mobilenet"])
@pytest.mark.parametrize("height, width", [(16, 20), (17, 33)])
def test_the_smallest_images_and_thin_styles_work_with_every_option(vgg_env, backbone, height, width):
    content = random_image(height, width, 0)
    mask = np.zeros((height, width), np.float32)
    mask[: height // 2] = 1
    region = job([random_image(9, 40, 1)], mask, Extent(width, height))
    options = dict(backbone=backbone, iterations=1, init="noise", fusion="gram+attention", scales=3, color="luminance")
    out = OptimizeMethod(CPU).render(content, [region], MethodSettings(extra=options))[0]
    assert out.shape == (height, width, 3) and np.isfinite(out).all()
