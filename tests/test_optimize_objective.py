"""The objective's fixed targets: style blends, strength, the kept outside, per-layer weights."""
from __future__ import annotations

import pytest
import torch

from engine.errors import BadInput
from engine.imaging.resample import to_tensor
from engine.optimize import losses
from engine.optimize.objective import Objective, RegionStyles, layer_weights
from engine.optimize.options import OptimizeOptions
from optimize_standins import random_image


def image(seed: int, height: int = 32, width: int = 32) -> torch.Tensor:
    return to_tensor(random_image(height, width, seed))


def objective(net, content, guides, regions, **options) -> Objective:
    return Objective(net, content, guides, regions, OptimizeOptions.from_dict(options), torch.Generator().manual_seed(0))


def style_gram(net, picture, layer="relu1_1") -> torch.Tensor:
    with torch.no_grad():
        return losses.gram(net(picture, [layer])[layer])[0]


def test_a_blend_of_styles_targets_the_weighted_sum_of_their_grams(vgg19):
    content, a, b = image(0), image(1), image(2)
    ones = torch.ones(1, 32, 32)
    obj = objective(vgg19, content, ones, [RegionStyles((a, b), (1.0, 3.0))])
    expected = 0.25 * style_gram(vgg19, a) + 0.75 * style_gram(vgg19, b)
    assert torch.allclose(obj.targets["gram"]["relu1_1"][0], expected, rtol=1e-4, atol=1e-6)


def test_strength_moves_the_target_toward_the_contents_own_gram(vgg19):
    content, style = image(0), image(1)
    ones = torch.ones(1, 32, 32)
    obj = objective(vgg19, content, ones, [RegionStyles((style,), (1.0,), strength=0.5)])
    expected = 0.5 * style_gram(vgg19, style) + 0.5 * style_gram(vgg19, content)
    assert torch.allclose(obj.targets["gram"]["relu1_1"][0], expected, rtol=1e-4, atol=1e-6)


def test_outside_every_region_the_target_is_the_contents_own_guided_gram(vgg19):
    content, style = image(0), image(1)
    inside = torch.zeros(1, 32, 32)
    inside[:, :, :16] = 1
    guides = torch.cat([inside, 1 - inside])
    obj = objective(vgg19, content, guides, [RegionStyles((style,), (1.0,))])
    with torch.no_grad():
        own = losses.gram(vgg19(content, ["relu1_1"])["relu1_1"], guides)
    assert obj.targets["gram"]["relu1_1"].shape[0] == 2
    assert torch.allclose(obj.targets["gram"]["relu1_1"][1], own[1], rtol=1e-4, atol=1e-6)
    assert not torch.allclose(obj.targets["gram"]["relu1_1"][0], own[0], rtol=1e-2)


def test_the_content_itself_has_no_content_loss_and_gradients_flow(vgg19):
    content, style = image(0), image(1)
    obj = objective(vgg19, content, torch.ones(1, 32, 32), [RegionStyles((style,), (1.0,))], fusion="gram+attention")
    variable = content.clone().requires_grad_(True)
    total, parts = obj(variable)
    total.backward()
    assert parts["content"].item() == pytest.approx(0.0, abs=1e-9)
    assert parts["style"].item() > 0 and parts["attention"].item() > 0
    assert variable.grad is not None and variable.grad.abs().sum() > 0


def test_layer_weights_are_normalized_and_must_match_the_backbone(vgg19):
    weights = layer_weights(vgg19, [2, 2, 0, 0, 0])
    assert weights == {"relu1_1": 0.5, "relu2_1": 0.5}
    with pytest.raises(BadInput, match="5 style layers") as err:
        layer_weights(vgg19, [1, 1])
    assert "relu1_1" in err.value.hint


def test_a_blend_whose_weights_sum_to_zero_is_refused():
    with pytest.raises(BadInput, match="sum to zero"):
        RegionStyles((image(1),), (0.0,)).blend()
