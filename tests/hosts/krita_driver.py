"""Test-only Krita plugin: drives Filter › Style Transfer… like a user and writes what it saw as JSON.

Installed next to the real plugin by tests/hosts/test_krita.py. It reads /tmp/krita_scenario.json, runs
that scenario once Krita's window exists (a generator stepped by a QTimer, so modal dialogs can be
answered from inside their own event loop), writes /tmp/krita_report.json after every check, and
ends Krita with os._exit (Krita may crash on a normal quit under Xvfb; the report is what counts).
"""
import json
import os
import signal
import struct
import sys
import time
import traceback

from krita import Extension, Krita, Selection
# Qt through the plugin's own compatibility module: PyQt5 in Krita 5, PyQt6 in Krita 6
from restyle.qt import (BINDING, QApplication, QColor, QDialogButtonBox, QImage, QMenuBar, QMessageBox, QPainter,
                        QProgressDialog, QPushButton, QTimer)

SCENARIO = "/tmp/krita_scenario.json"
REPORT = "/tmp/krita_report.json"
SETTINGS = "/root/.local/share/krita/restyle/settings.json"
ACTION = "restyle_style_transfer"
TICK_MS = 50


class Driver:
    """Steps a scenario generator: each ``yield`` hands control back to Krita's event loop for one tick."""

    def __init__(self, scenario):
        self.scenario = scenario
        self.report = {"scenario": scenario["name"], "checks": {}, "notes": {}, "timings": {},
                       "host": {"krita": app().version(), "python": "%d.%d" % sys.version_info[:2], "qt": BINDING}}
        self.steps = None
        self.busy = False
        self.timer = QTimer()
        self.timer.timeout.connect(self.tick)

    def start(self):
        self.steps = SCENARIOS[self.scenario["name"]](self, self.scenario)
        self.timer.start(TICK_MS)

    def tick(self):
        if self.busy:  # a modal dialog opened from inside a step runs this timer again: not re-entrant
            return
        self.busy = True
        try:
            next(self.steps)
        except StopIteration:
            self.finish()
        except Exception:
            self.report["error"] = traceback.format_exc()
            self.finish()
        finally:
            self.busy = False

    def finish(self):
        self.report["done"] = True
        self.save()
        os._exit(0)

    def save(self):
        with open(REPORT + ".tmp", "w", encoding="utf-8") as f:
            json.dump(self.report, f, indent=1)
        os.replace(REPORT + ".tmp", REPORT)

    def check(self, name, value):
        self.report["checks"][name] = value
        self.save()

    def note(self, name, value):
        self.report["notes"][name] = value
        self.save()

    def wait(self, condition, timeout_s, what):
        """Yield until ``condition()`` is truthy; raise after ``timeout_s`` seconds."""
        deadline = time.monotonic() + timeout_s
        while True:
            value = condition()
            if value:
                return value
            if time.monotonic() > deadline:
                raise TimeoutError(f"waited {timeout_s} s for {what}")
            yield

    def pause(self, seconds):
        end = time.monotonic() + seconds
        while time.monotonic() < end:
            yield


def app():
    return Krita.instance()


def modal(kind, name=None):
    widget = QApplication.activeModalWidget()
    if widget is not None and isinstance(widget, kind) and (name is None or widget.objectName() == name):
        return widget
    return None


def trigger():
    """Trigger the action from the event loop (its dialog is modal: calling it here would block this step)."""
    QTimer.singleShot(0, app().action(ACTION).trigger)


def progress_window():
    window = app().activeWindow().qwindow()
    return next((w for w in window.findChildren(QProgressDialog, "restyle_progress") if w.isVisible()), None)


def write_settings(**values):
    os.makedirs(os.path.dirname(SETTINGS), exist_ok=True)
    data = {}
    if os.path.exists(SETTINGS):
        with open(SETTINGS, encoding="utf-8") as f:
            data = json.load(f)
    data.update(values)
    with open(SETTINGS, "w", encoding="utf-8") as f:
        json.dump(data, f)


