"""Runs inside GIMP 3 (``gimp-console-3.N --batch-interpreter=python-fu-eval``): drive plug-in-restyle.

Reads the cases from ``/tmp/restyle/cases.json``; for each one builds an image from a photo, runs the
procedure non-interactively like any script or plug-in would, and dumps what the test checks into
``/tmp/restyle/out/NAME.*``: the layers, the original layer's pixels before and after, the new layer's
pixels, the selection mask, and the procedure's status and message. Nothing is judged here.
"""
import json
import os
import traceback

import gi

gi.require_version("Gimp", "3.0")
gi.require_version("Gegl", "0.4")
from gi.repository import Gegl, Gimp, Gio  # noqa: E402

WORK = "/tmp/restyle"
SETTINGS = os.path.join(Gimp.directory(), "plug-ins", "restyle", "engine.json")  # in this GIMP's user folder
PRECISIONS = {"u16": Gimp.Precision.U16_NON_LINEAR, "float": Gimp.Precision.FLOAT_LINEAR}  # photos load as u8


def dump(buffer, x, y, w, h, babl_format):
    return bytes(buffer.get(Gegl.Rectangle.new(x, y, w, h), 1.0, babl_format, Gegl.AbyssPolicy.NONE))


def build_image(case):
    """The photo, scaled, in the case's precision and mode, with its layer offset and selection."""
    image = Gimp.file_load(Gimp.RunMode.NONINTERACTIVE, Gio.File.new_for_path(case["photo"]))
    image.scale(*case["size"])
    if case["precision"] != "u8":
        image.convert_precision(PRECISIONS[case["precision"]])
    layer = image.get_layers()[0]
    if case.get("alpha"):
        layer.add_alpha()
    if case.get("offset"):
        image.resize(case["size"][0] + 2 * case["offset"][0], case["size"][1] + 2 * case["offset"][1], 0, 0)
        layer.set_offsets(*case["offset"])
    if case["mode"] == "gray":
        image.convert_grayscale()
    elif case["mode"] == "indexed":
        image.convert_indexed(Gimp.ConvertDitherType.NONE, Gimp.ConvertPaletteType.GENERATE, 16, False, False, "")
    if case.get("ellipse"):
        image.select_ellipse(Gimp.ChannelOps.REPLACE, *case["ellipse"])
    return image, layer


def run_case(case):
    """Run one case; a case's ``settings`` replace the plug-in's engine settings for that case only."""
    with open(SETTINGS) as f:
        installed = f.read()
    if "settings" in case:
        with open(SETTINGS, "w") as f:
            json.dump(case["settings"], f)
    try:
        measure_case(case)
    finally:
        with open(SETTINGS, "w") as f:
            f.write(installed)


def measure_case(case):
    image, layer = build_image(case)
    out = os.path.join(WORK, "out", case["name"])
    fmt = f"R'G'B'{'A' if layer.has_alpha() else ''} {case['precision']}"
    w, h = layer.get_width(), layer.get_height()
    readable = case["mode"] == "rgb"
    before = dump(layer.get_buffer(), 0, 0, w, h, fmt) if readable else b""
    selection = dump(image.get_selection().get_buffer(), 0, 0, image.get_width(), image.get_height(), "Y u8")

    procedure = Gimp.get_pdb().lookup_procedure("plug-in-restyle")
    config = procedure.create_config()
    config.set_property("run-mode", Gimp.RunMode.NONINTERACTIVE)
    config.set_property("image", image)
    config.set_core_object_array("drawables", [layer])
    for key, value in case["options"].items():
        if key == "style-file":
            value = Gio.File.new_for_path(value)
        config.set_property(key, value)
    result = procedure.run(config)
    status = result.index(0)
    message = result.index(1) if status != Gimp.PDBStatusType.SUCCESS and result.length() > 1 else ""

    after = dump(layer.get_buffer(), 0, 0, w, h, fmt) if readable else b""
    layers = []
    for item in image.get_layers():
        _, x, y = item.get_offsets()
        layers.append({"name": item.get_name(), "x": x, "y": y, "width": item.get_width(),
                       "height": item.get_height(), "id": item.get_id()})
    new = image.get_layers()[0]
    if new.get_id() != layer.get_id():
        with open(out + ".new", "wb") as f:
            f.write(dump(new.get_buffer(), 0, 0, new.get_width(), new.get_height(),
                         f"R'G'B'A {case['precision']}"))
    for suffix, data in ((".before", before), (".after", after), (".selection", selection)):
        with open(out + suffix, "wb") as f:
            f.write(data)
    report = {"status": status.value_nick, "message": str(message), "layers": layers,
              "layer_id": layer.get_id(), "has_alpha": layer.has_alpha(),
              "image": [image.get_width(), image.get_height()], "precision": image.get_precision().value_nick}
    with open(out + ".json", "w") as f:
        json.dump(report, f)
    image.delete()


def describe_procedure():
    """How the procedure is registered: menu, label, image types, arguments."""
    procedure = Gimp.get_pdb().lookup_procedure("plug-in-restyle")
    return {"gimp": Gimp.version(), "menu_paths": list(procedure.get_menu_paths()), "label": procedure.get_menu_label(),
            "image_types": procedure.get_image_types(),
            "arguments": [spec.get_name() for spec in procedure.get_arguments()]}


def main():
    with open(os.path.join(WORK, "cases.json")) as f:
        cases = json.load(f)
    os.makedirs(os.path.join(WORK, "out"), exist_ok=True)
    with open(os.path.join(WORK, "out", "procedure.json"), "w") as f:
        json.dump(describe_procedure(), f)
    for case in cases:
        try:
            run_case(case)
        except Exception:
            with open(os.path.join(WORK, "out", case["name"] + ".error"), "w") as f:
                f.write(traceback.format_exc())


main()
