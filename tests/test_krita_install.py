"""``install/install.py --krita``: folders per system, kritarc, the installed plugin, settings, nothing lost."""
from __future__ import annotations

import json
import os
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest

from import_guard import run_without_heavy_imports

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "install"))

import krita_install  # noqa: E402

INSTALL = [sys.executable, str(ROOT / "install" / "install.py")]
HOME = Path("/home/ann")


def _install(tmp_path: Path, *args: str) -> subprocess.CompletedProcess:
    return subprocess.run([*INSTALL, "--krita", "--krita-dir", str(tmp_path / "krita"), "--kritarc",
                           str(tmp_path / "config" / "kritarc"), "--krita-python", sys.executable, *args],
                          capture_output=True, text=True)


def test_krita_folders_per_system(tmp_path: Path) -> None:
    assert krita_install.krita_locations("linux", {}, HOME) == (
        HOME / ".local/share/krita", HOME / ".config/kritarc")
    assert krita_install.krita_locations("linux", {"XDG_DATA_HOME": "/d", "XDG_CONFIG_HOME": "/c"}, HOME) == (
        Path("/d/krita"), Path("/c/kritarc"))
    assert krita_install.krita_locations("win32", {"APPDATA": r"C:\R", "LOCALAPPDATA": r"C:\L"}, HOME) == (
        Path(r"C:\R") / "krita", Path(r"C:\L") / "kritarc")
    assert krita_install.krita_locations("darwin", {}, HOME) == (
        HOME / "Library/Application Support/krita", HOME / "Library/Preferences/kritarc")
    flatpak = tmp_path / ".var" / "app" / "org.kde.krita"
    flatpak.mkdir(parents=True)
    assert krita_install.krita_locations("linux", {}, tmp_path) == (flatpak / "data/krita", flatpak / "config/kritarc")


def test_enabling_adds_or_fixes_one_line_and_keeps_the_rest() -> None:
    assert krita_install.enable_plugin("", "restyle") == "[python]\nenable_restyle=true\n"
    rc = "[General]\nx=1\n\n[python]\nenable_other=true\nenable_restyle=false\n\n[krita]\ny=2"
    assert krita_install.enable_plugin(rc, "restyle") == (
        "[General]\nx=1\n\n[python]\nenable_other=true\nenable_restyle=true\n\n[krita]\ny=2\n")
    assert krita_install.enable_plugin("[krita]\ny=2\n", "restyle") == "[krita]\ny=2\n\n[python]\nenable_restyle=true\n"
    assert krita_install.enable_plugin("[python]\n[krita]\n", "restyle") == "[python]\nenable_restyle=true\n[krita]\n"


def test_pyzmq_wheel_is_fetched_for_kritas_bundled_python_and_platform(tmp_path: Path) -> None:
    cmd = krita_install.pip_download_command("3.10", "win32", tmp_path)
    assert cmd[1:4] == ["-m", "pip", "download"] and cmd[-1] == "pyzmq"
    assert cmd[cmd.index("--python-version") + 1] == "3.10" and cmd[cmd.index("--platform") + 1] == "win_amd64"
    assert "--only-binary=:all:" in cmd
    with pytest.raises(krita_install.InstallError, match="--pyzmq-wheel"):
        krita_install.pip_download_command("3.10", "sunos5", tmp_path)


def test_installed_plugin_is_enabled_and_imports_its_own_client_without_numpy(tmp_path: Path) -> None:
    rc = tmp_path / "config" / "kritarc"
    rc.parent.mkdir(parents=True)
    rc.write_text("[MainWindow]\nState=abc\n")
    proc = _install(tmp_path, "--engine", "none", "--endpoint", "tcp://127.0.0.1:5599")
    assert proc.returncode == 0, proc.stderr
    assert "Filter › Style Transfer" in proc.stdout
    pykrita = tmp_path / "krita" / "pykrita"
    assert (pykrita / "restyle.desktop").read_text().count("X-KDE-Library=restyle") == 1
    assert rc.read_text() == "[MainWindow]\nState=abc\n\n[python]\nenable_restyle=true\n"
    settings = json.loads((tmp_path / "krita" / "restyle" / "settings.json").read_text())
    assert settings["engine_endpoint"] == "tcp://127.0.0.1:5599" and settings["engine_command"] == []
    out = run_without_heavy_imports(
        "from restyle import engine_link, job, pixels, region, request, settings\n"
        "print(engine_link.client.__file__)\n",
        cwd=tmp_path,
        path=pykrita,
    )
    assert out.returncode == 0, out.stderr
    assert out.stdout.strip() == str(pykrita / "restyle" / "engine" / "client.py")