def new_document(driver, name, width, height, depth, model="RGBA"):
    """A document with a view and a pattern painted on its background layer; waits for the active layer."""
    doc = app().createDocument(width, height, name, model, depth, "", 72.0)
    app().activeWindow().addView(doc)
    node = yield from driver.wait(doc.activeNode, 10, "the new document's active layer")
    if model == "RGBA":
        node.setPixelData(pattern(width, height, depth), 0, 0, width, height)
        doc.refreshProjection()
    return doc, node


def pattern(width, height, depth):
    """Opaque colour ramps, different on every pixel, in Krita's layout for ``depth``."""
    pixels = []
    for y in range(height):
        for x in range(width):
            r, g, b = x / max(1, width - 1), y / max(1, height - 1), ((x * 7 + y * 13) % 32) / 31
            if depth == "U8":
                pixels.append(bytes([round(b * 255), round(g * 255), round(r * 255), 255]))
            elif depth == "U16":
                pixels.append(struct.pack("<4H", round(b * 65535), round(g * 65535), round(r * 65535), 65535))
            else:
                pixels.append(struct.pack("<4f" if depth == "F32" else "<4e", r, g, b, 1.0))
    return b"".join(pixels)


def select_rect(doc, x, y, w, h):
    sel = Selection()
    sel.select(x, y, w, h, 255)
    doc.setSelection(sel)


def layer_names(doc):
    return [n.name() for n in doc.rootNode().childNodes()]


def added_layer(doc, before_names):
    """The one top-level node whose name was not there before."""
    (node,) = [n for n in doc.rootNode().childNodes() if n.name() not in before_names]
    return node


def run_dialog(driver, preset_row=0, shot=None, configure=None):
    """Trigger the action, wait for the engine in its dialog, pick a preset (or ``configure`` it), press OK."""
    trigger()
    dialog = yield from driver.wait(lambda: modal(object, "restyle_dialog") or modal(QMessageBox), 30,
                                    "the Style Transfer dialog")
    if isinstance(dialog, QMessageBox):
        return dialog
    started = time.monotonic()
    ok_button = dialog.buttons.button(QDialogButtonBox.StandardButton.Ok)
    outcome = yield from driver.wait(lambda: (ok_button.isEnabled() and "ready") or modal(QMessageBox), 150,
                                     "the engine to answer in the dialog")
    driver.report["timings"]["engine_ready_s"] = round(time.monotonic() - started, 2)
    if isinstance(outcome, QMessageBox):
        return outcome
    driver.note("dialog_status", dialog.status.text())
    driver.note("presets", [dialog.presets.item(i).text() for i in range(dialog.presets.count())])
    driver.note("remembered_blend_rows", dialog.blend.rowCount())
    driver.note("stroke_controls", {"auto": dialog.style_scale_auto.isChecked(),
                                    "auto_enabled": dialog.style_scale_auto.isEnabled(),
                                    "scale_enabled": dialog.style_scale.isEnabled(),
                                    "detail_enabled": dialog.detail.isEnabled(), "detail": dialog.detail.value()})
    if configure is not None:
        configure(dialog)
    elif dialog.blend.rowCount() == 0:
        dialog.presets.setCurrentRow(preset_row)
    if shot:
        yield from driver.pause(0.5)
        QApplication.primaryScreen().grabWindow(0).save(shot)
    ok_button.click()
    return dialog


def click(dialog, text):
    # KDE adds &-accelerators to button texts
    next(b for b in dialog.findChildren(QPushButton) if b.text().replace("&", "") == text).click()


def blend_file_and_layer(dialog):
    """Replace the remembered style by an image file (weight 0.7) and a layer (weight 0.3), as a user would."""
    stripes = QImage(96, 96, QImage.Format.Format_RGB32)
    painter = QPainter(stripes)
    for i in range(0, 96, 12):
        painter.fillRect(i, 0, 6, 96, QColor(200, 40, 20))
        painter.fillRect(i + 6, 0, 6, 96, QColor(20, 40, 200))
    painter.end()
    stripes.save("/tmp/style_stripes.png")
    dialog.blend.selectRow(0)
    click(dialog, "Remove")
    dialog.sources.setCurrentIndex(1)
    dialog.file_path.setText("/tmp/style_stripes.png")
    click(dialog, "Add to blend")
    dialog.sources.setCurrentIndex(2)
    dialog.layer_box.setCurrentIndex(0)
    click(dialog, "Add to blend")
    dialog.blend.cellWidget(0, 1).setValue(0.7)
    dialog.blend.cellWidget(1, 1).setValue(0.3)
    dialog.style_scale_auto.setChecked(False)  # a fixed stroke size, and no full-resolution pass
    dialog.style_scale.setValue(2.0)
    dialog.detail.setValue(0.0)


