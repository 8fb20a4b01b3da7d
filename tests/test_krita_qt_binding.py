"""The Krita plugin picks the PyQt of Krita's own Qt, and imports Qt in one module only."""
from __future__ import annotations

import ast
import sys
from pathlib import Path

import pytest

PLUGIN = Path(__file__).resolve().parents[1] / "plugins" / "krita" / "restyle"
sys.path.insert(0, str(PLUGIN.parent))

from restyle.qt_binding import UnsupportedQt, choose_binding, qt_major_of_krita  # noqa: E402


@pytest.mark.parametrize("version, major", [("5.2.9", 5), ("5.3.4.1", 5), ("6.0.4", 6), ("6.1.0-prealpha", 6),
                                            ("7.0.0", 6)])
def test_kritas_version_gives_its_qt(version, major):
    assert qt_major_of_krita(version) == major


def test_an_unreadable_version_says_what_to_do():
    with pytest.raises(UnsupportedQt, match="About Krita"):
        qt_major_of_krita("unknown")


def test_krita_decides_never_what_happens_to_be_importable():
    # A system PyQt6 already imported beside Krita 5 must not win: Krita 5 crashes with it.
    assert choose_binding(5, None, ["PyQt6.QtCore"]) == "PyQt5"
    assert choose_binding(6, None, ["PyQt5.QtCore"]) == "PyQt6"
    assert choose_binding(None, "5.2.9", ["PyQt6.QtCore"]) == "PyQt5"  # Krita 5.2 tells its version only
    assert choose_binding(None, "6.0.4", []) == "PyQt6"


def test_outside_krita_the_binding_already_loaded_is_used_else_pyqt5():
    assert choose_binding(None, None, ["PyQt6.QtCore", "os"]) == "PyQt6"
    assert choose_binding(None, None, ["PyQt5.QtCore"]) == "PyQt5"
    assert choose_binding(None, None, []) == "PyQt5"


def test_a_qt_the_plugin_does_not_know_is_refused_with_what_to_do():
    with pytest.raises(UnsupportedQt, match="update the plugin"):
        choose_binding(4, None, [])


def _imported_modules(path: Path) -> set:
    names = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            names |= {alias.name.split(".")[0] for alias in node.names}
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            names.add(node.module.split(".")[0])
    return names


def test_only_the_qt_module_imports_a_pyqt_binding():
    for path in sorted(PLUGIN.glob("*.py")):
        bindings = _imported_modules(path) & {"PyQt5", "PyQt6", "PySide2", "PySide6"}
        assert not bindings, f"{path.name} imports {bindings}: import Qt classes from .qt instead"
    assert "importlib" in _imported_modules(PLUGIN / "qt.py")


def test_the_binding_choice_is_qt_free():
    assert _imported_modules(PLUGIN / "qt_binding.py") <= {"__future__", "re", "typing"}
