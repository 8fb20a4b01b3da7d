"""restyle for Krita: Filter › Style Transfer… Registers the extension only when Krita loads the package."""
import importlib.util
import os
import sys

VENDOR = os.path.join(os.path.dirname(os.path.abspath(__file__)), "vendor")  # pyzmq unpacked by the installer

if importlib.util.find_spec("krita") is not None:
    if os.path.isdir(VENDOR) and VENDOR not in sys.path:
        sys.path.append(VENDOR)
    from .extension import register

    register()
