"""What an image file holds besides its pixels (colour profile, EXIF, XMP, resolution), read and written per format."""
from __future__ import annotations

import re
from dataclasses import dataclass, replace
from typing import Any, Optional

from PIL import Image, PngImagePlugin

from .icc import colour_space

ORIENTATION, X_RESOLUTION, Y_RESOLUTION, RESOLUTION_UNIT, XMP_TAG, ICC_TAG = 0x0112, 0x011A, 0x011B, 0x0128, 700, 34675
INCHES = 2
# TIFF tags about a file's stored pixels rather than the picture (layout; Photoshop's resources and layers,
# which hold the old pixels): never carried to another file. XMP and ICC travel on their own.
PIXEL_TAGS = frozenset({254, 255, 256, 257, 258, 259, 262, 263, 266, 273, 277, 278, 279, 280, 281, 284, 317, 320,
                        322, 323, 324, 325, 330, 338, 339, 340, 341, 347, 513, 514, 529, 530, 531, 532,
                        34377, 37724, XMP_TAG, ICC_TAG})
# the ICC colour space whose profile can describe the pixels of each PIL mode the engine writes
PROFILE_SPACES = {"RGB": "RGB", "RGBA": "RGB", "L": "GRAY", "LA": "GRAY", "I;16": "GRAY", "I": "GRAY", "F": "GRAY"}
JPEG_SEGMENT = 65533  # the most bytes one JPEG marker segment holds
_XMP_ORIENTATION = (re.compile(rb'(tiff:Orientation=")[0-9]+(")'),
                    re.compile(rb"(<tiff:Orientation>)[0-9]+(</tiff:Orientation>)"))


@dataclass(frozen=True)
class ImageMetadata:
    """An image's colour profile and metadata, as bytes ready to embed in any format."""

    icc_profile: Optional[bytes] = None
    exif: Optional[bytes] = None  # "Exif\\0\\0" + a TIFF structure, as Pillow reads and writes it
    xmp: Optional[bytes] = None
    dpi: Optional[tuple[float, float]] = None

    def upright(self) -> "ImageMetadata":
        """The same metadata saying orientation 1 (EXIF and XMP): for pixels already turned upright."""
        exif = None
        if self.exif:
            parsed = _exif(self.exif)
            parsed[ORIENTATION] = 1
            exif = parsed.tobytes()
        xmp = self.xmp
        for pattern in _XMP_ORIENTATION if xmp else ():
            xmp = pattern.sub(rb"\g<1>1\g<2>", xmp)
        return replace(self, exif=exif, xmp=xmp)

    def describing(self, mode: str) -> "ImageMetadata":
        """The same metadata, less a colour profile that cannot describe pixels of PIL ``mode`` (CMYK on RGB)."""
        if self.icc_profile and colour_space(self.icc_profile) != PROFILE_SPACES.get(mode):
            return replace(self, icc_profile=None)
        return self

    def colour_only(self) -> "ImageMetadata":
        """Only the colour profile (what ``--strip-metadata`` keeps: without it the colours would change)."""
        return ImageMetadata(icc_profile=self.icc_profile)


def metadata_of(image: Image.Image) -> ImageMetadata:
    """The colour profile and metadata of a PIL image as opened (EXIF without a TIFF's pixel tags)."""
    info = image.info
    xmp = info.get("xmp") or info.get("XML:com.adobe.xmp")
    dpi = info.get("dpi")
    return ImageMetadata(
        icc_profile=info.get("icc_profile") or None,
        exif=_picture_exif(image),
        xmp=(xmp.encode("utf-8") if isinstance(xmp, str) else bytes(xmp)) if xmp else None,
        dpi=(float(dpi[0]), float(dpi[1])) if dpi and all(dpi) else None,
    )


def _picture_exif(image: Image.Image) -> Optional[bytes]:
    """The image's EXIF without a TIFF's pixel tags; None if it has none, or none that Pillow can rewrite."""
    try:
        exif = _exif(image.getexif().tobytes())
        for tag in PIXEL_TAGS & set(exif):
            del exif[tag]
        return exif.tobytes() if len(exif) else None
    except Exception:  # a corrupt EXIF block: the pixels are still good, the EXIF is left out
        return None


def image_info(metadata: ImageMetadata) -> dict[str, Any]:
    """``metadata`` as the ``info`` of a PIL image (the keys Pillow's readers set)."""
    return _present(icc_profile=metadata.icc_profile, exif=metadata.exif, xmp=metadata.xmp, dpi=metadata.dpi)


def save_arguments(metadata: ImageMetadata, image_format: str) -> tuple[dict[str, Any], list[str]]:
    """Pillow ``save`` keywords embedding ``metadata`` in ``image_format``, and notes on what it cannot hold."""
    icc, exif, xmp, dpi = metadata.icc_profile, metadata.exif, metadata.xmp, metadata.dpi
    notes: list[str] = []
    if image_format == "PNG":
        extra: dict[str, Any] = {}
        if xmp:
            extra["pnginfo"] = PngImagePlugin.PngInfo()
            extra["pnginfo"].add_itxt("XML:com.adobe.xmp", xmp.decode("utf-8", "replace"))
        return _present(icc_profile=icc, exif=exif, dpi=dpi, **extra), notes
    if image_format == "JPEG":
        if exif and len(exif) > JPEG_SEGMENT:
            notes.append(f"the EXIF ({len(exif) // 1024} KiB) is too large for a JPEG and was left out")
            exif = None
        if xmp and len(xmp) > JPEG_SEGMENT - 29:
            notes.append(f"the XMP ({len(xmp) // 1024} KiB) is too large for a JPEG and was left out")
            xmp = None
        return _present(icc_profile=icc, exif=exif, xmp=xmp, dpi=dpi), notes
    if image_format == "WEBP":  # WebP has no resolution field: it goes into the EXIF
        return _present(icc_profile=icc, exif=_with_resolution(exif, dpi) if dpi else exif, xmp=xmp), notes
    if image_format == "TIFF":  # the XMP is a TIFF tag, written with the EXIF's
        if xmp:
            tags = _exif(exif)
            tags[XMP_TAG] = xmp
            exif = tags.tobytes()
        return _present(icc_profile=icc, exif=exif, dpi=dpi), notes
    if icc or exif or xmp:
        notes.append(f"{image_format} holds no colour profile or metadata: they were left out")
    return {}, notes


def _exif(data: Optional[bytes]) -> Image.Exif:
    """EXIF bytes as an editable :class:`PIL.Image.Exif` (empty for None)."""
    exif = Image.Exif()
    if data:
        exif.load(data)
    return exif


def _with_resolution(exif: Optional[bytes], dpi: tuple[float, float]) -> bytes:
    """EXIF bytes whose first IFD gives the resolution ``dpi`` (pixels per inch)."""
    tags = _exif(exif)
    tags[X_RESOLUTION], tags[Y_RESOLUTION], tags[RESOLUTION_UNIT] = dpi[0], dpi[1], INCHES
    return tags.tobytes()


def _present(**arguments: Any) -> dict[str, Any]:
    """The keyword arguments that have a value."""
    return {key: value for key, value in arguments.items() if value}
