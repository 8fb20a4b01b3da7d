"""The GIMP 3 plug-in inside real GIMP 3.0 (Debian 13 root) and 3.2 (sid root) against a real engine outside.

For each GIMP version, three GIMP runs share one root and one engine: a console run drives plug-in-restyle through the PDB for
every case (8-bit, 16-bit with alpha and offset, float, no selection, grayscale, indexed, engine
missing, engine started by the plug-in through a start command that runs this machine's engine from
inside the root); a second console run is killed mid-job the way GIMP cancels a plug-in; a GUI run under Xvfb
checks undo and the dialog and takes the screenshots for docs/ (copied there when
RESTYLE_SCREENSHOTS_DIR is set).
"""
from __future__ import annotations

import contextlib
import json
import math
import os
import shutil
import signal
import socket
import subprocess
import sys
import threading
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Dict, Iterator, List

import numpy as np
import pytest

from engine.client import EngineClient, EngineNotRunning, Image

from . import rootfs
from .versions import GIMPS, Gimp

pytestmark = [pytest.mark.hosts, pytest.mark.slow]

REPO = Path(__file__).resolve().parents[2]
HERE = Path(__file__).resolve().parent
PHOTO = REPO / "engine" / "data" / "astronaut.jpg"
STYLE = next(p for p in (Path("/work/shared/bench/style/la_muse.jpg"), PHOTO) if p.exists())
WORK = "/tmp/restyle"
DTYPES = {"u8": np.uint8, "u16": np.uint16, "float": np.float32}
MACHINE = "/host"  # this machine's filesystem inside the root: the autostart command runs the engine from it


@dataclass
class Engine:
    endpoint: str
    log: Path
    process: subprocess.Popen
    presets: List[str]

    def ping(self) -> dict:
        with EngineClient(self.endpoint, timeout_s=5.0) as client:
            return client.ping()


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _restyle_command() -> List[str]:
    """The `restyle` executable of this environment, or the same entry point through this Python."""
    installed = Path(sys.executable).parent / "restyle"
    if installed.exists():
        return [str(installed)]
    return [sys.executable, "-c", "import sys; from engine.cli import main; sys.exit(main())"]


@pytest.fixture(scope="module")
def engine(tmp_path_factory) -> Iterator[Engine]:
    """A real engine (`restyle serve`) on a free loopback port, outside the root."""
    folder = tmp_path_factory.mktemp("engine")
    endpoint = f"tcp://127.0.0.1:{_free_port()}"
    log = folder / "engine.log"
    cmd = [*_restyle_command(), "serve", "--endpoint", endpoint, "--discovery-file", str(folder / "engine.json"),
           "--log-file", str(log), "--client-timeout", "5"]
    with open(folder / "stderr.txt", "wb") as err:
        process = subprocess.Popen(cmd, cwd=REPO, stdout=err, stderr=subprocess.STDOUT,
                                   env=dict(os.environ, RESTYLE_RUNTIME_DIR=str(folder)))
    try:
        with EngineClient(endpoint, timeout_s=60.0) as client:
            deadline = time.monotonic() + 300
            while True:
                try:
                    client.ping(timeout_s=2.0)
                    break
                except EngineNotRunning:
                    if process.poll() is not None or time.monotonic() > deadline:
                        pytest.fail(f"the engine did not start: {(folder / 'stderr.txt').read_text()[-2000:]}")
            presets = [style["name"] for style in client.styles()]
        yield Engine(endpoint, log, process, presets)
    finally:
        process.terminate()
        with contextlib.suppress(subprocess.TimeoutExpired):
            process.wait(30)
        if process.poll() is None:
            process.kill()


@pytest.fixture(scope="module", params=GIMPS, ids=[g.id for g in GIMPS])
def gimp_version(request: pytest.FixtureRequest) -> Gimp:
    """Each GIMP version of the matrix in turn (every test of this module runs on one, then on the next)."""
    return request.param


