"""restyle engine: neural style transfer with pretrained nets, a CLI, a Python API and a local server."""
from .errors import BadInput, Cancelled, DeviceUnavailable, RestyleError, TooLarge, WeightsMissing
from .progress import CancelToken, Progress

__version__ = "0.1.0"

__all__ = [
    "BadInput",
    "CancelToken",
    "Cancelled",
    "DeviceUnavailable",
    "Progress",
    "RestyleError",
    "TooLarge",
    "WeightsMissing",
    "__version__",
]
