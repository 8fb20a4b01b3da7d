"""What every plugin install step shares: copying the client into the plugin, finding the engine, pyzmq.

Standard library only; runs under any Python >= 3.8, including a host application's.
"""
from __future__ import annotations

import importlib.util
import os
import shutil
import subprocess
import sys
import zipfile
from pathlib import Path
from types import ModuleType
from typing import List, Optional, Sequence

REPO = Path(__file__).resolve().parents[1]
ENGINE = REPO / "engine"
VENDORED_INIT = '"""Holds a copy of restyle\'s engine/client package, written by install/install.py."""\n'


class InstallError(Exception):
    """The install cannot go on; the message says what to do."""


def load_by_path(path: Path, name: str) -> ModuleType:
    """The standard-library-only module at ``path``, loaded without importing its package (torch-free)."""
    spec = importlib.util.spec_from_file_location(name, path)
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module  # dataclasses look their module up while the class is built
    spec.loader.exec_module(module)
    return module


# The editors' per-user folders, shared with `restyle doctor`, which looks for what this installer made there.
editor_folders = load_by_path(ENGINE / "cli" / "editor_folders.py", "restyle_editor_folders")
MARKER = editor_folders.MARKER  # marks a folder this installer made, so a reinstall may replace it


def vendor_client(dest: Path) -> None:
    """Copy the engine's client package, ``engine/client/`` whole, into ``dest/engine/client``.

    ``dest/engine`` gets a one-line ``__init__.py`` of its own: no other module of the engine goes into a plugin.
    """
    source = ENGINE / "client"
    if not (source / "__init__.py").is_file():
        raise InstallError(f"{source} is missing; run the installer from a complete restyle checkout")
    package = dest / "engine"
    if package.exists():
        shutil.rmtree(package)
    shutil.copytree(source, package / "client", ignore=shutil.ignore_patterns("__pycache__", "*.pyc"))
    (package / "__init__.py").write_text(VENDORED_INIT, encoding="utf-8")


def replace_folder(src: Path, dest: Path, keep: Sequence[str] = ()) -> None:
    """Copy ``src`` to ``dest``, replacing an earlier install there but keeping the files named in ``keep``.

    Refuses to touch a ``dest`` this installer did not make, so nothing of the user's is lost.
    """
    if dest.exists() and not (dest / MARKER).exists():
        raise InstallError(f"{dest} exists and was not made by this installer: move it away, then run it again")
    kept = {name: (dest / name).read_bytes() for name in keep if (dest / name).is_file()}
    if dest.exists():
        shutil.rmtree(dest)
    shutil.copytree(src, dest, ignore=shutil.ignore_patterns("__pycache__", "*.pyc"))
    (dest / MARKER).write_text("made by restyle's install/install.py\n", encoding="utf-8")
    for name, data in kept.items():
        (dest / name).write_bytes(data)


def default_start_command(repo: Path = REPO) -> Optional[List[str]]:
    """``[restyle, "serve"]`` for the restyle executable next to this Python, on PATH, or in the repo's .venv."""
    candidates = [Path(sys.executable).parent / "restyle", repo / ".venv" / "bin" / "restyle",
                  repo / ".venv" / "Scripts" / "restyle.exe"]
    found = shutil.which("restyle")
    if found:
        candidates.insert(1, Path(found))
    for path in candidates:
        if path.is_file() and os.access(str(path), os.X_OK):
            return [str(path), "serve"]
    return None


def can_import_zmq(python: str) -> bool:
    """Whether ``python`` can import pyzmq."""
    try:
        proc = subprocess.run([python, "-c", "import zmq"], capture_output=True, timeout=60)
    except (OSError, subprocess.TimeoutExpired):
        return False
    return proc.returncode == 0


def unpack_wheel(wheel: Path, dest: Path) -> None:
    """Unpack a wheel (e.g. pyzmq's, matching the host's Python) into ``dest``."""
    if not zipfile.is_zipfile(wheel):
        raise InstallError(f"{wheel} is not a wheel: download pyzmq's wheel for the host's Python from PyPI")
    with zipfile.ZipFile(wheel) as archive:
        for member in archive.namelist():
            target = (dest / member).resolve()
            if not str(target).startswith(str(dest.resolve()) + os.sep):
                raise InstallError(f"{wheel} holds a file outside its folder ({member}); use pyzmq's wheel from PyPI")
        archive.extractall(dest)