@pytest.fixture(scope="module")
def gimp(host_roots, gimp_version: Gimp, engine: Engine) -> Iterator[rootfs.HostRoot]:
    """One overlay on the version's root with the plug-in installed by `install.py --gimp`, pointed at the engine.

    GIMP never ran in the root, so no user folder exists yet: the installer must choose the folder of the
    GIMP it finds installed (gimp-3.0 or gimp-3.2).
    """
    base = host_roots(gimp_version.recipe)
    with contextlib.ExitStack() as stack:
        try:
            host = stack.enter_context(rootfs.session(base))
        except rootfs.HostsUnavailable as e:
            pytest.skip(f"cannot enter the root: {e}")
        for part in ("install", "plugins", "engine"):
            host.copy_in(REPO / part, f"/src/{part}")
        installed = host.run(["python3", "/src/install/install.py", "--gimp", "--endpoint", engine.endpoint,
                              "--engine", "none"], timeout_s=120)
        folder = f"{gimp_version.config_dir}/plug-ins/restyle"
        assert f"GIMP {gimp_version.version} plug-in installed in {folder}" in installed.stdout, installed.stdout
        assert "pyzmq: importable by /usr/bin/python3" in installed.stdout, installed.stdout
        host.write_text(f"{gimp_version.config_dir}/gimprc", gimp_version.gimprc)
        host.mount_machine(MACHINE)
        host.copy_in(PHOTO, f"{WORK}/photo.jpg")
        host.copy_in(STYLE, f"{WORK}/style.jpg")
        for script in ("gimp_cases.py", "gimp_gui.py"):
            host.copy_in(HERE / script, f"{WORK}/{script}")
        yield host


def _batch(host: rootfs.HostRoot, argv: List[str], script: str, timeout_s: float) -> subprocess.CompletedProcess:
    return host.run([*argv, "-b", f"exec(open('{WORK}/{script}').read())", "--quit"], timeout_s=timeout_s)


def _autostart_settings(endpoint: str, folder: Path) -> dict:
    """Plug-in settings whose start command runs a real engine of this machine from inside the root."""
    command = ["chroot", MACHINE, "/usr/bin/env", "-i", "HOME=/root", "PATH=/usr/bin:/bin", f"PYTHONPATH={REPO}",
               "OMP_NUM_THREADS=2", *_restyle_command(), "serve", "--endpoint", endpoint,
               "--discovery-file", str(folder / "engine.json"), "--log-file", str(folder / "engine.log")]
    return {"endpoint": endpoint, "start_command": command, "start_wait_s": 240.0}


def _cases(engine: Engine, autostart: dict) -> List[dict]:
    preset = engine.presets[0]
    photo = f"{WORK}/photo.jpg"
    return [
        {"name": "u8", "photo": photo, "size": [320, 224], "precision": "u8", "mode": "rgb",
         "ellipse": [200, 120, 64, 56], "options": {"style": preset}},
        {"name": "big_strokes", "photo": photo, "size": [2400, 1600], "precision": "u8", "mode": "rgb",
         "ellipse": [1200, 700, 96, 80], "options": {"style": preset}},
        {"name": "fixed_scale", "photo": photo, "size": [320, 224], "precision": "u8", "mode": "rgb",
         "ellipse": [120, 80, 64, 56],
         "options": {"style": preset, "stroke-size-auto": False, "style-scale": 2.0, "detail": 0.0}},
        {"name": "u16", "photo": photo, "size": [256, 160], "precision": "u16", "mode": "rgb", "alpha": True,
         "offset": [24, 16], "ellipse": [40, 30, 48, 40],
         "options": {"style": f"{WORK}/style.jpg", "style-file": photo, "weights": "0.3; 0.7"}},
        {"name": "float", "photo": photo, "size": [96, 64], "precision": "float", "mode": "rgb",
         "ellipse": [20, 10, 40, 40], "options": {"style": preset}},
        {"name": "feather", "photo": photo, "size": [160, 112], "precision": "u8", "mode": "rgb",
         "ellipse": [50, 30, 60, 50], "options": {"style": preset, "feather": 6.0}},
        {"name": "whole", "photo": photo, "size": [96, 64], "precision": "u8", "mode": "rgb",
         "options": {"style": preset}},
        {"name": "gray", "photo": photo, "size": [64, 48], "precision": "u8", "mode": "gray",
         "options": {"style": preset}},
        {"name": "indexed", "photo": photo, "size": [64, 48], "precision": "u8", "mode": "indexed",
         "options": {"style": preset}},
        {"name": "no_style", "photo": photo, "size": [64, 48], "precision": "u8", "mode": "rgb",
         "options": {"style": " ; "}},
        {"name": "missing", "photo": photo, "size": [64, 48], "precision": "u8", "mode": "rgb",
         "options": {"style": preset}, "settings": {"endpoint": f"tcp://127.0.0.1:{_free_port()}"}},
        {"name": "autostart", "photo": photo, "size": [96, 64], "precision": "u8", "mode": "rgb",
         "options": {"style": preset}, "settings": autostart},
    ]


