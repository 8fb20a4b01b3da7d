"""Run the pinned ONNX nets with onnxruntime: as shipped (int8 activations) or with activations in float."""
from __future__ import annotations

from pathlib import Path

import numpy as np


def float_activation_graph(path: Path) -> bytes:
    """The ONNX model with activation quantize/dequantize pairs turned into identities.

    Weight dequantization (DequantizeLinear of a constant) stays, so the weights are exactly the
    dequantized int8 weights our port uses; only the int8 rounding of activations disappears.
    """
    import onnx
    from onnx import helper

    model = onnx.load(str(path))
    graph = model.graph
    constants = {i.name for i in graph.initializer} | {n.output[0] for n in graph.node if n.op_type == "Constant"}
    nodes = []
    for node in graph.node:
        is_activation = node.input[0] not in constants
        if node.op_type in ("QuantizeLinear", "DequantizeLinear") and is_activation:
            nodes.append(helper.make_node("Identity", [node.input[0]], list(node.output), name=node.name))
        else:
            nodes.append(node)
    del graph.node[:]
    graph.node.extend(nodes)
    del graph.value_info[:]
    return model.SerializeToString()


def session(model: bytes | Path):
    """An onnxruntime CPU session, single-threaded and deterministic."""
    import onnxruntime as ort

    options = ort.SessionOptions()
    options.intra_op_num_threads = 1
    options.log_severity_level = 3
    source = model if isinstance(model, bytes) else str(model)
    return ort.InferenceSession(source, options, providers=["CPUExecutionProvider"])


def run(sess, *inputs: np.ndarray) -> np.ndarray:
    """First output of ``sess`` for positional inputs."""
    names = [i.name for i in sess.get_inputs()]
    return sess.run(None, dict(zip(names, inputs)))[0]


def psnr(a: np.ndarray, b: np.ndarray) -> float:
    """Peak signal-to-noise ratio of two images in 0..1, in dB."""
    mse = float(np.mean((a.astype(np.float64) - b.astype(np.float64)) ** 2))
    return float("inf") if mse == 0 else 10 * np.log10(1.0 / mse)
