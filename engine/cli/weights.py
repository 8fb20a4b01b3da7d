"""`restyle fetch-weights`: download optional pretrained weights (VGG-19 for method=optimize)."""
from __future__ import annotations

import argparse
import sys
import time
from typing import Optional, TextIO

from ..optimize.weights import VGG19_URL, cached_checkpoint_path, fetch_vgg19

FETCHABLE = ("vgg19",)


def add_commands(subparsers: "argparse._SubParsersAction") -> None:
    """Register ``fetch-weights`` on the ``restyle`` command's subparsers."""
    parser = subparsers.add_parser(
        "fetch-weights",
        help="download optional pretrained weights (vgg19: the default backbone of --method optimize)",
        description=f"Download torchvision's VGG-19 checkpoint ({VGG19_URL}), check its sha256 and "
        f"store it in the engine's cache ({cached_checkpoint_path()}).",
    )
    parser.add_argument("name", choices=FETCHABLE, help="which weights to download")
    parser.add_argument("--force", action="store_true", help="download again even if the file is there")
    parser.set_defaults(handler=run_fetch_weights)


def run_fetch_weights(args: argparse.Namespace) -> int:
    """Download the weights named by ``args.name``; prints where they went. Errors propagate."""
    bar = ProgressBar(sys.stderr)
    path = fetch_vgg19(progress=bar, force=args.force)
    bar.finish()
    print(f"VGG-19 weights: {path}")
    return 0


class ProgressBar:
    """A one-line download progress bar, redrawn at most ten times a second."""

    def __init__(self, stream: TextIO, width: int = 30) -> None:
        self.stream = stream
        self.width = width
        self._last = 0.0
        self._drawn = False

    def __call__(self, done: int, total: Optional[int]) -> None:
        now = time.monotonic()
        if now - self._last < 0.1 and done != total:
            return
        self._last = now
        self._drawn = True
        mib = done / 2**20
        if total:
            filled = int(self.width * done / total)
            line = f"[{'#' * filled}{'.' * (self.width - filled)}] {mib:7.1f} / {total / 2**20:.1f} MiB"
        else:
            line = f"{mib:7.1f} MiB"
        self.stream.write("\r" + line)
        self.stream.flush()

    def finish(self) -> None:
        """End the bar's line (if one was drawn)."""
        if self._drawn:
            self.stream.write("\n")
            self.stream.flush()