@dataclass
class Outcome:
    """What one case left behind: the report and the dumped pixels."""

    report: dict
    folder: Path
    name: str
    precision: str
    options: dict  # the procedure's values the case set

    def array(self, suffix: str, width: int, height: int, channels: int) -> np.ndarray:
        data = (self.folder / f"{self.name}{suffix}").read_bytes()
        dtype = np.uint8 if suffix == ".selection" else DTYPES[self.precision]
        return np.frombuffer(data, dtype).reshape(height, width, channels)

    @property
    def new_layer(self) -> dict:
        return self.report["layers"][0]


@pytest.fixture(scope="module")
def outcomes(gimp: rootfs.HostRoot, gimp_version: Gimp, engine: Engine, tmp_path_factory) -> Dict[str, Outcome]:
    """Every case of one console GIMP run."""
    started = tmp_path_factory.mktemp("autostarted")
    autostart = _autostart_settings(f"tcp://127.0.0.1:{_free_port()}", started)
    cases = _cases(engine, autostart)
    gimp.write_text(f"{WORK}/cases.json", json.dumps(cases))
    run = _batch(gimp, gimp_version.console, "gimp_cases.py", timeout_s=600)
    folder = tmp_path_factory.mktemp("gimp")
    out = gimp.inside(f"{WORK}/out")
    assert (out / "procedure.json").exists(), run.stdout[-3000:]
    shutil.copytree(out, folder, dirs_exist_ok=True)
    results = {}
    for case in cases:
        error = folder / f"{case['name']}.error"
        assert not error.exists(), error.read_text()
        results[case["name"]] = Outcome(json.loads((folder / f"{case['name']}.json").read_text()), folder,
                                        case["name"], case["precision"], case["options"])
    results["procedure"] = json.loads((folder / "procedure.json").read_text())
    results["autostarted"] = {"endpoint": autostart["endpoint"], "folder": started}
    return results


def test_procedure_is_under_filters_with_an_argument_for_every_option(outcomes, gimp_version):
    procedure = outcomes["procedure"]
    assert procedure["gimp"].startswith(gimp_version.release)
    assert procedure["menu_paths"] == ["<Image>/Filters"]
    assert procedure["label"] == "Style _Transfer…"
    assert procedure["image_types"] == "RGB*"
    assert {"style", "style-file", "weights", "method", "strength", "preserve-colors", "style-scale",
            "selection-only", "feather"} <= set(procedure["arguments"])


def _stroke(outcome: Outcome) -> dict:
    """The stroke-size options the plug-in should have sent for a case (the procedure's defaults: Stroke size
    auto on, for the whole image; Detail 1)."""
    options = outcome.options
    if options.get("stroke-size-auto", True):
        return {"style_scale": "auto", "canvas_size": outcome.report["image"], "detail": options.get("detail", 1.0)}
    return {"style_scale": options["style-scale"], "detail": options.get("detail", 1.0)}


def _scale(engine: Engine, stroke: dict) -> float:
    """The style scale the engine works out for ``stroke``."""
    if stroke["style_scale"] != "auto":
        return stroke["style_scale"]
    pong = engine.ping()
    low, high = pong["style_scale_range"]
    return min(high, max(low, max(stroke["canvas_size"]) / pong["style_scale_auto_side"]))


