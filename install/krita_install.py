"""``install.py --krita``: copy the Krita plugin into the user's pykrita folder, enable it, point it at the engine."""
from __future__ import annotations

import argparse
import os
import re
import shutil
import subprocess
import sys
import tempfile
from dataclasses import replace
from pathlib import Path
from typing import Iterable, List, Mapping, Optional, Sequence, Tuple

from common import (REPO, InstallError, can_import_zmq, default_start_command, editor_folders, load_by_path,
                    replace_folder, unpack_wheel, vendor_client)

FLAG = "--krita"
HELP = "install the Krita plugin (Filter › Style Transfer…)"
PLUGIN = REPO / "plugins" / "krita"
NAME = "restyle"
DETECT = "detect"  # --fetch-pyzmq without a version: the Python found in Krita's installation
# The Python that Krita's own builds (Windows, macOS, AppImage) bundle, per Krita line; used for an AppImage,
# which cannot be looked into without mounting it. Source: ext_python/CMakeLists.txt in KDE's krita-deps-management
# (invent.kde.org/packaging/krita-deps-management, github.com/KDE/krita-deps-management), which builds the
# official packages' dependencies: branch krita/5.2 builds Python 3.10.7; master, which Krita 5.3 and 6.0 (one
# release, built with Qt5 and with Qt6) are built from, 3.13.5 since commit fe64059 "Update to Python 3.13" (2025).
BUNDLED_PYTHON = {"5.2": "3.10", "5.3": "3.13", "6.0": "3.13"}
# Name patterns whose 3.NN is a Python version: a library a binary links, or a file/folder of a bundled Python
PYTHON_NAME = re.compile(r"libpython3\.(\d{1,2})|python3(\d{1,2})\.(?:dll|zip)|Python\.framework/Versions/3\.(\d{1,2})"
                         r"|(?:^|/)python3\.(\d{1,2})$", re.IGNORECASE)
# Krita's executable, relative to an installation: what tells that a folder holds Krita
KRITA_EXECUTABLES = ("bin/krita", "bin/krita.exe", "usr/bin/krita", "Contents/MacOS/krita")
# Krita's Python plugin loader, relative to an installation (Linux prefix, Windows folder, macOS app bundle)
PYKRITA = ("lib/kritaplugins/kritapykrita.*", "lib64/kritaplugins/kritapykrita.*",
           "lib/*/kritaplugins/kritapykrita.*", "usr/lib/kritaplugins/kritapykrita.*",
           "Contents/PlugIns/kritapykrita.*", "Contents/PlugIns/*/kritapykrita.*")
# Where Krita's own builds keep their Python, relative to an installation
BUNDLED_PYTHON_FILES = ("bin/python3*.dll", "python/python3*.zip", "python/python3*.dll", "lib/libpython3.*",
                        "lib64/libpython3.*", "lib/*/libpython3.*", "lib/python3.*", "usr/lib/libpython3.*",
                        "usr/lib/python3.*", "Contents/Frameworks/Python.framework/Versions/3.*",
                        "Contents/Frameworks/libpython3.*", "Contents/Resources/lib/python3.*")
FLATPAK_KRITA = ("app", "org.kde.krita", "current", "active", "files")
WHEEL_PLATFORMS = {"win32": "win_amd64", "darwin": "macosx_10_15_universal2", "linux": "manylinux2014_x86_64"}


