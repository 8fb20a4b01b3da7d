"""Read convolution weights out of the pinned ONNX files, dequantizing int8 weights to float32."""
from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np


@dataclass(frozen=True)
class ConvWeights:
    """One convolution of an ONNX graph: float weight, float bias (or None) and its attributes."""

    weight: np.ndarray
    bias: np.ndarray | None
    stride: int
    groups: int
    pads: tuple[int, ...]


def _dequantize(q: np.ndarray, scale: np.ndarray, zero_point: np.ndarray, axis: int) -> np.ndarray:
    """ONNX DequantizeLinear: ``(q - zero_point) * scale``, per-axis when ``scale`` is a vector."""
    q = q.astype(np.float64)
    scale = np.asarray(scale, dtype=np.float64)
    zero_point = np.asarray(zero_point, dtype=np.float64)
    if scale.ndim == 1 and scale.size > 1:
        shape = [1] * q.ndim
        shape[axis] = scale.size
        scale, zero_point = scale.reshape(shape), zero_point.reshape(shape)
    return ((q - zero_point) * scale).astype(np.float32)


def constant_tensors(path: Path) -> dict[str, np.ndarray]:
    """Every constant of the graph as float32/int arrays: initializers plus dequantized initializers."""
    import onnx
    from onnx import numpy_helper

    graph = onnx.load(str(path)).graph
    values = {init.name: numpy_helper.to_array(init) for init in graph.initializer}
    for node in graph.node:
        if node.op_type == "Constant":
            values[node.output[0]] = numpy_helper.to_array(node.attribute[0].t)
        elif node.op_type == "DequantizeLinear" and all(name in values for name in node.input if name):
            axis = next((a.i for a in node.attribute if a.name == "axis"), 1)
            inputs = [values[name] for name in node.input if name]
            zero = inputs[2] if len(inputs) > 2 else np.zeros(1, dtype=np.int8)
            values[node.output[0]] = _dequantize(inputs[0], inputs[1], zero, axis)
    return values


def conv_layers(path: Path) -> dict[str, ConvWeights]:
    """Every Conv node, keyed by the name of its weight tensor without the ``/weights`` suffix."""
    import onnx

    graph = onnx.load(str(path)).graph
    values = constant_tensors(path)
    producer = {out: node for node in graph.node for out in node.output}
    layers: dict[str, ConvWeights] = {}
    for node in graph.node:
        if node.op_type != "Conv":
            continue
        weight_name = node.input[1]
        source = producer.get(weight_name)
        key = source.input[0] if source is not None and source.op_type == "DequantizeLinear" else weight_name
        attrs = {a.name: onnx.helper.get_attribute_value(a) for a in node.attribute}
        bias = values[node.input[2]] if len(node.input) > 2 and node.input[2] else None
        layers[key.removesuffix("/weights").removesuffix("/depthwise_weights")] = ConvWeights(
            weight=values[weight_name].astype(np.float32),
            bias=None if bias is None else bias.astype(np.float32),
            stride=int(attrs.get("strides", [1, 1])[0]),
            groups=int(attrs.get("group", 1)),
            pads=tuple(int(p) for p in attrs.get("pads", [0, 0, 0, 0])),
        )
    return layers
