"""``install/install.py --gimp``: folders per system, the installed plug-in, settings kept, nothing of the user's lost."""
from __future__ import annotations

import ast
import json
import os
import stat
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest

from import_guard import run_without_heavy_imports

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "install"))

import common  # noqa: E402
import gimp_install  # noqa: E402

INSTALL = [sys.executable, str(ROOT / "install" / "install.py")]
HOME = Path("/home/ann")


def test_gimp_folders_per_system():
    assert gimp_install.gimp_config_dirs("win32", {"APPDATA": r"C:\Users\ann\AppData\Roaming"}, HOME) == [
        Path(r"C:\Users\ann\AppData\Roaming") / "GIMP" / "3.0"]
    assert gimp_install.gimp_config_dirs("darwin", {}, HOME) == [
        HOME / "Library" / "Application Support" / "GIMP" / "3.0"]
    linux = gimp_install.gimp_config_dirs("linux", {}, HOME)
    assert linux[0] == HOME / ".config" / "GIMP" / "3.0"
    assert HOME / ".var" / "app" / "org.gimp.GIMP" / "config" / "GIMP" / "3.0" in linux
    assert gimp_install.gimp_config_dirs("linux", {"XDG_CONFIG_HOME": "/xdg"}, HOME)[0] == Path("/xdg/GIMP/3.0")
    assert gimp_install.gimp_config_dirs("linux", {"GIMP3_DIRECTORY": "/g"}, HOME) == [Path("/g")]


def test_installs_into_every_existing_gimp_folder_else_the_first(tmp_path):
    native, flatpak = tmp_path / "native", tmp_path / "flatpak"
    assert gimp_install.plugin_dirs([native, flatpak]) == [native / "plug-ins"]
    flatpak.mkdir()
    assert gimp_install.plugin_dirs([native, flatpak]) == [flatpak / "plug-ins"]
    native.mkdir()
    assert gimp_install.plugin_dirs([native, flatpak]) == [native / "plug-ins", flatpak / "plug-ins"]


def test_interp_files_name_gimps_python(tmp_path):
    assert gimp_install.interpreter_from_interp("# comment\npython=/opt/gimp/bin/python3.12\n") == \
        "/opt/gimp/bin/python3.12"
    assert gimp_install.interpreter_from_interp("#python=/x\n:Python:E::py::python3:\n") is None
    (tmp_path / "pygimp.interp").write_text("python3=C:/GIMP 3/bin/python.exe\n")
    assert gimp_install.gimp_python([tmp_path / "missing", tmp_path]) == "C:/GIMP 3/bin/python.exe"


def test_engine_imports_follow_relative_and_absolute_engine_imports():
    source = "import os\nfrom .protocol import A\nfrom . import geometry\nfrom engine.discovery import b\nimport zmq\n"
    assert common.engine_imports(source) == ["protocol", "geometry", "discovery"]
    assert set(common.module_closure(["client"])) >= {"client", "protocol", "discovery"}


def _install(tmp_path, *args):
    return subprocess.run([*INSTALL, "--gimp", "--gimp-dir", str(tmp_path / "plug-ins"), *args],
                          capture_output=True, text=True, env=dict(os.environ, PATH="/usr/bin:/bin"))


def test_installed_plugin_is_executable_and_self_contained(tmp_path):
    proc = _install(tmp_path, "--endpoint", "tcp://127.0.0.1:5599", "--engine", "none")
    assert proc.returncode == 0, proc.stderr
    dest = tmp_path / "plug-ins" / "restyle"
    assert "GIMP plug-in installed in" in proc.stdout and "Filters › Style Transfer" in proc.stdout
    assert (dest / "restyle.py").stat().st_mode & stat.S_IXUSR
    assert json.loads((dest / "engine.json").read_text())["endpoint"] == "tcp://127.0.0.1:5599"
    out = run_without_heavy_imports(
        "import engine.client, engine.geometry\n"
        "from restyle_gimp import formats, messages, pixels, region, request, settings\n"
        "print(engine.client.__file__)\n",
        cwd=tmp_path,
        path=dest,
    )
    assert out.returncode == 0, out.stderr
    assert out.stdout.strip() == str(dest / "engine" / "client.py")


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


@pytest.mark.parametrize("name", ["install.py", "common.py", "gimp_install.py"])
def test_installer_runs_on_python_3_8(name):
    ast.parse((ROOT / "install" / name).read_text(), feature_version=(3, 8))
