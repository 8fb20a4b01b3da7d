"""An image file as the command line stylizes it: the values the engine works in, and a result written like it."""
from __future__ import annotations

from dataclasses import dataclass
from functools import cached_property

import numpy as np

from .io import PathLike, read_image_with_metadata, write_image
from .linear import decode_linear, encode_linear, is_linear
from .metadata import ImageMetadata


@dataclass(frozen=True, eq=False)
class Photo:
    """An image's pixels (upright, as encoded in the file), its colour profile and metadata, and whether it is linear."""

    pixels: np.ndarray
    metadata: ImageMetadata
    linear: bool = False

    @cached_property
    def working(self) -> np.ndarray:
        """The pixels the engine stylizes: the file's own values, sRGB-encoded if they are linear light."""
        return encode_linear(self.pixels) if self.linear else self.pixels

    def output_pixels(self, result: np.ndarray) -> np.ndarray:
        """A result stylized from :attr:`working`, in the values its file holds.

        Linear light again where the profile says so; a linear file without a profile (float) gives
        sRGB-encoded 8-bit values, which is what a file without a profile means.
        """
        if self.linear and self.metadata.icc_profile:
            return decode_linear(result, self.working, self.pixels)
        return result


def read_photo(path: PathLike) -> Photo:
    """The image file at ``path`` with its colour profile and metadata."""
    pixels, metadata = read_image_with_metadata(path)
    return Photo(pixels, metadata, is_linear(pixels, metadata.icc_profile))


def write_photo(path: PathLike, result: np.ndarray, photo: Photo, overwrite: bool = False,
                strip_metadata: bool = False) -> list[str]:
    """Write a result stylized from ``photo`` with its colour profile and (unless ``strip_metadata``) its metadata.

    Returns notes on what the output format could not hold (see :func:`engine.imaging.io.write_image`).
    """
    metadata = photo.metadata.colour_only() if strip_metadata else photo.metadata
    return write_image(path, photo.output_pixels(result), overwrite=overwrite, metadata=metadata)