# The plugin's settings module (standard library only), loaded by path: one schema for both.
plugin_settings = load_by_path(PLUGIN / NAME / "settings.py", "restyle_krita_settings")
Settings = plugin_settings.Settings


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """The options of this step."""
    group = parser.add_argument_group("Krita")
    group.add_argument("--krita-dir", type=Path, help="Krita's data folder, the one holding pykrita (default: "
                                                      "the user's, for this system)")
    group.add_argument("--kritarc", type=Path, help="Krita's settings file (default: the user's, for this system)")
    group.add_argument("--krita-python", help="the Python Krita runs plugins with, to check pyzmq (default: "
                                              "python3 on Linux; Krita's bundled Python elsewhere)")
    group.add_argument("--krita-path", type=Path,
                       help="Krita's installation (its folder, app bundle, executable or AppImage), where "
                            "--fetch-pyzmq finds Krita's Python (default: krita on PATH and Flatpak's org.kde.krita "
                            "on Linux, %%ProgramFiles%%\\Krita (x64) on Windows, /Applications/krita.app on macOS)")
    group.add_argument("--fetch-pyzmq", metavar="PYTHON_VERSION", nargs="?", const=DETECT, type=python_version,
                       help="download pyzmq's wheel for Krita's Python with pip and unpack it next to the plugin "
                            "(default version: the one found in Krita's installation, see --krita-path)")


def python_version(text: str) -> str:
    """A ``MAJOR.MINOR`` Python version from the command line (or ``detect``)."""
    if text != DETECT and not re.fullmatch(r"3\.\d{1,2}", text):
        raise argparse.ArgumentTypeError(f"'{text}' is not a Python version such as 3.13")
    return text


version_key = editor_folders.version_key


def krita_paths(platform: str, env: Mapping[str, str], home: Path, system_root: Path = Path("/")) -> List[Path]:
    """Where Krita is installed by default on ``platform`` (system folders under ``system_root``), likeliest first."""
    if platform == "win32":
        return [Path(env.get("PROGRAMFILES", r"C:\Program Files")) / "Krita (x64)"]
    if platform == "darwin":
        return [system_root / "Applications" / "krita.app", home / "Applications" / "krita.app"]
    on_path = shutil.which("krita", path=env.get("PATH", os.defpath))
    flatpaks = [system_root / "var" / "lib" / "flatpak", home / ".local" / "share" / "flatpak"]
    return ([Path(on_path)] if on_path else []) + [f.joinpath(*FLATPAK_KRITA) for f in flatpaks]


def installation_root(executable: Path) -> Path:
    """The installation a Krita executable belongs to: its app bundle, else the prefix above its ``bin``."""
    bundle = next((p for p in executable.parents if p.suffix == ".app"), None)
    if bundle is not None:
        return bundle
    return executable.parent.parent if executable.parent.name.lower() == "bin" else executable.parent


def newest_python_named(texts: Iterable[str]) -> Optional[str]:
    """The newest Python version named in ``texts`` (paths, a binary's strings), e.g. by ``libpython3.13.so``."""
    versions = {"3." + next(g for g in m.groups() if g) for text in texts for m in PYTHON_NAME.finditer(text)}
    return max(versions, key=version_key, default=None)


def appimage_python(appimage: Path) -> Optional[str]:
    """The Python an official Krita AppImage bundles, by the Krita version in its name (krita-5.2.9-x86_64.appimage)."""
    match = re.match(r"krita[-_ ]?(\d+\.\d+)", appimage.name, re.IGNORECASE)
    return BUNDLED_PYTHON.get(match.group(1)) if match else None


def krita_python(path: Path) -> Optional[Tuple[str, str]]:
    """The Python version the Krita installed at ``path`` runs plugins with, and where it was found; None if unknown.

    First the libpython that Krita's Python plugin loader links (distributions' builds use the system's Python),
    then the Python files an official build bundles; an AppImage by the Krita version in its name.
    """
    path = path.expanduser().resolve()
    if path.is_file() and path.name.lower().endswith(".appimage"):
        version = appimage_python(path)
        return (version, f"Krita's AppImage {path} bundles it") if version else None
    root = path if path.is_dir() else installation_root(path)
    if not any((root / name).is_file() for name in KRITA_EXECUTABLES):
        return None
    for loader in sorted(p for pattern in PYKRITA for p in root.glob(pattern) if p.is_file()):
        version = newest_python_named([loader.read_bytes().decode("latin-1")])
        if version:
            return version, f"found in {loader}"
    bundled = [(newest_python_named([p.relative_to(root).as_posix()]), p)
               for pattern in BUNDLED_PYTHON_FILES for p in root.glob(pattern)]
    version, found = max(((v, p) for v, p in bundled if v), key=lambda vp: version_key(vp[0]), default=(None, None))
    return (version, f"found in {found}") if version else None


