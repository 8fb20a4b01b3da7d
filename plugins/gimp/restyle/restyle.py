#!/usr/bin/env python3
"""GIMP 3 plug-in: Filters › Style Transfer… stylizes the active layer (or its selection) into a new layer.

The only module that imports GIMP; the logic lives in ``restyle_gimp`` and the engine is reached only through
``engine.client`` (the folder ``engine/client/``, copied next to this file by ``install/install.py --gimp``).
"""
import os
import sys
from pathlib import Path

HERE = os.path.dirname(os.path.abspath(__file__))
VENDOR = os.path.join(HERE, "vendor")  # a pyzmq wheel unpacked by the installer, when GIMP's Python lacks one
if os.path.isdir(VENDOR):
    sys.path.append(VENDOR)

import gi  # noqa: E402

gi.require_version("Gimp", "3.0")
gi.require_version("GimpUi", "3.0")
gi.require_version("Gegl", "0.4")
gi.require_version("Gtk", "3.0")
gi.require_version("GdkPixbuf", "2.0")
from gi.repository import Gegl, GdkPixbuf, Gimp, GimpUi, Gio, GLib, GObject, Gtk  # noqa: E402

from engine.client import EngineClient, EngineError, Image  # noqa: E402
from engine.client.geometry import Bounds, Extent  # noqa: E402
from restyle_gimp import formats, messages, pixels, request, settings  # noqa: E402
from restyle_gimp.errors import PluginError  # noqa: E402
from restyle_gimp.region import Region, plan_region  # noqa: E402

MAX_STYLE_SIDE = 1024  # style images are shrunk to this before sending; the engine works at 256..512
THUMBNAIL = 48


def run(procedure, run_mode, image, drawables, config, data):
    """Run the procedure: check the input, ask the engine, add the new layer."""
    interactive = run_mode == Gimp.RunMode.INTERACTIVE
    if interactive:
        GimpUi.init(request.PROCEDURE)
    try:
        drawable = _active_layer(image, drawables)
        formats.check_rgb(image.get_base_type().value_nick)
        fmt = formats.pixel_format(image.get_precision().value_nick)
        engine = settings.load_settings(settings_path())
        with EngineClient(endpoint=engine.endpoint, start_command=engine.start_command,
                          server_public_key=engine.server_public_key) as client:
            Gimp.progress_init("Style transfer: connecting to the engine")
            pong = client.ensure_running(engine.start_wait_s, on_status=_status)
            if interactive:
                presets = client.styles(THUMBNAIL)
                Gimp.progress_end()
                if not _dialog(procedure, config, presets):
                    return procedure.new_return_values(Gimp.PDBStatusType.CANCEL, GLib.Error())
                Gimp.progress_init("Style transfer")
            _stylize(client, pong, image, drawable, fmt, _values(config))
    except PluginError as e:
        return _failure(procedure, str(e))
    except EngineError as e:
        return _failure(procedure, messages.engine_failure(e))
    except Exception as e:  # anything else still ends as a message in GIMP, not as a crashed plug-in
        return _failure(procedure, messages.unexpected(e))
    finally:
        Gimp.progress_end()
    Gimp.displays_flush()
    return procedure.new_return_values(Gimp.PDBStatusType.SUCCESS, GLib.Error())


def settings_path() -> Path:
    """The engine settings file the installer wrote next to this plug-in."""
    return Path(HERE) / settings.SETTINGS_NAME


def _stylize(client, pong, image, drawable, fmt, values):
    """Send the layer's region to the engine and add the result as a new layer above it."""
    sources = request.parse_styles(values["style"], values["style-file"])
    if not sources:
        raise PluginError(request.no_style_message([preset["name"] for preset in client.styles(16)]))
    weights = request.parse_weights(values["weights"], len(sources))
    styles = request.style_entries(sources, weights, _load_style)
    method = request.method_for(values["method"], sources)
    canvas = (image.get_width(), image.get_height())
    region = _region(image, drawable, values["selection-only"], pong, method,
                     request.style_scale(values, pong, canvas))
    channels = 4 if drawable.has_alpha() else 3
    original = _read(drawable.get_buffer(), region.crop, fmt.babl(channels == 4))
    mask = _read(image.get_selection().get_buffer(), region.in_image, formats.MASK_FORMAT) if region.masked else None
    crop = region.crop
    Gimp.progress_set_text("Style transfer: sending the image")
    result = client.stylize(
        Image(crop.width, crop.height, channels, fmt.dtype, original),
        styles,
        mask=Image(crop.width, crop.height, 1, "uint8", mask) if mask is not None else None,
        options=request.engine_options(values, method, region.masked, pong, canvas),
        on_progress=_progress,
    )
    layer_data = pixels.layer_pixels(bytes(result.image.data), original, mask, channels, fmt)
    _add_layer(image, drawable, region, request.layer_name(sources), layer_data, fmt)


