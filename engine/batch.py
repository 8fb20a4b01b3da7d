"""One image file of a batch: read with its profile and metadata, stylized, written like it; what it gave."""
from __future__ import annotations

import time
from dataclasses import dataclass
from typing import Any, Callable, Optional

import numpy as np

from .errors import RestyleError
from .imaging.photo import Photo, read_photo, write_photo

# Stylizes the pixels the engine works in; returns the result and the device it ran on.
Runner = Callable[[np.ndarray], "tuple[np.ndarray, str]"]


@dataclass(frozen=True)
class FileOutcome:
    """What stylizing ``source`` into ``output`` gave: its size, time, device and notes, or why it failed."""

    source: str
    output: str
    size: Optional[tuple[int, int]] = None
    seconds: float = 0.0
    device: str = ""
    notes: tuple[str, ...] = ()
    error: Optional[str] = None
    hint: str = ""

    @property
    def failed(self) -> bool:
        return self.error is not None

    @classmethod
    def failure(cls, source: str, output: str, exc: RestyleError) -> "FileOutcome":
        """The outcome of a file that failed with ``exc``."""
        return cls(source, output, error=exc.message, hint=exc.hint or "")


def stylize_file(run: Runner, source: str, output: str, overwrite: bool = False,
                 strip_metadata: bool = False) -> FileOutcome:
    """Stylize the image file ``source`` with ``run`` and write it to ``output``; raises :class:`RestyleError`."""
    started = time.perf_counter()
    photo = read_photo(source)
    result, device = run(photo.working)
    return write_result(source, output, result, photo, device, started, overwrite, strip_metadata)


def write_result(source: str, output: str, result: np.ndarray, photo: Photo, device: str, started: float,
                 overwrite: bool = False, strip_metadata: bool = False) -> FileOutcome:
    """Write ``result``, stylized from ``photo``, to ``output`` as :func:`write_photo` does; its outcome."""
    notes = write_photo(output, result, photo, overwrite=overwrite, strip_metadata=strip_metadata)
    return FileOutcome(source, output, (int(result.shape[1]), int(result.shape[0])),
                       time.perf_counter() - started, device, tuple(notes))


def stylizer_runner(stylizer: Any, style: Any, seed: int = 0, progress: Any = None, **settings: Any) -> Runner:
    """A :data:`Runner` that calls ``stylizer.stylize`` with ``style`` and the other ``Stylizer.stylize`` settings."""

    def run(pixels: np.ndarray) -> tuple[np.ndarray, str]:
        return stylizer.stylize(pixels, style, seed=seed, progress=progress, **settings), str(stylizer.device)

    return run
