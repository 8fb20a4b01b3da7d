"""Finding and downloading the VGG-19 checkpoint that torchvision publishes."""
from __future__ import annotations

import hashlib
import os
import tempfile
import urllib.request
from pathlib import Path
from typing import Callable, Optional

from ..errors import WeightsMissing
from ..paths import user_cache_dir

VGG19_URL = "https://download.pytorch.org/models/vgg19-dcbb9e9d.pth"
VGG19_FILE = "vgg19-dcbb9e9d.pth"
VGG19_SHA256_PREFIX = "dcbb9e9d"  # torchvision names its files after the first hex digits of their sha256
VGG19_ENV = "RESTYLE_VGG19"
FETCH_HINT = (
    "run `restyle fetch-weights vgg19`, or give a checkpoint with --option weights=PATH "
    "or RESTYLE_VGG19=PATH, or use --option backbone=mobilenet"
)
OFFLINE_HINT = "check the network connection, or download the file elsewhere and pass --option weights=PATH"

DownloadProgress = Callable[[int, Optional[int]], None]  # (bytes so far, total bytes or None)


def hub_checkpoint_path() -> Path:
    """Where ``torch.hub`` (and so torchvision) keeps the VGG-19 checkpoint once downloaded."""
    import torch.hub

    return Path(torch.hub.get_dir()) / "checkpoints" / VGG19_FILE


def cached_checkpoint_path() -> Path:
    """Where ``restyle fetch-weights vgg19`` puts the checkpoint."""
    return user_cache_dir() / "weights" / VGG19_FILE


def locate_vgg19(explicit: Optional[str] = None) -> Path:
    """The VGG-19 checkpoint: ``explicit`` (the ``weights`` option), then ``$RESTYLE_VGG19``, then
    torch hub's checkpoint cache, then the engine's cache."""
    for source, value in (("the weights option", explicit), (VGG19_ENV, os.environ.get(VGG19_ENV))):
        if value:
            path = Path(value).expanduser()
            if not path.is_file():
                raise WeightsMissing(f"VGG-19 weights given by {source} are not a file: {path}", FETCH_HINT)
            return path
    for path in (hub_checkpoint_path(), cached_checkpoint_path()):
        if path.is_file():
            return path
    raise WeightsMissing("VGG-19 weights are not installed", FETCH_HINT)


def vgg19_configured(explicit: Optional[str] = None) -> bool:
    """Whether VGG-19 weights were given (path or ``$RESTYLE_VGG19``) or are installed."""
    if explicit or os.environ.get(VGG19_ENV):
        return True
    return hub_checkpoint_path().is_file() or cached_checkpoint_path().is_file()


def fetch_vgg19(
    dest: Optional[Path] = None,
    url: str = VGG19_URL,
    sha256_prefix: str = VGG19_SHA256_PREFIX,
    progress: Optional[DownloadProgress] = None,
    force: bool = False,
) -> Path:
    """Download the VGG-19 checkpoint to ``dest`` (our cache by default), verifying its sha256 prefix.

    The file appears only once complete and verified; an existing file is kept unless ``force``.
    """
    dest = Path(dest) if dest is not None else cached_checkpoint_path()
    if dest.is_file() and not force:
        return dest
    dest.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp_name = tempfile.mkstemp(prefix=dest.name + ".", suffix=".part", dir=dest.parent)
    tmp = Path(tmp_name)
    try:
        digest = _download(url, fd, progress)
        if not digest.startswith(sha256_prefix):
            raise WeightsMissing(
                f"downloaded file from {url} has sha256 {digest[:16]}..., expected {sha256_prefix}...",
                "the download was corrupted or replaced; try again later",
            )
        os.replace(tmp, dest)
    finally:
        tmp.unlink(missing_ok=True)
    return dest


def _download(url: str, fd: int, progress: Optional[DownloadProgress]) -> str:
    """Stream ``url`` into the open file ``fd``; returns the sha256 of what was written."""
    digest = hashlib.sha256()
    try:
        response = urllib.request.urlopen(url, timeout=60)
    except (OSError, ValueError) as exc:
        raise WeightsMissing(f"cannot download {url}: {exc}", OFFLINE_HINT) from exc
    with response, os.fdopen(fd, "wb") as out:
        length = response.headers.get("Content-Length")
        total = int(length) if length and length.isdigit() else None
        done = 0
        while True:
            try:
                block = response.read(1 << 20)
            except OSError as exc:
                raise WeightsMissing(f"download of {url} failed: {exc}", "try again") from exc
            if not block:
                break
            out.write(block)
            digest.update(block)
            done += len(block)
            if progress is not None:
                progress(done, total)
    if total is not None and done != total:
        raise WeightsMissing(f"download of {url} stopped at {done} of {total} bytes", "try again")
    return digest.hexdigest()

