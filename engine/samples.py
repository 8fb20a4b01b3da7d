"""The bundled sample photo: NASA astronaut Eileen Collins (public domain, via scikit-image's data set)."""
from __future__ import annotations

import functools
from importlib import resources

import numpy as np

from .imaging.io import decode_image

SAMPLE_CREDIT = "Eileen Collins, NASA (public domain), from scikit-image's sample data"


@functools.lru_cache(maxsize=1)
def sample_photo() -> np.ndarray:
    """The sample photo as a 512 x 512 uint8 RGB array."""
    data = resources.files("engine").joinpath("data/astronaut.jpg").read_bytes()
    return decode_image(data, "astronaut.jpg")
