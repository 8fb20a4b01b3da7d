"""The 26-style conditional-instance-norm net (Dumoulin et al.) and the names of its styles."""
from __future__ import annotations

import difflib
from dataclasses import dataclass
from pathlib import Path

import torch
from torch import nn

from ..errors import BadInput
from ..preset_names import PRESET_NAMES
from .transformer import Conditioning, TransformerNet, TransformerSpec

PRESET_SPEC = TransformerSpec(contract=(32, 32, 32), residual_blocks=6, expand=(8, 4), normalize_contract=True)
PRESET_COUNT = 26


@dataclass(frozen=True)
class Preset:
    """One of the built-in styles."""

    index: int
    name: str  # stable identifier, used as ``preset:NAME``
    label: str  # human-readable


PRESETS = tuple(Preset(i, name, name.replace("-", " ").capitalize()) for i, name in enumerate(PRESET_NAMES))


def find_preset(name: str) -> Preset:
    """The preset called ``name`` (or its index as a string); raises :class:`BadInput` with suggestions."""
    key = name.strip().lower().replace("_", "-").replace(" ", "-")
    for preset in PRESETS:
        if key in (preset.name, str(preset.index)):
            return preset
    close = difflib.get_close_matches(key, [p.name for p in PRESETS], n=3)
    hint = f"did you mean {', '.join(close)}? " if close else ""
    raise BadInput(f"unknown preset '{name}'", f"{hint}run `restyle styles` to list the {PRESET_COUNT} presets")


class PresetConditioner(nn.Module):
    """Per-style instance-norm tables; a blend of styles is a weighted sum of rows."""

    def __init__(self, channels: list[int]) -> None:
        super().__init__()
        self.gammas = nn.ParameterList(nn.Parameter(torch.ones(PRESET_COUNT, c)) for c in channels)
        self.betas = nn.ParameterList(nn.Parameter(torch.zeros(PRESET_COUNT, c)) for c in channels)

    def forward(self, weights: torch.Tensor) -> Conditioning:
        """Conditioning for a 26-vector of style weights (used as given, not normalised)."""
        w = weights.reshape(1, PRESET_COUNT)
        return Conditioning(tuple(w @ g for g in self.gammas), tuple(w @ b for b in self.betas))


class PresetNets(nn.Module):
    """The 26-style transformer and its style tables, loaded together."""

    def __init__(self) -> None:
        super().__init__()
        self.transformer = TransformerNet(PRESET_SPEC)
        self.conditioner = PresetConditioner(self.transformer.normalized_channels)


def convert_presets(path: Path) -> dict[str, torch.Tensor]:
    """State dict of :class:`PresetNets` from the ONNX 26-style net."""
    import onnx
    from onnx import numpy_helper

    values = {i.name: torch.from_numpy(numpy_helper.to_array(i).copy()) for i in onnx.load(str(path)).graph.initializer}
    net = TransformerNet(PRESET_SPEC)
    state: dict[str, torch.Tensor] = {}
    for i, layer in enumerate(net.layers):
        weight = values[f"{layer.name}.w"]
        state[f"transformer.convs.{i}.weight"] = weight
        state[f"transformer.convs.{i}.bias"] = torch.zeros(weight.shape[0])
        state[f"conditioner.gammas.{i}"] = values[f"{layer.name}.norm.gamma"]
        state[f"conditioner.betas.{i}"] = values[f"{layer.name}.norm.beta"]
    return state
