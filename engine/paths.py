"""Per-user folders the engine writes to (caches, runtime files), following each platform's custom."""
from __future__ import annotations

import os
import sys
from pathlib import Path


def user_cache_dir() -> Path:
    """Where converted weights and compiled graphs are cached (``RESTYLE_CACHE_DIR`` overrides)."""
    override = os.environ.get("RESTYLE_CACHE_DIR")
    if override:
        return Path(override)
    if sys.platform == "win32":
        base = Path(os.environ.get("LOCALAPPDATA", Path.home() / "AppData" / "Local"))
        return base / "restyle" / "Cache"
    if sys.platform == "darwin":
        return Path.home() / "Library" / "Caches" / "restyle"
    return Path(os.environ.get("XDG_CACHE_HOME", Path.home() / ".cache")) / "restyle"
