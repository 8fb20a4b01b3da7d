"""``install.py --krita``: copy the Krita plugin into the user's pykrita folder, enable it, point it at the engine."""
from __future__ import annotations

import argparse
import importlib.util
import os
import re
import shutil
import subprocess
import sys
import tempfile
from dataclasses import replace
from pathlib import Path
from types import ModuleType
from typing import List, Mapping, Optional, Tuple

from common import (REPO, InstallError, can_import_zmq, default_start_command, replace_folder, unpack_wheel,
                    vendor_engine)

FLAG = "--krita"
HELP = "install the Krita plugin (Filter › Style Transfer…)"
PLUGIN = REPO / "plugins" / "krita"
NAME = "restyle"
ENGINE_MODULES = ("client", "geometry")
BUNDLED_PYTHON = "3.10"  # the Python that Krita 5.2's Windows, macOS and AppImage builds bundle
WHEEL_PLATFORMS = {"win32": "win_amd64", "darwin": "macosx_10_15_universal2", "linux": "manylinux2014_x86_64"}


def _plugin_settings_module() -> ModuleType:
    """The plugin's ``settings`` module (standard library only), loaded by path: one schema for both."""
    spec = importlib.util.spec_from_file_location("restyle_krita_settings", PLUGIN / NAME / "settings.py")
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module  # dataclasses look their module up while the class is built
    spec.loader.exec_module(module)
    return module


plugin_settings = _plugin_settings_module()
Settings = plugin_settings.Settings


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """The options of this step."""
    group = parser.add_argument_group("Krita")
    group.add_argument("--krita-dir", type=Path, help="Krita's data folder, the one holding pykrita (default: "
                                                      "the user's, for this system)")
    group.add_argument("--kritarc", type=Path, help="Krita's settings file (default: the user's, for this system)")
    group.add_argument("--krita-python", help="the Python Krita runs plugins with, to check pyzmq (default: "
                                              "python3 on Linux; Krita's bundled Python elsewhere)")
    group.add_argument("--fetch-pyzmq", metavar="PYTHON_VERSION", nargs="?", const=BUNDLED_PYTHON, type=python_version,
                       help="download pyzmq's wheel for Krita's bundled Python (default version "
                            f"{BUNDLED_PYTHON}) with pip and unpack it next to the plugin")


def python_version(text: str) -> str:
    """A ``MAJOR.MINOR`` Python version from the command line."""
    if not re.fullmatch(r"3\.\d{1,2}", text):
        raise argparse.ArgumentTypeError(f"'{text}' is not a Python version such as {BUNDLED_PYTHON}")
    return text


def krita_locations(platform: str, env: Mapping[str, str], home: Path) -> Tuple[Path, Path]:
    """Krita's per-user data folder (holding ``pykrita``) and its ``kritarc`` on ``platform`` (``sys.platform``)."""
    if platform == "win32":
        roaming = Path(env.get("APPDATA", str(home / "AppData" / "Roaming")))
        local = Path(env.get("LOCALAPPDATA", str(home / "AppData" / "Local")))
        return roaming / "krita", local / "kritarc"
    if platform == "darwin":
        return home / "Library" / "Application Support" / "krita", home / "Library" / "Preferences" / "kritarc"
    flatpak = home / ".var" / "app" / "org.kde.krita"
    if flatpak.is_dir() and not (home / ".local" / "share" / "krita").is_dir():
        return flatpak / "data" / "krita", flatpak / "config" / "kritarc"
    data = Path(env["XDG_DATA_HOME"]) if env.get("XDG_DATA_HOME") else home / ".local" / "share"
    config = Path(env["XDG_CONFIG_HOME"]) if env.get("XDG_CONFIG_HOME") else home / ".config"
    return data / "krita", config / "kritarc"


def enable_plugin(kritarc: str, name: str) -> str:
    """``kritarc``'s text with ``enable_<name>=true`` in its ``[python]`` group, the rest kept as it was."""
    key = f"enable_{name}"
    lines = kritarc.splitlines()
    start = next((i for i, line in enumerate(lines) if line.strip() == "[python]"), None)
    if start is None:
        if lines and lines[-1].strip():
            lines.append("")
        return "\n".join(lines + ["[python]", f"{key}=true"]) + "\n"
    end = next((i for i in range(start + 1, len(lines)) if re.match(r"\s*\[", lines[i])), len(lines))
    for i in range(start + 1, end):
        if lines[i].split("=", 1)[0].strip() == key:
            lines[i] = f"{key}=true"
            break
    else:
        lines.insert(start + 1, f"{key}=true")
    return "\n".join(lines) + "\n"


def engine_settings(previous: Settings, engine: Optional[str], endpoint: Optional[str],
                    found: Optional[List[str]]) -> Settings:
    """The plugin settings with the engine command and endpoint: given now, else kept, else found."""
    if engine == "none":
        command: Tuple[str, ...] = ()
    elif engine:
        path = Path(engine).expanduser()
        if not path.is_file():
            raise InstallError(f"--engine {engine} is not a file: give the path of the `restyle` executable")
        command = (str(path.resolve()), "serve")
    else:
        command = previous.engine_command or tuple(found or ())
    address = previous.engine_endpoint if endpoint is None else ("" if endpoint == "auto" else endpoint)
    return replace(previous, engine_command=command, engine_endpoint=address)


