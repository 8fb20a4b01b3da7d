"""``install/install.py --gimp``: folders per system, the installed plug-in, settings kept, nothing of the user's lost."""
from __future__ import annotations

import ast
import json
import os
import plistlib
import stat
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest

from import_guard import run_without_heavy_imports

ROOT = Path(__file__).resolve().parents[1]
CLIENT = ROOT / "engine" / "client"  # what the installers copy into the plugin, whole
sys.path.insert(0, str(ROOT / "install"))

import common  # noqa: E402
import gimp_install  # noqa: E402

INSTALL = [sys.executable, str(ROOT / "install" / "install.py")]
HOME = Path("/home/ann")


def _touch(path: Path, text: str = "") -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text)
    return path


def _info_plist(app: Path, version: str) -> None:
    app.joinpath("Contents").mkdir(parents=True)
    with (app / "Contents" / "Info.plist").open("wb") as f:
        plistlib.dump({"CFBundleShortVersionString": version}, f)


def _targets(*args, **kwargs):
    return [(t.folder, t.version) for t in gimp_install.install_targets(*args, **kwargs)]


def test_gimp_user_folder_roots_per_system():
    assert gimp_install.gimp_roots("win32", {"APPDATA": r"C:\Users\ann\AppData\Roaming"}, HOME) == {
        "native": Path(r"C:\Users\ann\AppData\Roaming") / "GIMP"}
    assert gimp_install.gimp_roots("darwin", {}, HOME) == {"native": HOME / "Library" / "Application Support" / "GIMP"}
    assert gimp_install.gimp_roots("linux", {}, HOME) == {
        "native": HOME / ".config" / "GIMP", "flatpak": HOME / ".var" / "app" / "org.gimp.GIMP" / "config" / "GIMP",
        "snap": HOME / "snap" / "gimp" / "current" / ".config" / "GIMP"}
    assert gimp_install.gimp_roots("linux", {"XDG_CONFIG_HOME": "/xdg"}, HOME)["native"] == Path("/xdg/GIMP")


def test_every_existing_gimp_3_user_folder_gets_the_plugin_and_2_10_is_ignored(tmp_path):
    home, system = tmp_path / "home", tmp_path / "system"
    for version in ("2.10", "3.0", "3.10", "3.2", "3.2-backup"):
        (home / ".config" / "GIMP" / version).mkdir(parents=True)
    (home / ".var" / "app" / "org.gimp.GIMP" / "config" / "GIMP" / "3.2").mkdir(parents=True)
    (home / "snap" / "gimp" / "current" / ".config" / "GIMP" / "3.0").mkdir(parents=True)
    _touch(tmp_path / "bin" / "gimp-3.4")  # installed but never started: its folder does not exist yet
    native = home / ".config" / "GIMP"
    assert _targets("linux", {"PATH": str(tmp_path / "bin")}, home, system) == [
        (native / "3.0" / "plug-ins", "3.0"), (native / "3.2" / "plug-ins", "3.2"),
        (native / "3.10" / "plug-ins", "3.10"),
        (home / ".var" / "app" / "org.gimp.GIMP" / "config" / "GIMP" / "3.2" / "plug-ins", "3.2"),
        (home / "snap" / "gimp" / "current" / ".config" / "GIMP" / "3.0" / "plug-ins", "3.0")]


def test_existing_user_folders_on_windows_and_macos(tmp_path):
    (tmp_path / "Roaming" / "GIMP" / "3.0").mkdir(parents=True)
    (tmp_path / "Roaming" / "GIMP" / "3.2").mkdir(parents=True)
    assert _targets("win32", {"APPDATA": str(tmp_path / "Roaming")}, tmp_path, tmp_path) == [
        (tmp_path / "Roaming" / "GIMP" / "3.0" / "plug-ins", "3.0"),
        (tmp_path / "Roaming" / "GIMP" / "3.2" / "plug-ins", "3.2")]
    (tmp_path / "Library" / "Application Support" / "GIMP" / "3.2").mkdir(parents=True)
    assert _targets("darwin", {}, tmp_path, tmp_path) == [
        (tmp_path / "Library" / "Application Support" / "GIMP" / "3.2" / "plug-ins", "3.2")]


