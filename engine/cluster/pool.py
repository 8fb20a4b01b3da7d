"""Image files handed to a pool of Ray actors, one file per actor at a time; a dead actor's file goes to the next free one."""
from __future__ import annotations

from collections import Counter, deque
from typing import Any, Callable, Optional, Sequence

from ..batch import FileOutcome
from ..errors import RestyleError
from .shape import WorkerShape
from .worker import FileWorker

RESTARTS = 3  # times Ray restarts a worker that died (a new process, the Stylizer loaded again)
ATTEMPTS = 3  # workers a file may take down before it is given up as failed


def run_files(ray: Any, jobs: Sequence[tuple[str, str]], shape: WorkerShape, worker: dict[str, Any],
              overwrite: bool = False, runtime_env: Optional[dict] = None,
              on_file: Optional[Callable[[FileOutcome], None]] = None) -> list[FileOutcome]:
    """Stylize each (input, output) of ``jobs`` on ``shape.count`` actors built with :class:`FileWorker` (``worker``:
    its arguments); the outcomes in the order of ``jobs``, each also passed to ``on_file`` as it comes in."""
    options: dict[str, Any] = dict(num_cpus=shape.cpus, num_gpus=shape.gpus, max_restarts=RESTARTS, max_task_retries=0)
    if runtime_env:
        options["runtime_env"] = runtime_env
    actor_class = ray.remote(FileWorker).options(**options)
    actors = [actor_class.remote(**worker) for _ in range(shape.count)]
    try:
        return _Dispatch(ray, actors, jobs, overwrite, on_file).run()
    finally:
        for actor in actors:
            ray.kill(actor)


class _Dispatch:
    """The driver's bookkeeping: which actor is loading, idle or busy with which file, and how often each died."""

    def __init__(self, ray: Any, actors: list, jobs: Sequence[tuple[str, str]], overwrite: bool,
                 on_file: Optional[Callable[[FileOutcome], None]]) -> None:
        self.ray, self.actors, self.jobs, self.overwrite, self.on_file = ray, actors, jobs, overwrite, on_file
        self.died = (ray.exceptions.RayActorError, getattr(ray.exceptions, "OutOfMemoryError", ray.exceptions.RayActorError))
        self.outcomes: dict[int, FileOutcome] = {}
        self.waiting = deque(range(len(jobs)))
        self.attempts: Counter = Counter()
        self.deaths: Counter = Counter()
        self.idle: deque = deque()
        self.loading: dict[Any, int] = {actor.ready.remote(): k for k, actor in enumerate(actors)}
        self.busy: dict[Any, tuple[int, int]] = {}

    def run(self) -> list[FileOutcome]:
        while len(self.outcomes) < len(self.jobs):
            self._hand_out()
            if not self.busy and not self.loading:
                self._give_up_waiting()
                break
            ref = self.ray.wait([*self.busy, *self.loading], num_returns=1)[0][0]
            if ref in self.loading:
                self._loaded(ref, self.loading.pop(ref))
            else:
                self._finished(ref, *self.busy.pop(ref))
        return [self.outcomes[i] for i in range(len(self.jobs))]

    def _hand_out(self) -> None:
        while self.idle and self.waiting:
            k, i = self.idle.pop(), self.waiting.popleft()
            self.attempts[i] += 1
            source, output = self.jobs[i]
            # A retried file may have been written by the worker that died (the checks found no file before the run).
            self.busy[self.actors[k].stylize.remote(source, output, self.overwrite or self.attempts[i] > 1)] = (i, k)

    def _loaded(self, ref: Any, k: int) -> None:
        try:
            _, problem = self.ray.get(ref)
        except self.died:
            self._actor_died(k, reload=True)
            return
        if problem:
            raise RestyleError(*problem)
        self.idle.append(k)

    def _finished(self, ref: Any, i: int, k: int) -> None:
        try:
            outcome = self.ray.get(ref)
        except self.died:
            self._actor_died(k)
            if self.attempts[i] < ATTEMPTS:
                self.waiting.appendleft(i)
            else:
                self._done(i, FileOutcome(*self.jobs[i], error=f"a Ray worker died on it {self.attempts[i]} times",
                                          hint="see the Ray logs: a crash, or too little memory for this image?"))
            return
        self.idle.append(k)
        self._done(i, outcome)

    def _actor_died(self, k: int, reload: bool = False) -> None:
        """Ray restarts a dead actor up to :data:`RESTARTS` times; it goes to the back of the idle line."""
        self.deaths[k] += 1
        if self.deaths[k] > RESTARTS:
            return
        if reload:
            self.loading[self.actors[k].ready.remote()] = k
        else:
            self.idle.appendleft(k)

    def _give_up_waiting(self) -> None:
        while self.waiting:
            i = self.waiting.popleft()
            self._done(i, FileOutcome(*self.jobs[i], error="not stylized: every Ray worker died",
                                      hint="see the Ray logs; rerun for the files that are missing"))

    def _done(self, i: int, outcome: FileOutcome) -> None:
        self.outcomes[i] = outcome
        if self.on_file is not None:
            self.on_file(outcome)
