"""``restyle doctor`` lists the installed Krita and GIMP plugins and whether each can reach the engine."""
from __future__ import annotations

import json
import sys
from pathlib import Path

import pytest

from engine.cli.doctor import plugin_check, plugin_checks
from engine.cli.plugins_found import MARKER, InstalledPlugin, installed_plugins, krita_version

SYSINFO = "Krita\n\n Version: 5.2.9\n Hidpi: true\n\nQt\n\n  Version (compiled): 5.15.7\n"


def _krita(data: Path, settings: dict) -> Path:
    folder = data / "pykrita" / "restyle"
    folder.mkdir(parents=True)
    (folder / MARKER).write_text("made by restyle's install/install.py\n")
    (data / "restyle").mkdir()
    (data / "restyle" / "settings.json").write_text(json.dumps(settings))
    return folder


def _gimp(user_folder: Path, settings: dict) -> Path:
    folder = user_folder / "plug-ins" / "restyle"
    folder.mkdir(parents=True)
    (folder / MARKER).write_text("made by restyle's install/install.py\n")
    (folder / "engine.json").write_text(json.dumps(settings))
    return folder


def test_plugins_are_found_by_the_installers_marker_with_editor_versions(tmp_path):
    home = tmp_path / "home"
    krita = _krita(home / ".local" / "share" / "krita", {"engine_command": ["/opt/restyle", "serve"], "engine_endpoint": ""})
    (home / ".local" / "share" / "krita-sysinfo.log").write_text(SYSINFO)
    gimp30 = _gimp(home / ".config" / "GIMP" / "3.0", {"start_command": None, "endpoint": "tcp://127.0.0.1:5555"})
    gimp32 = _gimp(home / ".config" / "GIMP" / "3.2", {"start_command": ["/opt/restyle", "serve"], "endpoint": None})
    flatpak = _gimp(home / ".var" / "app" / "org.gimp.GIMP" / "config" / "GIMP" / "3.0", {})
    (home / ".config" / "GIMP" / "2.10" / "plug-ins" / "restyle").mkdir(parents=True)  # not GIMP 3
    (home / ".config" / "GIMP" / "3.2" / "plug-ins" / "other").mkdir()  # not ours
    found = installed_plugins("linux", {}, home)
    assert [(p.label, p.folder) for p in found] == [
        ("Krita 5.2.9", krita), ("GIMP 3.0", gimp30), ("GIMP 3.2", gimp32), ("GIMP 3.0", flatpak)]
    assert found[0].start_command == ("/opt/restyle", "serve") and found[0].endpoint is None
    assert found[1].endpoint == "tcp://127.0.0.1:5555" and found[1].start_command == ()


def test_windows_and_macos_folders(tmp_path):
    env = {"APPDATA": str(tmp_path / "Roaming"), "LOCALAPPDATA": str(tmp_path / "Local")}
    krita = _krita(tmp_path / "Roaming" / "krita", {})
    (tmp_path / "Local").mkdir()
    (tmp_path / "Local" / "krita-sysinfo.log").write_text(SYSINFO.replace("5.2.9", "5.3.0"))
    gimp = _gimp(tmp_path / "Roaming" / "GIMP" / "3.2", {})
    assert [(p.label, p.folder) for p in installed_plugins("win32", env, tmp_path)] == [
        ("Krita 5.3.0", krita), ("GIMP 3.2", gimp)]
    support = tmp_path / "Library" / "Application Support"
    mac_krita = _krita(support / "krita", {})
    assert [p.folder for p in installed_plugins("darwin", {}, tmp_path)] == [mac_krita]


def test_gimp3_directory_overrides_the_user_folders(tmp_path):
    gimp = _gimp(tmp_path / "custom", {})
    _gimp(tmp_path / "home" / ".config" / "GIMP" / "3.2", {})
    found = installed_plugins("linux", {"GIMP3_DIRECTORY": str(tmp_path / "custom")}, tmp_path / "home")
    assert [(p.label, p.folder) for p in found] == [("GIMP", gimp)]


