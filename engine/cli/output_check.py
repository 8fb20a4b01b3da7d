"""Whether output files can be written, found out before any image is stylized."""
from __future__ import annotations

import os
from pathlib import Path
from typing import Sequence

from ..errors import BadInput
from ..imaging.io import output_format

OVERWRITE_HINT = "choose another name with -o or pass --overwrite"


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
