"""The engine's client modules: the copy the installer puts in ``restyle/engine``, else the repository's ``engine``."""
import importlib.util

try:
    import zmq  # noqa: F401
except ImportError as e:
    raise ImportError(f"pyzmq is not importable by Krita's Python ({e}): on Debian/Ubuntu run "
                      "`sudo apt install python3-zmq`; elsewhere rerun `python3 install/install.py --krita "
                      "--pyzmq-wheel FILE` with pyzmq's wheel for Krita's Python") from e

if importlib.util.find_spec(f"{__package__}.engine") is not None:
    from .engine import client, geometry, style_scale
else:  # a source checkout (tests): the engine package itself
    from engine import client, geometry, style_scale  # type: ignore[no-redef]

__all__ = ["client", "geometry", "style_scale"]