def test_without_user_folders_the_newest_gimp_on_path_decides(tmp_path):
    for name in ("gimp-3.0", "gimp-console-3.2", "gimp-2.10", "gimp-script-fu-interpreter-3.4", "gimp-3"):
        _touch(tmp_path / "usr" / "bin" / name)
    (tmp_path / "home" / ".config" / "GIMP" / "2.10").mkdir(parents=True)
    env = {"PATH": os.pathsep.join([str(tmp_path / "nowhere"), str(tmp_path / "usr" / "bin")])}
    assert gimp_install.installed_gimps("linux", env, tmp_path / "home", tmp_path)["native"] == ["3.0", "3.2"]
    assert _targets("linux", env, tmp_path / "home", tmp_path) == [
        (tmp_path / "home" / ".config" / "GIMP" / "3.2" / "plug-ins", "3.2")]


def test_a_flatpak_or_snap_gimp_gets_its_own_user_folder(tmp_path):
    home, system = tmp_path / "home", tmp_path / "system"
    flatpak_bin = ("app", "org.gimp.GIMP", "current", "active", "files", "bin")
    _touch(system.joinpath("var", "lib", "flatpak", *flatpak_bin, "gimp-3.0"))
    _touch(home.joinpath(".local", "share", "flatpak", *flatpak_bin, "gimp-3.2"))
    assert _targets("linux", {"PATH": ""}, home, system) == [
        (home / ".var" / "app" / "org.gimp.GIMP" / "config" / "GIMP" / "3.2" / "plug-ins", "3.2")]
    _touch(system / "snap" / "gimp" / "current" / "usr" / "bin" / "gimp-console-3.2")
    assert _targets("linux", {"PATH": ""}, home, system)[-1] == (
        home / "snap" / "gimp" / "current" / ".config" / "GIMP" / "3.2" / "plug-ins", "3.2")


def test_without_user_folders_the_newest_gimp_installed_on_windows_or_macos_decides(tmp_path):
    env = {"PROGRAMFILES": str(tmp_path / "Program Files"), "LOCALAPPDATA": str(tmp_path / "Local"),
           "APPDATA": str(tmp_path / "Roaming")}
    _touch(tmp_path / "Program Files" / "GIMP 3" / "bin" / "gimp-3.0.exe")
    _touch(tmp_path / "Local" / "Programs" / "GIMP 3.2" / "bin" / "gimp-3.2.exe")
    _touch(tmp_path / "Program Files" / "GIMP 2" / "bin" / "gimp-2.10.exe")
    assert _targets("win32", env, tmp_path) == [(tmp_path / "Roaming" / "GIMP" / "3.2" / "plug-ins", "3.2")]
    _info_plist(tmp_path / "Applications" / "GIMP.app", "3.2.4")
    _info_plist(tmp_path / "Applications" / "GIMP-2.10.app", "2.10.38")
    _info_plist(tmp_path / "home" / "Applications" / "GIMP 3.0.app", "3.0.6")
    _touch(tmp_path / "Applications" / "GIMP-broken.app" / "Contents" / "Info.plist", "not a plist")
    _touch(tmp_path / "Applications" / "GIMP-cut.app" / "Contents" / "Info.plist", "<?xml version='1.0'?><plist><dict>")
    assert gimp_install.installed_gimps("darwin", {}, tmp_path / "home", tmp_path) == {"native": ["3.0", "3.2"]}
    assert _targets("darwin", {}, tmp_path / "home", tmp_path) == [
        (tmp_path / "home" / "Library" / "Application Support" / "GIMP" / "3.2" / "plug-ins", "3.2")]


def test_with_no_gimp_found_the_native_folder_of_gimp_3_2_is_used(tmp_path):
    assert _targets("linux", {"PATH": ""}, tmp_path, tmp_path) == [
        (tmp_path / ".config" / "GIMP" / "3.2" / "plug-ins", "3.2")]
    assert _targets("win32", {"APPDATA": str(tmp_path / "R")}, tmp_path, tmp_path) == [
        (tmp_path / "R" / "GIMP" / "3.2" / "plug-ins", "3.2")]


