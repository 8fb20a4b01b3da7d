"""Run Python code in a fresh interpreter where numpy, torch and PIL cannot be imported.

That is the situation inside Krita's and GIMP's Python: the client and the plugins' logic must work there.
"""
from __future__ import annotations

import subprocess
import sys
from pathlib import Path
from typing import Optional

_BLOCK_HEAVY_IMPORTS = (
    "import sys\n"
    "class Block:\n"
    "    def find_spec(self, name, path=None, target=None):\n"
    "        if name.split('.')[0] in ('numpy', 'torch', 'PIL'):\n"
    "            raise ImportError('blocked ' + name)\n"
    "sys.meta_path.insert(0, Block())\n"
)


def run_without_heavy_imports(code: str, cwd: Path, path: Optional[Path] = None, isolated: bool = True):
    """Run ``code`` (with ``path`` first on sys.path) in a new interpreter that blocks heavy imports."""
    prefix = f"import sys; sys.path.insert(0, {str(path)!r})\n" if path is not None else ""
    argv = [sys.executable] + (["-I"] if isolated else []) + ["-c", prefix + _BLOCK_HEAVY_IMPORTS + code]
    return subprocess.run(argv, capture_output=True, text=True, cwd=str(cwd))
