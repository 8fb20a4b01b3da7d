"""QImage <-> raw RGBA bytes: style images from files and layers, thumbnails and previews for the dialog."""
from __future__ import annotations

from typing import Any

from .engine_link import client as engine_client
from .qt import QImage, QImageReader, QPixmap, Qt

STYLE_MAX_SIDE = 1024


class ImageFileError(Exception):
    """A style image file cannot be used; the message says what to do."""


def engine_image(img: QImage) -> "engine_client.Image":
    """A QImage as the engine's 8-bit RGBA image."""
    rgba = img.convertToFormat(QImage.Format.Format_RGBA8888)
    width, height = rgba.width(), rgba.height()
    ptr = rgba.constBits()
    ptr.setsize(rgba.bytesPerLine() * height)
    raw = bytes(ptr)
    row = width * 4
    if rgba.bytesPerLine() != row:
        raw = b"".join(raw[y * rgba.bytesPerLine():y * rgba.bytesPerLine() + row] for y in range(height))
    return engine_client.Image(width, height, 4, "uint8", raw)


def file_image(path: str, max_side: int = STYLE_MAX_SIDE) -> QImage:
    """The image file at ``path``, scaled down to at most ``max_side`` pixels."""
    reader = QImageReader(path)
    reader.setAutoTransform(True)
    img = reader.read()
    if img.isNull():
        raise ImageFileError(f"Cannot read the style image {path}: {reader.errorString()}. "
                             "Choose a PNG, JPEG or another image file Krita can open.")
    if max(img.width(), img.height()) > max_side:
        img = img.scaled(max_side, max_side, Qt.AspectRatioMode.KeepAspectRatio, Qt.TransformationMode.SmoothTransformation)
    return img


def pixmap_from_rgba8(width: int, height: int, data: bytes) -> QPixmap:
    """A pixmap of 8-bit RGBA bytes."""
    img = QImage(data, width, height, width * 4, QImage.Format.Format_RGBA8888)
    return QPixmap.fromImage(img.copy())


def pixmap_from_engine(image: Any) -> QPixmap:
    """A pixmap of an 8-bit RGB or RGBA engine image (the engine's preset thumbnails)."""
    fmt = QImage.Format.Format_RGB888 if image.channels == 3 else QImage.Format.Format_RGBA8888
    data = bytes(image.data)
    img = QImage(data, image.width, image.height, image.width * image.channels, fmt)
    return QPixmap.fromImage(img.copy())
