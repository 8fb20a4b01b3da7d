"""The engine's bounded job queue: jobs wait in order, workers take them, owners cancel them by id."""
from __future__ import annotations

import threading
import time
from collections import deque
from dataclasses import dataclass, field
from typing import Deque, Dict, List, Optional, Tuple

from ..errors import RestyleError
from ..progress import CancelToken, Progress
from .stylize_request import StylizeRequest


class Busy(RestyleError):
    """The job queue is full."""

    code = "busy"


@dataclass(eq=False)
class Job:
    """One ``stylize`` request from ``owner`` (a ROUTER identity) under the client's ``id``."""

    owner: bytes
    id: str
    request: StylizeRequest
    token: CancelToken = field(default_factory=CancelToken)
    state: str = "queued"  # queued | running
    dropped: bool = False  # the owner is gone or the engine stops: send it nothing more
    progress: Optional[Progress] = None
    accepted_at: float = field(default_factory=time.monotonic)

    @property
    def key(self) -> Tuple[bytes, str]:
        return self.owner, self.id

    def describe(self, position: int) -> dict:
        """The job as listed in ``status`` and ``heartbeat`` replies."""
        info = {"job": self.id, "state": self.state, "position": position}
        if self.progress is not None:
            info.update(done=int(self.progress.done), total=int(self.progress.total), stage=str(self.progress.stage))
        return info


class JobQueue:
    """Queued and running jobs, bounded in count and in bytes of pixels held."""

    def __init__(self, max_queue: int, max_bytes: int) -> None:
        self.max_queue = max_queue
        self.max_bytes = max_bytes
        self._waiting: Deque[Job] = deque()
        self._jobs: Dict[Tuple[bytes, str], Job] = {}
        self._cond = threading.Condition()

    def submit(self, job: Job) -> int:
        """Queue ``job`` and return how many jobs wait before it; raise :class:`Busy` when full."""
        with self._cond:
            if len(self._waiting) >= self.max_queue:
                raise Busy(f"the engine already has {len(self._waiting)} jobs waiting",
                           "wait for a job to finish, or cancel one, and try again")
            held = sum(j.request.nbytes for j in self._jobs.values())
            if held + job.request.nbytes > self.max_bytes:
                raise Busy(f"the engine holds {held >> 20} MiB of queued pixels and cannot take "
                           f"{job.request.nbytes >> 20} MiB more", "wait for a job to finish and try again")
            self._waiting.append(job)
            self._jobs[job.key] = job
            self._cond.notify()
            return len(self._waiting) - 1

    def take(self, timeout_s: float) -> Optional[Job]:
        """The next waiting job, now marked running; None if none arrives within ``timeout_s``."""
        with self._cond:
            if not self._waiting:
                self._cond.wait(timeout_s)
            if not self._waiting:
                return None
            job = self._waiting.popleft()
            job.state = "running"
            return job

    def finish(self, job: Job) -> None:
        """Forget a job that a worker has finished with."""
        with self._cond:
            self._jobs.pop(job.key, None)

    def find(self, owner: bytes, job_id: str) -> Optional[Job]:
        """The owner's queued or running job ``job_id``, if any."""
        with self._cond:
            return self._jobs.get((owner, job_id))

    def cancel(self, owner: bytes, job_id: str, drop: bool = False) -> Optional[Job]:
        """Cancel the owner's job ``job_id``, if any, and return it.

        A waiting job leaves the queue at once (its ``state`` stays ``"queued"``: the caller answers for
        it); a running one stops at its next check and its worker answers. ``drop``: send nothing more.
        """
        with self._cond:
            job = self._jobs.get((owner, job_id))
            if job is None:
                return None
            job.dropped = job.dropped or drop
            job.token.cancel()
            if job.state == "queued":
                self._waiting.remove(job)
                del self._jobs[job.key]
            return job

    def cancel_all(self, owner: Optional[bytes] = None) -> List[Job]:
        """Cancel and drop every job of ``owner`` (of everyone when None); return them."""
        with self._cond:
            keys = [k for k in self._jobs if owner is None or k[0] == owner]
            return [job for job in (self.cancel(k[0], k[1], drop=True) for k in keys) if job is not None]

    def position(self, job: Job) -> int:
        """How many jobs wait before ``job`` (0 when it is running)."""
        with self._cond:
            return self._waiting.index(job) if job.state == "queued" and job in self._waiting else 0

    def owners(self) -> List[bytes]:
        """Owners that have queued or running jobs."""
        with self._cond:
            return list({k[0] for k in self._jobs})

    def of_owner(self, owner: bytes) -> List[dict]:
        """The owner's jobs as listed in ``status`` and ``heartbeat`` replies."""
        with self._cond:
            jobs = [j for j in self._jobs.values() if j.owner == owner]
            return [j.describe(self._waiting.index(j) if j.state == "queued" else 0) for j in jobs]

    @property
    def waiting(self) -> int:
        with self._cond:
            return len(self._waiting)

    @property
    def running(self) -> int:
        with self._cond:
            return len(self._jobs) - len(self._waiting)
