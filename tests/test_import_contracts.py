"""Who may import whom: the contracts in pyproject.toml (run by import-linter), and what they cannot see."""
from __future__ import annotations

import ast
import subprocess
import sys
from pathlib import Path

import grimp
import pytest

ROOT = Path(__file__).resolve().parents[1]
PLUGINS = sorted((ROOT / "plugins").rglob("*.py"))


def test_lint_imports_keeps_every_contract():
    lint_imports = Path(sys.executable).parent / "lint-imports"
    proc = subprocess.run([str(lint_imports), "--no-cache", "--no-logo"], capture_output=True, text=True, cwd=ROOT,
                          timeout=300)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert " 0 broken" in proc.stdout


def test_the_client_imports_only_the_standard_library_and_pyzmq():
    graph = grimp.build_graph("engine", include_external_packages=True, cache_dir=None)
    allowed = set(sys.stdlib_module_names) | {"zmq"}
    for module in sorted(graph.find_descendants("engine.client") | {"engine.client"}):
        outside = {name for name in graph.find_modules_directly_imported_by(module)
                   if name.split(".")[0] != "engine" and name.split(".")[0] not in allowed}
        assert not outside, f"{module} imports {sorted(outside)}: the plugins carry engine/client/ into the editors"


def test_the_compute_loads_no_pyzmq_though_it_uses_the_client_packages_geometry():
    """import-linter's graph has no edge from ``engine.client.geometry`` to ``engine/client/__init__.py``,
    which Python runs first: that file must load the client's pyzmq part lazily."""
    code = ("import sys, engine.stylizer, engine.methods.feedforward, engine.methods.optimize\n"
            "assert 'engine.client.geometry' in sys.modules\n"
            "print(sorted(name for name in sys.modules if name.split('.')[0] == 'zmq'))\n")
    proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, cwd=ROOT, timeout=300)
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.strip() == "[]"


def _engine_imports(path: Path) -> list:
    """The engine modules a plugin module imports: ``engine...`` absolutely, ``.engine...`` from the plugin's copy."""
    found = []
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            found += [alias.name for alias in node.names if alias.name.split(".")[0] == "engine"]
        elif isinstance(node, ast.ImportFrom) and node.module and node.module.split(".")[0] == "engine":
            found += [node.module] if "." in node.module else [f"engine.{alias.name}" for alias in node.names]
    return found


@pytest.mark.parametrize("path", PLUGINS, ids=lambda path: str(path.relative_to(ROOT / "plugins")))
def test_a_plugin_reaches_the_engine_only_through_engine_client(path):
    outside = [name for name in _engine_imports(path) if name != "engine.client" and
               not name.startswith("engine.client.")]
    assert not outside, f"{path.name} imports {outside}: the installers copy only engine/client/ into the plugins"


def test_the_plugin_import_check_sees_every_form_of_import(tmp_path):
    source = ("import engine.client.geometry\nfrom engine import client\nfrom .engine.client import stroke_size\n"
              "from engine import stylizer\nfrom ..engine.server import router\nimport engine\n")
    (tmp_path / "m.py").write_text(source)
    assert _engine_imports(tmp_path / "m.py") == ["engine.client.geometry", "engine.client", "engine.client",
                                                 "engine.stylizer", "engine.server", "engine"]
