"""The GIMP plug-in's arguments, request building, settings file and user-facing messages, without GIMP."""
from __future__ import annotations

import ast
import sys
from pathlib import Path

import pytest

PLUGIN = Path(__file__).resolve().parents[1] / "plugins" / "gimp" / "restyle"
sys.path.insert(0, str(PLUGIN))

from engine.client import EngineError, EngineNotRunning, Image, JobCancelled  # noqa: E402
from engine.server.stylize_request import SHARED_OPTIONS  # noqa: E402
from restyle_gimp import messages  # noqa: E402
from restyle_gimp.errors import PluginError  # noqa: E402
from restyle_gimp.request import (ARGUMENTS, StyleSource, engine_options, layer_name, method_for,  # noqa: E402
                                  no_style_message, parse_styles, parse_weights, style_entries, style_scale)
from restyle_gimp.settings import EngineSettings, load_settings, save_settings  # noqa: E402

DEFAULTS = {a.name: a.default for a in ARGUMENTS}


def test_every_option_of_the_issue_has_an_argument():
    names = {a.name for a in ARGUMENTS}
    assert {"style", "style-file", "weights", "method", "strength", "preserve-colors", "style-scale",
            "stroke-size-auto", "detail", "selection-only", "feather"} <= names
    assert {a.kind for a in ARGUMENTS} <= {"string", "file", "choice", "double", "boolean"}


def test_each_label_has_its_own_mnemonic_apart_from_the_dialog_buttons():
    letters = []
    for a in ARGUMENTS:
        assert a.label.count("_") == 1, a.label
        letters.append(a.label[a.label.index("_") + 1].lower())
    assert len(set(letters)) == len(letters)
    assert not set(letters) & set("hsrco"), "Help, Save, Reset, Cancel and OK own these"


NEW_ENGINE = {"features": ["regions", "detail", "style_scale_auto"], "style_scale_auto_side": 1024,
              "style_scale_range": [0.25, 8.0], "context_margins": {"preset": 64}}


def test_defaults_make_engine_options_for_every_shared_option_but_invert():
    options = engine_options(DEFAULTS, "preset", True, NEW_ENGINE, (3000, 2000))
    assert set(options) == set(SHARED_OPTIONS) - {"invert_mask"}
    assert options == {"method": "preset", "strength": 1.0, "preserve_colors": False, "style_scale": "auto",
                       "canvas_size": [3000, 2000], "detail": 1.0, "feather": 0.0}


def test_stroke_size_auto_off_sends_the_scale_and_an_older_engine_gets_the_number_only():
    values = dict(DEFAULTS, **{"stroke-size-auto": False, "style-scale": 2.5, "detail": 0.25})
    assert engine_options(values, "preset", True, NEW_ENGINE, (3000, 2000))["style_scale"] == 2.5
    assert engine_options(values, "preset", True, NEW_ENGINE, (3000, 2000))["detail"] == 0.25
    older = {"context_margins": {"preset": 64}}
    options = engine_options(DEFAULTS, "preset", True, older, (3000, 2000))
    assert options["style_scale"] == 1.0 and "detail" not in options and "canvas_size" not in options
    assert style_scale(DEFAULTS, NEW_ENGINE, (3072, 100)) == 3.0 and style_scale(DEFAULTS, older, (3072, 100)) == 1.0


def test_automatic_method_is_the_preset_net_for_presets_and_the_any_style_net_for_images():
    assert DEFAULTS["method"] == "auto"
    assert method_for("auto", [StyleSource(preset="wave")]) == "preset"
    assert method_for("auto", [StyleSource(path="/a.jpg"), StyleSource(path="/b.jpg")]) == "arbitrary"
    assert method_for("optimize", [StyleSource(path="/a.jpg")]) == "optimize"


def test_choices_and_ranges_are_consistent():
    for a in ARGUMENTS:
        if a.kind == "choice":
            assert a.default in [nick for nick, _ in a.choices]
        if a.kind == "double":
            assert a.low <= a.default <= a.high


def test_preserve_colours_and_feather_map_to_engine_values():
    values = dict(DEFAULTS, **{"preserve-colors": "histogram", "feather": 12.0})
    assert engine_options(values, "preset", True, NEW_ENGINE, (9, 9))["preserve_colors"] == "histogram"
    assert engine_options(values, "preset", True, NEW_ENGINE, (9, 9))["feather"] == 12.0
    assert engine_options(values, "preset", False, NEW_ENGINE, (9, 9))["feather"] == 0.0
    luminance = dict(values, **{"preserve-colors": "luminance"})
    assert engine_options(luminance, "preset", True, NEW_ENGINE, (9, 9))["preserve_colors"] == "luminance"


