"""Magenta's arbitrary-style nets: style predictor + transformer conditioned on a 100-d style vector."""
from __future__ import annotations

from pathlib import Path

import torch
from torch import nn

from .onnx_weights import ConvWeights, conv_layers
from .style_predictor import STYLE_VECTOR_SIZE, StylePredictor
from .transformer import Conditioning, TransformerNet, TransformerSpec

ARBITRARY_SPEC = TransformerSpec(contract=(8, 16, 32), residual_blocks=5, expand=(16, 8), normalize_contract=False)

# Torch layer name -> name of the layer in Magenta's TensorFlow graph.
_TF_TRANSFORMER_NAMES = {
    "contract.0": "transformer/contract/conv1",
    "contract.1": "transformer/contract/conv2",
    "contract.2": "transformer/contract/conv3",
    **{f"res.{b}.{j}": f"transformer/residual/residual{b + 1}/conv{j + 1}" for b in range(5) for j in range(2)},
    "expand.0": "transformer/expand/conv1/conv",
    "expand.1": "transformer/expand/conv2/conv",
    "expand.2": "transformer/expand/conv3/conv",
}


class StyleVectorConditioner(nn.Module):
    """Maps a style vector to the transformer's per-layer instance-norm scale and shift."""

    def __init__(self, channels: list[int]) -> None:
        super().__init__()
        self.gammas = nn.ModuleList(nn.Linear(STYLE_VECTOR_SIZE, c) for c in channels)
        self.betas = nn.ModuleList(nn.Linear(STYLE_VECTOR_SIZE, c) for c in channels)

    def forward(self, style_vector: torch.Tensor) -> Conditioning:
        """Conditioning for style vectors of shape 1 x 100."""
        return Conditioning(tuple(g(style_vector) for g in self.gammas), tuple(b(style_vector) for b in self.betas))


def _conv_state(prefix: str, conv: ConvWeights) -> dict[str, torch.Tensor]:
    bias = conv.bias if conv.bias is not None else torch.zeros(conv.weight.shape[0]).numpy()
    return {f"{prefix}.weight": torch.from_numpy(conv.weight), f"{prefix}.bias": torch.from_numpy(bias)}


def convert_transformer(path: Path) -> dict[str, torch.Tensor]:
    """State dict of ``ArbitraryNets.transformer`` + ``conditioner`` from the ONNX transform net."""
    convs = conv_layers(path)
    state: dict[str, torch.Tensor] = {}
    net = TransformerNet(ARBITRARY_SPEC)
    norm_index = 0
    for i, layer in enumerate(net.layers):
        tf_name = _TF_TRANSFORMER_NAMES[layer.name]
        state.update(_conv_state(f"transformer.convs.{i}", convs[tf_name]))
        if layer.normalized:
            for attr, tf_conv in (("gammas", "Conv_1"), ("betas", "Conv")):
                c = convs[f"style_params/{tf_name}/StyleNorm/{tf_conv}"]
                state[f"conditioner.{attr}.{norm_index}.weight"] = torch.from_numpy(c.weight[:, :, 0, 0].copy())
                state[f"conditioner.{attr}.{norm_index}.bias"] = torch.from_numpy(c.bias.copy())
            norm_index += 1
    return state


def convert_predictor(path: Path) -> dict[str, torch.Tensor]:
    """State dict of :class:`StylePredictor` from the ONNX style-prediction net."""
    convs = conv_layers(path)
    tf_names = ["MobilenetV2/Conv", "MobilenetV2/expanded_conv/depthwise", "MobilenetV2/expanded_conv/project"]
    for k in range(1, 17):
        tf_names += [f"MobilenetV2/expanded_conv_{k}/{part}" for part in ("expand", "depthwise", "project")]
    tf_names += ["MobilenetV2/Conv_1", "mobilenet_conv/Conv"]
    model = StylePredictor()
    torch_names = [name for name, m in model.named_modules() if isinstance(m, nn.Conv2d)]
    if len(torch_names) != len(tf_names):
        raise ValueError(f"predictor has {len(torch_names)} convolutions, the ONNX graph {len(tf_names)}")
    state: dict[str, torch.Tensor] = {}
    for torch_name, tf_name in zip(torch_names, tf_names):
        state.update(_conv_state(torch_name, convs[tf_name]))
    return state


class ArbitraryNets(nn.Module):
    """The transformer and its style-vector conditioner, loaded together."""

    def __init__(self) -> None:
        super().__init__()
        self.transformer = TransformerNet(ARBITRARY_SPEC)
        self.conditioner = StyleVectorConditioner(self.transformer.normalized_channels)