def _check_selection_case(outcome: Outcome, engine: Engine, channels: int) -> None:
    """New layer above, stylized inside the selection, transparent outside; original layer untouched; the
    pixels inside are what the engine makes of the same crop with the options the plug-in should send."""
    stroke = _stroke(outcome)
    report = outcome.report
    assert report["status"] == "success", report["message"]
    new, original = report["layers"]
    assert original["id"] == report["layer_id"]
    assert new["name"].startswith("Style: ")
    w, h = original["width"], original["height"]
    before = outcome.array(".before", w, h, channels)
    assert np.array_equal(outcome.array(".after", w, h, channels), before), "the original layer changed"
    image_w, image_h = report["image"]
    selection = outcome.array(".selection", image_w, image_h, 1)[..., 0]
    x, y = new["x"] - original["x"], new["y"] - original["y"]
    crop = (slice(y, y + new["height"]), slice(x, x + new["width"]))
    mask = selection[new["y"]:new["y"] + new["height"], new["x"]:new["x"] + new["width"]]
    assert (new["x"], new["y"], new["width"], new["height"]) == _expected_box(selection, original, engine,
                                                                             _scale(engine, stroke))
    layer = outcome.array(".new", new["width"], new["height"], 4)
    alpha = layer[..., 3]
    assert (alpha[mask == 0] == 0).all(), "pixels outside the selection must be transparent"
    opaque = before[crop][..., 3] if channels == 4 else np.iinfo(alpha.dtype).max
    assert (alpha[mask == 255] == (opaque[mask == 255] if channels == 4 else opaque)).all()
    changed = (layer[..., :3] != before[crop][..., :3]).any(axis=-1)
    assert changed[mask == 255].mean() > 0.9, "the selection should be stylized"
    expected = _engine_result(engine, before[crop], mask, outcome.options["style"], stroke=stroke)
    inside = mask > 0
    tolerance = 2 if layer.dtype == np.uint8 else 2 * 257
    assert np.abs(layer[..., :3][inside].astype(int) - expected[..., :3][inside].astype(int)).max() <= tolerance


def _expected_box(selection: np.ndarray, layer: dict, engine: Engine, scale: float = 1.0) -> tuple:
    """The selection's bounds grown by the preset method's context margin at ``scale``, clamped to the layer
    (image coordinates)."""
    margin = 4 * math.ceil(engine.ping()["context_margins"]["preset"] * max(1.0, scale) / 4)
    rows, cols = np.nonzero(selection)
    x0 = max(layer["x"], cols.min() - margin)
    y0 = max(layer["y"], rows.min() - margin)
    x1 = min(layer["x"] + layer["width"], cols.max() + 1 + margin)
    y1 = min(layer["y"] + layer["height"], rows.max() + 1 + margin)
    return x0, y0, x1 - x0, y1 - y0


def _engine_result(engine: Engine, crop: np.ndarray, mask: np.ndarray, preset: str, feather: float = 0.0,
                   stroke: dict = None) -> np.ndarray:
    """What the engine makes of the same crop and mask when asked directly."""
    h, w, channels = crop.shape
    styles = [{"preset": preset, "weight": 1.0}]
    with EngineClient(engine.endpoint, timeout_s=60.0) as client:
        result = client.stylize(Image(w, h, channels, crop.dtype.name, crop.tobytes()), styles,
                                mask=Image(w, h, 1, "uint8", np.ascontiguousarray(mask).tobytes()),
                                options={"method": "preset", "strength": 1.0, "preserve_colors": False,
                                         "feather": feather, **stroke})
    return np.frombuffer(result.image.data, crop.dtype).reshape(h, w, channels)


def test_8bit_selection_becomes_a_new_stylized_layer_transparent_outside(outcomes, engine):
    _check_selection_case(outcomes["u8"], engine, channels=3)


@pytest.mark.parametrize("case, logged", [
    ("big_strokes", "style scale auto on a 2400x1600 canvas = 2.34, detail 1"),
    ("fixed_scale", "style scale 2.00, detail 0"),
])
def test_stroke_size_auto_is_sized_by_the_whole_image_and_a_fixed_scale_is_sent_as_it_is(outcomes, engine, case,
                                                                                        logged):
    """Auto (the default) sends the image's size, so a small selection of a big image gets the image's big
    strokes (scale 2.34 here, with the context margin grown by it); off, the Style scale and Detail go as set."""
    _check_selection_case(outcomes[case], engine, channels=3)
    assert logged in engine.log.read_text()


