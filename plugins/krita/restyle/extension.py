"""Filter › Style Transfer…: the action, and the flow from the dialog to the new layer."""
from __future__ import annotations

from typing import Any, Dict, Optional

from . import job, krita_api, pixels, qt_images, request
from .dialog import StyleTransferDialog
from .qt import QDialog, QMessageBox, QProgressDialog, Qt
from .region import EmptySelection, check_mask, job_region
from .settings import SETTINGS_NAME, Settings, SettingsError, load, save
from .worker import JobThread

ACTION_ID = "restyle_style_transfer"
ACTION_TEXT = "Style Transfer…"
MENU = "filter"
TITLE = "Style Transfer"
PREVIEW_SIDE = 160
# How long quitting Krita waits for a running job to be cancelled: the client polls its cancel flag
# every 50 ms and waits up to 5 s for the engine to confirm.
QUIT_WAIT_MS = 7000


def settings_path() -> Any:
    """Where the plugin's settings live (the installer writes the engine command there)."""
    return krita_api.data_dir() / "restyle" / SETTINGS_NAME


class StyleTransferExtension(krita_api.Extension):
    """Adds Filter › Style Transfer… and runs at most one job at a time."""

    def __init__(self, parent: Any) -> None:
        super().__init__(parent)
        self.running: Optional[Running] = None

    def setup(self) -> None:
        krita_api.on_application_closing(self.on_quit)

    def on_quit(self) -> None:
        """Krita is quitting: cancel a running job and let its thread end (Qt aborts on a running QThread)."""
        if self.running is not None:
            self.running.stop(QUIT_WAIT_MS)

    def createActions(self, window: Any) -> None:
        action = window.createAction(ACTION_ID, ACTION_TEXT, MENU)
        action.setToolTip("Stylize the selection of the active layer into a new layer")
        action.triggered.connect(self.start)

    def start(self) -> None:
        """Ask for styles and options, then stylize the active layer's selection into a new layer."""
        parent = krita_api.main_window()
        if self.running is not None:
            QMessageBox.information(parent, TITLE, "A style transfer is still running; wait for it or cancel it.")
            return
        try:
            target = krita_api.active_target()
            settings = load(settings_path())
        except (krita_api.NoTarget, pixels.UnsupportedLayer, SettingsError) as e:
            QMessageBox.information(parent, TITLE, str(e))
            return
        dialog = StyleTransferDialog(settings, target.selection is not None, _preview(target),
                                     _region_text(target), krita_api.layers(target.document), parent)
        if dialog.exec() != QDialog.DialogCode.Accepted:
            return
        chosen = dialog.chosen_settings()
        try:
            save(settings_path(), chosen)
            work = _read_job(target, chosen, dialog.pong)
        except (request.RequestError, EmptySelection, qt_images.ImageFileError, krita_api.NoTarget,
                SettingsError) as e:
            QMessageBox.information(parent, TITLE, str(e))
            return
        self.running = Running(self, target, chosen, work, request.layer_name(work.styles))

    def finished(self) -> None:
        """Called by the running job when it has ended, whichever way."""
        self.running = None


