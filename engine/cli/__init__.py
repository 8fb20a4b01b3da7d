"""The ``restyle`` command (``main``) and its subcommands: weights, runs on an engine (``remote``),
``doctor``, contact sheets; ``restyle serve`` and ``restyle keys`` come from :mod:`engine.server.serve`.
"""
from .main import main

__all__ = ["main"]
