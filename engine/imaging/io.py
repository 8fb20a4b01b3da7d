"""Reading and writing image files safely: size guards, clear errors, no silent overwrites."""
from __future__ import annotations

import contextlib
import io
import os
import tempfile
import warnings
from pathlib import Path
from typing import Iterator, Optional, Union

import numpy as np
from PIL import Image, ImageOps

from ..errors import BadInput, TooLarge
from .icc import colour_space
from .metadata import ImageMetadata, image_info, metadata_of, save_arguments
from .pixels import from_float, to_float

PathLike = Union[str, "os.PathLike[str]"]
DEFAULT_MAX_PIXELS = 16384 * 16384
OUTPUT_FORMATS = {".png": "PNG", ".jpg": "JPEG", ".jpeg": "JPEG", ".webp": "WEBP", ".tif": "TIFF", ".tiff": "TIFF",
                  ".bmp": "BMP"}
JPEG_BACKGROUND = (255, 255, 255)  # what transparency is flattened onto in a JPEG (white, like a print)


def max_pixels() -> int:
    """The largest image (in pixels) the engine accepts; ``RESTYLE_MAX_PIXELS`` overrides."""
    try:
        return int(os.environ.get("RESTYLE_MAX_PIXELS", DEFAULT_MAX_PIXELS))
    except ValueError:
        return DEFAULT_MAX_PIXELS


def check_size(width: int, height: int, what: str = "image") -> None:
    """Raise :class:`TooLarge` if an image of this size exceeds the pixel limit."""
    limit = max_pixels()
    if width * height > limit:
        raise TooLarge(
            f"{what} is {width}x{height} ({width * height / 1e6:.0f} MP), more than the limit of {limit / 1e6:.0f} MP",
            "scale it down, select a region, or raise RESTYLE_MAX_PIXELS if you have the memory",
        )


def read_image(path: PathLike) -> np.ndarray:
    """Pixels of an image file: uint8/uint16 RGB(A) or gray, float32 for float TIFFs; EXIF orientation applied."""
    return decode_image(_file_bytes(path), os.fspath(path))


def read_image_with_metadata(path: PathLike) -> tuple[np.ndarray, ImageMetadata]:
    """Pixels of an image file (see :func:`read_image`) and its colour profile and metadata, orientation 1."""
    return decode_image_with_metadata(_file_bytes(path), os.fspath(path))


def decode_image(data: bytes, name: str = "image") -> np.ndarray:
    """Pixels of an encoded image (see :func:`read_image`)."""
    return decode_image_with_metadata(data, name)[0]


def decode_image_with_metadata(data: bytes, name: str = "image") -> tuple[np.ndarray, ImageMetadata]:
    """Pixels of an encoded image and its metadata (see :func:`read_image_with_metadata`)."""
    with _decoding(name):
        image = _open_image(data, name)
        return image_to_array(ImageOps.exif_transpose(image)), metadata_of(image).upright()


def _file_bytes(path: PathLike) -> bytes:
    """The contents of an image file, or :class:`BadInput` saying why it cannot be read."""
    name = os.fspath(path)
    try:
        with open(name, "rb") as f:
            return f.read()
    except FileNotFoundError:
        raise BadInput(f"image not found: {name}", "check the path") from None
    except OSError as exc:
        raise BadInput(f"cannot open {name}: {exc.strerror or exc}", "check the file's permissions") from None


def _open_image(data: bytes, name: str) -> Image.Image:
    """An encoded image, size-checked and fully decoded (orientation not applied)."""
    image = Image.open(io.BytesIO(data))
    check_size(image.width, image.height, name)
    image.load()
    return image


@contextlib.contextmanager
def _decoding(name: str) -> Iterator[None]:
    """Turns what PIL raises for a corrupt or oversized image into :class:`BadInput` or :class:`TooLarge`."""
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", Image.DecompressionBombWarning)
            yield
    except (TooLarge, BadInput):
        raise
    except Image.DecompressionBombError:
        raise TooLarge(f"{name} is too large to decode safely", "scale it down first") from None
    except Exception as exc:  # PIL raises many types for corrupt data
        raise BadInput(
            f"cannot read {name}: it is not a complete image file ({exc})", "re-export it as PNG, JPEG, TIFF or WebP"
        ) from None


def image_to_array(image: Image.Image) -> np.ndarray:
    """A PIL image as an array, keeping 16-bit and alpha where PIL has them."""
    mode = image.mode
    if mode in ("I;16", "I;16B", "I;16L"):
        return np.asarray(image).astype(np.uint16)
    if mode == "I":
        return np.clip(np.asarray(image), 0, 65535).astype(np.uint16)
    if mode == "F":
        return np.asarray(image, dtype=np.float32)
    if mode in ("RGB", "RGBA", "L", "LA"):
        return np.asarray(image)
    if mode == "P" and "transparency" in image.info or mode in ("PA", "RGBa", "La"):
        return np.asarray(image.convert("RGBA"))
    return np.asarray(image.convert("RGB"))