def pip_download_command(python_version: str, platform: str, dest: Path) -> List[str]:
    """The pip command that downloads pyzmq's binary wheel for ``python_version`` on ``platform``."""
    if platform not in WHEEL_PLATFORMS:
        raise InstallError(f"no pyzmq wheel platform known for {platform}; download one from PyPI and pass "
                           "--pyzmq-wheel FILE")
    return [sys.executable, "-m", "pip", "download", "--quiet", "--no-deps", "--only-binary=:all:",
            "--python-version", python_version, "--platform", WHEEL_PLATFORMS[platform], "--dest", str(dest),
            "pyzmq"]


def fetch_pyzmq(python_version: str, platform: str, dest: Path) -> Path:
    """Download pyzmq's wheel for Krita's Python into ``dest`` with pip; the wheel's path."""
    cmd = pip_download_command(python_version, platform, dest)
    try:
        proc = subprocess.run(cmd, capture_output=True, text=True, timeout=600)
    except (OSError, subprocess.TimeoutExpired) as e:
        raise InstallError(f"could not run pip to download pyzmq ({e}); download pyzmq's wheel for Python "
                           f"{python_version} from PyPI and pass --pyzmq-wheel FILE") from None
    wheels = sorted(dest.glob("pyzmq-*.whl"))
    if proc.returncode != 0 or not wheels:
        raise InstallError(f"pip could not download pyzmq for Python {python_version}: "
                           f"{(proc.stderr or proc.stdout).strip()[-300:]}; pass --pyzmq-wheel FILE instead")
    return wheels[0]


def install(args: argparse.Namespace) -> List[str]:
    """Install the plugin; the lines to print, ending with what to do next."""
    default_data, default_rc = krita_locations(sys.platform, os.environ, Path.home())
    data_dir = args.krita_dir or default_data
    kritarc = args.kritarc or default_rc
    pykrita = data_dir / "pykrita"
    dest = pykrita / NAME
    pykrita.mkdir(parents=True, exist_ok=True)
    replace_folder(PLUGIN / NAME, dest)
    shutil.copy2(PLUGIN / f"{NAME}.desktop", pykrita / f"{NAME}.desktop")
    vendor_engine(dest, ENGINE_MODULES)
    lines = [f"Krita plugin installed in {dest}"]
    lines += _pyzmq(args, dest)

    kritarc.parent.mkdir(parents=True, exist_ok=True)
    text = kritarc.read_text(encoding="utf-8") if kritarc.exists() else ""
    kritarc.write_text(enable_plugin(text, NAME), encoding="utf-8")
    lines.append(f"  enabled in {kritarc} (close Krita before installing: it rewrites that file when it quits)")

    settings_file = data_dir / NAME / plugin_settings.SETTINGS_NAME
    try:
        previous = plugin_settings.load(settings_file)
        chosen = engine_settings(previous, args.engine, args.endpoint, default_start_command())
        plugin_settings.save(settings_file, chosen)
    except plugin_settings.SettingsError as e:
        raise InstallError(str(e)) from None
    if chosen.engine_command:
        lines.append(f"  engine: {' '.join(chosen.engine_command)} (settings in {settings_file})")
    else:
        lines.append("  no restyle executable found: the plugin will not start the engine itself; start it "
                     "with `restyle serve`, or rerun with --engine PATH")
    lines.append("Restart Krita, then use Filter › Style Transfer…")
    return lines


def _pyzmq(args: argparse.Namespace, dest: Path) -> List[str]:
    """Make pyzmq importable by Krita's Python: a given or downloaded wheel, or a check of the system's."""
    wheel = args.pyzmq_wheel
    if wheel is None and args.fetch_pyzmq:
        with tempfile.TemporaryDirectory() as tmp:
            fetched = fetch_pyzmq(args.fetch_pyzmq, sys.platform, Path(tmp))
            unpack_wheel(fetched, dest / "vendor")
            return [f"  pyzmq: {fetched.name} unpacked next to the plugin"]
    if wheel is not None:
        unpack_wheel(wheel, dest / "vendor")
        return [f"  pyzmq: {wheel.name} unpacked next to the plugin"]
    python = args.krita_python or (shutil.which("python3") if sys.platform.startswith("linux") else None)
    if python and can_import_zmq(python):
        return [f"  pyzmq: importable by {python}"]
    return [f"WARNING: Krita's Python ({python or 'bundled with Krita'}) cannot import pyzmq, so the plugin "
            "cannot reach the engine. With Krita from Debian/Ubuntu: `sudo apt install python3-zmq`; with "
            f"Krita's own builds (Windows, macOS, AppImage): rerun with --fetch-pyzmq {BUNDLED_PYTHON} "
            "(Krita 5.2 bundles Python 3.10) or --pyzmq-wheel FILE"]

