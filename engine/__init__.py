"""restyle engine: neural style transfer with pretrained nets, a CLI, a Python API and a local server."""
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
