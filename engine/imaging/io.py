"""Reading and writing image files safely: size guards, clear errors, no silent overwrites."""
from __future__ import annotations

import io
import os
import tempfile
import warnings
from pathlib import Path
from typing import Union

import numpy as np
from PIL import Image, ImageOps

from ..errors import BadInput, TooLarge

PathLike = Union[str, "os.PathLike[str]"]
DEFAULT_MAX_PIXELS = 16384 * 16384


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
    name = os.fspath(path)
    try:
        with open(name, "rb") as f:
            data = f.read()
    except FileNotFoundError:
        raise BadInput(f"image not found: {name}", "check the path") from None
    except OSError as exc:
        raise BadInput(f"cannot open {name}: {exc.strerror or exc}", "check the file's permissions") from None
    return decode_image(data, name)


def decode_image(data: bytes, name: str = "image") -> np.ndarray:
    """Pixels of an encoded image (see :func:`read_image`)."""
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", Image.DecompressionBombWarning)
            image = Image.open(io.BytesIO(data))
            check_size(image.width, image.height, name)
            image.load()
            image = ImageOps.exif_transpose(image)
    except (TooLarge, BadInput):
        raise
    except Image.DecompressionBombError:
        raise TooLarge(f"{name} is too large to decode safely", "scale it down first") from None
    except Exception as exc:  # PIL raises many types for corrupt data
        raise BadInput(
            f"cannot read {name}: it is not a complete image file ({exc})", "re-export it as PNG, JPEG, TIFF or WebP"
        ) from None
    return image_to_array(image)


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


def array_to_image(pixels: np.ndarray) -> Image.Image:
    """An array from this module (or the Stylizer) as a PIL image; 16-bit colour becomes 8-bit."""
    if pixels.ndim == 2:
        pixels = pixels[:, :, None]
    channels = pixels.shape[2]
    if pixels.dtype == np.uint16 and channels == 1:
        return Image.fromarray(np.ascontiguousarray(pixels[:, :, 0]))
    if pixels.dtype != np.uint8:
        from .pixels import from_float, to_float

        pixels = from_float(to_float(pixels), np.uint8)
    return Image.fromarray(np.ascontiguousarray(pixels[:, :, 0] if channels == 1 else pixels))


def write_image(path: PathLike, pixels: np.ndarray, overwrite: bool = False) -> Path:
    """Save ``pixels`` to ``path`` (format from the suffix); refuses to replace a file unless ``overwrite``.

    The file appears complete or not at all (written to a temporary file, then renamed).
    """
    target = Path(path)
    if target.exists() and not overwrite:
        raise BadInput(f"{target} already exists", "choose another output name or pass --overwrite")
    suffix = target.suffix.lower()
    formats = {".png": "PNG", ".jpg": "JPEG", ".jpeg": "JPEG", ".webp": "WEBP", ".tif": "TIFF", ".tiff": "TIFF", ".bmp": "BMP"}
    if suffix not in formats:
        raise BadInput(f"cannot tell the image format of {target.name}", "end the output name with .png, .jpg, .webp or .tif")
    image = array_to_image(pixels)
    if formats[suffix] == "JPEG" and image.mode in ("RGBA", "LA"):
        image = image.convert("RGB" if image.mode == "RGBA" else "L")
    target.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=target.parent, prefix=f".{target.name}.", suffix=".tmp")
    try:
        os.chmod(tmp, 0o666 & ~_umask())  # mkstemp makes 0600; a saved image gets the usual mode
        with os.fdopen(fd, "wb") as f:
            image.save(f, format=formats[suffix], **({"quality": 95} if formats[suffix] == "JPEG" else {}))
        if overwrite:
            os.replace(tmp, target)
        else:
            _create_from(tmp, target)
    except FileExistsError:
        os.unlink(tmp)
        raise BadInput(f"{target} already exists", "choose another output name or pass --overwrite") from None
    except BaseException:
        if os.path.exists(tmp):
            os.unlink(tmp)
        raise
    return target


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
