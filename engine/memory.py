"""Process memory policy for large tensors (glibc on Linux; a no-op elsewhere).

glibc serves every allocation above 32 MiB with a fresh ``mmap`` and unmaps it on free, so each
large activation of a net is page-faulted in again: on the test machine that costs 0.46 ms per MiB,
about as long as the convolutions themselves at 2048². Serving large blocks from the heap lets
layers reuse the memory the previous layers freed (2048² preset: 1.9 s instead of 3.0 s).

The heap is given back once the engine has been idle for a while (``RESTYLE_RELEASE_AFTER``,
default 30 s; 0 gives it back after every job): a job that follows soon after another (a preview,
then the final render) finds its memory already mapped, which saves the page faults again (2048²
preset: about 1.3 s instead of 1.65 s). ``RESTYLE_MALLOC=system`` opts out of both.
"""
from __future__ import annotations

import ctypes
import ctypes.util
import functools
import os
import sys
import threading
from contextlib import contextmanager
from typing import Callable, Iterator, Optional

_M_TRIM_THRESHOLD = -1
_M_MMAP_MAX = -4
DEFAULT_RELEASE_AFTER_S = 30.0


@functools.lru_cache(maxsize=1)
def _glibc() -> Optional[ctypes.CDLL]:
    if not sys.platform.startswith("linux") or os.environ.get("RESTYLE_MALLOC", "").lower() == "system":
        return None
    try:
        libc = ctypes.CDLL(ctypes.util.find_library("c") or "libc.so.6")
        libc.mallopt  # noqa: B018 - present only in glibc
        libc.malloc_trim
    except (OSError, AttributeError):
        return None
    return libc


def reuse_large_blocks() -> bool:
    """Serve large allocations from the heap so freed activations are reused; True if applied."""
    libc = _glibc()
    if libc is None:
        return False
    return bool(libc.mallopt(_M_MMAP_MAX, 0)) and bool(libc.mallopt(_M_TRIM_THRESHOLD, 1 << 30))


def release_free_memory() -> None:
    """Give the heap's free memory back to the operating system (after a job)."""
    libc = _glibc()
    if libc is not None:
        libc.malloc_trim(0)


class IdleRelease:
    """Calls ``release`` once no job has run for ``delay`` seconds (at once when ``delay`` is 0).

    Jobs may overlap (several stylizers, threads); the countdown starts when the last one ends and
    stops when a new one starts.
    """

    def __init__(self, delay: float, release: Callable[[], None]) -> None:
        self.delay = delay
        self._release = release
        self._lock = threading.Lock()
        self._active = 0
        self._timer: Optional[threading.Timer] = None

    def job_started(self) -> None:
        with self._lock:
            self._active += 1
            if self._timer is not None:
                self._timer.cancel()
                self._timer = None

    def job_finished(self) -> None:
        with self._lock:
            self._active -= 1
            if self._active > 0:
                return
            if self.delay <= 0:
                self._release()
                return
            self._timer = threading.Timer(self.delay, self._release_if_idle)
            self._timer.daemon = True
            self._timer.start()

    def _release_if_idle(self) -> None:
        with self._lock:
            if self._active == 0:
                self._timer = None
                self._release()

    @property
    def pending(self) -> bool:
        """Whether a release is scheduled."""
        return self._timer is not None


def _release_after() -> float:
    try:
        return max(0.0, float(os.environ.get("RESTYLE_RELEASE_AFTER", DEFAULT_RELEASE_AFTER_S)))
    except ValueError:
        return DEFAULT_RELEASE_AFTER_S


_IDLE = IdleRelease(_release_after(), release_free_memory)


@contextmanager
def job_memory() -> Iterator[None]:
    """Mark a job: the heap's free memory is given back once jobs have stopped for a while."""
    _IDLE.job_started()
    try:
        yield
    finally:
        _IDLE.job_finished()
