"""The host-side client of the engine: what the Krita and GIMP plugins carry (the installers copy this
folder whole), and what the server and the CLI's remote runs share with them.

Standard library + pyzmq only, Python >= 3.8, nothing of the engine outside this package. The client's
names below load on first use, so ``engine.client.geometry`` and ``engine.client.stroke_size`` import
without pyzmq: the compute uses the geometry too.
"""
from __future__ import annotations

import importlib

_LAZY = {name: ".engine_client" for name in
         ("EngineClient", "EngineError", "EngineNotRunning", "Image", "JobCancelled", "Result")}


def __getattr__(name: str):
    if name in _LAZY:
        return getattr(importlib.import_module(_LAZY[name], __name__), name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


__all__ = sorted(_LAZY)