class Running:
    """A job in flight: its worker thread and the progress window with Cancel."""

    def __init__(self, owner: StyleTransferExtension, target: krita_api.Target, settings: Settings,
                 work: job.Job, layer_name: str) -> None:
        self.owner = owner
        self.target = target
        self.work = work
        self.layer_name = layer_name
        self.progress = QProgressDialog(f"Stylizing '{target.layer_name}'…", "Cancel", 0, 100, krita_api.main_window())
        self.progress.setObjectName("restyle_progress")
        self.progress.setWindowTitle(TITLE)
        self.progress.setWindowModality(Qt.WindowModality.NonModal)
        self.progress.setAutoClose(False)
        self.progress.setAutoReset(False)
        self.progress.setMinimumDuration(0)
        self.progress.setValue(0)
        self.progress.canceled.connect(self.cancel)
        self.thread = JobThread(settings, work)
        self.thread.progress.connect(self.on_progress)
        self.thread.done.connect(self.on_done)
        self.thread.failed.connect(self.on_failed)
        self.thread.finished.connect(self.on_finished)
        self.progress.show()
        self.thread.start()

    def cancel(self) -> None:
        """Stop the engine job; the thread then reports it cancelled."""
        self.progress.setLabelText("Cancelling…")
        self.progress.setCancelButtonText("Cancelling…")
        self.thread.cancel()

    def stop(self, wait_ms: int) -> bool:
        """Cancel the engine job and wait up to ``wait_ms`` for the thread to end; True if it ended."""
        self.thread.cancel()
        return bool(self.thread.wait(wait_ms))

    def on_progress(self, text: str, percent: int) -> None:
        if not krita_api.is_open(self.target.document):
            self.progress.setLabelText("The image was closed; cancelling…")
            self.thread.cancel()
            return
        self.progress.setLabelText(text)
        if percent < 0:
            self.progress.setRange(0, 0)
        else:
            self.progress.setRange(0, 100)
            self.progress.setValue(percent)

    def on_done(self, data: bytes) -> None:
        self.progress.hide()
        if not krita_api.is_open(self.target.document):
            QMessageBox.information(krita_api.main_window(), TITLE,
                                    "The image was closed before the style transfer finished; nothing was changed.")
            return
        krita_api.add_layer_above(self.target, self.layer_name, data, self.work.region.content)
        krita_api.float_message(f"Added layer '{self.layer_name}' (Edit › Undo removes it)")

    def on_failed(self, message: str, cancelled: bool) -> None:
        self.progress.hide()
        if cancelled:
            krita_api.float_message(message)
        else:
            QMessageBox.warning(krita_api.main_window(), TITLE, message)

    def on_finished(self) -> None:
        self.thread.wait()  # finished is emitted just before the thread ends: let it end before it is dropped
        self.progress.deleteLater()
        self.owner.finished()


def _read_job(target: krita_api.Target, settings: Settings, pong: Dict[str, Any]) -> job.Job:
    """Read the pixels, the selection and the style images a job needs (on the UI thread)."""
    styles = tuple(request.active_styles(settings.styles))
    method = request.engine_method(settings, styles, pong)
    canvas = (target.image.width, target.image.height)
    margin = request.context_margin(pong, method, request.style_scale(settings, pong, canvas))
    region = job_region(target.image, target.selection, margin, settings.selection_only)
    mask = krita_api.read_selection(target.document, region.content) if region.masked else None
    if mask is not None:
        check_mask(mask)
    images = {}
    for i, choice in enumerate(styles):
        if choice.kind == "file":
            images[i] = qt_images.engine_image(qt_images.file_image(choice.value))
        elif choice.kind == "layer":
            images[i] = qt_images.engine_image(
                krita_api.layer_image(target.document, choice.value, qt_images.STYLE_MAX_SIDE))
    return job.Job(content=krita_api.read_pixels(target.node, region.content), fmt=target.fmt,
                   linear=target.linear, region=region, mask=mask, styles=styles, style_images=images,
                   options=request.engine_options(settings, method, region.masked, pong, canvas))


def _preview(target: krita_api.Target) -> Any:
    """A small 8-bit picture of the selected part of the layer (all of it without a selection)."""
    box = target.selection.clamp(target.image) if target.selection is not None else None
    if box is None or box.is_empty:
        image = qt_images.engine_image(krita_api.thumbnail(target.node, PREVIEW_SIDE))
        return image.width, image.height, image.data
    return pixels.preview_rgba8(krita_api.read_pixels(target.node, box), box.width, box.height, target.fmt,
                                target.linear, PREVIEW_SIDE)


def _region_text(target: krita_api.Target) -> str:
    """What the dialog says about the region: the selection's size and place, or the whole layer."""
    sel = target.selection
    if sel is None:
        return f"No selection: the whole layer ({target.image.width} × {target.image.height} px)"
    return f"Selection: {sel.width} × {sel.height} px at ({sel.x}, {sel.y})"


def register() -> None:
    """Add the extension to Krita (called when Krita imports the plugin)."""
    app = krita_api.app()
    app.addExtension(StyleTransferExtension(app))