def test_krita_version_is_unknown_without_a_sysinfo_log(tmp_path):
    assert krita_version(tmp_path / "krita-sysinfo.log") is None
    (tmp_path / "krita-sysinfo.log").write_text("garbage")
    assert krita_version(tmp_path / "krita-sysinfo.log") is None


def _plugin(tmp_path: Path, **fields) -> InstalledPlugin:
    return InstalledPlugin(**{"editor": "GIMP", "folder": tmp_path / "restyle", "editor_version": "3.2",
                              "endpoint": None, **fields})


def _no_engine(plugin):
    raise ConnectionError("no engine is running")


def test_a_plugin_whose_engine_answers_is_ok(tmp_path):
    check = plugin_check(_plugin(tmp_path, endpoint="tcp://127.0.0.1:5555"), lambda p: {"engine_version": "0.1.0"})
    assert check.ok and check.name == "GIMP 3.2 plugin"
    assert str(tmp_path / "restyle") in check.detail and "engine 0.1.0 answers at tcp://127.0.0.1:5555" in check.detail


def test_a_plugin_that_can_start_the_engine_is_ok(tmp_path):
    check = plugin_check(_plugin(tmp_path, start_command=(sys.executable, "-m", "engine.cli", "serve")), _no_engine)
    assert check.ok and "no engine is running" in check.detail and "starts one with" in check.detail


@pytest.mark.parametrize("command, says", [((), "no command to start one"),
                                           (("/moved/.venv/bin/restyle", "serve"), "/moved/.venv/bin/restyle does not exist")])
def test_a_plugin_that_cannot_reach_an_engine_fails_with_the_fix(tmp_path, command, says):
    check = plugin_check(_plugin(tmp_path, editor="Krita", editor_version=None, start_command=command), _no_engine)
    assert not check.ok and check.name == "Krita plugin"
    assert says in check.detail and "install/install.py --krita --engine" in check.detail


def test_unreadable_settings_fail_with_reinstall(tmp_path):
    home = tmp_path / "home"
    folder = _gimp(home / ".config" / "GIMP" / "3.2", {})
    (folder / "engine.json").write_text("{not json")
    check = plugin_check(installed_plugins("linux", {}, home)[0], _no_engine)
    assert not check.ok and "cannot be read" in check.detail and "install/install.py --gimp again" in check.detail


def test_no_plugins_is_one_ok_line():
    checks = list(plugin_checks([], _no_engine))
    assert len(checks) == 1 and checks[0].ok and "install/install.py" in checks[0].detail


def test_doctor_pings_the_engine_a_plugin_names(tmp_path, monkeypatch, capsys):
    from server_fixtures import running_server

    from engine.cli import main

    home = tmp_path / "home"
    monkeypatch.setenv("HOME", str(home))
    monkeypatch.setenv("XDG_CONFIG_HOME", str(home / ".config"))
    monkeypatch.setenv("XDG_DATA_HOME", str(home / ".local" / "share"))
    monkeypatch.setenv("RESTYLE_RUNTIME_DIR", str(tmp_path / "runtime"))
    monkeypatch.delenv("GIMP3_DIRECTORY", raising=False)
    monkeypatch.setattr("engine.cli.doctor.CHECKS", [])  # only the plugin lines
    with running_server(tmp_path) as server:
        _gimp(home / ".config" / "GIMP" / "3.2", {"start_command": None, "endpoint": server.endpoint})
        _krita(home / ".local" / "share" / "krita", {"engine_command": [], "engine_endpoint": ""})
        assert main(["doctor"]) == 1
    lines = capsys.readouterr().out.splitlines()
    assert lines[0].startswith("[FAIL] Krita plugin: ") and "no command to start one" in lines[0]
    assert lines[1].startswith("[ok ] GIMP 3.2 plugin: ") and f"answers at {server.endpoint}" in lines[1]
