"""The body of one Ray worker: a warm :class:`engine.Stylizer` that reads, stylizes and writes image files."""
from __future__ import annotations

import os
from pathlib import Path
from typing import Any, Optional

from ..batch import FileOutcome, stylize_file, stylizer_runner
from ..errors import RestyleError

# Test hook: a path; the first worker to take a file while it does not exist creates it and dies (os._exit).
CRASH_ONCE_ENV = "RESTYLE_CLUSTER_CRASH_ONCE"


class FileWorker:
    """Stylizes image files with one request's settings; files are paths every worker can reach."""

    def __init__(self, style: Any, settings: dict[str, Any], device: str = "auto", threads: Optional[int] = None,
                 seed: int = 0, strip_metadata: bool = False) -> None:
        self.style, self.settings, self.seed, self.strip_metadata = style, settings, seed, strip_metadata
        self.device, self.threads = device, threads
        self.run: Any = None

    def ready(self) -> tuple[str, Optional[tuple[str, str]]]:
        """Load the Stylizer; its device, or the error (message, hint) that kept it from loading."""
        try:
            return self._load(), None
        except RestyleError as exc:
            return "", (exc.message, exc.hint or "")

    def _load(self) -> str:
        """Create the Stylizer on first use (again after a restart); its device."""
        if self.run is None:
            from ..stylizer import Stylizer

            stylizer = Stylizer(device=self.device, threads=self.threads)
            self.run = stylizer_runner(stylizer, self.style, seed=self.seed, **self.settings)
            self.device = str(stylizer.device)
        return self.device

    def stylize(self, source: str, output: str, overwrite: bool) -> FileOutcome:
        """Stylize the file ``source`` into ``output``; a file that fails gives its error, not an exception."""
        _crash_once()
        try:
            self._load()
            return stylize_file(self.run, source, output, overwrite=overwrite, strip_metadata=self.strip_metadata)
        except RestyleError as exc:
            return FileOutcome.failure(source, output, exc)


def _crash_once() -> None:
    marker = os.environ.get(CRASH_ONCE_ENV)
    if not marker:
        return
    try:
        Path(marker).touch(exist_ok=False)
    except FileExistsError:
        return
    os._exit(1)
