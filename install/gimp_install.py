"""``install.py --gimp``: copy the GIMP 3 plug-in into the plug-ins folder of each GIMP 3.x, ready to run."""
from __future__ import annotations

import argparse
import dataclasses
import os
import plistlib
import re
import shutil
import stat
import sys
from pathlib import Path
from typing import Dict, Iterable, List, Mapping, Optional, Sequence
from xml.parsers.expat import ExpatError

from common import (REPO, InstallError, can_import_zmq, default_start_command, editor_folders, replace_folder,
                    unpack_wheel, vendor_client)

FLAG = "--gimp"
HELP = "install the GIMP 3 plug-in (Filters › Style Transfer…)"
PLUGIN = REPO / "plugins" / "gimp" / "restyle"
sys.path.insert(0, str(PLUGIN))

from restyle_gimp.errors import PluginError  # noqa: E402
from restyle_gimp.settings import SETTINGS_NAME, EngineSettings, load_settings, save_settings  # noqa: E402

NAME = "restyle"
NEWEST_KNOWN = "3.2"  # the user folder to make when no GIMP 3 is found at all: the current stable line
BINARY = re.compile(r"gimp(?:-console)?-(3\.\d+)(?:\.exe)?", re.IGNORECASE)  # gimp-3.2, gimp-console-3.0.exe
FLATPAK_APP = ("app", "org.gimp.GIMP", "current", "active", "files", "bin")
SNAP_APP = ("snap", "gimp", "current")


@dataclasses.dataclass(frozen=True)
class Target:
    """A plug-ins folder to install into and the GIMP version it belongs to (None: any GIMP 3)."""

    folder: Path
    version: Optional[str] = None


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """The options of this step."""
    group = parser.add_argument_group("GIMP")
    group.add_argument("--gimp-dir", type=Path, help="GIMP's plug-ins folder (default: the plug-ins folder of "
                                                     "every GIMP 3 user folder there is, else of the newest "
                                                     "GIMP 3 installed)")
    group.add_argument("--gimp-python", help="the Python GIMP runs plug-ins with, to check pyzmq (default: "
                                             "from GIMP's pygimp.interp, else python3 on PATH)")


gimp_roots = editor_folders.gimp_roots
user_versions = editor_folders.gimp_user_versions
version_key = editor_folders.version_key


def binary_versions(folders: Iterable[Path]) -> List[str]:
    """The GIMP 3 versions whose executables (``gimp-3.2``, ``gimp-console-3.0.exe``) are in ``folders``."""
    found = set()
    for folder in folders:
        for path in folder.iterdir() if folder.is_dir() else []:
            match = BINARY.fullmatch(path.name)
            if match:
                found.add(match.group(1))
    return sorted(found, key=version_key)


def app_bundle_versions(applications: Sequence[Path]) -> List[str]:
    """The GIMP 3 versions of the ``GIMP*.app`` bundles in the macOS folders ``applications``."""
    found = set()
    for folder in applications:
        for info in folder.glob("GIMP*.app/Contents/Info.plist") if folder.is_dir() else []:
            try:
                with info.open("rb") as f:
                    version = str(plistlib.load(f).get("CFBundleShortVersionString", ""))
            except (OSError, ValueError, ExpatError):  # unreadable, not a plist, broken XML
                continue
            match = re.match(r"(3\.\d+)", version)
            if match:
                found.add(match.group(1))
    return sorted(found, key=version_key)


