"""Shared-memory pixel buffers for clients on the engine's own machine (POSIX only).

A client writes a large frame into a file mapping in the engine's runtime folder and names it in the
header instead of sending its bytes; the engine maps the same file. Mappings are reused between jobs,
so neither side pays for fresh pages, which on many machines cost more than the copy itself.
Standard library only (Python >= 3.8): the client uses it inside Krita's and GIMP's Python.
"""
from __future__ import annotations

import mmap
import os
import re
import stat
import time
import uuid
from collections import OrderedDict
from pathlib import Path
from typing import List, Optional, Tuple

NAME = re.compile(r"[A-Za-z0-9_-]{1,64}")
GRAIN = 1 << 20  # segments grow in whole MiB so that a pooled one fits images of similar size
MIN_BYTES = 1 << 20  # frames smaller than this travel inline: a mapping would not pay off
MAX_POOL = 4


def available() -> bool:
    """Whether this platform can share file mappings this way."""
    return os.name == "posix"


class ShmError(Exception):
    """A shared-memory frame cannot be used; the message says why."""


class Segment:
    """A file in a private folder, mapped read-write and shared with the engine."""

    def __init__(self, path: Path, fd: int) -> None:
        self.path = path
        self.name = path.name
        size = os.fstat(fd).st_size
        try:
            self.map = mmap.mmap(fd, size)
        finally:
            os.close(fd)
        self.inode_size = _identity(path)

    @classmethod
    def create(cls, folder: Path, nbytes: int) -> "Segment":
        """A new segment of at least ``nbytes`` in ``folder``, readable by this user only."""
        path = folder / f"s{os.getpid()}-{uuid.uuid4().hex[:16]}"
        fd = os.open(str(path), os.O_RDWR | os.O_CREAT | os.O_EXCL | getattr(os, "O_NOFOLLOW", 0), 0o600)
        try:
            os.ftruncate(fd, -(-nbytes // GRAIN) * GRAIN)
        except OSError:
            os.close(fd)
            path.unlink()
            raise
        return cls(path, fd)

    @classmethod
    def open(cls, folder: Path, name: str, nbytes: int) -> "Segment":
        """An existing segment ``name`` in ``folder``: a regular file of this user of at least ``nbytes``."""
        if not NAME.fullmatch(name):
            raise ShmError(f"shared-memory name {name[:80]!r} is not of the form [A-Za-z0-9_-]{{1,64}}")
        try:
            fd = os.open(str(folder / name), os.O_RDWR | getattr(os, "O_NOFOLLOW", 0))
        except OSError as e:
            raise ShmError(f"cannot open shared-memory segment {name!r}: {e.strerror}") from None
        st = os.fstat(fd)
        if not stat.S_ISREG(st.st_mode) or st.st_uid != os.getuid() or st.st_size < nbytes:
            os.close(fd)
            raise ShmError(f"shared-memory segment {name!r} is not a file of this user of at least {nbytes} bytes")
        return cls(folder / name, fd)

    @property
    def size(self) -> int:
        return len(self.map)

    def view(self, nbytes: int) -> memoryview:
        """The first ``nbytes`` of the mapping (it stays mapped while the view lives)."""
        return memoryview(self.map)[:nbytes]

    def in_use(self) -> bool:
        """Whether a view of the mapping is still alive somewhere."""
        try:
            self.map.resize(len(self.map))
        except BufferError:
            return True
        except (SystemError, OSError):  # no mremap (macOS): cannot tell, so assume so
            return True
        return False

    def still_current(self) -> bool:
        """Whether the file is the one mapped (not removed or replaced since)."""
        return _identity(self.path) == self.inode_size

    def close(self, unlink: bool = False) -> bool:
        """Unmap (if no view is alive) and optionally remove the file; True if unmapped."""
        if unlink:
            try:
                self.path.unlink()
            except OSError:
                pass
        try:
            self.map.close()
        except BufferError:
            return False
        return True


def _identity(path: Path) -> Optional[Tuple[int, int]]:
    try:
        st = os.stat(str(path), follow_symlinks=False)
    except OSError:
        return None
    return st.st_ino, st.st_size


class SegmentPool:
    """The client's segments in the engine's folder, reused once no result refers to them."""

    def __init__(self, folder: Path) -> None:
        self.folder = folder
        self._segments: List[Segment] = []

    def acquire(self, nbytes: int, exclude: Tuple[Segment, ...] = ()) -> Segment:
        """A free pooled segment of at least ``nbytes``, or a new one."""
        for seg in self._segments:
            if seg not in exclude and seg.size >= nbytes and not seg.in_use() and seg.still_current():
                return seg
        for seg in [s for s in self._segments if s not in exclude and not s.in_use()]:
            if len(self._segments) < MAX_POOL:
                break
            seg.close(unlink=True)
            self._segments.remove(seg)
        seg = Segment.create(self.folder, nbytes)
        self._segments.append(seg)
        return seg

    def find(self, name: str) -> Optional[Segment]:
        """This pool's segment ``name``, if any."""
        return next((seg for seg in self._segments if seg.name == name), None)

    def close(self) -> None:
        """Remove every segment file; mappings still viewed by results stay until those are dropped."""
        for seg in self._segments:
            seg.close(unlink=True)
        self._segments = []


class MappingCache:
    """The engine's mappings of clients' segments, kept between jobs and dropped when idle."""

    def __init__(self, folder: Path, max_bytes: int = 1 << 30, idle_s: float = 60.0) -> None:
        self.folder = folder
        self.max_bytes = max_bytes
        self.idle_s = idle_s
        self._maps: "OrderedDict[str, Tuple[Segment, float]]" = OrderedDict()

    def view(self, name: str, nbytes: int) -> memoryview:
        """The first ``nbytes`` of segment ``name``, mapped once and reused while the file is unchanged."""
        entry = self._maps.pop(name, None)
        seg = entry[0] if entry else None
        if seg is None or seg.size < nbytes or not seg.still_current():
            if seg is not None:
                seg.close()
            seg = Segment.open(self.folder, name, nbytes)
        self._maps[name] = (seg, time.monotonic())
        self.trim()
        return seg.view(nbytes)

    def trim(self) -> None:
        """Unmap idle or surplus segments that no job is using."""
        now = time.monotonic()
        total = sum(seg.size for seg, _ in self._maps.values())
        for name, (seg, used) in list(self._maps.items()):
            size = seg.size
            if (total > self.max_bytes or now - used > self.idle_s or not seg.still_current()) and seg.close():
                del self._maps[name]
                total -= size

    def close(self) -> None:
        """Unmap everything no job is using."""
        for seg, _ in self._maps.values():
            seg.close()
        self._maps.clear()