def test_gimp3_directory_is_the_only_folder_used(tmp_path):
    (tmp_path / ".config" / "GIMP" / "3.2").mkdir(parents=True)
    assert _targets("linux", {"GIMP3_DIRECTORY": "/g"}, tmp_path, tmp_path) == [(Path("/g/plug-ins"), None)]


def test_a_given_plugins_folder_names_its_version_when_its_parent_does():
    assert gimp_install.given_target(Path("/h/.config/GIMP/3.2/plug-ins")).version == "3.2"
    assert gimp_install.given_target(Path("/opt/gimp-plug-ins")).version is None


def test_interp_files_name_gimps_python(tmp_path):
    assert gimp_install.interpreter_from_interp("# comment\npython=/opt/gimp/bin/python3.12\n") == \
        "/opt/gimp/bin/python3.12"
    assert gimp_install.interpreter_from_interp("#python=/x\n:Python:E::py::python3:\n") is None
    (tmp_path / "pygimp.interp").write_text("python3=C:/GIMP 3/bin/python.exe\n")
    assert gimp_install.gimp_python([tmp_path / "missing", tmp_path]) == "C:/GIMP 3/bin/python.exe"


def _install(tmp_path, *args):
    return subprocess.run([*INSTALL, "--gimp", "--gimp-dir", str(tmp_path / "plug-ins"), *args],
                          capture_output=True, text=True, env=dict(os.environ, PATH="/usr/bin:/bin"))


def test_installed_plugin_is_executable_and_self_contained(tmp_path):
    proc = _install(tmp_path, "--endpoint", "tcp://127.0.0.1:5599", "--engine", "none")
    assert proc.returncode == 0, proc.stderr
    dest = tmp_path / "plug-ins" / "restyle"
    assert f"GIMP 3 plug-in installed in {dest}" in proc.stdout and "Filters › Style Transfer" in proc.stdout
    assert (dest / "restyle.py").stat().st_mode & stat.S_IXUSR
    assert json.loads((dest / "engine.json").read_text())["endpoint"] == "tcp://127.0.0.1:5599"
    engine = dest / "engine"
    assert sorted(p.name for p in engine.iterdir()) == ["__init__.py", "client"]  # no other engine module
    assert sorted(p.name for p in (engine / "client").iterdir()) == sorted(p.name for p in CLIENT.glob("*.py"))
    out = run_without_heavy_imports(
        "from engine.client import EngineClient\n"
        "from restyle_gimp import formats, messages, pixels, region, request, settings\n"
        "print(EngineClient.__module__, sys.modules['engine.client'].__file__)\n",
        cwd=tmp_path,
        path=dest,
    )
    assert out.returncode == 0, out.stderr
    assert out.stdout.split() == ["engine.client.engine_client", str(engine / "client" / "__init__.py")]


def test_reinstall_keeps_the_engine_settings_unless_told_otherwise(tmp_path):
    engine = tmp_path / "restyle"
    engine.write_text("#!/bin/sh\n")
    assert _install(tmp_path, "--engine", str(engine), "--endpoint", "tcp://127.0.0.1:7").returncode == 0
    settings = tmp_path / "plug-ins" / "restyle" / "engine.json"
    assert _install(tmp_path).returncode == 0
    assert json.loads(settings.read_text())["start_command"] == [str(engine), "serve"]
    assert json.loads(settings.read_text())["endpoint"] == "tcp://127.0.0.1:7"
    assert _install(tmp_path, "--endpoint", "auto", "--engine", "none").returncode == 0
    assert json.loads(settings.read_text())["endpoint"] is None
    assert json.loads(settings.read_text())["start_command"] is None


def test_a_folder_the_installer_did_not_make_is_left_alone(tmp_path):
    theirs = tmp_path / "plug-ins" / "restyle"
    theirs.mkdir(parents=True)
    (theirs / "notes.txt").write_text("mine")
    proc = _install(tmp_path)
    assert proc.returncode == 2
    assert "was not made by this installer" in proc.stderr
    assert (theirs / "notes.txt").read_text() == "mine"
    assert not (theirs / "restyle.py").exists()


def test_missing_engine_path_is_refused(tmp_path):
    proc = _install(tmp_path, "--engine", str(tmp_path / "nowhere"))
    assert proc.returncode == 2 and "give the path of the `restyle` executable" in proc.stderr


