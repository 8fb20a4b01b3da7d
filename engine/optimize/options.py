"""The optimization method's options, validated from the plain dict that callers send."""
from __future__ import annotations

import math
from dataclasses import dataclass, fields
from typing import Any, Mapping, Optional, Union

from ..errors import BadInput

BACKBONES = ("auto", "vgg19", "mobilenet")
FUSIONS = ("gram", "attention", "gram+attention")
OPTIMIZERS = ("lbfgs", "adam")
INITS = ("fast", "content", "noise")
COLORS = ("full", "luminance")
MAX_SCALES = 6
MAX_ITERATIONS = 10_000


@dataclass(frozen=True)
class OptimizeOptions:
    """How the optimization method runs: backbone, losses, optimizer and controls."""

    backbone: str = "auto"  # "auto": VGG-19 when its weights are installed, else mobilenet
    weights: Optional[str] = None  # VGG-19 checkpoint path (first in the lookup order)
    fusion: str = "gram"
    content_weight: float = 0.2
    style_weight: float = 10.0
    attention_weight: float = 1.0
    tv_weight: float = 5.0
    layer_weights: Optional[tuple[float, ...]] = None  # one per style layer; None: equal
    optimizer: str = "lbfgs"
    iterations: Union[int, tuple[int, ...]] = 200  # per scale, or one count for each scale
    learning_rate: float = 0.02  # Adam's step, in pixel units (0..1); L-BFGS uses its own
    scales: int = 1  # coarse-to-fine levels, each half the size of the next
    init: str = "fast"
    color: str = "full"  # "luminance": optimize luminance only, keep the content's colours
    preview_every: int = 0  # send a preview image every N iterations; 0: never
    max_attention_keys: int = 4096  # style positions attended to per layer (style maps are pooled)

    @staticmethod
    def from_dict(values: Optional[Mapping[str, Any]]) -> "OptimizeOptions":
        """Options from a caller's dict; raises ``BadInput`` naming the bad key and what it accepts."""
        values = dict(values or {})
        known = {f.name for f in fields(OptimizeOptions)}
        unknown = sorted(set(values) - known)
        if unknown:
            raise BadInput(
                f"unknown optimize option(s): {', '.join(unknown)}",
                f"valid options are: {', '.join(sorted(known))}",
            )
        parsed: dict[str, Any] = {}
        for name, value in values.items():
            parsed[name] = _PARSERS[name](name, value)
        options = OptimizeOptions(**parsed)
        if isinstance(options.iterations, tuple) and len(options.iterations) != options.scales:
            raise BadInput(
                f"optimize option iterations lists {len(options.iterations)} counts for {options.scales} scale(s)",
                "give one iteration count per scale, or a single count used at every scale",
            )
        return options

    @property
    def uses_gram(self) -> bool:
        return "gram" in self.fusion

    @property
    def uses_attention(self) -> bool:
        return "attention" in self.fusion

    def iterations_at(self, scale: int) -> int:
        """Iterations to run at coarse-to-fine level ``scale`` (0 is the coarsest)."""
        return self.iterations[scale] if isinstance(self.iterations, tuple) else self.iterations

    @property
    def total_iterations(self) -> int:
        return sum(self.iterations_at(i) for i in range(self.scales))


def _choice(choices: tuple[str, ...]):
    def parse(name: str, value: Any) -> str:
        if not isinstance(value, str) or value.lower() not in choices:
            raise BadInput(f"optimize option {name}={value!r} is not valid", f"use one of: {', '.join(choices)}")
        return value.lower()

    return parse


def _number(low: float, high: float = math.inf, integer: bool = False):
    def parse(name: str, value: Any) -> float:
        kind = "a whole number" if integer else "a number"
        if isinstance(value, bool) or not isinstance(value, (int, float)) or math.isnan(value):
            raise BadInput(f"optimize option {name}={value!r} is not {kind}", f"give {name} as {kind} in [{low}, {high}]")
        if integer and value != int(value):
            raise BadInput(f"optimize option {name}={value!r} is not {kind}", f"give {name} as {kind} in [{low}, {high}]")
        if not low <= value <= high:
            raise BadInput(f"optimize option {name}={value!r} is out of range", f"give {name} in [{low}, {high}]")
        return int(value) if integer else float(value)

    return parse


def _path(name: str, value: Any) -> Optional[str]:
    if value is None:
        return None
    if not isinstance(value, str) or not value:
        raise BadInput(f"optimize option {name}={value!r} is not a file path", "give the path of a VGG-19 .pth checkpoint")
    return value


def _number_list(name: str, value: Any, example: str) -> list:
    """A list from a list/tuple or a comma-separated string; raises ``BadInput`` otherwise."""
    if isinstance(value, str):
        try:
            value = [float(part) for part in value.split(",") if part.strip()]
        except ValueError:
            raise BadInput(f"optimize option {name}={value!r} is not a list of numbers", f"e.g. {name}={example}") from None
    if not isinstance(value, (list, tuple)) or not value:
        raise BadInput(f"optimize option {name}={value!r} is not a list of numbers", f"e.g. {name}={example}")
    return list(value)


def _iterations(name: str, value: Any) -> Union[int, tuple[int, ...]]:
    parse = _number(1, MAX_ITERATIONS, integer=True)
    if isinstance(value, (list, tuple, str)):
        counts = tuple(parse(name, v) for v in _number_list(name, value, "300,100"))
        return counts[0] if len(counts) == 1 else counts
    return parse(name, value)


def _layer_weights(name: str, value: Any) -> Optional[tuple[float, ...]]:
    if value is None:
        return None
    parse = _number(0.0, 1e6)
    weights = tuple(parse(name, v) for v in _number_list(name, value, "1,1,1,1,1"))
    if sum(weights) <= 0:
        raise BadInput(f"optimize option {name} sums to zero", "give at least one style layer a positive weight")
    return weights


_PARSERS = {
    "backbone": _choice(BACKBONES),
    "weights": _path,
    "fusion": _choice(FUSIONS),
    "content_weight": _number(0.0, 1e6),
    "style_weight": _number(0.0, 1e6),
    "attention_weight": _number(0.0, 1e6),
    "tv_weight": _number(0.0, 1e6),
    "layer_weights": _layer_weights,
    "optimizer": _choice(OPTIMIZERS),
    "iterations": _iterations,
    "learning_rate": _number(1e-6, 10.0),
    "scales": _number(1, MAX_SCALES, integer=True),
    "init": _choice(INITS),
    "color": _choice(COLORS),
    "preview_every": _number(0, MAX_ITERATIONS, integer=True),
    "max_attention_keys": _number(16, 65536, integer=True),
}
