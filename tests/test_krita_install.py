"""``install/install.py --krita``: folders per system, kritarc, the installed plugin, settings, nothing lost."""
from __future__ import annotations

import ast
import json
import os
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest

from import_guard import run_without_heavy_imports

ROOT = Path(__file__).resolve().parents[1]
CLIENT = ROOT / "engine" / "client"  # what the installers copy into the plugin, whole
sys.path.insert(0, str(ROOT / "install"))

import install as installer  # noqa: E402
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
    engine = pykrita / "restyle" / "engine"
    assert sorted(p.name for p in engine.iterdir()) == ["__init__.py", "client"]  # no other engine module
    assert sorted(p.name for p in (engine / "client").iterdir()) == sorted(p.name for p in CLIENT.glob("*.py"))
    out = run_without_heavy_imports(
        "from restyle import engine_link, job, pixels, region, request, settings\n"
        "print(engine_link.client.__file__, engine_link.client.EngineClient.__module__)\n",
        cwd=tmp_path,
        path=pykrita,
    )
    assert out.returncode == 0, out.stderr
    assert out.stdout.split() == [str(engine / "client" / "__init__.py"), "restyle.engine.client.engine_client"]


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


ELF_WITH_PYTHON = b"\x7fELF\x02\x01\x01\x00" + b"\x00" * 40 + b"libQt5Core.so.5\x00libpython3.12.so.1.0\x00libc.so.6\x00"


def _touch(path: Path, data: bytes = b"") -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(data)
    return path


def test_krita_installations_per_system(tmp_path: Path) -> None:
    assert krita_install.krita_paths("win32", {"PROGRAMFILES": r"C:\Program Files"}, HOME) == [
        Path(r"C:\Program Files") / "Krita (x64)"]
    assert krita_install.krita_paths("darwin", {}, HOME, tmp_path) == [
        tmp_path / "Applications" / "krita.app", HOME / "Applications" / "krita.app"]
    krita = _touch(tmp_path / "opt" / "krita" / "bin" / "krita")
    krita.chmod(0o755)
    assert krita_install.krita_paths("linux", {"PATH": str(krita.parent)}, HOME, tmp_path) == [
        krita, tmp_path / "var/lib/flatpak/app/org.kde.krita/current/active/files",
        HOME / ".local/share/flatpak/app/org.kde.krita/current/active/files"]


def test_a_distributions_krita_uses_the_python_its_python_loader_links(tmp_path: Path) -> None:
    usr = tmp_path / "usr"
    _touch(usr / "bin" / "krita")
    loader = _touch(usr / "lib" / "x86_64-linux-gnu" / "kritaplugins" / "kritapykrita.so", ELF_WITH_PYTHON)
    (usr / "lib" / "python3.13").mkdir()  # another Python of the system: not the one Krita links
    assert krita_install.krita_python(usr) == ("3.12", f"found in {loader}")
    assert krita_install.krita_python(usr / "bin" / "krita") == ("3.12", f"found in {loader}")
    loader.write_bytes(ELF_WITH_PYTHON + b"libpython3.9.so\x00libpython3.14.so.1.0\x00")
    assert krita_install.krita_python(usr)[0] == "3.14"


def test_kritas_own_builds_are_known_by_the_python_they_bundle(tmp_path: Path) -> None:
    windows = tmp_path / "Krita (x64)"
    _touch(windows / "bin" / "krita.exe")
    _touch(windows / "lib" / "kritaplugins" / "kritapykrita.dll", b"MZ\x90\x00python3.dll\x00")  # the stable ABI only
    _touch(windows / "bin" / "python3.dll")
    dll = _touch(windows / "bin" / "python311.dll")
    assert krita_install.krita_python(windows) == ("3.11", f"found in {dll}")
    mac = tmp_path / "krita.app"
    _touch(mac / "Contents" / "MacOS" / "krita")
    (mac / "Contents" / "Frameworks" / "Python.framework" / "Versions" / "3.10" / "lib").mkdir(parents=True)
    assert krita_install.krita_python(mac)[0] == "3.10"
    assert krita_install.krita_python(mac / "Contents" / "MacOS" / "krita")[0] == "3.10"
    appdir = tmp_path / "squashfs-root"
    _touch(appdir / "usr" / "bin" / "krita")
    _touch(appdir / "usr" / "lib" / "libpython3.10.so.1.0")
    assert krita_install.krita_python(appdir)[0] == "3.10"