def test_without_a_step_the_installer_lists_the_steps():
    proc = subprocess.run(INSTALL, capture_output=True, text=True)
    assert proc.returncode == 2 and "--gimp" in proc.stderr


def test_a_pyzmq_wheel_is_unpacked_next_to_the_plugin(tmp_path):
    wheel = tmp_path / "pyzmq-26.0.0-cp312-cp312-win_amd64.whl"
    with zipfile.ZipFile(wheel, "w") as archive:
        archive.writestr("zmq/__init__.py", "VERSION = 'vendored'\n")
    assert _install(tmp_path, "--pyzmq-wheel", str(wheel)).returncode == 0
    assert (tmp_path / "plug-ins" / "restyle" / "vendor" / "zmq" / "__init__.py").read_text() == \
        "VERSION = 'vendored'\n"


def test_a_wheel_escaping_its_folder_is_refused(tmp_path):
    wheel = tmp_path / "evil.whl"
    with zipfile.ZipFile(wheel, "w") as archive:
        archive.writestr("../../outside.py", "x")
    with pytest.raises(common.InstallError, match="outside its folder"):
        common.unpack_wheel(wheel, tmp_path / "dest")
    assert not (tmp_path / "outside.py").exists()


def _install_as_user(tmp_path, path):
    home = tmp_path / "home"
    env = dict(os.environ, HOME=str(home), XDG_CONFIG_HOME=str(home / ".config"), PATH=path)
    env.pop("GIMP3_DIRECTORY", None)
    return subprocess.run([*INSTALL, "--gimp", "--engine", "none", "--endpoint", "tcp://127.0.0.1:5599"],
                          capture_output=True, text=True, env=env)


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="the user folders of GIMP on Linux")
def test_install_goes_into_the_gimp_3_0_and_3_2_user_folders(tmp_path):
    gimp = tmp_path / "home" / ".config" / "GIMP"
    for version in ("2.10", "3.0", "3.2"):
        (gimp / version).mkdir(parents=True)
    proc = _install_as_user(tmp_path, "/usr/bin:/bin")
    assert proc.returncode == 0, proc.stderr
    lines = proc.stdout.splitlines()
    assert [line for line in lines if line.startswith("GIMP")] == [f"GIMP 3.0 plug-in installed in {gimp / '3.0' / 'plug-ins' / 'restyle'}",
                         f"GIMP 3.2 plug-in installed in {gimp / '3.2' / 'plug-ins' / 'restyle'}"]
    assert "pyzmq" in proc.stdout and lines[-1] == "Restart GIMP, then use Filters › Style Transfer…"
    for version in ("3.0", "3.2"):
        dest = gimp / version / "plug-ins" / "restyle"
        assert (dest / "restyle.py").stat().st_mode & stat.S_IXUSR
        assert (dest / "engine" / "client" / "engine_client.py").is_file()
        assert (dest / "restyle_gimp" / "settings.py").is_file()
        assert json.loads((dest / "engine.json").read_text())["endpoint"] == "tcp://127.0.0.1:5599"
    assert not (gimp / "2.10" / "plug-ins").exists()


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="the user folders of GIMP on Linux")
def test_before_gimp_ever_ran_install_goes_into_the_folder_of_the_gimp_on_path(tmp_path):
    _touch(tmp_path / "bin" / "gimp-3.0").chmod(0o755)
    _touch(tmp_path / "bin" / "gimp-console-3.2").chmod(0o755)
    proc = _install_as_user(tmp_path, f"{tmp_path / 'bin'}:/usr/bin:/bin")
    assert proc.returncode == 0, proc.stderr
    dest = tmp_path / "home" / ".config" / "GIMP" / "3.2" / "plug-ins" / "restyle"
    assert proc.stdout.splitlines()[0] == f"GIMP 3.2 plug-in installed in {dest}"
    assert (dest / "restyle.py").is_file() and not (dest.parents[2] / "3.0").exists()


@pytest.mark.parametrize("name", ["install/install.py", "install/common.py", "install/gimp_install.py",
                                  "engine/cli/editor_folders.py"])
def test_installer_runs_on_python_3_8(name):
    ast.parse((ROOT / name).read_text(), feature_version=(3, 8))
