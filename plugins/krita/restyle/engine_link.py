"""The engine's client package: the copy the installer puts in ``restyle/engine/client``, else the repository's
``engine.client`` (tests). The only way the plugin reaches the engine."""
import importlib.util

try:
    import zmq  # noqa: F401
except ImportError as e:
    raise ImportError(f"pyzmq is not importable by Krita's Python ({e}): on Debian/Ubuntu run "
                      "`sudo apt install python3-zmq`; elsewhere rerun `python3 install/install.py --krita "
                      "--pyzmq-wheel FILE` with pyzmq's wheel for Krita's Python") from e

if importlib.util.find_spec(f"{__package__}.engine") is not None:
    from .engine import client
    from .engine.client import geometry, stroke_size
else:  # a source checkout (tests): the engine package itself
    from engine import client  # type: ignore[no-redef]
    from engine.client import geometry, stroke_size  # type: ignore[no-redef]

__all__ = ["client", "geometry", "stroke_size"]
