"""How many workers a cluster gets and what each reserves: pure arithmetic on the nodes' resources."""
from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Optional, Sequence

from ..errors import BadInput


@dataclass(frozen=True)
class Node:
    """What one node of the cluster offers."""

    cpus: float
    gpus: float = 0.0


@dataclass(frozen=True)
class WorkerShape:
    """``count`` workers, each reserving ``cpus`` CPUs (its torch threads) and ``gpus`` GPUs."""

    count: int
    cpus: int
    gpus: float


def worker_shape(nodes: Sequence[Node], workers: Optional[int] = None, gpus_per_worker: Optional[float] = None,
                 threads: Optional[int] = None) -> WorkerShape:
    """The workers for ``nodes``: by default one GPU each where there are GPUs (as many workers as fit),
    else one worker per node; each takes ``threads`` CPUs, by default its share of the smallest node."""
    total_cpus, total_gpus = sum(n.cpus for n in nodes), sum(n.gpus for n in nodes)
    gpus = (1.0 if total_gpus > 0 else 0.0) if gpus_per_worker is None else float(gpus_per_worker)
    if gpus < 0:
        raise BadInput(f"GPUs per worker must be 0 or more, got {gpus:g}", "e.g. --ray-gpus-per-worker 1, or 0 for CPUs only")
    if workers is not None and workers < 1:
        raise BadInput(f"the number of workers must be at least 1, got {workers}", "e.g. --ray-workers 4")
    if threads is not None and threads < 1:
        raise BadInput(f"threads must be at least 1, got {threads}", "leave --threads out for a fair share of each node")
    usable = [n for n in nodes if (n.gpus if gpus else n.cpus) > 0]
    if not usable:
        kind = "GPUs" if gpus else "CPUs"
        raise BadInput(f"the Ray cluster has no {kind} for the workers",
                       "pass --ray-gpus-per-worker 0 to run on CPUs" if gpus else "start Ray nodes with CPUs")
    count = workers or (sum(int(n.gpus // gpus) for n in usable) if gpus else len(usable))
    per_node = math.ceil(count / len(usable))
    cpus = threads or max(1, int(min(n.cpus for n in usable) // per_node))
    if count * cpus > total_cpus or count * gpus > total_gpus + 1e-9 or count < 1:
        raise BadInput(f"{max(count, 1)} workers of {cpus} CPUs and {gpus:g} GPUs do not fit the Ray cluster "
                       f"({total_cpus:g} CPUs, {total_gpus:g} GPUs)",
                       "ask for fewer --ray-workers, --threads or --ray-gpus-per-worker")
    return WorkerShape(count, cpus, gpus)