def installed_gimps(platform: str, env: Mapping[str, str], home: Path,
                    system_root: Path = Path("/")) -> Dict[str, List[str]]:
    """The GIMP 3 versions installed, by the kind of user folder they use (system folders under ``system_root``)."""
    if platform == "win32":
        programs = [Path(env.get("PROGRAMFILES", r"C:\Program Files")),
                    Path(env.get("LOCALAPPDATA", str(home / "AppData" / "Local"))) / "Programs"]
        return {"native": binary_versions(gimp / "bin" for folder in programs if folder.is_dir()
                                          for gimp in folder.glob("GIMP 3*"))}
    if platform == "darwin":
        return {"native": app_bundle_versions([system_root / "Applications", home / "Applications"])}
    path = [Path(p) for p in env.get("PATH", "").split(os.pathsep) if p]
    flatpak = [system_root / "var" / "lib" / "flatpak", home / ".local" / "share" / "flatpak"]
    snap = system_root.joinpath(*SNAP_APP)
    return {"native": binary_versions(path), "flatpak": binary_versions(f.joinpath(*FLATPAK_APP) for f in flatpak),
            "snap": binary_versions([snap / "bin", snap / "usr" / "bin"])}


def install_targets(platform: str, env: Mapping[str, str], home: Path,
                    system_root: Path = Path("/")) -> List[Target]:
    """Where to install: GIMP3_DIRECTORY; else every GIMP 3 user folder; else the newest installed GIMP 3's.

    With no user folder, each kind of GIMP found installed (native, Flatpak, Snap) gets the folder of its
    newest version; with no GIMP found at all, the native folder of GIMP 3.2.
    """
    if env.get("GIMP3_DIRECTORY"):
        return [Target(Path(env["GIMP3_DIRECTORY"]) / "plug-ins")]
    roots = gimp_roots(platform, env, home)
    existing = [Target(r / v / "plug-ins", v) for r in roots.values() for v in user_versions(r)]
    if existing:
        return existing
    installed = installed_gimps(platform, env, home, system_root)
    newest = [Target(roots[kind] / versions[-1] / "plug-ins", versions[-1])
              for kind, versions in installed.items() if versions]
    return newest or [Target(roots["native"] / NEWEST_KNOWN / "plug-ins", NEWEST_KNOWN)]


def given_target(folder: Path) -> Target:
    """The ``--gimp-dir`` plug-ins folder, with the version its parent folder names (``GIMP/3.2/plug-ins``)."""
    parent = folder.expanduser().parent.name
    return Target(folder, parent if editor_folders.GIMP_VERSION.fullmatch(parent) else None)


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
    targets = [given_target(args.gimp_dir)] if args.gimp_dir else install_targets(sys.platform, os.environ,
                                                                                   Path.home())
    for target in targets:
        dest = target.folder / NAME
        previous = _previous_settings(dest / SETTINGS_NAME)
        replace_folder(PLUGIN, dest)
        vendor_client(dest)
        if args.pyzmq_wheel:
            unpack_wheel(args.pyzmq_wheel, dest / "vendor")
        entry = dest / f"{NAME}.py"
        entry.chmod(entry.stat().st_mode | stat.S_IXUSR | stat.S_IXGRP | stat.S_IXOTH)
        chosen = choose_settings(previous, args.engine, args.endpoint)
        save_settings(dest / SETTINGS_NAME, chosen)
        lines.append(f"GIMP {target.version or 3} plug-in installed in {dest}")
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
    """Where GIMP 3 installs keep their interpreter files (``lib/gimp/3.0``: GIMP 3.2 keeps the API's 3.0)."""
    roots = [Path("/usr/lib"), Path("/usr/local/lib"), Path("/app/lib"), Path(sys.prefix) / "lib"]
    if sys.platform == "win32":
        programs = Path(os.environ.get("PROGRAMFILES", r"C:\Program Files"))
        roots += [gimp / "lib" for gimp in sorted(programs.glob("GIMP 3*"))]
    if sys.platform == "darwin":
        roots += [app / "Contents" / "Resources" / "lib" for app in sorted(Path("/Applications").glob("GIMP*.app"))]
    found = []
    for root in roots:
        found += [*sorted(root.glob("gimp/3.*/interpreters")), *sorted(root.glob("*/gimp/3.*/interpreters"))]
    return found