def test_16bit_layer_with_alpha_and_offset_and_an_image_style(outcomes, engine):
    outcome = outcomes["u16"]
    report = outcome.report
    assert report["precision"] == "u16-non-linear" and report["has_alpha"]
    assert report["status"] == "success", report["message"]
    new, original = report["layers"]
    assert (original["x"], original["y"]) == (24, 16)
    assert new["name"] == "Style: style + photo"
    w, h = original["width"], original["height"]
    before = outcome.array(".before", w, h, 4)
    assert np.array_equal(outcome.array(".after", w, h, 4), before)
    image_w, image_h = report["image"]
    selection = outcome.array(".selection", image_w, image_h, 1)[..., 0]
    mask = selection[new["y"]:new["y"] + new["height"], new["x"]:new["x"] + new["width"]]
    layer = outcome.array(".new", new["width"], new["height"], 4)
    x, y = new["x"] - original["x"], new["y"] - original["y"]
    crop = before[y:y + new["height"], x:x + new["width"]]
    assert (layer[..., 3][mask == 0] == 0).all()
    assert (layer[..., 3][mask == 255] == crop[..., 3][mask == 255]).all()
    assert (layer[..., :3] != crop[..., :3]).any(axis=-1)[mask == 255].mean() > 0.9
    low_bits = layer[..., :3][mask == 255] & 0xFF
    assert len(np.unique(low_bits)) > 16, "16-bit results should use the low byte, not just 8-bit steps"


def test_feathered_selection_over_the_original_shows_what_the_engine_made(outcomes, engine):
    outcome = outcomes["feather"]
    report = outcome.report
    assert report["status"] == "success", report["message"]
    new, original = report["layers"]
    before = outcome.array(".before", original["width"], original["height"], 3)
    crop = before[new["y"]:new["y"] + new["height"], new["x"]:new["x"] + new["width"]]
    selection = outcome.array(".selection", *report["image"], 1)[..., 0]
    mask = selection[new["y"]:new["y"] + new["height"], new["x"]:new["x"] + new["width"]]
    layer = outcome.array(".new", new["width"], new["height"], 4)
    alpha = layer[..., 3]
    assert set(np.unique(alpha)) <= {0, 255}
    assert (alpha[mask > 0] == 255).all()
    composite = np.where(alpha[..., None] == 255, layer[..., :3], crop)
    expected = _engine_result(engine, crop, mask, engine.presets[0], feather=6.0, stroke=_stroke(outcome))
    assert np.abs(composite.astype(int) - expected.astype(int)).max() <= 2
    assert (composite != crop).any(axis=-1)[mask == 0].any(), "the feather should soften the edge outwards"


def test_float_image_is_stylized_in_float(outcomes):
    outcome = outcomes["float"]
    assert outcome.report["status"] == "success", outcome.report["message"]
    new, original = outcome.report["layers"]
    layer = outcome.array(".new", new["width"], new["height"], 4)
    assert layer.dtype == np.float32 and np.isfinite(layer).all()
    selection = outcome.array(".selection", *outcome.report["image"], 1)[..., 0]
    mask = selection[new["y"]:new["y"] + new["height"], new["x"]:new["x"] + new["width"]]
    assert (layer[..., 3][mask == 0] == 0).all() and (layer[..., 3][mask == 255] == 1.0).all()


def test_without_a_selection_the_whole_layer_is_stylized(outcomes):
    outcome = outcomes["whole"]
    assert outcome.report["status"] == "success", outcome.report["message"]
    new, original = outcome.report["layers"]
    assert (new["x"], new["y"], new["width"], new["height"]) == (0, 0, original["width"], original["height"])
    layer = outcome.array(".new", new["width"], new["height"], 4)
    before = outcome.array(".before", original["width"], original["height"], 3)
    assert (layer[..., 3] == 255).all()
    assert (layer[..., :3] != before).any(axis=-1).mean() > 0.9
    assert np.array_equal(outcome.array(".after", original["width"], original["height"], 3), before)


@pytest.mark.parametrize("case, word", [("gray", "grayscale"), ("indexed", "indexed")])
def test_grayscale_and_indexed_images_get_a_message_saying_how_to_convert(outcomes, case, word):
    report = outcomes[case].report
    assert report["status"] == "execution-error"
    assert f"this one is {word}" in report["message"] and "Image › Mode › RGB" in report["message"]
    assert len(report["layers"]) == 1


def test_no_style_gets_a_message_naming_the_engines_first_preset(outcomes, engine):
    report = outcomes["no_style"].report
    assert report["status"] == "execution-error"
    assert f"choose a style: a preset name such as '{engine.presets[0]}'" in report["message"]
    assert len(report["layers"]) == 1


def test_missing_engine_gets_a_message_saying_what_to_do(outcomes):
    report = outcomes["missing"].report
    assert report["status"] == "execution-error"
    assert "engine is not running" in report["message"]
    assert "restyle serve" in report["message"] and "restyle doctor" in report["message"]
    assert len(report["layers"]) == 1


