"""restyle engine: neural style transfer with pretrained nets, a CLI, a Python API and a local server."""
import os

# Idle OpenMP threads sleep instead of spinning. On a busy machine (the editor itself, other apps)
# spinning threads fight the working ones for cores: measured here, 2 threads under load took 1.5 s
# for a 1024² image with spinning and 0.6 s without. Only effective if torch is not imported yet.
os.environ.setdefault("OMP_WAIT_POLICY", "PASSIVE")

from .errors import BadInput, Cancelled, DeviceUnavailable, RestyleError, TooLarge, WeightsMissing
from .methods.base import StyleRef
from .progress import CancelToken, Progress
from .stylizer import Region, Stylizer, stylize

__version__ = "0.1.0"

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
