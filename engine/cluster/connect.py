"""Ray itself: imported on first use, joined (a cluster's address, ``RAY_ADDRESS``) or started on this machine."""
from __future__ import annotations

import contextlib
import logging
import os
from typing import Any, Iterator, Optional

from ..errors import BadInput
from .shape import Node

INSTALL_HINT = "pip install 'restyle[ray]'"


def import_ray() -> Any:
    """The ``ray`` module, or :class:`BadInput` saying how to install it."""
    try:
        import ray
    except ImportError:
        raise BadInput("running on Ray needs Ray, which is not installed", INSTALL_HINT) from None
    return ray


@contextlib.contextmanager
def connected(address: Optional[str] = None) -> Iterator[Any]:
    """Ray, connected for the duration: as it is if already initialised in this process; else joined at
    ``address`` (or ``RAY_ADDRESS``), or started on this machine and stopped at the end."""
    ray = import_ray()
    if ray.is_initialized():
        yield ray
        return
    address = address or os.environ.get("RAY_ADDRESS") or None
    quiet = dict(logging_level=logging.ERROR, log_to_driver=True)
    try:
        if address:
            ray.init(address=address, **quiet)
        else:
            os.environ.setdefault("RAY_USAGE_STATS_ENABLED", "0")
            ray.init(address="local", include_dashboard=False, **quiet)
    except (ConnectionError, ValueError, RuntimeError) as exc:
        where = f"the Ray cluster at {address}" if address else "a local Ray"
        raise BadInput(f"could not connect to {where}: {str(exc).splitlines()[0] if str(exc) else type(exc).__name__}",
                       "check the address (`ray status` on the head node shows it); a cluster with token "
                       "authentication also needs RAY_AUTH_MODE=token and its token") from None
    try:
        yield ray
    finally:
        ray.shutdown()


def cluster_nodes(ray: Any) -> list[Node]:
    """The CPUs and GPUs of each live node of the cluster ``ray`` is connected to."""
    return [Node(float(n["Resources"].get("CPU", 0)), float(n["Resources"].get("GPU", 0)))
            for n in ray.nodes() if n.get("Alive")]
