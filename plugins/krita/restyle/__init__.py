"""restyle for Krita: Filter › Style Transfer… Registers the extension only when Krita loads the package."""
import importlib.util

if importlib.util.find_spec("krita") is not None:
    from .extension import register

    register()
