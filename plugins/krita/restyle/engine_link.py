"""The engine's client side: vendored into the installed plugin as ``restyle_client``, else the repository's ``engine``."""
try:
    from .restyle_client import client, geometry
except ImportError:  # a source checkout (tests): the engine package itself
    from engine import client, geometry  # type: ignore[no-redef]

__all__ = ["client", "geometry"]
