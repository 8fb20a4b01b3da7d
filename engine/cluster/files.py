"""``stylize_files``: image files stylized on a Ray cluster, named and checked as the one-process batch does."""
from __future__ import annotations

import dataclasses
import os
from typing import Any, Callable, Optional, Sequence, Union

from ..batch import FileOutcome
from ..errors import BadInput
from ..outputs import check_outputs, make_folders, output_paths
from .connect import cluster_nodes, connected
from .pool import run_files
from .shape import worker_shape

PathLike = Union[str, "os.PathLike[str]"]


def stylize_files(
    sources: Sequence[PathLike],
    output: Optional[PathLike] = None,
    style: Union[PathLike, Sequence[PathLike], None] = None,
    *,
    address: Optional[str] = None,
    workers: Optional[int] = None,
    gpus_per_worker: Optional[float] = None,
    overwrite: bool = False,
    strip_metadata: bool = False,
    device: str = "auto",
    threads: Optional[int] = None,
    seed: int = 0,
    runtime_env: Optional[dict] = None,
    on_file: Optional[Callable[[FileOutcome], None]] = None,
    **settings: Any,
) -> list[FileOutcome]:
    """Stylize image files on Ray workers, each holding a warm Stylizer; an outcome per file, in order.

    ``output`` is a folder (or, for one file, a file name) as ``restyle stylize -o`` takes it; the outputs
    are named as that names them, checked before any work, and never replaced without ``overwrite``.
    ``style`` (paths or ``preset:NAME``) and ``settings`` (``weights``, ``strength``, ``preserve_colors``,
    ``style_scale``, ``mask``, ``regions``, ... as :meth:`engine.Stylizer.stylize` takes them) apply to every
    file. The workers read and write the files themselves: every path, relative ones taken from this process's
    folder, must mean the same file on every node.
    ``address``: a running cluster (``host:port``, ``ray://host:port``, ``auto``); without it ``RAY_ADDRESS``,
    else a Ray started on this machine for the run. A Ray already initialised in this process is used as it is.
    A file that fails gives an outcome with ``error`` set; the others go on. ``on_file`` gets each outcome
    as it comes in.
    """
    sources = [os.fspath(source) for source in sources]
    jobs = output_paths(sources, None if output is None else os.fspath(output), _style_names(style, settings))
    check_outputs([out for _, out in jobs], overwrite)
    with connected(address) as ray:
        shape = worker_shape(cluster_nodes(ray), workers, gpus_per_worker, threads)
        if device == "auto":
            device = "cuda" if shape.gpus else "cpu"
        worker = dict(style=_absolute_styles(style), settings=_absolute_region_styles(settings), device=device,
                      threads=shape.cpus, seed=seed, strip_metadata=strip_metadata)
        make_folders([out for _, out in jobs])
        absolute = [(os.path.abspath(source), os.path.abspath(out)) for source, out in jobs]
        as_given = dict(zip(absolute, jobs))

        def shown(outcome: FileOutcome) -> FileOutcome:
            source, out = as_given[(outcome.source, outcome.output)]
            return dataclasses.replace(outcome, source=source, output=out)

        outcomes = run_files(ray, absolute, shape, worker, overwrite, runtime_env,
                             on_file and (lambda outcome: on_file(shown(outcome))))
        return [shown(outcome) for outcome in outcomes]


def _absolute_styles(style: Any) -> Any:
    """``style`` with its file paths made absolute (workers may run in another folder); presets as they are."""
    if isinstance(style, (list, tuple)):
        return [_absolute_styles(s) for s in style]
    if isinstance(style, (str, os.PathLike)) and not os.fspath(style).startswith("preset:"):
        return os.path.abspath(style)
    return style


def _absolute_region_styles(settings: dict[str, Any]) -> dict[str, Any]:
    """``settings`` with each region's style paths made absolute."""
    if not settings.get("regions"):
        return settings
    return dict(settings, regions=[dataclasses.replace(r, style=_absolute_styles(r.style)) for r in settings["regions"]])


def _style_names(style: Any, settings: dict[str, Any]) -> list[str]:
    """The styles as the output names use them: ``style``, else each region's (first) style."""
    if style is None:
        regions = settings.get("regions") or []
        style = [r.style[0] if isinstance(r.style, (list, tuple)) else r.style for r in regions]
    styles = list(style) if isinstance(style, (list, tuple)) else [style]
    if not styles or not all(isinstance(s, (str, os.PathLike)) for s in styles):
        raise BadInput("give each style as a file path or preset:NAME", "the workers read the style files themselves")
    return [os.fspath(s) for s in styles]
