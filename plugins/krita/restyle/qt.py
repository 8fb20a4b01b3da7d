"""Qt for the plugin: the classes it uses, from the binding of Krita's own Qt (see ``qt_binding``).

Every other plugin module imports Qt from here, never from PyQt5 or PyQt6. The code uses what both
bindings share: scoped enums (``Qt.AlignmentFlag.AlignTop``), ``exec()``, ``QImage.Format.Format_RGBA8888``;
``QAction`` moved from QtWidgets to QtGui in Qt 6 and is found in either.
"""
from __future__ import annotations

import importlib
import sys
from typing import Optional, Tuple

from .qt_binding import choose_binding

NAMES = (
    "QSize", "Qt", "QThread", "QTimer", "pyqtSignal",
    "QAction", "QColor", "QIcon", "QImage", "QImageReader", "QPainter", "QPixmap",
    "QAbstractItemView", "QApplication", "QCheckBox", "QComboBox", "QDialog", "QDialogButtonBox", "QDoubleSpinBox",
    "QFileDialog", "QFormLayout", "QFrame", "QGroupBox", "QHBoxLayout", "QHeaderView", "QLabel", "QLineEdit",
    "QListWidget", "QListWidgetItem", "QMenuBar", "QMessageBox", "QProgressBar", "QProgressDialog", "QPushButton",
    "QTableWidget", "QTableWidgetItem", "QTabWidget", "QVBoxLayout", "QWidget",
)


def _krita_says() -> Tuple[Optional[int], Optional[str]]:
    """Krita's Qt major version (Krita 5.3 and later tell it) and Krita's version; both None outside Krita."""
    try:
        import pykrita  # Krita's own module, present only inside Krita
    except ImportError:
        return None, None
    major = pykrita.qt_major_version() if hasattr(pykrita, "qt_major_version") else None
    if major is not None:
        return int(major), None
    from krita import Krita

    return None, str(Krita.instance().version())


BINDING = choose_binding(*_krita_says(), sys.modules)
QT_MAJOR = 6 if BINDING == "PyQt6" else 5
_MODULES = [importlib.import_module(f"{BINDING}.{part}") for part in ("QtWidgets", "QtGui", "QtCore")]
for _name in NAMES:
    _found = next((m for m in _MODULES if hasattr(m, _name)), None)
    if _found is None:
        raise ImportError(f"{BINDING} has no {_name}")
    globals()[_name] = getattr(_found, _name)
