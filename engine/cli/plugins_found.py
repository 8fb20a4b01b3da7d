"""The Krita and GIMP plugins installed for this user, found by the installer's marker, with their engine settings.

The installer (``install/``, not part of the package) writes ``.restyle-install`` into each plugin folder it
makes; this module looks for it in the same places (:mod:`.editor_folders`, which the installer uses too):
Krita's ``pykrita`` folder (native and Flatpak) and the ``plug-ins`` folder of each GIMP 3.x user folder
(native, Flatpak and Snap). Standard library only.
"""
from __future__ import annotations

import json
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Mapping, Optional

from .editor_folders import MARKER, gimp_roots, gimp_user_versions, krita_folders

PLUGIN = "restyle"
KRITA_SETTINGS = ("restyle", "settings.json")  # under Krita's data folder, as the plugin's settings.py names it
GIMP_SETTINGS = "engine.json"  # in the plug-in's folder, as restyle_gimp/settings.py names it
KRITA_VERSION = re.compile(r"^\s*Version:\s*(\S+)", re.MULTILINE)


@dataclass(frozen=True)
class InstalledPlugin:
    """One installed plugin: where, for which editor (and its version, if known), and how it reaches the engine."""

    editor: str  # "Krita" or "GIMP"
    folder: Path
    editor_version: Optional[str]
    endpoint: Optional[str]  # None: the engine's discovery file
    start_command: tuple[str, ...] = ()
    server_public_key: Optional[str] = None
    settings_problem: Optional[str] = None  # why the settings file could not be read

    @property
    def label(self) -> str:
        """``Krita 5.2.9`` or ``GIMP 3.2`` (without a version when it is unknown)."""
        return f"{self.editor} {self.editor_version}" if self.editor_version else self.editor


def installed_plugins(platform: str, env: Mapping[str, str], home: Path) -> list[InstalledPlugin]:
    """Every plugin folder with the installer's marker, Krita's first, on ``platform`` (``sys.platform``)."""
    found = []
    for krita in krita_folders(platform, env, home):
        folder = krita.data / "pykrita" / PLUGIN
        if (folder / MARKER).is_file():
            settings, problem = _settings(krita.data.joinpath(*KRITA_SETTINGS))
            command = settings.get("engine_command")
            found.append(InstalledPlugin("Krita", folder, krita_version(krita.sysinfo), settings.get("engine_endpoint") or None,
                                         tuple(command) if isinstance(command, list) else (), None, problem))
    for version, plug_ins in gimp_plugin_folders(platform, env, home):
        folder = plug_ins / PLUGIN
        if (folder / MARKER).is_file():
            settings, problem = _settings(folder / GIMP_SETTINGS)
            command = settings.get("start_command")
            found.append(InstalledPlugin("GIMP", folder, version, settings.get("endpoint") or None,
                                         tuple(command) if isinstance(command, list) else (),
                                         settings.get("server_public_key") or None, problem))
    return found


def gimp_plugin_folders(platform: str, env: Mapping[str, str], home: Path) -> list[tuple[Optional[str], Path]]:
    """The ``plug-ins`` folders of GIMP 3 (``GIMP3_DIRECTORY``, else each 3.x user folder), with their version."""
    if env.get("GIMP3_DIRECTORY"):
        return [(None, Path(env["GIMP3_DIRECTORY"]) / "plug-ins")]
    return [(version, root / version / "plug-ins") for root in gimp_roots(platform, env, home).values()
            for version in gimp_user_versions(root)]


def krita_version(sysinfo: Path) -> Optional[str]:
    """The Krita version in the ``krita-sysinfo.log`` Krita writes at each start; None if there is none."""
    try:
        match = KRITA_VERSION.search(sysinfo.read_text(encoding="utf-8", errors="replace"))
    except OSError:
        return None
    return match.group(1) if match else None


def _settings(path: Path) -> tuple[dict[str, Any], Optional[str]]:
    """A plugin's JSON settings and, if they cannot be read, why (no file: the defaults, no problem)."""
    if not path.exists():
        return {}, None
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError) as exc:
        return {}, f"{path} cannot be read ({exc})"
    if not isinstance(data, dict):
        return {}, f"{path} is not a JSON object"
    return data, None