def array_to_image(pixels: np.ndarray, metadata: Optional[ImageMetadata] = None) -> Image.Image:
    """An array from this module (or the Stylizer) as a PIL image; 16-bit colour becomes 8-bit.

    ``metadata`` (colour profile, EXIF, XMP, resolution) goes into the image's ``info``.
    """
    if pixels.ndim == 2:
        pixels = pixels[:, :, None]
    channels = pixels.shape[2]
    if pixels.dtype == np.uint16 and channels == 1:
        image = Image.fromarray(np.ascontiguousarray(pixels[:, :, 0]))
    else:
        if pixels.dtype != np.uint8:
            pixels = from_float(to_float(pixels), np.uint8)
        image = Image.fromarray(np.ascontiguousarray(pixels[:, :, 0] if channels == 1 else pixels))
    image.info.update(image_info((metadata or ImageMetadata()).describing(image.mode)))
    return image


def output_format(path: PathLike) -> str:
    """The Pillow format an output name asks for, from its suffix; :class:`BadInput` for an unknown one."""
    target = Path(path)
    suffix = target.suffix.lower()
    if suffix not in OUTPUT_FORMATS:
        raise BadInput(f"cannot tell the image format of {target.name}", "end the output name with .png, .jpg, .webp or .tif")
    return OUTPUT_FORMATS[suffix]


def write_image(path: PathLike, pixels: np.ndarray, overwrite: bool = False,
                metadata: Optional[ImageMetadata] = None) -> list[str]:
    """Save ``pixels`` to ``path`` (format from the suffix) with ``metadata``; refuses to replace a file unless ``overwrite``.

    The file appears complete or not at all (written to a temporary file in its folder, then renamed);
    a failed write raises :class:`BadInput`. Returns notes on what the format could not hold.
    """
    target = Path(path)
    image_format = output_format(target)
    if target.exists() and not overwrite:
        raise BadInput(f"{target} already exists", "choose another output name or pass --overwrite")
    image, notes = _image_for(pixels, image_format)
    fitting = (metadata or ImageMetadata()).describing(image.mode)
    if metadata and metadata.icc_profile and not fitting.icc_profile:
        space = colour_space(metadata.icc_profile) or "unreadable"
        notes.append(f"the input's colour profile ({space}) does not describe {image.mode} pixels: it was left out")
    arguments, more_notes = save_arguments(fitting, image_format)
    if image_format == "JPEG":
        arguments["quality"] = 95
    tmp = None
    try:
        target.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(dir=target.parent, prefix=f".{target.name}.", suffix=".tmp")
        os.chmod(tmp, 0o666 & ~_umask())  # mkstemp makes 0600; a saved image gets the usual mode
        with os.fdopen(fd, "wb") as f:
            image.save(f, format=image_format, **arguments)
        if overwrite:
            os.replace(tmp, target)
        else:
            _create_from(tmp, target)
    except FileExistsError:
        raise BadInput(f"{target} already exists", "choose another output name or pass --overwrite") from None
    except OSError as exc:
        raise BadInput(f"could not write {target}: {exc.strerror or exc}", "check the free space and permissions "
                       "there, or choose another folder with -o; nothing was written") from None
    finally:
        if tmp is not None and os.path.exists(tmp):
            os.unlink(tmp)
    return notes + more_notes


def _image_for(pixels: np.ndarray, image_format: str) -> tuple[Image.Image, list[str]]:
    """The PIL image to save in ``image_format``, and what had to change for it (JPEG has no alpha, no 16 bits)."""
    if image_format in ("JPEG", "WEBP") and pixels.dtype == np.uint16:
        pixels = from_float(to_float(pixels), np.uint8)
    image = array_to_image(pixels)
    if image_format == "JPEG" and image.mode in ("RGBA", "LA"):
        flat = Image.new(image.mode[0] if image.mode == "LA" else "RGB", image.size,
                         JPEG_BACKGROUND if image.mode == "RGBA" else JPEG_BACKGROUND[0])
        flat.paste(image.convert(flat.mode), mask=image.getchannel("A"))
        return flat, ["the transparency was flattened onto white: JPEG has no alpha channel"]
    return image, []


def _create_from(tmp: str, target: Path) -> None:
    """Move ``tmp`` to ``target`` only if ``target`` does not exist (atomically where links work)."""
    try:
        os.link(tmp, target)  # fails if the file appeared meanwhile: never replaces it
    except FileExistsError:
        raise
    except OSError:  # no hard links on this filesystem
        if target.exists():
            raise FileExistsError(target) from None
        os.replace(tmp, target)
        return
    os.unlink(tmp)


def _umask() -> int:
    mask = os.umask(0)
    os.umask(mask)
    return mask
