"""Which PyQt the plugin uses: the one of Krita's own Qt (Krita 5: Qt 5, PyQt5; Krita 6: Qt 6, PyQt6). Qt-free."""
from __future__ import annotations

import re
from typing import Iterable, Optional

BINDINGS = {5: "PyQt5", 6: "PyQt6"}


class UnsupportedQt(ImportError):
    """Krita runs on a Qt this plugin has no binding for; the message says what to do."""


def qt_major_of_krita(version: str) -> int:
    """Krita's Qt major version from Krita's version string ("5.2.9" → 5, "6.0.4" → 6)."""
    match = re.match(r"\s*(\d+)", version)
    if match is None:
        raise UnsupportedQt(f"cannot read Krita's version {version!r}; please report this with Help › About Krita")
    return 6 if int(match.group(1)) >= 6 else 5


def choose_binding(krita_qt_major: Optional[int], krita_version: Optional[str], loaded: Iterable[str]) -> str:
    """The PyQt package to import.

    ``krita_qt_major``: what Krita itself says (``pykrita.qt_major_version()``, Krita 5.3 and later);
    ``krita_version``: Krita's version (older Krita has only that); ``loaded``: names in ``sys.modules``,
    which decide only outside Krita (the plugin's own tests). Never found by trying an import: a system PyQt6
    beside Krita 5 imports, then crashes Krita.
    """
    if krita_qt_major is None and krita_version is not None:
        krita_qt_major = qt_major_of_krita(krita_version)
    if krita_qt_major is not None:
        if krita_qt_major not in BINDINGS:
            raise UnsupportedQt(f"Krita runs on Qt {krita_qt_major}; this plugin supports Krita 5 (Qt 5) and "
                                "Krita 6 (Qt 6): update the plugin")
        return BINDINGS[krita_qt_major]
    modules = set(loaded)
    return next((name for name in ("PyQt6", "PyQt5") if f"{name}.QtCore" in modules), "PyQt5")