def _active_layer(image, drawables):
    """The one layer the procedure runs on; a clear error for anything else."""
    if len(drawables) != 1:
        raise PluginError(f"{len(drawables)} layers are selected: select exactly one layer for Style Transfer")
    drawable = drawables[0]
    if not drawable.is_layer():
        raise PluginError("a channel or layer mask is active: select a layer for Style Transfer")
    return drawable


def _region(image, drawable, selection_only, pong, method, style_scale):
    """The region to send: the selection's bounds plus the engine's context margin, or the whole layer."""
    _, x, y = drawable.get_offsets()
    layer = Bounds(x, y, drawable.get_width(), drawable.get_height())
    selection = None
    if selection_only and not Gimp.Selection.is_empty(image):
        touches, sx, sy, sw, sh = drawable.mask_intersect()
        selection = Bounds(sx, sy, sw, sh) if touches else Bounds(0, 0, 0, 0)
    return plan_region(layer, selection, request.context_margin(pong, method, style_scale))


def _read(buffer, rect, babl_format):
    """The pixels of ``rect`` in ``buffer`` as bytes of ``babl_format`` (0 outside the buffer)."""
    gegl_rect = Gegl.Rectangle.new(rect.x, rect.y, rect.width, rect.height)
    return bytes(buffer.get(gegl_rect, 1.0, babl_format, Gegl.AbyssPolicy.NONE))


def _add_layer(image, drawable, region: Region, name, data, fmt):
    """Insert the new layer directly above ``drawable``, as one undo step."""
    box = region.in_image
    image.undo_group_start()
    try:
        layer = Gimp.Layer.new(image, name, box.width, box.height, Gimp.ImageType.RGBA_IMAGE, 100.0,
                               Gimp.LayerMode.NORMAL)
        image.insert_layer(layer, drawable.get_parent(), image.get_item_position(drawable))
        layer.set_offsets(box.x, box.y)
        buffer = layer.get_buffer()
        buffer.set(Gegl.Rectangle.new(0, 0, box.width, box.height), fmt.babl(True), data)
        buffer.flush()
        layer.update(0, 0, box.width, box.height)
    finally:
        image.undo_group_end()


def _load_style(path):
    """An image file as 8-bit RGB pixels, shrunk to at most MAX_STYLE_SIDE on its longer side."""
    try:
        style = Gimp.file_load(Gimp.RunMode.NONINTERACTIVE, Gio.File.new_for_path(path))
    except GLib.Error as e:
        raise PluginError(f"GIMP cannot open the style image {path} ({e.message}): choose another image") from None
    try:
        size = Extent(style.get_width(), style.get_height()).fit_within(MAX_STYLE_SIDE)
        if size != Extent(style.get_width(), style.get_height()):
            style.scale(size.width, size.height)
        layer = style.flatten()
        data = _read(layer.get_buffer(), Bounds.of(size), formats.STYLE_FORMAT.babl(False))
        return Image(size.width, size.height, 3, formats.STYLE_FORMAT.dtype, data)
    finally:
        style.delete()


def _values(config):
    """The procedure's argument values by name; a file argument becomes a path or None, a string never None."""
    values = {a.name: config.get_property(a.name) for a in request.ARGUMENTS}
    for a in request.ARGUMENTS:
        if a.kind == "string" and values[a.name] is None:
            values[a.name] = ""
    chosen = values["style-file"]
    values["style-file"] = chosen.get_path() if chosen is not None else None
    return values


def _status(text):
    Gimp.progress_set_text(f"Style transfer: {text}")
    Gimp.progress_pulse()


def _progress(report):
    fraction, text = messages.progress(report)
    Gimp.progress_set_text(text)
    if fraction is None:
        Gimp.progress_pulse()
    else:
        Gimp.progress_update(fraction)


