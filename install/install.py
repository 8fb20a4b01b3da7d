#!/usr/bin/env python3
"""Install restyle's plugins: ``python3 install/install.py --gimp`` (and ``--krita``). Standard library only.

Each step lives in its own module (``gimp_install.py``, ``krita_install.py``) with ``FLAG``, ``HELP``,
``add_arguments(parser)`` and ``install(args) -> lines``; this file only parses options and dispatches.
"""
from __future__ import annotations

import argparse
import importlib
import importlib.util
import sys
from pathlib import Path
from types import ModuleType
from typing import List, Optional, Sequence

sys.path.insert(0, str(Path(__file__).resolve().parent))

from common import InstallError  # noqa: E402

STEP_MODULES = ("gimp_install", "krita_install")


def available_steps() -> List[ModuleType]:
    """The install steps present in this checkout."""
    return [importlib.import_module(name) for name in STEP_MODULES if importlib.util.find_spec(name)]


def parser_for(steps: Sequence[ModuleType]) -> argparse.ArgumentParser:
    """The command line: one flag per step, the shared engine options, then each step's own options."""
    parser = argparse.ArgumentParser(prog="install.py", description="Install restyle's plugins for this user.")
    for step in steps:
        parser.add_argument(step.FLAG, action="store_true", help=step.HELP)
    parser.add_argument("--engine", help="the `restyle` executable the plugins start when no engine answers "
                                         "(default: found next to this Python, on PATH or in .venv; "
                                         "'none': never start it)")
    parser.add_argument("--endpoint", help="the engine's endpoint, e.g. tcp://127.0.0.1:5599 (default or "
                                           "'auto': the discovery file the engine writes)")
    parser.add_argument("--pyzmq-wheel", type=Path, help="a pyzmq wheel matching the host's Python, unpacked "
                                                         "next to the plugin when the host's Python lacks pyzmq")
    for step in steps:
        step.add_arguments(parser)
    return parser


def main(argv: Optional[Sequence[str]] = None) -> int:
    """Run the chosen steps; 2 with a one-line message when one cannot finish."""
    steps = available_steps()
    parser = parser_for(steps)
    args = parser.parse_args(argv)
    chosen = [s for s in steps if getattr(args, s.FLAG.lstrip("-").replace("-", "_"))]
    if not chosen:
        parser.error(f"choose what to install: {' '.join(s.FLAG for s in steps)}")
    for step in chosen:
        try:
            lines = step.install(args)
        except (InstallError, OSError) as e:
            print(f"install.py {step.FLAG}: {e}", file=sys.stderr)
            return 2
        print("\n".join(lines))
    return 0


if __name__ == "__main__":
    sys.exit(main())
