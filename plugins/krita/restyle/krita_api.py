"""The one module that talks to Krita's API: the active layer, its pixels and selection, the new layer."""
from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any, List, Optional, Tuple

from krita import Extension, Krita  # noqa: F401  (Extension is re-exported for extension.py)

from . import pixels
from .qt import QIcon, QImage, QWidget
from .region import Bounds, Extent

IMAGE_LAYERS = ("paintlayer", "grouplayer", "vectorlayer", "filelayer", "clonelayer", "filllayer")


class NoTarget(Exception):
    """There is nothing Style Transfer can work on; the message says what to do."""


@dataclass(frozen=True)
class Target:
    """The document and layer a job reads from, as they were when the action was triggered."""

    document: Any  # krita.Document
    node: Any  # krita.Node
    fmt: pixels.PixelFormat
    linear: bool
    image: Extent
    selection: Optional[Bounds]

    @property
    def layer_name(self) -> str:
        return self.node.name()


def app() -> Any:
    """Krita's application object."""
    return Krita.instance()


def on_application_closing(slot: Any) -> None:
    """Call ``slot`` when Krita is about to quit (its notifier's ``applicationClosing``)."""
    Krita.instance().notifier().applicationClosing.connect(slot)


def data_dir() -> Path:
    """Krita's per-user data folder (the one holding ``pykrita``)."""
    return Path(Krita.instance().getAppDataLocation())


def main_window() -> Optional[QWidget]:
    """The active Krita window, to parent dialogs on."""
    window = Krita.instance().activeWindow()
    return window.qwindow() if window is not None else None


def active_target() -> Target:
    """The active document's active layer; raise ``NoTarget`` or ``pixels.UnsupportedLayer`` with what to do."""
    doc = Krita.instance().activeDocument()
    if doc is None:
        raise NoTarget("Open or create an image first: Style Transfer works on the active layer of the active image.")
    node = doc.activeNode()
    if node is None or node.type() not in IMAGE_LAYERS:
        kind = f"a {node.type()}" if node is not None else "no layer"
        raise NoTarget(f"The active node is {kind}; select the layer to stylize in the Layers docker, then try again.")
    fmt = pixels.pixel_format(node.colorModel(), node.colorDepth(), node.name())
    return Target(doc, node, fmt, pixels.is_linear(node.colorProfile()), Extent(doc.width(), doc.height()),
                  selection_bounds(doc))


def selection_bounds(doc: Any) -> Optional[Bounds]:
    """The bounds of the document's selection; None when nothing is selected."""
    sel = doc.selection()
    if sel is None or sel.width() <= 0 or sel.height() <= 0:
        return None
    return Bounds(sel.x(), sel.y(), sel.width(), sel.height())


def read_pixels(node: Any, box: Bounds) -> bytes:
    """The layer's pixels in ``box`` (image coordinates), in its own colour space and depth."""
    return bytes(node.pixelData(box.x, box.y, box.width, box.height))


def read_selection(doc: Any, box: Bounds) -> bytes:
    """The document's selection in ``box``, one byte (0..255) a pixel."""
    return bytes(doc.selection().pixelData(box.x, box.y, box.width, box.height))


def is_open(doc: Any) -> bool:
    """Whether ``doc`` is still open in Krita."""
    return any(d == doc for d in Krita.instance().documents())


def add_layer_above(target: Target, name: str, data: bytes, box: Bounds) -> Any:
    """A new paint layer holding ``data`` at ``box``, directly above the target layer, as one undo step."""
    doc, node = target.document, target.node
    layer = doc.createNode(name, "paintlayer")
    layer.setColorSpace(node.colorModel(), node.colorDepth(), node.colorProfile())
    layer.setPixelData(data, box.x, box.y, box.width, box.height)
    parent = node.parentNode()
    if parent is None:  # the layer was deleted while the job ran: put the result on top
        doc.rootNode().addChildNode(layer, None)
    else:
        parent.addChildNode(layer, node)
    doc.setActiveNode(layer)
    doc.refreshProjection()
    return layer


def layers(doc: Any) -> List[Tuple[str, str]]:
    """``(unique id, name)`` of every image layer in the document, top first."""
    found: List[Tuple[str, str]] = []

    def walk(parent: Any) -> None:
        for child in reversed(parent.childNodes()):
            if child.type() in IMAGE_LAYERS:
                found.append((child.uniqueId().toString(), child.name()))
            walk(child)

    walk(doc.rootNode())
    return found


def layer_image(doc: Any, unique_id: str, max_side: int) -> QImage:
    """A layer of ``doc`` as a QImage of at most ``max_side`` pixels (to use as a style)."""
    node = next((n for n in _all_nodes(doc.rootNode()) if n.uniqueId().toString() == unique_id), None)
    if node is None:
        raise NoTarget("The layer chosen as a style no longer exists; choose another style.")
    rect = node.bounds()
    if rect.isEmpty():
        raise NoTarget(f"The layer '{node.name()}' chosen as a style is empty; choose another style.")
    scale = min(1.0, max_side / max(rect.width(), rect.height()))
    return node.thumbnail(max(1, round(rect.width() * scale)), max(1, round(rect.height() * scale)))


def thumbnail(node: Any, side: int) -> QImage:
    """The layer as a QImage fitting in ``side`` x ``side`` pixels."""
    doc_w, doc_h = node.bounds().width() or side, node.bounds().height() or side
    scale = side / max(doc_w, doc_h)
    return node.thumbnail(max(1, round(doc_w * scale)), max(1, round(doc_h * scale)))


def _all_nodes(parent: Any) -> List[Any]:
    nodes = []
    for child in parent.childNodes():
        nodes.append(child)
        nodes.extend(_all_nodes(child))
    return nodes


def float_message(text: str) -> None:
    """A short message floating over the active canvas."""
    window = Krita.instance().activeWindow()
    view = window.activeView() if window is not None else None
    if view is not None:
        view.showFloatingMessage(text, QIcon(), 4000, 1)