def _failure(procedure, message):
    return procedure.new_return_values(Gimp.PDBStatusType.EXECUTION_ERROR, GLib.Error(message))


def _dialog(procedure, config, presets):
    """Show the options with a preset picker; False when the user cancels."""
    dialog = GimpUi.ProcedureDialog.new(procedure, config, "Style Transfer")
    dialog.get_content_area().pack_start(_preset_picker(config, presets), False, False, 6)
    dialog.fill(None)
    dialog.set_sensitive("style-scale", True, config, "stroke-size-auto", True)  # greyed out while auto is on
    try:
        return dialog.run()
    finally:
        dialog.destroy()


def _preset_picker(config, presets):
    """A row of the engine's presets with thumbnails; choosing one sets the Styles argument."""
    store = Gtk.ListStore(GdkPixbuf.Pixbuf, str, str)
    for preset in presets:
        store.append([_thumbnail(preset.get("thumbnail")), preset["label"], preset["name"]])
    combo = Gtk.ComboBox.new_with_model(store)
    picture, text = Gtk.CellRendererPixbuf(), Gtk.CellRendererText()
    combo.pack_start(picture, False)
    combo.add_attribute(picture, "pixbuf", 0)
    combo.pack_start(text, True)
    combo.add_attribute(text, "text", 1)
    names = [p["name"] for p in presets]
    current = (config.get_property("style") or "").strip()
    combo.set_active(names.index(current) if current in names else -1)
    combo.connect("changed", lambda c: c.get_active() >= 0 and config.set_property("style", names[c.get_active()]))
    row = Gtk.Box(orientation=Gtk.Orientation.HORIZONTAL, spacing=12)
    row.pack_start(Gtk.Label(label="Preset:"), False, False, 0)
    row.pack_start(combo, True, True, 0)
    row.show_all()
    return row


def _thumbnail(image):
    if image is None or image.channels != 3 or image.dtype != "uint8":
        return None
    return GdkPixbuf.Pixbuf.new_from_bytes(GLib.Bytes.new(bytes(image.data)), GdkPixbuf.Colorspace.RGB, False, 8,
                                           image.width, image.height, image.width * 3)


class Restyle(Gimp.PlugIn):
    """Registers Filters › Style Transfer…"""

    def do_set_i18n(self, name):
        return False

    def do_query_procedures(self):
        return [request.PROCEDURE]

    def do_create_procedure(self, name):
        procedure = Gimp.ImageProcedure.new(self, name, Gimp.PDBProcType.PLUGIN, run, None)
        procedure.set_image_types("RGB*")
        procedure.set_sensitivity_mask(Gimp.ProcedureSensitivityMask.DRAWABLE)
        procedure.set_menu_label("Style _Transfer…")
        procedure.add_menu_path("<Image>/Filters")
        procedure.set_documentation(
            "Paint the layer (or its selection) in the style of a preset or an image",
            "Adds a new layer above the active layer with the stylized pixels: inside the selection when there "
            "is one, transparent outside it. The work happens in the restyle engine; the layer is not changed.",
            name,
        )
        procedure.set_attribution("restyle", "restyle", "2026")
        for argument in request.ARGUMENTS:
            _add_argument(procedure, argument)
        return procedure


def _add_argument(procedure, a):
    """Register one argument of ``request.ARGUMENTS`` on ``procedure``."""
    flags = GObject.ParamFlags.READWRITE
    if a.kind == "string":
        procedure.add_string_argument(a.name, a.label, a.blurb, a.default, flags)
    elif a.kind == "file":
        procedure.add_file_argument(a.name, a.label, a.blurb, Gimp.FileChooserAction.OPEN, True, None, flags)
    elif a.kind == "choice":
        choice = Gimp.Choice.new()
        for i, (nick, label) in enumerate(a.choices):
            choice.add(nick, i, label, "")
        procedure.add_choice_argument(a.name, a.label, a.blurb, choice, a.default, flags)
    elif a.kind == "double":
        procedure.add_double_argument(a.name, a.label, a.blurb, a.low, a.high, a.default, flags)
    elif a.kind == "boolean":
        procedure.add_boolean_argument(a.name, a.label, a.blurb, a.default, flags)
    else:
        raise ValueError(f"unknown argument kind {a.kind!r}")


if __name__ == "__main__":
    Gimp.main(Restyle.__gtype__, sys.argv)
