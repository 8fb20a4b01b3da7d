"""Where results go: the output file of each input, and whether it can be written, found out before any work."""
from __future__ import annotations

import os
from pathlib import Path
from typing import Optional, Sequence

from .errors import BadInput
from .imaging.io import output_format

OVERWRITE_HINT = "choose another name with -o or pass --overwrite"


def default_output_name(content: str, styles: Sequence[str]) -> str:
    """``CONTENT_STYLE.png``: the content's name and the first style's (a preset's name, an image's stem)."""
    first = str(styles[0])
    label = first.split(":", 1)[1] if first.startswith("preset:") else Path(first).stem
    return f"{Path(content).stem}_{label}.png"


def output_paths(contents: Sequence[str], output: Optional[str], styles: Sequence[str]) -> list[tuple[str, str]]:
    """(input, output file) pairs: ``output`` is the file for one input (or a folder: an existing one,
    or a path ending in a separator), the folder for several."""
    names_folder = output is not None and (Path(output).is_dir() or output.endswith(("/", os.sep)))
    if len(contents) == 1 and not names_folder:
        return [(contents[0], output or default_output_name(contents[0], styles))]
    folder = Path(output or ".")
    if folder.exists() and not folder.is_dir():
        raise BadInput(f"{folder} is a file; with {len(contents)} images -o names a folder", "give a folder with -o")
    pairs = [(content, str(folder / default_output_name(content, styles))) for content in contents]
    seen: dict[str, str] = {}
    for content, out in pairs:
        if out in seen:
            raise BadInput(f"{seen[out]} and {content} would both be written to {out}", "give the images different names")
        seen[out] = content
    return pairs


def check_outputs(paths: Sequence[str], overwrite: bool) -> None:
    """Raise :class:`BadInput` saying what to do if any of ``paths`` cannot be written (see :func:`check_output`)."""
    existing = [path for path in paths if Path(path).exists()] if not overwrite else []
    if existing:
        more = f" (and {len(existing) - 1} more)" if len(existing) > 1 else ""
        raise BadInput(f"{existing[0]} already exists{more}", OVERWRITE_HINT)
    for path in paths:
        check_output(path, overwrite)


def check_output(path: str, overwrite: bool) -> None:
    """Raise :class:`BadInput` if ``path`` cannot be written: unknown format, an existing file (without
    ``overwrite``) or folder, a folder on the way that is a file, or a folder this user may not write in."""
    target = Path(path)
    output_format(target)
    if target.is_dir():
        raise BadInput(f"{target} is a folder", "give a file name ending in .png, .jpg, .webp or .tif")
    if target.exists() and not overwrite:
        raise BadInput(f"{target} already exists", OVERWRITE_HINT)
    folder = nearest_existing(target.parent)
    if not folder.is_dir():
        raise BadInput(f"cannot write {target}: {folder} is a file, not a folder",
                       "choose an output path through folders only")
    if not os.access(folder, os.W_OK | os.X_OK):
        raise BadInput(f"cannot write {target}: no permission to write in {folder}",
                       "choose a folder you can write in with -o")


def nearest_existing(folder: Path) -> Path:
    """``folder``, or the closest of its parents that exists (a file, if the path goes through one)."""
    folder = Path(os.path.abspath(folder))
    while not os.path.lexists(folder) and folder.parent != folder:
        folder = folder.parent
    return folder


def make_folders(paths: Sequence[str]) -> None:
    """Create the folders ``paths`` go into, or raise :class:`BadInput` saying why they cannot be made."""
    for folder in sorted({Path(path).parent for path in paths}):
        try:
            folder.mkdir(parents=True, exist_ok=True)
        except OSError as exc:
            raise BadInput(f"cannot create the folder {folder}: {exc.strerror or exc}",
                           "choose a folder you can write in with -o") from None
