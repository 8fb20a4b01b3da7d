"""The optimization loop on a stand-in VGG-19: losses fall, progress every iteration, cancel, seeds."""
from __future__ import annotations

import numpy as np
import pytest
import torch

from engine.errors import Cancelled
from engine.imaging.resample import to_array
from engine.optimize.control import rgb_to_yiq
from engine.optimize.loop import Problem, full_problem, optimize
from engine.optimize.objective import RegionStyles
from engine.optimize.options import OptimizeOptions
from engine.progress import CancelToken
from optimize_standins import random_image

CPU = torch.device("cpu")


@pytest.fixture
def problem() -> Problem:
    return full_problem(random_image(48, 40, seed=1), [random_image(56, 56, seed=2)], CPU)


def run(problem, backbone, reports=None, cancel=None, seed=0, **options):
    opts = OptimizeOptions.from_dict({"init": "content", **options})
    return optimize(problem, backbone, opts, seed=seed, progress=None if reports is None else reports.append, cancel=cancel)


@pytest.mark.parametrize("optimizer", ["lbfgs", "adam"])
@pytest.mark.parametrize("fusion", ["gram", "attention", "gram+attention"])
def test_losses_decrease_monotonically_over_the_first_iterations(problem, vgg19, optimizer, fusion):
    reports = []
    run(problem, vgg19, reports, iterations=6, optimizer=optimizer, fusion=fusion)
    totals = [r.losses["total"] for r in reports]
    assert all(b < a for a, b in zip(totals, totals[1:])), totals
    assert totals[-1] < 0.95 * totals[0]


def test_progress_arrives_every_iteration_with_losses_and_eta(problem, vgg19):
    reports = []
    run(problem, vgg19, reports, iterations=4)
    assert [(r.done, r.total) for r in reports] == [(1, 4), (2, 4), (3, 4), (4, 4)]
    assert {"content", "style", "tv", "total"} <= set(reports[0].losses)
    assert reports[-1].eta_s == 0 and all(r.eta_s is not None for r in reports)


def test_cancel_stops_within_one_iteration(problem, vgg19):
    token = CancelToken()
    reports = []

    def on_progress(report):
        reports.append(report)
        if report.done == 2:
            token.cancel()

    with pytest.raises(Cancelled):
        optimize(problem, vgg19, OptimizeOptions.from_dict({"iterations": 50, "init": "content"}), progress=on_progress, cancel=token)
    assert len(reports) == 2


def test_a_cancel_before_the_start_runs_no_iteration(problem, vgg19):
    token = CancelToken()
    token.cancel()
    reports = []
    with pytest.raises(Cancelled):
        run(problem, vgg19, reports, cancel=token, iterations=5)
    assert reports == []


def test_same_seed_same_pixels_from_noise(problem, vgg19):
    noise_problem = Problem(problem.content, problem.guides, problem.regions, initial=None)
    a = run(noise_problem, vgg19, seed=3, iterations=2)
    b = run(noise_problem, vgg19, seed=3, iterations=2)
    c = run(noise_problem, vgg19, seed=4, iterations=2)
    assert torch.equal(a, b)
    assert not torch.equal(a, c)


def test_multiscale_runs_each_level_and_returns_full_size(vgg19):
    problem = full_problem(random_image(64, 72, seed=1), [random_image(56, 56, seed=2)], CPU)
    reports = []
    out = run(problem, vgg19, reports, scales=2, iterations=[3, 2])
    assert out.shape == problem.content.shape
    assert [r.done for r in reports] == [1, 2, 3, 4, 5] and reports[0].total == 5
    assert reports[0].stage.startswith("optimize 36x32") and reports[-1].stage.startswith("optimize 72x64")
    assert out.min() >= 0 and out.max() <= 1


def test_multiscale_skips_levels_too_small_to_exist(vgg19):
    tiny = full_problem(random_image(40, 40, 5), [random_image(40, 40, 6)], CPU)
    reports = []
    run(tiny, vgg19, reports, scales=3, iterations=[7, 3, 2])
    assert reports[0].total == 2  # 20 and 10 pixels are under the smallest level: only the last level runs


def test_preview_every_n_iterations_is_a_small_uint8_image(problem, vgg19):
    reports = []
    run(problem, vgg19, reports, iterations=4, preview_every=2)
    previews = [r.preview for r in reports]
    assert previews[0] is None and previews[2] is None
    assert previews[1].dtype == np.uint8 and previews[1].shape == (48, 40, 3)


def test_luminance_only_keeps_the_content_colours(problem, vgg19):
    out = run(problem, vgg19, iterations=3, color="luminance", style_weight=1000)
    yiq, content_yiq = rgb_to_yiq(out), rgb_to_yiq(problem.content)
    inside = (out > 0.01).all(1, keepdim=True) & (out < 0.99).all(1, keepdim=True)  # unclipped pixels
    assert torch.allclose(yiq[:, 1:][inside.expand(-1, 2, -1, -1)], content_yiq[:, 1:][inside.expand(-1, 2, -1, -1)], atol=1e-4)
    assert (yiq[:, :1] - content_yiq[:, :1]).abs().mean() > 1e-3  # the luminance did change


def test_strength_zero_keeps_the_content(problem, vgg19):
    weak = Problem(problem.content, problem.guides, (RegionStyles(problem.regions[0].images, (1.0,), 0.0),), problem.content)
    out = run(weak, vgg19, iterations=3, tv_weight=0)
    assert np.abs(to_array(out) - to_array(problem.content)).max() < 1e-3
