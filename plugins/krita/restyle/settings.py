"""The plugin's settings (engine command, last dialog choices), kept as JSON in Krita's data folder."""
from __future__ import annotations

import json
import os
from dataclasses import asdict, dataclass, field, replace
from pathlib import Path
from typing import Any, Dict, Tuple

SETTINGS_NAME = "settings.json"
STYLE_KINDS = ("preset", "file", "layer")
METHODS = ("fast", "quality")
PRESERVE = ("off", "luminance", "histogram")


class SettingsError(Exception):
    """The settings file cannot be read or written; the message says what to do."""


@dataclass(frozen=True)
class StyleChoice:
    """One style of the blend: a preset name, an image file path or a layer's unique id, with its weight."""

    kind: str
    value: str
    weight: float = 1.0
    label: str = ""

    @property
    def name(self) -> str:
        """What to call this style in a layer name."""
        if self.label:
            return self.label
        return Path(self.value).stem if self.kind == "file" else self.value


@dataclass(frozen=True)
class Settings:
    """Everything the plugin remembers between uses."""

    engine_command: Tuple[str, ...] = ()  # e.g. ("/home/me/restyle/.venv/bin/restyle", "serve"); set by the installer
    engine_endpoint: str = ""  # "": the engine's discovery file
    engine_timeout_s: float = 30.0
    start_wait_s: float = 120.0
    styles: Tuple[StyleChoice, ...] = ()
    method: str = "fast"
    strength: float = 1.0
    preserve_colors: str = "off"
    style_scale: float = 1.0  # used when style_scale_auto is off (or the engine has no "auto")
    style_scale_auto: bool = True  # strokes sized for the whole image: those of a 1024 px picture
    detail: float = 1.0  # above style scale 1: how much of the full-resolution pass's sharp edges to add
    selection_only: bool = True
    feather: float = 0.0
    extra: Dict[str, Any] = field(default_factory=dict)  # keys this version does not know, kept as they are


def from_dict(data: Dict[str, Any]) -> Settings:
    """Settings from parsed JSON: unknown keys kept aside, wrong types and ranges replaced by defaults."""
    base = Settings()
    known = {f for f in base.__dataclass_fields__ if f != "extra"}
    values: Dict[str, Any] = {}
    command = data.get("engine_command")
    if isinstance(command, list) and all(isinstance(a, str) for a in command):
        values["engine_command"] = tuple(command)
    if isinstance(data.get("engine_endpoint"), str):
        values["engine_endpoint"] = data["engine_endpoint"]
    for name, low, high in (("engine_timeout_s", 1.0, 3600.0), ("start_wait_s", 1.0, 3600.0),
                            ("strength", 0.0, 1.0), ("style_scale", 1 / 16, 16.0), ("detail", 0.0, 1.0),
                            ("feather", 0.0, 1000.0)):
        value = data.get(name)
        if isinstance(value, (int, float)) and not isinstance(value, bool):
            values[name] = float(min(high, max(low, value)))
    if data.get("method") in METHODS:
        values["method"] = data["method"]
    if data.get("preserve_colors") in PRESERVE:
        values["preserve_colors"] = data["preserve_colors"]
    for name in ("selection_only", "style_scale_auto"):
        if isinstance(data.get(name), bool):
            values[name] = data[name]
    styles = data.get("styles")
    if isinstance(styles, list):
        values["styles"] = tuple(s for s in map(_style_from_dict, styles) if s is not None)
    extra = {k: v for k, v in data.items() if k not in known}
    return replace(base, extra=extra, **values)


def _style_from_dict(data: Any) -> "StyleChoice | None":
    if not isinstance(data, dict) or data.get("kind") not in STYLE_KINDS or not isinstance(data.get("value"), str):
        return None
    weight = data.get("weight", 1.0)
    weight = float(weight) if isinstance(weight, (int, float)) and not isinstance(weight, bool) and weight >= 0 else 1.0
    label = data.get("label") if isinstance(data.get("label"), str) else ""
    return StyleChoice(data["kind"], data["value"], weight, label)


def to_dict(settings: Settings) -> Dict[str, Any]:
    """Settings as JSON-ready data; layer styles are left out (layer ids mean nothing in another document)."""
    data = asdict(settings)
    extra = data.pop("extra")
    data["engine_command"] = list(settings.engine_command)
    data["styles"] = [asdict(s) for s in settings.styles if s.kind != "layer"]
    return dict(extra, **data)


def load(path: Path) -> Settings:
    """The settings saved at ``path``; defaults when there is no file yet."""
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        return Settings()
    except OSError as e:
        raise SettingsError(f"cannot read the Style Transfer settings at {path}: {e.strerror}; "
                            "check the file's permissions") from None
    try:
        data = json.loads(text)
    except ValueError as e:
        raise SettingsError(f"the Style Transfer settings at {path} are not valid JSON ({e}); "
                            "fix the file or delete it to start from the defaults") from None
    if not isinstance(data, dict):
        raise SettingsError(f"the Style Transfer settings at {path} are not a JSON object; "
                            "fix the file or delete it to start from the defaults")
    return from_dict(data)


def save(path: Path, settings: Settings) -> None:
    """Write ``settings`` to ``path`` atomically."""
    tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        tmp.write_text(json.dumps(to_dict(settings), indent=2) + "\n", encoding="utf-8")
        os.replace(str(tmp), str(path))
    except OSError as e:
        raise SettingsError(f"cannot save the Style Transfer settings to {path}: {e.strerror}; "
                            "check that the folder is writable") from None
