"""Whether an optimization fits in memory, from the backbone's measured cost per pixel."""
from __future__ import annotations

import os
from typing import Optional

import torch

from ..client.geometry import Extent
from ..errors import TooLarge

HEADROOM = 0.8  # use at most this share of the memory that is free now


def free_memory(device: torch.device) -> Optional[int]:
    """Bytes free now on ``device`` (CUDA: the device's free memory; CPU: MemAvailable), or None."""
    if device.type == "cuda":
        return torch.cuda.mem_get_info(device)[0]
    try:
        with open("/proc/meminfo") as f:
            for line in f:
                if line.startswith("MemAvailable:"):
                    return int(line.split()[1]) * 1024
    except OSError:
        pass
    try:
        return os.sysconf("SC_AVPHYS_PAGES") * os.sysconf("SC_PAGE_SIZE")
    except (ValueError, OSError, AttributeError):
        return None


def estimated_bytes(extent: Extent, bytes_per_pixel: float) -> int:
    """Peak memory of optimizing an image of ``extent``."""
    return int(extent.pixels * bytes_per_pixel)


def check_fits(extent: Extent, bytes_per_pixel: float, device: torch.device, free: Optional[int] = None) -> None:
    """Raise ``TooLarge`` (saying what would fit) when optimizing ``extent`` would exhaust memory."""
    free = free_memory(device) if free is None else free
    if free is None:
        return
    need = estimated_bytes(extent, bytes_per_pixel)
    budget = free * HEADROOM
    if need <= budget:
        return
    fit = extent.scaled((budget / need) ** 0.5)
    raise TooLarge(
        f"optimizing a {extent.width}x{extent.height} image needs about {need / 2**30:.1f} GiB, "
        f"but only {free / 2**30:.1f} GiB is free on {device.type}",
        f"select a smaller region, scale the image down to about {fit.width}x{fit.height}, "
        "use backbone='mobilenet', or use method='arbitrary'",
    )
