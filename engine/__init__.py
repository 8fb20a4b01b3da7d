"""restyle engine: neural style transfer with pretrained nets, a CLI, a Python API and a local server.

Importing ``engine`` (or ``engine.client``) loads neither torch nor numpy; the heavy parts load on
first use of :class:`Stylizer`, :func:`stylize`, :class:`Region` or :class:`StyleRef`.
"""
import importlib
import os

from .errors import BadInput, Cancelled, DeviceUnavailable, RestyleError, TooLarge, WeightsMissing
from .progress import CancelToken, Progress

# Idle OpenMP threads sleep instead of spinning. On a busy machine (the editor itself, other apps)
# spinning threads fight the working ones for cores: measured here, 2 threads under load took 1.5 s
# for a 1024² image with spinning and 0.6 s without. Only effective if torch is not imported yet.
os.environ.setdefault("OMP_WAIT_POLICY", "PASSIVE")

__version__ = "0.1.0"

_LAZY = {"Stylizer": ".stylizer", "Region": ".stylizer", "stylize": ".stylizer", "StyleRef": ".methods.base"}


def __getattr__(name: str):
    if name in _LAZY:
        return getattr(importlib.import_module(_LAZY[name], __name__), name)
    raise AttributeError(f"module 'engine' has no attribute {name!r}")


__all__ = [
    "BadInput",
    "CancelToken",
    "Cancelled",
    "DeviceUnavailable",
    "Progress",
    "Region",
    "RestyleError",
    "StyleRef",
    "Stylizer",
    "TooLarge",
    "WeightsMissing",
    "__version__",
    "stylize",
]