def test_reinstall_keeps_the_users_choices_and_engine_unless_told_otherwise(tmp_path: Path) -> None:
    engine = tmp_path / "restyle"
    engine.write_text("#!/bin/sh\n")
    assert _install(tmp_path, "--engine", str(engine)).returncode == 0
    settings_file = tmp_path / "krita" / "restyle" / "settings.json"
    data = json.loads(settings_file.read_text())
    assert data["engine_command"] == [str(engine.resolve()), "serve"]
    data.update(strength=0.3, styles=[{"kind": "preset", "value": "wave", "weight": 1.0, "label": "Wave"}])
    settings_file.write_text(json.dumps(data))
    assert _install(tmp_path).returncode == 0
    again = json.loads(settings_file.read_text())
    assert again["engine_command"] == [str(engine.resolve()), "serve"]
    assert again["strength"] == 0.3 and again["styles"][0]["value"] == "wave"
    assert _install(tmp_path, "--engine", "none").returncode == 0
    assert json.loads(settings_file.read_text())["engine_command"] == []


def test_a_missing_engine_path_is_refused_with_what_to_give(tmp_path: Path) -> None:
    proc = _install(tmp_path, "--engine", str(tmp_path / "nope"))
    assert proc.returncode == 2 and "give the path of the `restyle` executable" in proc.stderr


def test_a_plugin_folder_the_installer_did_not_make_is_left_alone(tmp_path: Path) -> None:
    theirs = tmp_path / "krita" / "pykrita" / "restyle"
    theirs.mkdir(parents=True)
    (theirs / "notes.txt").write_text("mine")
    proc = _install(tmp_path)
    assert proc.returncode == 2 and "was not made by this installer" in proc.stderr
    assert (theirs / "notes.txt").read_text() == "mine" and not (theirs / "pixels.py").exists()


def test_a_corrupt_settings_file_stops_the_install_and_is_kept(tmp_path: Path) -> None:
    settings_file = tmp_path / "krita" / "restyle" / "settings.json"
    settings_file.parent.mkdir(parents=True)
    settings_file.write_text("{oops")
    proc = _install(tmp_path)
    assert proc.returncode == 2 and "delete it to start from the defaults" in proc.stderr
    assert settings_file.read_text() == "{oops"


def test_a_given_pyzmq_wheel_is_unpacked_next_to_the_plugin(tmp_path: Path) -> None:
    wheel = tmp_path / "pyzmq-26.0.0-cp310-cp310-win_amd64.whl"
    with zipfile.ZipFile(wheel, "w") as archive:
        archive.writestr("zmq/__init__.py", "MARK = 1\n")
    proc = _install(tmp_path, "--pyzmq-wheel", str(wheel))
    assert proc.returncode == 0, proc.stderr
    assert (tmp_path / "krita" / "pykrita" / "restyle" / "vendor" / "zmq" / "__init__.py").read_text() == "MARK = 1\n"
    assert "unpacked next to the plugin" in proc.stdout


def test_pyzmq_check_warns_with_the_fix_when_kritas_python_lacks_it(tmp_path: Path) -> None:
    fake_python = tmp_path / "python3"
    fake_python.write_text("#!/bin/sh\nexit 1\n")
    os.chmod(fake_python, 0o755)
    proc = _install(tmp_path, "--krita-python", str(fake_python))
    assert proc.returncode == 0
    assert "cannot import pyzmq" in proc.stdout and "apt install python3-zmq" in proc.stdout
    assert "--fetch-pyzmq" in proc.stdout
