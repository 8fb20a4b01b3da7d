"""The Krita plugin inside real Krita 5.2, 5.3 and 6.0 (Debian roots, Xvfb) against an engine on this machine.

The plugin is installed with ``install/install.py --krita``; tests/hosts/krita_driver.py drives it like a
user and writes a JSON report, which is what these tests judge (not Krita's exit code). The plugin's
start command is a stub inside the root that asks this test to start the engine here: the root shares
the loopback network, so the plugin reaches the engine at tcp://127.0.0.1:PORT, which the engine
announces in the discovery file the plugin reads by default.

Set RESTYLE_UPDATE_SCREENSHOTS=1 to refresh docs/krita_menu.png and docs/krita_dialog.png.
"""
from __future__ import annotations

import json
import os
import shutil
import socket
import subprocess
import sys
import threading
import time
from pathlib import Path
from typing import Callable, List

import pytest

from . import rootfs
from .versions import KRITAS, Krita

pytestmark = [pytest.mark.hosts, pytest.mark.slow]

REPO = Path(__file__).resolve().parents[2]
DRIVER = Path(__file__).with_name("krita_driver.py")
KRITA_DATA = "/root/.local/share/krita"
START_STUB = "/usr/local/bin/restyle-engine"
START_REQUESTS = "/tmp/restyle-start-requests"
RUNTIME_DIR = "/tmp/restyle-0"  # the client's runtime folder inside the root (root user, no XDG_RUNTIME_DIR)
KRITA_TIMEOUT_S = 420
STUB = f"""#!/bin/sh
# Asks the test outside the root to start the engine, then stands in for it until killed.
echo "$$ $*" >> {START_REQUESTS}
exec sleep 900
"""
DRIVER_DESKTOP = """[Desktop Entry]
Type=Service
ServiceTypes=Krita/PythonPlugin
X-KDE-Library=restyle_driver
X-Python-2-Compatible=false
Name=restyle test driver
"""


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class EngineRelay:
    """Starts an engine on this machine whenever the plugin inside the root runs its start command."""

    def __init__(self, host: rootfs.HostRoot, command: Callable[[str, Path], List[str]]) -> None:
        self.requests = host.inside(START_REQUESTS)
        self.discovery = host.inside(RUNTIME_DIR) / "engine.json"
        self.discovery.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
        self.command = command
        self.processes: List[subprocess.Popen] = []
        self.log = host.inside("/tmp/engine-outside.log")
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._serve, daemon=True)

    @property
    def starts(self) -> int:
        return len(self.processes)

    def log_tail(self) -> str:
        """The end of what the engines started here wrote."""
        return self.log.read_text(errors="replace")[-3000:] if self.log.exists() else "(no engine was started)"

    def __enter__(self) -> "EngineRelay":
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        self._thread.join(5)
        for proc in self.processes:
            if proc.poll() is None:
                proc.kill()
            proc.wait(10)

    def _serve(self) -> None:
        handled = 0
        while not self._stop.wait(0.1):
            lines = self.requests.read_text().splitlines() if self.requests.exists() else []
            for _ in lines[handled:]:
                if not any(p.poll() is None for p in self.processes):
                    endpoint = f"tcp://127.0.0.1:{free_port()}"
                    with open(self.log, "ab") as log:
                        self.processes.append(subprocess.Popen(self.command(endpoint, self.discovery), cwd=REPO,
                                                               stdout=log, stderr=subprocess.STDOUT,
                                                               env=dict(os.environ, OMP_NUM_THREADS="2")))
            handled = len(lines)


def real_engine(endpoint: str, discovery: Path) -> List[str]:
    """`restyle serve` from this checkout (the same `main` as the installed `restyle` executable)."""
    return [sys.executable, "-m", "engine.cli", "serve", "--endpoint", endpoint, "--discovery-file", str(discovery)]


def slow_fake_engine(endpoint: str, discovery: Path) -> List[str]:
    """The server with a fake stylizer whose jobs take about 10 s, to cancel and crash them mid-way."""
    return [sys.executable, str(REPO / "tests" / "server_fixtures.py"), "--endpoint", endpoint,
            "--discovery-file", str(discovery), "--steps", "40", "--step-s", "0.25"]


