"""Runs inside GIMP 3 with its windows (``gimp-3.N`` under Xvfb, ``--batch-interpreter=python-fu-eval``).

Reads ``/tmp/restyle/gui.json`` ({"photo", "style"}); shows a photo with an elliptic selection, runs
plug-in-restyle, undoes it with Ctrl+Z in the image window, screenshots the Filters menu, and opens the
plug-in's dialog interactively (a helper screenshots it and presses Escape). Writes what happened to
``/tmp/restyle/out/gui.json`` and the screenshots next to it; the test judges.
"""
import json
import os
import subprocess
import time
import traceback

import gi

gi.require_version("Gimp", "3.0")
gi.require_version("Gegl", "0.4")
from gi.repository import Gegl, Gimp, Gio  # noqa: E402

OUT = "/tmp/restyle/out"
SCREEN = "1100x720+0+0"  # the image window, resized to this
REPORT = {}


def note(key, value):
    """Record one finding at once, so a run killed later still tells how far it got."""
    REPORT[key] = value
    with open(os.path.join(OUT, "gui.json"), "w") as f:
        json.dump(REPORT, f)


def xdotool(*args):
    return subprocess.run(["xdotool", *args], capture_output=True, text=True, timeout=30).stdout.split()


def screenshot(name):
    subprocess.run(["import", "-window", "root", "-crop", SCREEN, os.path.join(OUT, name)], timeout=30)


def pixels(layer):
    rect = Gegl.Rectangle.new(0, 0, layer.get_width(), layer.get_height())
    return bytes(layer.get_buffer().get(rect, 1.0, "R'G'B'A u8", Gegl.AbyssPolicy.NONE))


def find_window(pattern, timeout_s=30.0):
    deadline = time.monotonic() + timeout_s
    while True:
        found = xdotool("search", "--onlyvisible", "--name", pattern)
        if found:
            return found[0]
        if time.monotonic() > deadline:
            raise RuntimeError(f"no window named {pattern!r} appeared")
        time.sleep(0.2)


def wait_for(condition, timeout_s=20.0):
    deadline = time.monotonic() + timeout_s
    while not condition() and time.monotonic() < deadline:
        time.sleep(0.2)
    return condition()


def procedure_config(image, layer, run_mode, style):
    procedure = Gimp.get_pdb().lookup_procedure("plug-in-restyle")
    config = procedure.create_config()
    config.set_property("run-mode", run_mode)
    config.set_property("image", image)
    config.set_core_object_array("drawables", [layer])
    config.set_property("style", style)
    return procedure, config


def main(settings):
    image = Gimp.file_load(Gimp.RunMode.NONINTERACTIVE, Gio.File.new_for_path(settings["photo"]))
    image.scale(480, 320)
    image.undo_enable()  # images a plug-in loads start with undo off; the user's have it on
    layer = image.get_layers()[0]
    Gimp.Display.new(image)
    image.select_ellipse(Gimp.ChannelOps.REPLACE, 120, 60, 240, 200)
    Gimp.displays_flush()
    window = find_window("– GIMP$")
    xdotool("windowsize", window, "1100", "720")
    original = pixels(layer)

    procedure, config = procedure_config(image, layer, Gimp.RunMode.NONINTERACTIVE, settings["style"])
    note("run", procedure.run(config).index(0).value_nick)
    Gimp.displays_flush()
    note("layers_after_run", [item.get_name() for item in image.get_layers()])
    screenshot("stylized.png")

    xdotool("windowfocus", "--sync", window)
    xdotool("key", "ctrl+z")
    wait_for(lambda: len(image.get_layers()) == 1)
    note("layers_after_undo", [item.get_name() for item in image.get_layers()])
    note("original_unchanged", pixels(layer) == original)

    xdotool("windowfocus", "--sync", window)
    xdotool("key", "F10")
    for _ in range(8):  # File Edit Select View Image Layer Colors Tools -> Filters
        xdotool("key", "Right")
    xdotool("key", "Up")  # highlight the last entry: Style Transfer…
    time.sleep(1.0)
    screenshot("gimp_menu.png")
    xdotool("key", "Escape", "Escape")

    helper = subprocess.Popen(["sh", "-c", (
        "w=$(timeout 60 xdotool search --sync --onlyvisible --name '^Style Transfer$' | head -n 1) && "
        "xdotool windowmove $w 300 60 mousemove 1260 790 && sleep 2 && "
        f"import -window root -crop {SCREEN} {OUT}/gimp_dialog.png; "
        "xdotool windowfocus --sync $w key Escape")])
    procedure, config = procedure_config(image, layer, Gimp.RunMode.INTERACTIVE, settings["style"])
    note("dialog", procedure.run(config).index(0).value_nick)
    helper.wait(timeout=60)
    note("layers_after_dialog", [item.get_name() for item in image.get_layers()])


os.makedirs(OUT, exist_ok=True)
try:
    with open("/tmp/restyle/gui.json") as f:
        main(json.load(f))
except Exception:
    note("error", traceback.format_exc())
