"""The Style Transfer dialog: styles and their weights, method and options, selection, preview."""
from __future__ import annotations

from dataclasses import replace
from typing import Any, Dict, List, Optional, Sequence, Set, Tuple

from .qt import (QAbstractItemView, QCheckBox, QComboBox, QDialog, QDialogButtonBox, QDoubleSpinBox, QFileDialog,
                 QFormLayout, QFrame, QGroupBox, QHBoxLayout, QHeaderView, QIcon, QLabel, QLineEdit, QListWidget,
                 QListWidgetItem, QMessageBox, QProgressBar, QPushButton, QSize, Qt, QTableWidget, QTableWidgetItem,
                 QTabWidget, QVBoxLayout, QWidget)

from . import qt_images, request
from .engine_link import stroke_size as stroke
from .settings import METHODS, PRESERVE, Settings, StyleChoice
from .worker import EngineProbe

PREVIEW_SIDE = 160
THUMB_SIDE = 64
_PROBES: Set[EngineProbe] = set()
IMAGE_FILTER = "Images (*.png *.jpg *.jpeg *.webp *.bmp *.tif *.tiff *.kra *.ora);;All files (*)"


class StyleTransferDialog(QDialog):
    """Asks which styles and options to use; starts the engine meanwhile and lists its presets."""

    def __init__(self, settings: Settings, has_selection: bool, preview: Optional[Tuple[int, int, bytes]],
                 region_text: str, layers: Sequence[Tuple[str, str]], parent: Optional[QWidget] = None) -> None:
        super().__init__(parent)
        self.setObjectName("restyle_dialog")
        self.setWindowTitle("Style Transfer")
        self.settings = settings
        self.pong: Dict[str, Any] = {}
        self._labels: Dict[str, str] = {}

        self.presets = QListWidget()
        self.presets.setObjectName("restyle_presets")
        self.presets.setViewMode(QListWidget.ViewMode.IconMode)
        self.presets.setIconSize(QSize(THUMB_SIDE, THUMB_SIDE))
        self.presets.setResizeMode(QListWidget.ResizeMode.Adjust)
        self.presets.setMovement(QListWidget.Movement.Static)
        self.presets.setMinimumSize(360, 200)
        self.presets.itemDoubleClicked.connect(lambda _: self._add_current())
        self.file_path = QLineEdit()
        self.file_path.setPlaceholderText("An image to take the style from")
        browse = QPushButton("Browse…")
        browse.clicked.connect(self._browse)
        file_tab = QWidget()
        file_row = QHBoxLayout(file_tab)
        file_row.addWidget(self.file_path)
        file_row.addWidget(browse)
        file_row.setAlignment(Qt.AlignmentFlag.AlignTop)
        self.layer_box = QComboBox()
        for unique_id, name in layers:
            self.layer_box.addItem(name, unique_id)
        layer_tab = QWidget()
        QVBoxLayout(layer_tab).addWidget(self.layer_box, 0, Qt.AlignmentFlag.AlignTop)
        self.sources = QTabWidget()
        self.sources.addTab(self.presets, "Presets")
        self.sources.addTab(file_tab, "Image file")
        self.sources.addTab(layer_tab, "Layer")
        self.sources.setTabEnabled(2, bool(layers))

        self.blend = QTableWidget(0, 2)
        self.blend.setObjectName("restyle_blend")
        self.blend.setHorizontalHeaderLabels(["Style", "Weight"])
        self.blend.horizontalHeader().setSectionResizeMode(0, QHeaderView.ResizeMode.Stretch)
        self.blend.verticalHeader().hide()
        self.blend.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
        self.blend.setMaximumHeight(110)
        add = QPushButton("Add to blend")
        add.setToolTip("Blend several styles: add each with a weight (weights are normalised)")
        add.clicked.connect(self._add_current)
        remove = QPushButton("Remove")
        remove.clicked.connect(self._remove_selected)
        blend_buttons = QHBoxLayout()
        blend_buttons.addWidget(add)
        blend_buttons.addWidget(remove)
        blend_buttons.addStretch(1)
        for choice in settings.styles:
            self._add_row(choice)

        self.method = QComboBox()
        self.method.addItem("Fast", "fast")
        self.method.addItem("Quality (slow; from style images, not presets)", "quality")
        self.method.setCurrentIndex(METHODS.index(settings.method))
        self.strength = _spin(0.0, 1.0, 0.05, settings.strength)
        self.preserve = QComboBox()
        for value, label in zip(PRESERVE, ("Off", "Keep luminance", "Match histogram")):
            self.preserve.addItem(label, value)
        self.preserve.setCurrentIndex(PRESERVE.index(settings.preserve_colors))
        self.style_scale = _spin(0.25, 8.0, 0.25, settings.style_scale)
        self.style_scale.setToolTip("Above 1: bigger strokes; below 1: finer")
        self.style_scale_auto = QCheckBox("Auto")
        self.style_scale_auto.setObjectName("restyle_style_scale_auto")
        self.style_scale_auto.setToolTip("Strokes sized for the whole image, as large relative to it as on a "
                                         "1024 px picture, whatever the canvas size")
        self.style_scale_auto.setChecked(settings.style_scale_auto)
        self.style_scale.setEnabled(not settings.style_scale_auto)
        self.style_scale_auto.toggled.connect(lambda on: self.style_scale.setEnabled(not on))
        scale_row = QHBoxLayout()
        scale_row.addWidget(self.style_scale, 1)
        scale_row.addWidget(self.style_scale_auto)
        self.detail = _spin(0.0, 1.0, 0.05, settings.detail)
        self.detail.setObjectName("restyle_detail")
        self.detail.setToolTip("With big strokes (style scale above 1): how much of the picture's sharp edges "
                               "a pass at full resolution adds; 0: softer, and faster")
        options = QFormLayout()
        options.addRow("Method:", self.method)
        options.addRow("Strength:", self.strength)
        options.addRow("Preserve colors:", self.preserve)
        options.addRow("Style scale:", scale_row)
        options.addRow("Detail:", self.detail)

        self.preview = QLabel()
        self.preview.setFixedSize(PREVIEW_SIDE, PREVIEW_SIDE)
        self.preview.setAlignment(Qt.AlignmentFlag.AlignCenter)
        self.preview.setFrameShape(QFrame.Shape.StyledPanel)
        if preview is not None:
            self.preview.setPixmap(qt_images.pixmap_from_rgba8(*preview).scaled(
                PREVIEW_SIDE - 8, PREVIEW_SIDE - 8, Qt.AspectRatioMode.KeepAspectRatio, Qt.TransformationMode.SmoothTransformation))
        self.region_text = QLabel(region_text)
        self.region_text.setWordWrap(True)
        self.selection_only = QCheckBox("Selection only")
        self.selection_only.setObjectName("restyle_selection_only")
        self.selection_only.setEnabled(has_selection)
        self.selection_only.setChecked(has_selection and settings.selection_only)
        self.feather = _spin(0.0, 500.0, 1.0, settings.feather, decimals=0, suffix=" px")
        self.feather.setEnabled(self.selection_only.isChecked())
        self.selection_only.toggled.connect(self.feather.setEnabled)
        region = QGroupBox("Region")
        region_box = QVBoxLayout(region)
        region_box.addWidget(self.preview)
        region_box.addWidget(self.region_text)
        region_box.addWidget(self.selection_only)
        feather_row = QHBoxLayout()
        feather_row.addWidget(QLabel("Feather:"))
        feather_row.addWidget(self.feather)
        region_box.addLayout(feather_row)
        region_box.addStretch(1)

        self.status = QLabel()
        self.status.setObjectName("restyle_status")
        self.busy = QProgressBar()
        self.busy.setRange(0, 0)
        self.busy.setMaximumWidth(120)
        self.buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Ok | QDialogButtonBox.StandardButton.Cancel)
        self.buttons.accepted.connect(self._accept)
        self.buttons.rejected.connect(self.reject)
        self.buttons.button(QDialogButtonBox.StandardButton.Ok).setEnabled(False)

        right = QVBoxLayout()
        right.addWidget(self.sources)
        right.addLayout(blend_buttons)
        right.addWidget(self.blend)
        right.addLayout(options)
        top = QHBoxLayout()
        top.addWidget(region)
        top.addLayout(right, 1)
        bottom = QHBoxLayout()
        bottom.addWidget(self.busy)
        bottom.addWidget(self.status, 1)
        bottom.addWidget(self.buttons)
        layout = QVBoxLayout(self)
        layout.addLayout(top)
        layout.addLayout(bottom)

        probe = EngineProbe(settings)  # no parent: it may outlive the dialog, and is kept until it ends
        _PROBES.add(probe)
        probe.finished.connect(lambda: _PROBES.discard(probe))
        probe.status.connect(self._engine_status)
        probe.ready.connect(self._engine_ready)
        probe.failed.connect(self._engine_failed)
        self.status.setText("Connecting to the engine…")
        probe.start()

    def chosen_styles(self) -> List[StyleChoice]:
        """The styles to use: the blend list, or the style picked in the current tab."""
        rows = [self._row_choice(r) for r in range(self.blend.rowCount())]
        if rows:
            return rows
        current = self._current_choice()
        return [current] if current is not None else []

    def chosen_settings(self) -> Settings:
        """The settings with this dialog's choices, to remember for next time."""
        return replace(self.settings, styles=tuple(self.chosen_styles()), method=self.method.currentData(),
                       strength=self.strength.value(), preserve_colors=self.preserve.currentData(),
                       style_scale=self.style_scale.value(), feather=self.feather.value(),
                       style_scale_auto=(self.style_scale_auto.isChecked() if self.style_scale_auto.isEnabled()
                                         else self.settings.style_scale_auto), detail=self.detail.value(),
                       selection_only=(self.selection_only.isChecked() if self.selection_only.isEnabled()
                                       else self.settings.selection_only))

    def _engine_status(self, text: str) -> None:
        if self.isVisible():
            self.status.setText(text)

    def _engine_ready(self, pong: dict, styles: list) -> None:
        if not self.isVisible():
            return
        self.pong = pong
        for entry in styles:
            item = QListWidgetItem(str(entry.get("label") or entry["name"]))
            item.setData(Qt.ItemDataRole.UserRole, entry["name"])
            if entry.get("thumbnail") is not None:
                item.setIcon(QIcon(qt_images.pixmap_from_engine(entry["thumbnail"])))
            self.presets.addItem(item)
            self._labels[entry["name"]] = item.text()
        remembered = [c.value for c in self.settings.styles if c.kind == "preset"]
        for i in range(self.presets.count()):
            if self.presets.item(i).data(Qt.ItemDataRole.UserRole) in remembered[:1] or (not remembered and i == 0):
                self.presets.setCurrentRow(i)
        if not stroke.engine_takes_stroke_size(pong):  # an older engine: a number only, and no detail pass
            self.style_scale_auto.setChecked(False)
            self.style_scale_auto.setEnabled(False)
            self.detail.setEnabled(False)
        margins = pong.get("context_margins")
        if isinstance(margins, dict) and "optimize" not in margins:
            self.method.model().item(1).setEnabled(False)
            self.method.setCurrentIndex(0)
        self.busy.hide()
        self.status.setText(f"Engine ready ({pong.get('device', 'cpu')})")
        self.buttons.button(QDialogButtonBox.StandardButton.Ok).setEnabled(True)

    def _engine_failed(self, message: str) -> None:
        if not self.isVisible():
            return
        self.busy.hide()
        self.status.setText("The engine is not available.")
        QMessageBox.warning(self, "Style Transfer", message)
        self.reject()

    def _accept(self) -> None:
        try:
            request.active_styles(self.chosen_styles())
        except request.RequestError as e:
            QMessageBox.information(self, "Style Transfer", str(e))
            return
        self.accept()

    def _current_choice(self) -> Optional[StyleChoice]:
        tab = self.sources.currentIndex()
        if tab == 0:
            item = self.presets.currentItem()
            return StyleChoice("preset", item.data(Qt.ItemDataRole.UserRole), 1.0, item.text()) if item else None
        if tab == 1:
            path = self.file_path.text().strip()
            return StyleChoice("file", path) if path else None
        if self.layer_box.count():
            return StyleChoice("layer", self.layer_box.currentData(), 1.0, self.layer_box.currentText())
        return None

    def _add_current(self) -> None:
        choice = self._current_choice()
        if choice is not None:
            self._add_row(choice)

    def _add_row(self, choice: StyleChoice) -> None:
        row = self.blend.rowCount()
        self.blend.insertRow(row)
        name = QTableWidgetItem(choice.name if choice.kind != "file" else choice.value)
        name.setFlags(name.flags() & ~Qt.ItemFlag.ItemIsEditable)
        name.setData(Qt.ItemDataRole.UserRole, choice)
        self.blend.setItem(row, 0, name)
        self.blend.setCellWidget(row, 1, _spin(0.0, 10.0, 0.1, choice.weight))

    def _remove_selected(self) -> None:
        for row in sorted({i.row() for i in self.blend.selectedIndexes()}, reverse=True):
            self.blend.removeRow(row)

    def _row_choice(self, row: int) -> StyleChoice:
        choice: StyleChoice = self.blend.item(row, 0).data(Qt.ItemDataRole.UserRole)
        return replace(choice, weight=self.blend.cellWidget(row, 1).value())

    def _browse(self) -> None:
        path, _ = QFileDialog.getOpenFileName(self, "Style image", self.file_path.text(), IMAGE_FILTER)
        if path:
            self.file_path.setText(path)


def _spin(low: float, high: float, step: float, value: float, decimals: int = 2, suffix: str = "") -> QDoubleSpinBox:
    spin = QDoubleSpinBox()
    spin.setRange(low, high)
    spin.setSingleStep(step)
    spin.setDecimals(decimals)
    spin.setSuffix(suffix)
    spin.setValue(value)
    return spin