def wheel_python(requested: str, installations: Sequence[Path]) -> Tuple[str, str]:
    """The Python to fetch pyzmq for and where it came from: as given, else found in the first of ``installations``."""
    if requested != DETECT:
        return requested, "given with --fetch-pyzmq"
    for path in installations:
        found = krita_python(path)
        if found:
            return found
    looked = ", ".join(str(p) for p in installations) or "nowhere"
    raise InstallError(f"cannot tell which Python Krita runs plugins with (looked in: {looked}): pass "
                       "--fetch-pyzmq X.Y (Krita 5.2's own builds: 3.10; 5.3 and 6.0: 3.13) or --pyzmq-wheel FILE, "
                       "or --krita-path with Krita's installation")


def krita_locations(platform: str, env: Mapping[str, str], home: Path) -> Tuple[Path, Path]:
    """Krita's per-user data folder (holding ``pykrita``) and its ``kritarc`` on ``platform`` (``sys.platform``):
    Flatpak's when only a Flatpak Krita has made its folders, else the native Krita's."""
    native, *others = editor_folders.krita_folders(platform, env, home)
    flatpak = next((f for f in others if f.data.parents[1].is_dir()), None)
    chosen = flatpak if flatpak is not None and not native.data.is_dir() else native
    return chosen.data, chosen.kritarc


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
    fetch = None
    if args.fetch_pyzmq and args.pyzmq_wheel is None:
        installations = [args.krita_path] if args.krita_path else krita_paths(sys.platform, os.environ, Path.home())
        fetch = wheel_python(args.fetch_pyzmq, installations)
    default_data, default_rc = krita_locations(sys.platform, os.environ, Path.home())
    data_dir = args.krita_dir or default_data
    kritarc = args.kritarc or default_rc
    pykrita = data_dir / "pykrita"
    dest = pykrita / NAME
    pykrita.mkdir(parents=True, exist_ok=True)
    replace_folder(PLUGIN / NAME, dest)
    shutil.copy2(PLUGIN / f"{NAME}.desktop", pykrita / f"{NAME}.desktop")
    vendor_client(dest)
    lines = [f"Krita plugin installed in {dest}"]
    lines += _pyzmq(args, dest, fetch)

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


def _pyzmq(args: argparse.Namespace, dest: Path, fetch: Optional[Tuple[str, str]]) -> List[str]:
    """Make pyzmq importable by Krita's Python: a given wheel, one fetched for ``fetch``'s version, or the system's."""
    wheel = args.pyzmq_wheel
    if wheel is not None:
        unpack_wheel(wheel, dest / "vendor")
        return [f"  pyzmq: {wheel.name} unpacked next to the plugin"]
    if fetch is not None:
        version, source = fetch
        with tempfile.TemporaryDirectory() as tmp:
            fetched = fetch_pyzmq(version, sys.platform, Path(tmp))
            unpack_wheel(fetched, dest / "vendor")
            return [f"  pyzmq: {fetched.name} for Python {version} ({source}) unpacked next to the plugin"]
    python = args.krita_python or (shutil.which("python3") if sys.platform.startswith("linux") else None)
    if python and can_import_zmq(python):
        return [f"  pyzmq: importable by {python}"]
    return [f"WARNING: Krita's Python ({python or 'bundled with Krita'}) cannot import pyzmq, so the plugin "
            "cannot reach the engine. With Krita from Debian/Ubuntu: `sudo apt install python3-zmq`; with "
            "Krita's own builds (Windows, macOS, AppImage): rerun with --fetch-pyzmq (it finds the Python your "
            "Krita bundles; --krita-path PATH when Krita is elsewhere) or --pyzmq-wheel FILE"]
