"""``restyle stylize --ray``: the batch handed to :func:`engine.cluster.stylize_files`, with a progress bar over files."""
from __future__ import annotations

import argparse
from typing import Any, Callable

from ..batch import FileOutcome
from ..progress import Progress
from .main import CliError, ProgressBar

RAY_ADDRESS_FORMS = "host:port, ray://host:port or auto"


def ray_address(text: str) -> str:
    """``--ray``'s address as given ("" for none), or :class:`CliError` if it looks like anything but one."""
    if text and ":" not in text and text != "auto":
        raise CliError(f"--ray takes an address ({RAY_ADDRESS_FORMS}), got {text!r}",
                       "put --ray after the images, or write --ray=ADDRESS")
    return text


def stylize_on_ray(args: argparse.Namespace, request: dict[str, Any],
                   report: Callable[[FileOutcome], None]) -> list[FileOutcome]:
    """Stylize ``args.content`` on Ray with the settings of ``request``; each outcome reported as it comes in."""
    from ..cluster import stylize_files

    bar = ProgressBar(not (args.quiet or args.json))
    done = 0

    def on_file(outcome: FileOutcome) -> None:
        nonlocal done
        done += 1
        bar.clear()
        report(outcome)
        bar(Progress(done, len(args.content), "files"))

    bar(Progress(0, len(args.content), "files"))
    try:
        return stylize_files(args.content, args.output, args.style, address=args.ray or None, workers=args.ray_workers,
                             gpus_per_worker=args.ray_gpus_per_worker, overwrite=args.overwrite,
                             strip_metadata=args.strip_metadata, device=args.device, threads=args.threads,
                             seed=args.seed, on_file=on_file, **request)
    finally:
        bar.close()