def test_styles_are_presets_or_paths_in_order(tmp_path):
    photo = tmp_path / "starry.jpg"
    photo.write_bytes(b"x")
    sources = parse_styles(f" wave ; {photo}; preset:mosaic;", str(tmp_path / "extra.png"))
    assert sources == [StyleSource(preset="wave"), StyleSource(path=str(photo)), StyleSource(preset="mosaic"),
                       StyleSource(path=str(tmp_path / "extra.png"))]
    assert layer_name(sources) == "Style: wave + starry + mosaic + extra"


def test_no_style_says_how_to_choose_one_naming_the_engines_first_preset():
    assert parse_styles(" ; ", None) == []
    message = no_style_message(["honey-pastel", "frost"])
    assert "choose a style" in message and "such as 'honey-pastel'" in message and "frost" not in message
    assert "such as" not in no_style_message([])


def test_weights_default_to_equal_and_must_match_the_styles():
    assert parse_weights("", 3) == [1.0, 1.0, 1.0]
    assert parse_weights("0.7; 0.3", 2) == [0.7, 0.3]
    assert parse_weights("2,1", 2) == [2.0, 1.0]
    with pytest.raises(PluginError, match="one weight per style"):
        parse_weights("1", 2)
    with pytest.raises(PluginError, match="not numbers"):
        parse_weights("a; b", 2)
    with pytest.raises(PluginError, match="negative"):
        parse_weights("-1; 2", 2)


def test_style_entries_load_image_files_and_refuse_missing_ones(tmp_path):
    photo = tmp_path / "s.png"
    photo.write_bytes(b"x")
    pixels = Image(1, 1, 3, "uint8", b"\1\2\3")
    loaded = []
    entries = style_entries([StyleSource(preset="wave"), StyleSource(path=str(photo))], [0.25, 0.75],
                            lambda path: loaded.append(path) or pixels)
    assert entries == [{"preset": "wave", "weight": 0.25}, {"image": pixels, "weight": 0.75}]
    assert loaded == [str(photo)]
    with pytest.raises(PluginError, match="does not exist"):
        style_entries([StyleSource(path=str(tmp_path / "gone.png"))], [1.0], lambda path: pixels)


def test_settings_round_trip_and_default_to_discovery(tmp_path):
    path = tmp_path / "engine.json"
    assert load_settings(path) == EngineSettings()
    wanted = EngineSettings(start_command=["/opt/restyle/bin/restyle", "serve"], endpoint="tcp://127.0.0.1:5599")
    save_settings(path, wanted)
    assert load_settings(path) == wanted


@pytest.mark.parametrize("text", ["{not json", '{"start_command": "restyle serve"}', '{"colour": 1}'])
def test_broken_settings_say_to_reinstall(tmp_path, text):
    path = tmp_path / "engine.json"
    path.write_text(text)
    with pytest.raises(PluginError, match="install.py --gimp"):
        load_settings(path)


def test_progress_lines():
    assert messages.progress({"done": 3, "total": 4, "stage": "stylizing", "eta_s": 12.4}) == (
        0.75, "Style transfer: stylizing, about 12 s left")
    assert messages.progress({"done": 0, "total": 0, "stage": "queued", "position": 2})[0] is None
    assert "2 job(s) ahead" in messages.progress({"stage": "queued", "position": 2})[1]
    assert messages.progress({"done": 5, "total": 4})[0] == 1.0


def test_engine_failures_say_what_to_do():
    missing = messages.engine_failure(EngineNotRunning("the engine at tcp://127.0.0.1:9 did not answer within 5 s"))
    assert "not running" in missing and "restyle serve" in missing and "restyle doctor" in missing
    assert "--engine PATH" in missing
    refused = messages.engine_failure(EngineError("too_large", "the image is too large", "select a smaller area"))
    assert refused == "The style transfer engine refused the job: the image is too large. select a smaller area"
    assert "cancelled" in messages.engine_failure(JobCancelled())
    surprise = messages.unexpected(OSError("disk full"))
    assert surprise.startswith("Style Transfer failed (OSError: disk full). Run `restyle doctor`")


@pytest.mark.parametrize("path", sorted(p.relative_to(PLUGIN).as_posix() for p in PLUGIN.rglob("*.py")))
def test_plugin_code_runs_on_python_3_8(path):
    ast.parse((PLUGIN / path).read_text(), feature_version=(3, 8))


def test_context_margin_grows_with_style_scale():
    from restyle_gimp.request import context_margin

    pong = {"context_margins": {"arbitrary": 64, "optimize": 48}}
    assert context_margin(pong, "arbitrary") == 64
    assert context_margin(pong, "arbitrary", 0.5) == 64
    assert context_margin(pong, "arbitrary", 1.5) == 96
    assert context_margin(pong, "optimize", 1.1) == 56  # 52.8 rounded up to the 4-pixel grid
    assert context_margin({}, "preset", 2.0) == 128
