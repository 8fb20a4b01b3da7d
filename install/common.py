"""What every plugin install step shares: copying the client into the plugin, finding the engine, pyzmq.

Standard library only; runs under any Python >= 3.8, including a host application's.
"""
from __future__ import annotations

import ast
import os
import shutil
import subprocess
import sys
import zipfile
from pathlib import Path
from typing import Iterable, List, Optional, Sequence

REPO = Path(__file__).resolve().parents[1]
ENGINE = REPO / "engine"
MARKER = ".restyle-install"  # marks a folder this installer made, so a reinstall may replace it
VENDORED_INIT = '"""Copy of restyle\'s engine client (standard library + pyzmq), written by install/install.py."""\n'


class InstallError(Exception):
    """The install cannot go on; the message says what to do."""


def engine_imports(source: str) -> List[str]:
    """Sibling engine modules a module's source imports (``from .x import``, ``from engine.x import``)."""
    names = []
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.ImportFrom):
            if node.level == 1 and node.module:
                names.append(node.module.split(".")[0])
            elif node.level == 1:
                names += [alias.name for alias in node.names]
            elif node.level == 0 and node.module and node.module.startswith("engine."):
                names.append(node.module.split(".")[1])
    return names


def module_closure(roots: Iterable[str], engine_dir: Path = ENGINE) -> List[str]:
    """``roots`` and every engine module they import, transitively, in a stable order."""
    seen: List[str] = []
    todo = list(roots)
    while todo:
        name = todo.pop(0)
        if name in seen:
            continue
        path = engine_dir / f"{name}.py"
        if not path.is_file():
            raise InstallError(f"engine/{name}.py is missing; run the installer from a complete restyle checkout")
        seen.append(name)
        todo += engine_imports(path.read_text(encoding="utf-8"))
    return seen


def vendor_engine(dest: Path, roots: Sequence[str], engine_dir: Path = ENGINE) -> List[str]:
    """Copy the engine modules ``roots`` need into ``dest/engine`` as a package; return their names."""
    names = module_closure(roots, engine_dir)
    package = dest / "engine"
    if package.exists():
        shutil.rmtree(package)
    package.mkdir(parents=True)
    (package / "__init__.py").write_text(VENDORED_INIT, encoding="utf-8")
    for name in names:
        shutil.copy2(engine_dir / f"{name}.py", package / f"{name}.py")
    return names


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