def wait_job_end(driver, doc, before, timeout_s):
    """Wait until the job added a layer, or a message box tells why not; returns the box or None."""
    outcome = yield from driver.wait(
        lambda: modal(QMessageBox) or (len(doc.rootNode().childNodes()) > before and "layer"), timeout_s,
        "the job's layer or a message")
    return outcome if isinstance(outcome, QMessageBox) else None


def close_message(box):
    text = box.text()
    box.done(QMessageBox.StandardButton.Ok)
    return text


# --- scenarios ------------------------------------------------------------------------------------------

def end_to_end(driver, scenario):
    """Menu entry, dialog, engine autostart, a selection stylized into a new layer, undo; then a 16-bit layer."""
    window = app().activeWindow().qwindow()
    window.setGeometry(0, 0, 1280, 800)
    menubar = window.findChild(QMenuBar)
    found = []
    for top in menubar.actions():
        if top.menu() is not None:
            found += [(top.menu().objectName(), a.text()) for a in top.menu().actions()
                      if a.objectName() == ACTION]
    driver.check("menu", found)
    shots = scenario.get("screenshots")

    doc, node = yield from new_document(driver, "restyle-e2e", 128, 96, "U8")
    select_rect(doc, 40, 24, 48, 40)
    if shots:
        filter_menu = next(a.menu() for a in menubar.actions() if a.menu() and a.menu().objectName() == "Filter")
        menubar.setActiveAction(filter_menu.menuAction())
        yield from driver.pause(0.5)
        filter_menu.setActiveAction(app().action(ACTION))
        yield from driver.pause(0.5)
        QApplication.primaryScreen().grabWindow(0).save(shots + "/krita_menu.png")
        filter_menu.hide()
        menubar.setActiveAction(None)
    original = bytes(node.pixelData(0, 0, 128, 96))
    before = len(doc.rootNode().childNodes())
    before_names = layer_names(doc)
    started = time.monotonic()
    dialog = yield from run_dialog(driver, shot=shots and shots + "/krita_dialog.png")
    if isinstance(dialog, QMessageBox):
        driver.check("dialog_message", close_message(dialog))
        return
    first_stroke_controls = driver.report["notes"].get("stroke_controls")
    box = yield from wait_job_end(driver, doc, before, 300)
    driver.report["timings"]["u8_job_s"] = round(time.monotonic() - started, 2)
    if box is not None:
        driver.check("job_message", close_message(box))
        return
    names = layer_names(doc)
    driver.check("layers_after_job", names)
    new = added_layer(doc, before_names)
    driver.check("new_layer", {"name": new.name(), "index_above_original": names.index(new.name()) - names.index(
        node.name()), "type": new.type(), "depth": new.colorDepth()})
    driver.check("original_unchanged", bytes(node.pixelData(0, 0, 128, 96)) == original)
    result = bytes(new.pixelData(0, 0, 128, 96))
    inside = outside_opaque = changed_inside = 0
    for y in range(96):
        for x in range(128):
            o = (y * 128 + x) * 4
            if 40 <= x < 88 and 24 <= y < 64:
                inside += result[o + 3] == 255
                changed_inside += result[o:o + 3] != original[o:o + 3]
            else:
                outside_opaque += result[o + 3] != 0
    driver.check("u8_pixels", {"inside_opaque": inside, "inside_changed": changed_inside,
                               "outside_not_transparent": outside_opaque, "selection_pixels": 48 * 40})
    app().action("edit_undo").trigger()
    yield from driver.pause(0.5)
    driver.check("after_undo", {"layers": layer_names(doc),
                                "original_unchanged": bytes(node.pixelData(0, 0, 128, 96)) == original})

    doc16, node16 = yield from new_document(driver, "restyle-u16", 64, 48, "U16")
    original16 = bytes(node16.pixelData(0, 0, 64, 48))
    before = len(doc16.rootNode().childNodes())
    before_names = layer_names(doc16)
    started = time.monotonic()
    dialog = yield from run_dialog(driver, configure=blend_file_and_layer)
    if isinstance(dialog, QMessageBox):
        driver.check("u16_job_message", close_message(dialog))
        return
    driver.check("u16_dialog_remembered_rows", driver.report["notes"]["remembered_blend_rows"])
    driver.check("first_dialog_stroke_controls", first_stroke_controls)
    box = yield from wait_job_end(driver, doc16, before, 300)
    driver.report["timings"]["u16_job_s"] = round(time.monotonic() - started, 2)
    if box is not None:
        driver.check("u16_job_message", close_message(box))
        return
    new16 = added_layer(doc16, before_names)
    data = struct.unpack(f"<{64 * 48 * 4}H", bytes(new16.pixelData(0, 0, 64, 48)))
    orig = struct.unpack(f"<{64 * 48 * 4}H", original16)
    driver.check("u16_pixels", {"name": new16.name(), "depth": new16.colorDepth(), "profile": new16.colorProfile(),
                                "opaque": sum(1 for a in data[3::4] if a == 65535),
                                "changed": sum(1 for i in range(0, len(data), 4) if data[i:i + 3] != orig[i:i + 3]),
                                "pixels": 64 * 48,
                                "original_unchanged": bytes(node16.pixelData(0, 0, 64, 48)) == original16})

    docf, nodef = yield from new_document(driver, "restyle-f32", 40, 32, "F32")
    select_rect(docf, 10, 8, 20, 16)
    originalf = bytes(nodef.pixelData(0, 0, 40, 32))
    before, before_names = len(docf.rootNode().childNodes()), layer_names(docf)
    dialog = yield from run_dialog(driver)
    driver.check("f32_dialog_stroke_controls", driver.report["notes"].get("stroke_controls"))
    box = (dialog if isinstance(dialog, QMessageBox) else None) or (yield from wait_job_end(driver, docf, before, 300))
    if box is not None:
        driver.check("f32_job_message", close_message(box))
        return
    newf = added_layer(docf, before_names)
    data = struct.unpack(f"<{40 * 32 * 4}f", bytes(newf.pixelData(0, 0, 40, 32)))
    orig = struct.unpack(f"<{40 * 32 * 4}f", originalf)
    inside = [(y * 40 + x) * 4 for y in range(8, 24) for x in range(10, 30)]
    outside = sorted(set(range(0, len(data), 4)) - set(inside))
    driver.check("f32_pixels", {"depth": newf.colorDepth(),
                                "inside_opaque": sum(1 for i in inside if data[i + 3] == 1.0),
                                "inside_changed": sum(1 for i in inside if data[i:i + 3] != orig[i:i + 3]),
                                "outside_not_transparent": sum(1 for i in outside if data[i + 3] != 0.0),
                                "selection_pixels": len(inside),
                                "original_unchanged": bytes(nodef.pixelData(0, 0, 40, 32)) == originalf})


