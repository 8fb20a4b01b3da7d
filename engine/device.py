"""Choosing the compute device."""
from __future__ import annotations

import torch

from .errors import BadInput, DeviceUnavailable


def resolve_device(name: str) -> torch.device:
    """``auto`` (CUDA when present, else CPU), ``cpu``, ``cuda[:N]`` or ``mps`` as a torch device."""
    key = (name or "auto").strip().lower()
    if key == "auto":
        return torch.device("cuda" if torch.cuda.is_available() else "cpu")
    if key == "cpu":
        return torch.device("cpu")
    if key.startswith("cuda"):
        if not torch.cuda.is_available():
            raise DeviceUnavailable(
                "CUDA was requested but torch sees no usable GPU",
                "use --device cpu (or auto), or install a CUDA build of torch that matches your driver",
            )
        return torch.device(key)
    if key == "mps":
        if not torch.backends.mps.is_available():
            raise DeviceUnavailable("Apple's MPS was requested but is not available", "use --device cpu (or auto)")
        return torch.device("mps")
    raise BadInput(f"unknown device '{name}'", "use auto, cpu, cuda or mps")
