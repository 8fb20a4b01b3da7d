"""Where Krita and GIMP 3 keep their per-user folders on each system: where the installer puts the plugins
and where ``restyle doctor`` looks for them.

Standard library only, Python >= 3.8: the installer (``install/``, not part of the package) loads this file
by path and runs under the editors' Python as well.
"""
from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path
from typing import Dict, List, Mapping, Tuple

MARKER = ".restyle-install"  # the installer marks each plugin folder it makes with this file
GIMP_VERSION = re.compile(r"3\.\d+")  # a GIMP 3 user folder's name (3.0, 3.2, ...); 2.10 and others are not ours


@dataclass(frozen=True)
class KritaFolders:
    """One Krita's per-user places: the data folder (holding ``pykrita``), ``kritarc``, ``krita-sysinfo.log``."""

    data: Path
    kritarc: Path
    sysinfo: Path


def version_key(version: str) -> Tuple[int, ...]:
    """``"3.10"`` -> ``(3, 10)``, so that 3.10 sorts after 3.2."""
    return tuple(int(part) for part in version.split("."))


def krita_folders(platform: str, env: Mapping[str, str], home: Path) -> List[KritaFolders]:
    """Krita's per-user places on ``platform`` (``sys.platform``): the native Krita's, then Flatpak's on Linux."""
    if platform == "win32":
        local = Path(env.get("LOCALAPPDATA", str(home / "AppData" / "Local")))
        roaming = Path(env.get("APPDATA", str(home / "AppData" / "Roaming")))
        return [KritaFolders(roaming / "krita", local / "kritarc", local / "krita-sysinfo.log")]
    if platform == "darwin":
        support = home / "Library" / "Application Support"
        return [KritaFolders(support / "krita", home / "Library" / "Preferences" / "kritarc",
                             support / "krita-sysinfo.log")]
    data = Path(env["XDG_DATA_HOME"]) if env.get("XDG_DATA_HOME") else home / ".local" / "share"
    config = Path(env["XDG_CONFIG_HOME"]) if env.get("XDG_CONFIG_HOME") else home / ".config"
    flatpak = home / ".var" / "app" / "org.kde.krita"
    return [KritaFolders(data / "krita", config / "kritarc", data / "krita-sysinfo.log"),
            KritaFolders(flatpak / "data" / "krita", flatpak / "config" / "kritarc",
                         flatpak / "data" / "krita-sysinfo.log")]


def gimp_roots(platform: str, env: Mapping[str, str], home: Path) -> Dict[str, Path]:
    """The folders holding GIMP's per-version user folders on ``platform`` (``sys.platform``), by kind."""
    if platform == "win32":
        return {"native": Path(env.get("APPDATA", str(home / "AppData" / "Roaming"))) / "GIMP"}
    if platform == "darwin":
        return {"native": home / "Library" / "Application Support" / "GIMP"}
    config = Path(env["XDG_CONFIG_HOME"]) if env.get("XDG_CONFIG_HOME") else home / ".config"
    return {"native": config / "GIMP", "flatpak": home / ".var" / "app" / "org.gimp.GIMP" / "config" / "GIMP",
            "snap": home / "snap" / "gimp" / "current" / ".config" / "GIMP"}


def gimp_user_versions(root: Path) -> List[str]:
    """The GIMP 3 versions that have a user folder in ``root``, oldest first."""
    found = [p.name for p in root.iterdir() if p.is_dir() and GIMP_VERSION.fullmatch(p.name)] if root.is_dir() else []
    return sorted(found, key=version_key)