def test_the_plugin_starts_the_engine_when_none_answers(outcomes):
    report = outcomes["autostart"].report
    assert report["status"] == "success", report["message"]
    assert len(report["layers"]) == 2 and report["layers"][0]["name"].startswith("Style: ")
    started = outcomes["autostarted"]
    log = started["folder"] / "engine.log"
    assert log.exists(), "the start command did not run the engine"
    assert f"serving protocol 1 on {started['endpoint']}" in log.read_text()
    assert " done in " in log.read_text(), "the job did not run on the engine the plug-in started"


def _plugin_pids(host: rootfs.HostRoot) -> List[int]:
    pids = []
    for pid in rootfs._pids_in_root(host.path):
        with contextlib.suppress(OSError):
            if b"plug-ins/restyle/restyle.py" in Path(f"/proc/{pid}/cmdline").read_bytes():
                pids.append(pid)
    return pids


def test_cancel_kills_the_plugin_and_the_engine_drops_its_job(gimp, gimp_version, engine, tmp_path):
    """GIMP cancels a plug-in by killing it; the engine must then drop the job, and the image stay as it was."""
    case = {"name": "cancel", "photo": f"{WORK}/photo.jpg", "size": [480, 320], "precision": "u8", "mode": "rgb",
            "options": {"style": f"{WORK}/style.jpg", "method": "optimize"}}
    gimp.write_text(f"{WORK}/cases.json", json.dumps([case]))
    killed = []
    log_before = engine.log.read_text() if engine.log.exists() else ""

    def kill_when_running() -> None:
        deadline = time.monotonic() + 300
        while time.monotonic() < deadline and not killed:
            if engine.ping().get("running", 0) > 0:
                for pid in _plugin_pids(gimp):
                    os.kill(pid, signal.SIGKILL)
                    killed.append(pid)
            time.sleep(0.2)

    watcher = threading.Thread(target=kill_when_running)
    watcher.start()
    run = _batch(gimp, gimp_version.console, "gimp_cases.py", timeout_s=400)
    watcher.join()
    assert killed, f"the job never ran on the engine: {run.stdout[-2000:]}"
    report = json.loads(gimp.inside(f"{WORK}/out/cancel.json").read_text())
    assert report["status"] != "success"
    assert len(report["layers"]) == 1, "a cancelled run must not add a layer"
    assert gimp.inside(f"{WORK}/out/cancel.before").read_bytes() == gimp.inside(f"{WORK}/out/cancel.after").read_bytes()
    deadline = time.monotonic() + 60
    while engine.ping().get("running", 0) and time.monotonic() < deadline:
        time.sleep(0.5)
    assert engine.ping().get("running", 0) == 0, "the engine kept working for a client that was gone"
    assert "cancelled its 1 job" in engine.log.read_text()[len(log_before):]


def test_undo_and_dialog_in_the_gimp_window(gimp, gimp_version, engine):
    gimp.write_text(f"{WORK}/gui.json", json.dumps({"photo": f"{WORK}/photo.jpg", "style": engine.presets[0]}))
    run = _batch(gimp, gimp_version.gui, "gimp_gui.py", timeout_s=180)
    out = gimp.inside(f"{WORK}/out")
    assert (out / "gui.json").exists(), run.stdout[-3000:]
    report = json.loads((out / "gui.json").read_text())
    assert "error" not in report, report.get("error")
    assert report["run"] == "success"
    assert len(report["layers_after_run"]) == 2 and report["layers_after_run"][0].startswith("Style: ")
    assert report["layers_after_undo"] == report["layers_after_run"][1:], "one undo must remove the new layer"
    assert report["original_unchanged"]
    assert report["dialog"] == "cancel", "Escape in the dialog cancels"
    assert report["layers_after_dialog"] == report["layers_after_undo"]
    for shot in ("gimp_menu.png", "gimp_dialog.png"):
        assert (out / shot).stat().st_size > 10_000, f"{shot} is missing or blank"
    target = os.environ.get("RESTYLE_SCREENSHOTS_DIR")
    if target and gimp_version == GIMPS[-1]:
        for shot in ("gimp_menu.png", "gimp_dialog.png"):
            shutil.copy(out / shot, Path(target) / shot)
