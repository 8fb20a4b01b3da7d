"""Shared fixtures: small real images from ../shared/bench, loaded once."""
from __future__ import annotations

import os
from pathlib import Path

import numpy as np
import pytest
import torch
from PIL import Image

from optimize_standins import write_standin

REPO = Path(__file__).resolve().parents[1]
BENCH = Path(os.environ.get("RESTYLE_BENCH_DIR", REPO.parent / "shared" / "bench"))

torch.set_num_threads(min(2, os.cpu_count() or 1))


def bench_image(kind: str, name: str, size: tuple[int, int] | None = None) -> np.ndarray:
    """A test image from ../shared/bench as uint8 RGB, optionally resized to ``size`` (w, h)."""
    path = BENCH / kind / name
    if not path.exists():
        pytest.skip(f"bench image {path} is missing (../shared/bench sits beside the repository)")
    image = Image.open(path).convert("RGB")
    if size is not None:
        image = image.resize(size, Image.LANCZOS)
    return np.asarray(image)


@pytest.fixture(scope="session")
def content_small() -> np.ndarray:
    """A 160 x 120 photo."""
    return bench_image("content", "chicago.jpg", (160, 120))


@pytest.fixture(scope="session")
def style_small() -> np.ndarray:
    """A 128 x 128 painting."""
    return bench_image("style", "la_muse.jpg", (128, 128))


@pytest.fixture(scope="session")
def style_other() -> np.ndarray:
    """A second painting, very different from the first."""
    return bench_image("style", "mondrian.jpg", (128, 128))


@pytest.fixture(scope="session")
def stylizer():
    """One Stylizer for the whole session (nets load once)."""
    import engine

    return engine.Stylizer(device="cpu")


@pytest.fixture(autouse=True)
def _isolated_cache(tmp_path_factory, monkeypatch):
    """Converted weights go to a per-session cache, never the user's."""
    monkeypatch.setenv("RESTYLE_CACHE_DIR", str(tmp_path_factory.getbasetemp() / "restyle-cache"))


@pytest.fixture(scope="session")
def vgg19_checkpoint(tmp_path_factory) -> Path:
    """A stand-in VGG-19 checkpoint file named like torchvision's (random weights, real layout)."""
    return write_standin(tmp_path_factory.mktemp("vgg") / "vgg19-dcbb9e9d.pth")


@pytest.fixture(scope="session")
def vgg19(vgg19_checkpoint):
    """The stand-in VGG-19 backbone, loaded through the real loader."""
    from engine.optimize.backbones import load_vgg19

    return load_vgg19(vgg19_checkpoint)