def install_plugin(host: rootfs.HostRoot, settings: dict) -> None:
    """Install the plugin into the root's Krita with the real installer, then set the test's settings."""
    proc = subprocess.run([sys.executable, str(REPO / "install" / "install.py"), "--krita", "--engine", "none",
                           "--krita-dir", str(host.inside(KRITA_DATA)),
                           "--kritarc", str(host.inside("/root/.config/kritarc"))],
                          capture_output=True, text=True, timeout=120)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    settings_file = host.inside(f"{KRITA_DATA}/restyle/settings.json")
    data = json.loads(settings_file.read_text())
    data.update(settings)
    settings_file.write_text(json.dumps(data))
    host.copy_in(DRIVER, f"{KRITA_DATA}/pykrita/restyle_driver/__init__.py")
    host.write_text(f"{KRITA_DATA}/pykrita/restyle_driver.desktop", DRIVER_DESKTOP)
    kritarc = host.inside("/root/.config/kritarc")
    kritarc.write_text(kritarc.read_text() + "enable_restyle_driver=true\n")
    # one Krita per X display, none forwarding its arguments to another Krita on this machine
    host.write_text("/root/.config/kritadisplayrc", "[General]\nEnableSingleApplication=false\n")
    host.write_text(START_STUB, STUB, mode=0o755)


class KritaCrashed(AssertionError):
    """Krita died of a signal before the scenario ended (it does, rarely, under Xvfb: see docs/hosts.md)."""


def run_krita(host: rootfs.HostRoot, relay: EngineRelay, scenario: dict) -> dict:
    """Run Krita with the driver on ``scenario``; its report (the test fails with Krita's output if none)."""
    report_file = host.inside("/tmp/krita_report.json")
    report_file.unlink(missing_ok=True)
    host.write_text("/tmp/krita_scenario.json", json.dumps(scenario))
    started = time.monotonic()
    proc = host.run(["xvfb-run", "-a", "-s", "-screen 0 1280x800x24", "krita", "--nosplash"], KRITA_TIMEOUT_S)
    outputs = f"Krita said:\n{proc.stdout[-3000:]}\nthe engine said:\n{relay.log_tail()}"
    report = json.loads(report_file.read_text()) if report_file.exists() else None
    crashed = "Segmentation fault" in proc.stdout or "Aborted" in proc.stdout
    if crashed and (report is None or not report.get("done")) and "error" not in (report or {}):
        raise KritaCrashed(f"Krita crashed mid-scenario; report {report}\n{outputs}")
    assert report is not None, f"the driver wrote no report; {outputs}"
    report["timings"]["krita_run_s"] = round(time.monotonic() - started, 1)
    print(json.dumps(report["timings"]))
    assert "error" not in report, f"{report['error']}\n{outputs}"
    assert report.get("done"), f"Krita ended mid-scenario; report {report}\n{outputs}"
    return report


KRITA_ATTEMPTS = 3


@pytest.fixture(params=KRITAS, ids=[k.id for k in KRITAS])
def krita(request: pytest.FixtureRequest) -> Krita:
    """Each Krita version of the matrix in turn."""
    return request.param


def run_scenario(fresh_host: Callable[[rootfs.Recipe], rootfs.HostRoot], krita: Krita, settings: dict,
                 engine: Callable[[str, Path], List[str]], scenario: dict) -> tuple:
    """Install the plugin with ``settings`` in a fresh root of ``krita`` and run ``scenario``: (report, engine
    starts, root). The report must come from that Krita version, with the PyQt binding it embeds.

    When Krita itself crashes before the scenario ends (not when a check fails), the scenario runs again
    in another fresh root, up to KRITA_ATTEMPTS times in all; each crash is printed.
    """
    for attempt in range(1, KRITA_ATTEMPTS + 1):
        host = fresh_host(krita.recipe)
        install_plugin(host, settings)
        with EngineRelay(host, engine) as relay:
            try:
                report = run_krita(host, relay, scenario)
            except KritaCrashed as crash:
                if attempt == KRITA_ATTEMPTS:
                    raise
                print(f"Krita crashed (attempt {attempt}); running the scenario again: {str(crash)[:300]}")
                continue
            report["timings"]["attempt"] = attempt
            seen = report["host"]
            assert seen["krita"].startswith(krita.version + ".") and seen["qt"] == krita.binding, report["host"]
            assert seen["python"] == krita.python, report["host"]
            return report, relay.starts, host
    raise AssertionError("unreachable")


