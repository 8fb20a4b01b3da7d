"""The procedure's arguments and how their values become an engine request."""
from __future__ import annotations

import os
from dataclasses import dataclass
from typing import Any, Callable, List, Mapping, Optional, Sequence, Tuple

from engine.client import stroke_size as stroke

from .errors import PluginError

context_margin = stroke.context_margin

PROCEDURE = "plug-in-restyle"
METHODS = (
    ("auto", "Automatic"),
    ("preset", "Fast, built-in presets"),
    ("arbitrary", "Fast, style images"),
    ("optimize", "Quality, style images (slow)"),
)
PRESERVE_COLORS = (("off", "Off"), ("luminance", "Keep luminance"), ("histogram", "Match colours"))
PRESERVE_VALUES = {"off": False, "luminance": "luminance", "histogram": "histogram"}


@dataclass(frozen=True)
class Argument:
    """One procedure argument: ``kind`` is string, file, choice, double or boolean."""

    name: str
    kind: str
    label: str
    blurb: str
    default: Any
    low: float = 0.0
    high: float = 0.0
    choices: Tuple[Tuple[str, str], ...] = ()


ARGUMENTS = (
    Argument("style", "string", "St_yles",
             "Preset names (the Preset list shows them) or image files, separated by ';'", ""),
    Argument("style-file", "file", "Style _image", "An image file used as one more style, after the Styles", None),
    Argument("weights", "string", "_Weights",
             "Blend weights of the styles in order, separated by ';' (empty: equal weights)", ""),
    Argument("method", "choice", "_Method",
             "How to stylize; Automatic: the preset net for presets, the fast any-style net for images",
             "auto", choices=METHODS),
    Argument("strength", "double", "S_trength", "How much of the style to apply (0..1)", 1.0, 0.0, 1.0),
    Argument("preserve-colors", "choice", "Preserve co_lours", "Keep the image's colours",
             "off", choices=PRESERVE_COLORS),
    Argument("style-scale", "double", "Style sc_ale",
             "Above 1: bigger strokes; below 1: finer (used when Stroke size auto is off)", 1.0, 0.25, 8.0),
    Argument("stroke-size-auto", "boolean", "Stroke size a_uto",
             "Strokes sized for the whole image, as large relative to it as on a 1024 px picture, whatever its "
             "size (Style scale is then not used)", True),
    Argument("detail", "double", "_Detail",
             "With big strokes (style scale above 1): how much of the picture's sharp edges a pass at full "
             "resolution adds; 0: softer, and faster", 1.0, 0.0, 1.0),
    Argument("selection-only", "boolean", "Selection o_nly",
             "Stylize only the selection (the whole layer when nothing is selected)", True),
    Argument("feather", "double", "_Feather", "Soften the selection's edge by this many pixels",
             0.0, 0.0, 256.0),
)


@dataclass(frozen=True)
class StyleSource:
    """One style: a preset of the engine (``preset``) or an image file (``path``)."""

    preset: Optional[str] = None
    path: Optional[str] = None

    @property
    def label(self) -> str:
        """A short name for the new layer."""
        return self.preset or os.path.splitext(os.path.basename(self.path or ""))[0]


def parse_styles(text: str, file: Optional[str]) -> List[StyleSource]:
    """The styles named in ``text`` (';'-separated preset names or paths) followed by ``file``.

    An entry with a path separator, or naming an existing file, is an image; ``preset:NAME`` and any
    other word is a preset.
    """
    sources = []
    for entry in (part.strip() for part in text.split(";")):
        if not entry:
            continue
        if entry.startswith("preset:"):
            sources.append(StyleSource(preset=entry[len("preset:"):]))
        elif "/" in entry or "\\" in entry or os.path.isfile(entry):
            sources.append(StyleSource(path=os.path.expanduser(entry)))
        else:
            sources.append(StyleSource(preset=entry))
    if file:
        sources.append(StyleSource(path=file))
    return sources


def no_style_message(preset_names: Sequence[str]) -> str:
    """What to do when no style was given, naming the first preset the engine lists as the example."""
    example = f"a preset name such as '{preset_names[0]}'" if preset_names else "a preset name"
    return f"choose a style: {example} in Styles (`restyle styles` lists them all), or an image in Style image"


def parse_weights(text: str, count: int) -> List[float]:
    """``count`` blend weights from ';'-separated numbers; empty text means equal weights."""
    parts = [p.strip() for p in text.replace(",", ";").split(";") if p.strip()]
    if not parts:
        return [1.0] * count
    try:
        weights = [float(p) for p in parts]
    except ValueError:
        raise PluginError(f"weights {text!r} are not numbers: write them like '0.7; 0.3'") from None
    if len(weights) != count:
        raise PluginError(f"{len(weights)} weights for {count} styles: give one weight per style, or none")
    if any(w < 0 for w in weights) or sum(weights) <= 0:
        raise PluginError("weights must not be negative and not all 0")
    return weights


def method_for(choice: str, sources: Sequence[StyleSource]) -> str:
    """The engine method to ask for: the choice, or for ``auto`` the preset net when the styles are presets."""
    if choice != "auto":
        return choice
    return "preset" if any(s.preset is not None for s in sources) else "arbitrary"


def style_scale(values: Mapping[str, Any], pong: Mapping[str, Any], canvas: Tuple[int, int]) -> float:
    """The style scale the job runs at, for its context margin: "auto" worked out for the whole image."""
    return stroke.request_style_scale(pong, bool(values["stroke-size-auto"]), float(values["style-scale"]), canvas)


def engine_options(values: Mapping[str, Any], method: str, masked: bool, pong: Mapping[str, Any],
                   canvas: Tuple[int, int]) -> dict:
    """The engine's options from the procedure's values; feather only applies to a selection.

    ``canvas`` is the image's size: with Stroke size auto a selection gets the strokes of the whole image.
    """
    options = {
        "method": method,
        "strength": float(values["strength"]),
        "preserve_colors": PRESERVE_VALUES[values["preserve-colors"]],
        "feather": float(values["feather"]) if masked else 0.0,
    }
    options.update(stroke.stroke_options(pong, bool(values["stroke-size-auto"]), float(values["style-scale"]),
                                         float(values["detail"]), canvas))
    return options


def style_entries(sources: Sequence[StyleSource], weights: Sequence[float],
                  load_image: Callable[[str], Any]) -> List[dict]:
    """The client's ``styles`` list; image files are read with ``load_image(path)``."""
    entries = []
    for source, weight in zip(sources, weights):
        if source.preset is not None:
            entries.append({"preset": source.preset, "weight": weight})
        else:
            if not os.path.isfile(source.path or ""):
                raise PluginError(f"the style image {source.path} does not exist: choose an existing image file")
            entries.append({"image": load_image(source.path), "weight": weight})
    return entries


def layer_name(sources: Sequence[StyleSource]) -> str:
    """The new layer's name, after its styles."""
    return "Style: " + " + ".join(s.label for s in sources)
