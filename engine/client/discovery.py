"""The discovery file: where a running engine tells clients its endpoint, pid, versions and public key.

Standard library only (Python >= 3.8): the client reads it inside Krita's and GIMP's Python.
"""
from __future__ import annotations

import json
import os
import stat
import sys
import tempfile
from pathlib import Path
from typing import Any, Dict, Optional

DISCOVERY_NAME = "engine.json"


class RuntimeDirError(Exception):
    """The per-user runtime folder cannot be used safely."""


def runtime_dir() -> Path:
    """The private per-user folder for the discovery file, socket and log (``RESTYLE_RUNTIME_DIR`` overrides)."""
    override = os.environ.get("RESTYLE_RUNTIME_DIR")
    if override:
        path = Path(override)
    elif sys.platform == "win32":
        path = Path(os.environ.get("LOCALAPPDATA", str(Path.home() / "AppData" / "Local"))) / "restyle"
    elif os.environ.get("XDG_RUNTIME_DIR"):
        path = Path(os.environ["XDG_RUNTIME_DIR"]) / "restyle"
    else:
        path = Path(tempfile.gettempdir()) / f"restyle-{os.getuid()}"
    return path


def ensure_runtime_dir() -> Path:
    """Create the runtime folder (mode 0700) and check no other user owns or can read it."""
    return ensure_private_dir(runtime_dir())


def ensure_private_dir(path: Path) -> Path:
    """Create ``path`` (mode 0700) if needed and check that no other user owns or can read it."""
    path.mkdir(mode=0o700, parents=True, exist_ok=True)
    if not is_private_dir(path):
        raise RuntimeDirError(
            f"folder {path} is shared with other users; remove it or set RESTYLE_RUNTIME_DIR "
            "to a folder only you can read"
        )
    return path


def is_private_dir(path: Path) -> bool:
    """Whether ``path`` is a folder of this user that nobody else can read (always true on Windows)."""
    if sys.platform == "win32":
        return path.is_dir()
    try:
        st = os.stat(str(path), follow_symlinks=False)
    except OSError:
        return False
    return stat.S_ISDIR(st.st_mode) and st.st_uid == os.getuid() and not st.st_mode & 0o077


def discovery_path() -> Path:
    """Where the engine writes its discovery file."""
    return runtime_dir() / DISCOVERY_NAME


def write_discovery(path: Path, info: Dict[str, Any]) -> None:
    """Write ``info`` as the discovery file atomically, readable by this user only."""
    tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    fd = os.open(str(tmp), os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w", encoding="utf-8") as f:
        json.dump(info, f, indent=2)
    os.replace(str(tmp), str(path))


def read_discovery(path: Optional[Path] = None) -> Optional[Dict[str, Any]]:
    """The discovery file's contents, or None when there is none or it is unreadable."""
    path = path or discovery_path()
    try:
        with open(str(path), encoding="utf-8") as f:
            info = json.load(f)
    except (OSError, ValueError):
        return None
    return info if isinstance(info, dict) and isinstance(info.get("endpoint"), str) else None


def remove_discovery(path: Path, pid: int) -> None:
    """Remove the discovery file if it is still this process's (``pid``)."""
    info = read_discovery(path)
    if info is not None and info.get("pid") == pid:
        try:
            path.unlink()
        except OSError:
            pass
