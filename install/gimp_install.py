"""``install.py --gimp``: copy the GIMP 3 plug-in into the user's plug-ins folder, ready to run."""
from __future__ import annotations

import argparse
import dataclasses
import os
import shutil
import stat
import sys
from pathlib import Path
from typing import List, Mapping, Optional, Sequence

from common import (REPO, InstallError, can_import_zmq, default_start_command, replace_folder, unpack_wheel,
                    vendor_engine)

FLAG = "--gimp"
HELP = "install the GIMP 3 plug-in (Filters › Style Transfer…)"
PLUGIN = REPO / "plugins" / "gimp" / "restyle"
sys.path.insert(0, str(PLUGIN))

from restyle_gimp.errors import PluginError  # noqa: E402
from restyle_gimp.settings import SETTINGS_NAME, EngineSettings, load_settings, save_settings  # noqa: E402

NAME = "restyle"
ENGINE_MODULES = ("client", "geometry")
FLATPAK_CONFIG = (".var", "app", "org.gimp.GIMP", "config")


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """The options of this step."""
    group = parser.add_argument_group("GIMP")
    group.add_argument("--gimp-dir", type=Path, help="GIMP's plug-ins folder (default: the user's GIMP 3.0 "
                                                     "plug-ins folder for this system)")
    group.add_argument("--gimp-python", help="the Python GIMP runs plug-ins with, to check pyzmq (default: "
                                             "from GIMP's pygimp.interp, else python3 on PATH)")


def gimp_config_dirs(platform: str, env: Mapping[str, str], home: Path) -> List[Path]:
    """GIMP 3.0's per-user folders on ``platform`` (``sys.platform``), most likely first."""
    if env.get("GIMP3_DIRECTORY"):
        return [Path(env["GIMP3_DIRECTORY"])]
    if platform == "win32":
        return [Path(env.get("APPDATA", str(home / "AppData" / "Roaming"))) / "GIMP" / "3.0"]
    if platform == "darwin":
        return [home / "Library" / "Application Support" / "GIMP" / "3.0"]
    config = Path(env["XDG_CONFIG_HOME"]) if env.get("XDG_CONFIG_HOME") else home / ".config"
    return [config / "GIMP" / "3.0", home.joinpath(*FLATPAK_CONFIG) / "GIMP" / "3.0",
            home / "snap" / "gimp" / "current" / ".config" / "GIMP" / "3.0"]


def plugin_dirs(candidates: Sequence[Path]) -> List[Path]:
    """The plug-ins folders to install into: of every GIMP 3.0 folder that exists, else of the first."""
    existing = [c for c in candidates if c.is_dir()]
    return [c / "plug-ins" for c in (existing or candidates[:1])]


def interpreter_from_interp(text: str) -> Optional[str]:
    """The Python named in a GIMP ``.interp`` file (``python=PATH`` or ``python3=PATH``), if any."""
    for line in text.splitlines():
        key, _, value = line.strip().partition("=")
        if key in ("python", "python3") and value:
            return value.strip()
    return None


def gimp_python(interp_dirs: Sequence[Path]) -> Optional[str]:
    """The Python GIMP runs plug-ins with: from its interpreters folder, else python3 on PATH."""
    for folder in interp_dirs:
        for interp in sorted(folder.glob("*.interp")) if folder.is_dir() else []:
            found = interpreter_from_interp(interp.read_text(encoding="utf-8", errors="replace"))
            if found:
                return found
    return shutil.which("python3")


def choose_settings(previous: Optional[EngineSettings], engine: Optional[str],
                    endpoint: Optional[str]) -> EngineSettings:
    """The plug-in's engine settings: the options given now, else the earlier install's, else found defaults."""
    if engine == "none":
        command = None
    elif engine:
        path = Path(engine).expanduser()
        if not path.is_file():
            raise InstallError(f"--engine {engine} is not a file: give the path of the `restyle` executable")
        command = [str(path.resolve()), "serve"]
    else:
        command = previous.start_command if previous else default_start_command()
    if endpoint:
        address = None if endpoint == "auto" else endpoint
    else:
        address = previous.endpoint if previous else None
    return dataclasses.replace(previous or EngineSettings(), start_command=command, endpoint=address)


def install(args: argparse.Namespace) -> List[str]:
    """Install the plug-in; the lines to print, ending with what to do next."""
    lines = []
    folders = [args.gimp_dir] if args.gimp_dir else plugin_dirs(gimp_config_dirs(sys.platform, os.environ,
                                                                                  Path.home()))
    for folder in folders:
        dest = folder / NAME
        previous = _previous_settings(dest / SETTINGS_NAME)
        replace_folder(PLUGIN, dest)
        vendor_engine(dest, ENGINE_MODULES)
        if args.pyzmq_wheel:
            unpack_wheel(args.pyzmq_wheel, dest / "vendor")
        entry = dest / f"{NAME}.py"
        entry.chmod(entry.stat().st_mode | stat.S_IXUSR | stat.S_IXGRP | stat.S_IXOTH)
        chosen = choose_settings(previous, args.engine, args.endpoint)
        save_settings(dest / SETTINGS_NAME, chosen)
        lines.append(f"GIMP plug-in installed in {dest}")
        if not chosen.start_command:
            lines.append("  no restyle executable found: the plug-in will not start the engine itself; start it "
                         "with `restyle serve`, or rerun with --engine PATH")
    lines += _pyzmq_lines(args)
    lines.append("Restart GIMP, then use Filters › Style Transfer…")
    return lines


def _previous_settings(path: Path) -> Optional[EngineSettings]:
    """The earlier install's settings, or None when there are none (or they are unreadable: rewritten)."""
    try:
        return load_settings(path) if path.exists() else None
    except PluginError:
        return None


def _pyzmq_lines(args: argparse.Namespace) -> List[str]:
    """A warning when GIMP's Python cannot import pyzmq and no wheel was given."""
    if args.pyzmq_wheel:
        return [f"  pyzmq unpacked from {args.pyzmq_wheel.name} next to the plug-in"]
    python = args.gimp_python or gimp_python(_interp_dirs())
    if python and can_import_zmq(python):
        return [f"  pyzmq: importable by {python}"]
    return [f"WARNING: GIMP's Python ({python or 'not found'}) cannot import pyzmq, so the plug-in cannot reach "
            "the engine. On Debian/Ubuntu: `sudo apt install python3-zmq`; elsewhere rerun with "
            "--pyzmq-wheel FILE, pyzmq's wheel from PyPI for GIMP's Python version"]


def _interp_dirs() -> List[Path]:
    """Where GIMP installs keep their interpreter files."""
    roots = [Path("/usr/lib"), Path("/usr/local/lib"), Path("/app/lib"), Path(sys.prefix) / "lib"]
    if sys.platform == "win32":
        roots += [Path(os.environ.get("PROGRAMFILES", r"C:\Program Files")) / "GIMP 3" / "lib"]
    if sys.platform == "darwin":
        roots += [Path("/Applications/GIMP.app/Contents/Resources/lib")]
    found = []
    for root in roots:
        found += [root / "gimp" / "3.0" / "interpreters", *root.glob("*/gimp/3.0/interpreters")]
    return found