def bad_cases(driver, scenario):
    """No document, a grey layer, engine missing, cancel, engine crash mid-job, image closed mid-job."""
    trigger()
    box = yield from driver.wait(lambda: modal(QMessageBox), 20, "the no-document message")
    driver.check("no_document", close_message(box))

    gray, _ = yield from new_document(driver, "restyle-gray", 32, 32, "U8", model="GRAYA")
    trigger()
    box = yield from driver.wait(lambda: modal(QMessageBox), 20, "the grey-layer message")
    driver.check("gray_layer", close_message(box))
    gray.setModified(False)
    gray.close()

    doc, node = yield from new_document(driver, "restyle-bad", 96, 64, "U8")
    select_rect(doc, 8, 8, 40, 30)
    original = bytes(node.pixelData(0, 0, 96, 64))
    write_settings(engine_command=scenario["missing_command"], engine_timeout_s=scenario["timeout_s"])
    box = yield from run_dialog(driver)
    driver.check("engine_missing", close_message(box) if isinstance(box, QMessageBox) else "no message")
    yield from driver.wait(lambda: QApplication.activeModalWidget() is None, 10, "the dialog to close")

    write_settings(engine_command=scenario["start_command"])
    before = len(doc.rootNode().childNodes())
    dialog = yield from run_dialog(driver)
    if isinstance(dialog, QMessageBox):
        driver.check("cancel", close_message(dialog))
        return
    progress = yield from driver.wait(lambda: (lambda p: p if p and p.value() > 0 else None)(progress_window()), 60,
                                      "the job's progress")
    progress.findChild(QPushButton).click()  # the Cancel button, as a user would
    yield from driver.wait(lambda: progress_window() is None, 30, "the progress window to close")
    from restyle.engine_link import client as engine_client
    with engine_client.EngineClient(timeout_s=5) as probe:
        pong = yield from driver.wait(lambda: (lambda p: p if p["running"] == 0 else None)(probe.ping()), 15,
                                      "the engine to stop the cancelled job")
    driver.check("cancel", {"layers_added": len(doc.rootNode().childNodes()) - before,
                            "engine_running_jobs": pong["running"], "message_box": modal(QMessageBox) is not None})

    dialog = yield from run_dialog(driver)
    yield from driver.wait(lambda: (lambda p: p if p and p.value() > 0 else None)(progress_window()), 60,
                           "the job's progress before the crash")
    os.kill(pong["pid"], signal.SIGKILL)
    box = yield from driver.wait(lambda: modal(QMessageBox), 60, "the engine-crash message")
    driver.check("crash", {"message": close_message(box), "layers_added": len(doc.rootNode().childNodes()) - before})
    driver.check("original_unchanged", bytes(node.pixelData(0, 0, 96, 64)) == original)

    dialog = yield from run_dialog(driver)  # the plugin starts the engine again
    yield from driver.wait(lambda: (lambda p: p if p and p.value() > 0 else None)(progress_window()), 120,
                           "the job's progress before closing the image")
    doc.setModified(False)
    doc.close()
    yield from driver.wait(lambda: progress_window() is None, 30, "the job to end after its image closed")
    yield from driver.pause(0.5)
    box = modal(QMessageBox)
    driver.check("closed_mid_job", {"message": close_message(box) if box else None,
                                    "documents": len(app().documents())})

    # Quitting Krita mid-job: the handler Krita's aboutToQuit calls cancels the job and lets the thread end.
    doc, node = yield from new_document(driver, "restyle-quit", 96, 64, "U8")
    select_rect(doc, 8, 8, 40, 30)
    before = len(doc.rootNode().childNodes())
    dialog = yield from run_dialog(driver)
    yield from driver.wait(lambda: (lambda p: p if p and p.value() > 0 else None)(progress_window()), 120,
                           "the job's progress before quitting")
    plugin = next(e for e in app().extensions() if type(e).__name__ == "StyleTransferExtension")
    running = plugin.running
    started = time.monotonic()
    plugin.on_quit()  # what Krita's notifier calls on applicationClosing
    stopped_s = time.monotonic() - started
    with engine_client.EngineClient(timeout_s=5) as probe:
        pong = yield from driver.wait(lambda: (lambda p: p if p["running"] == 0 else None)(probe.ping()), 15,
                                      "the engine to drop the job of a quitting Krita")
    yield from driver.pause(0.5)
    driver.check("quit_mid_job", {"thread_finished": running is not None and running.thread.isFinished(),
                                  "stopped_s": round(stopped_s, 2), "engine_running_jobs": pong["running"],
                                  "layers_added": len(doc.rootNode().childNodes()) - before,
                                  "message_box": modal(QMessageBox) is not None})


SCENARIOS = {"end_to_end": end_to_end, "bad_cases": bad_cases}


class DriverExtension(Extension):
    def setup(self):
        with open(SCENARIO, encoding="utf-8") as f:
            self.driver = Driver(json.load(f))
        app().notifier().windowCreated.connect(self.driver.start)

    def createActions(self, window):
        pass


Krita.instance().addExtension(DriverExtension(Krita.instance()))
