"""Progress reports and cancellation shared by every long-running method."""
from __future__ import annotations

import threading
import time
from dataclasses import dataclass, field, replace
from typing import Callable, Optional

from .errors import Cancelled


@dataclass(frozen=True)
class Progress:
    """One progress report: ``done`` of ``total`` steps in ``stage``; ``eta_s`` if known."""

    done: int
    total: int
    stage: str
    eta_s: Optional[float] = None
    losses: Optional[dict] = None
    preview: object = None  # optional small uint8 RGB numpy array


ProgressCallback = Callable[[Progress], None]


class CancelToken:
    """A thread-safe flag that a caller sets and a running job checks."""

    def __init__(self) -> None:
        self._event = threading.Event()

    def cancel(self) -> None:
        """Ask the job to stop at its next check."""
        self._event.set()

    @property
    def cancelled(self) -> bool:
        return self._event.is_set()

    def check(self) -> None:
        """Raise :class:`Cancelled` if cancellation was requested."""
        if self._event.is_set():
            raise Cancelled()


@dataclass
class ProgressMeter:
    """Counts steps of a job, estimates the time left and forwards reports to a callback."""

    total: int
    stage: str
    callback: Optional[ProgressCallback] = None
    cancel: Optional[CancelToken] = None
    done: int = 0
    _start: float = field(default_factory=time.perf_counter)

    def step(self, n: int = 1, **extra) -> None:
        """Record ``n`` finished steps, report them and honour a pending cancel."""
        if self.cancel is not None:
            self.cancel.check()
        self.done += n
        if self.callback is not None:
            elapsed = time.perf_counter() - self._start
            eta = elapsed / self.done * (self.total - self.done) if self.done else None
            self.callback(Progress(self.done, self.total, self.stage, eta, **extra))
        if self.cancel is not None:
            self.cancel.check()


PART_STEPS = 1000  # resolution of one part in :func:`part_of` reports


def part_of(callback: Optional[ProgressCallback], index: int, count: int) -> Optional[ProgressCallback]:
    """A callback that reports part ``index`` of ``count`` equal parts of a job to ``callback``.

    Each part's own ``done``/``total`` is mapped onto one overall scale, so that progress never runs
    backwards when a job runs in parts (several methods, one after another). The time left is only
    known in the last part.
    """
    if callback is None or count <= 1:
        return callback

    def report(progress: Progress) -> None:
        done = index * PART_STEPS + progress.done * PART_STEPS // max(1, progress.total)
        eta = progress.eta_s if index == count - 1 else None
        callback(replace(progress, done=done, total=count * PART_STEPS, eta_s=eta))

    return report
