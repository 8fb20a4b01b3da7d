"""Engine calls on worker threads, reporting back to the UI thread through Qt signals."""
from __future__ import annotations

import threading
from typing import Any

from . import job
from .engine_link import client as engine_client
from .qt import QThread, pyqtSignal
from .settings import Settings


class EngineProbe(QThread):
    """Starts the engine if nothing answers, then fetches its info and preset styles."""

    status = pyqtSignal(str)
    ready = pyqtSignal(dict, list)  # pong, styles
    failed = pyqtSignal(str)

    def __init__(self, settings: Settings, parent: Any = None) -> None:
        super().__init__(parent)
        self.settings = settings

    def run(self) -> None:
        try:
            with job.make_client(self.settings) as client:
                pong = client.ensure_running(wait_s=self.settings.start_wait_s, on_status=self._on_status)
                styles = client.styles()
        except Exception as e:  # every failure is shown to the user, none may kill Krita
            self.failed.emit(job.failure_text(e))
            return
        self.ready.emit(pong, styles)

    def _on_status(self, text: str) -> None:
        self.status.emit("Starting engine…" if text == "starting the engine" else f"Starting engine: {text}…")


class JobThread(QThread):
    """Runs one job; ``cancel()`` asks the engine to stop it."""

    progress = pyqtSignal(str, int)  # text, percent (-1: unknown)
    done = pyqtSignal(bytes)
    failed = pyqtSignal(str, bool)  # message, cancelled

    def __init__(self, settings: Settings, work: job.Job, parent: Any = None) -> None:
        super().__init__(parent)
        self.settings = settings
        self.work = work
        self._cancel = threading.Event()

    def cancel(self) -> None:
        """Ask the engine to stop this job (thread-safe)."""
        self._cancel.set()

    def run(self) -> None:
        try:
            with job.make_client(self.settings) as client:
                out = job.run(client, self.work, self._on_progress, self._cancel.is_set)
        except Exception as e:  # every failure is shown to the user, none may kill Krita
            self.failed.emit(job.failure_text(e), self._cancel.is_set())
            return
        if self._cancel.is_set():
            self.failed.emit(job.failure_text(engine_client.JobCancelled()), True)
        else:
            self.done.emit(out)

    def _on_progress(self, report: dict) -> None:
        text, percent = job.progress_text(report)
        self.progress.emit(text, -1 if percent is None else percent)