def test_an_appimage_is_known_by_the_krita_version_in_its_name(tmp_path: Path) -> None:
    for name, python in [("krita-5.2.9-x86_64.appimage", "3.10"), ("krita-6.0.1-x86_64.AppImage", "3.13"),
                         ("krita-5.3.0-beta1-x86_64.appimage", "3.13")]:
        found = krita_install.krita_python(_touch(tmp_path / name))
        assert found is not None and found[0] == python and name in found[1]
    assert krita_install.krita_python(_touch(tmp_path / "krita-4.4.8-x86_64.appimage")) is None


def test_without_krita_or_its_python_the_install_says_what_to_pass(tmp_path: Path) -> None:
    _touch(tmp_path / "lib" / "libpython3.11.so")  # a Python, but no Krita here
    assert krita_install.krita_python(tmp_path) is None
    assert krita_install.krita_python(tmp_path / "missing") is None
    with pytest.raises(krita_install.InstallError, match=r"--fetch-pyzmq X\.Y .*--pyzmq-wheel FILE"):
        krita_install.wheel_python(krita_install.DETECT, [tmp_path, tmp_path / "missing"])
    assert krita_install.wheel_python("3.12", []) == ("3.12", "given with --fetch-pyzmq")


def _fake_fetch(calls: list):
    def fetch(version: str, platform: str, dest: Path) -> Path:
        calls.append(version)
        wheel = dest / f"pyzmq-27.1.0-cp{version.replace('.', '')}-manylinux_2_28_x86_64.whl"
        with zipfile.ZipFile(wheel, "w") as archive:
            archive.writestr("zmq/__init__.py", f"PYTHON = {version!r}\n")
        return wheel
    return fetch


def _parse(tmp_path: Path, *args: str):
    return installer.parser_for([krita_install]).parse_args(
        ["--krita", "--krita-dir", str(tmp_path / "krita"), "--kritarc", str(tmp_path / "kritarc"),
         "--engine", "none", *args])


def test_fetch_pyzmq_takes_the_python_found_in_krita_unless_given(tmp_path: Path, monkeypatch) -> None:
    usr = tmp_path / "usr"
    _touch(usr / "bin" / "krita")
    loader = _touch(usr / "lib" / "kritaplugins" / "kritapykrita.so", ELF_WITH_PYTHON)
    calls: list = []
    monkeypatch.setattr(krita_install, "fetch_pyzmq", _fake_fetch(calls))
    lines = krita_install.install(_parse(tmp_path, "--fetch-pyzmq", "--krita-path", str(usr / "bin" / "krita")))
    assert (f"  pyzmq: pyzmq-27.1.0-cp312-manylinux_2_28_x86_64.whl for Python 3.12 (found in {loader}) "
            "unpacked next to the plugin") in lines
    vendored = tmp_path / "krita" / "pykrita" / "restyle" / "vendor" / "zmq" / "__init__.py"
    assert vendored.read_text() == "PYTHON = '3.12'\n"
    lines = krita_install.install(_parse(tmp_path, "--fetch-pyzmq", "3.11", "--krita-path", str(usr)))
    assert calls == ["3.12", "3.11"] and any("for Python 3.11 (given with --fetch-pyzmq)" in line for line in lines)


def test_fetch_pyzmq_without_a_krita_to_look_into_stops_before_installing(tmp_path: Path) -> None:
    proc = _install(tmp_path, "--fetch-pyzmq", "--krita-path", str(tmp_path / "nowhere"))
    assert proc.returncode == 2 and proc.stdout == ""
    assert len(proc.stderr.splitlines()) == 1 and "pass --fetch-pyzmq X.Y" in proc.stderr
    assert "--pyzmq-wheel FILE" in proc.stderr and not (tmp_path / "krita").exists()
    proc = _install(tmp_path, "--fetch-pyzmq", "3")
    assert proc.returncode == 2 and "not a Python version such as 3.13" in proc.stderr


def test_krita_installer_runs_on_python_3_8() -> None:
    ast.parse((ROOT / "install" / "krita_install.py").read_text(), feature_version=(3, 8))