def test_selection_is_stylized_into_a_new_layer_by_an_engine_the_plugin_starts(fresh_host, krita) -> None:
    shots = os.environ.get("RESTYLE_UPDATE_SCREENSHOTS") == "1" and krita == KRITAS[0]
    report, starts, host = run_scenario(fresh_host, krita, {"engine_command": [START_STUB, "serve"], "start_wait_s": 60},
                                        real_engine, {"name": "end_to_end", "screenshots": "/tmp" if shots else None})
    log = host.inside("/tmp/engine-outside.log")
    checks = report["checks"]
    context = f"{report}\nengine log:\n{log.read_text()[-3000:] if log.exists() else '(none)'}"
    assert checks["menu"] == [["Filter", "Style Transfer…"]], context
    assert "job_message" not in checks and "dialog_message" not in checks, context
    assert starts == 1, context  # nothing ran before: the plugin started the engine, once
    assert checks["new_layer"]["index_above_original"] == 1 and checks["new_layer"]["type"] == "paintlayer", context
    assert checks["new_layer"]["name"].endswith("(style transfer)"), context
    assert checks["original_unchanged"] is True, context
    px = checks["u8_pixels"]
    assert px["inside_opaque"] == px["selection_pixels"], context
    assert px["inside_changed"] >= 0.9 * px["selection_pixels"], context
    assert px["outside_not_transparent"] == 0, context
    assert checks["new_layer"]["name"] not in checks["after_undo"]["layers"], context
    assert len(checks["after_undo"]["layers"]) == len(checks["layers_after_job"]) - 1, context
    assert checks["after_undo"]["original_unchanged"] is True, context
    assert checks["u16_dialog_remembered_rows"] == 1, context  # the first job's style, remembered
    px16 = checks["u16_pixels"]
    assert px16["name"] == "style_stripes + Background (style transfer)", context
    assert px16["depth"] == "U16" and px16["opaque"] == px16["pixels"], context
    assert px16["changed"] >= 0.9 * px16["pixels"] and px16["original_unchanged"] is True, context
    # Stroke size: auto on by default, for the whole image (the engine logs what it was asked); the u16 job
    # turned auto off with scale 2 and detail 0, which the f32 job's dialog remembers.
    assert checks["first_dialog_stroke_controls"] == {"auto": True, "auto_enabled": True, "scale_enabled": False,
                                                      "detail_enabled": True, "detail": 1.0}, context
    engine_log = log.read_text()
    assert "128x96 canvas = 0.25, detail 1" in engine_log and "style scale 2.00, detail 0" in engine_log, context
    assert checks["f32_dialog_stroke_controls"] == {"auto": False, "auto_enabled": True, "scale_enabled": True,
                                                    "detail_enabled": True, "detail": 0.0}, context
    pxf = checks["f32_pixels"]
    assert pxf["depth"] == "F32" and pxf["original_unchanged"] is True, context
    assert pxf["inside_opaque"] == pxf["selection_pixels"], context
    assert pxf["inside_changed"] >= 0.9 * pxf["selection_pixels"] and pxf["outside_not_transparent"] == 0, context
    if shots:
        for name in ("krita_menu.png", "krita_dialog.png"):
            shutil.copyfile(host.inside(f"/tmp/{name}"), REPO / "docs" / name)


def test_fetch_pyzmq_finds_the_python_this_krita_runs_plugins_with(host_roots, krita) -> None:
    """``install.py --krita --fetch-pyzmq`` reads the Python from Krita's installation; the scenarios check
    that ``krita.python`` is what this Krita really runs."""
    sys.path.insert(0, str(REPO / "install"))
    import krita_install

    usr = host_roots(krita.recipe) / "usr"
    version, source = krita_install.krita_python(usr)
    assert version == krita.python and source.endswith("kritaplugins/kritapykrita.so"), (version, source)


def test_bad_cases_give_clear_messages_and_change_nothing(fresh_host, krita) -> None:
    scenario = {"name": "bad_cases", "missing_command": ["/opt/nowhere/bin/restyle", "serve"],
                "start_command": [START_STUB, "serve"], "timeout_s": 5.0}
    report, starts, _ = run_scenario(fresh_host, krita, {"engine_timeout_s": 5.0}, slow_fake_engine, scenario)
    checks = report["checks"]
    assert "Open or create an image first" in checks["no_document"], report
    assert "GRAYA" in checks["gray_layer"] and "Convert Image Color Space" in checks["gray_layer"], report
    missing = checks["engine_missing"]
    assert "/opt/nowhere/bin/restyle" in missing and "restyle doctor" in missing, report
    assert checks["cancel"] == {"layers_added": 0, "engine_running_jobs": 0, "message_box": False}, report
    assert checks["crash"]["layers_added"] == 0, report
    quit_check = checks["quit_mid_job"]
    assert quit_check["thread_finished"] is True and quit_check["engine_running_jobs"] == 0, report
    assert quit_check["layers_added"] == 0 and quit_check["stopped_s"] < 7 and not quit_check["message_box"], report
    assert "not available" in checks["crash"]["message"] and "restyle doctor" in checks["crash"]["message"], report
    assert checks["original_unchanged"] is True, report
    assert starts == 2, report  # started for the cancel, and again after the crash
    assert checks["closed_mid_job"]["documents"] == 0, report
