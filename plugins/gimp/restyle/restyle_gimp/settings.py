"""Where the engine is: the settings file the installer writes next to the plug-in."""
from __future__ import annotations

import json
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import List, Optional

from .errors import PluginError

SETTINGS_NAME = "engine.json"
REINSTALL = "run `python3 install/install.py --gimp` again to rewrite it"


@dataclass(frozen=True)
class EngineSettings:
    """How to reach the engine: an endpoint (None: the discovery file) and a command that starts it."""

    start_command: Optional[List[str]] = None
    endpoint: Optional[str] = None
    server_public_key: Optional[str] = None
    start_wait_s: float = 120.0


def load_settings(path: Path) -> EngineSettings:
    """The settings in ``path``; the defaults (discovery file, no autostart) when it does not exist."""
    if not path.exists():
        return EngineSettings()
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
        settings = EngineSettings(**data)
    except (OSError, ValueError, TypeError) as e:
        raise PluginError(f"the plug-in's settings {path} cannot be read ({e}): {REINSTALL}") from None
    command = settings.start_command
    if command is not None and (not isinstance(command, list) or not all(isinstance(a, str) for a in command)):
        raise PluginError(f"start_command in {path} must be a list of strings: {REINSTALL}")
    return settings


def save_settings(path: Path, settings: EngineSettings) -> None:
    """Write ``settings`` to ``path`` as JSON."""
    path.write_text(json.dumps(asdict(settings), indent=2) + "\n", encoding="utf-8")
