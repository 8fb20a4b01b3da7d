"""The Krita plugin's job logic without Krita: region, request, settings, and a job against a fake engine."""
from __future__ import annotations

import json
import struct
import sys
from pathlib import Path
from typing import Any, List

import numpy as np
import pytest

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "plugins" / "krita"))

from engine.client import EngineError, EngineNotRunning, Image, JobCancelled, Result  # noqa: E402
from engine.client.geometry import Bounds, Extent  # noqa: E402
from restyle import job, pixels, region, request, settings  # noqa: E402
from restyle.settings import Settings, StyleChoice  # noqa: E402


# --- region ---------------------------------------------------------------------------------------------

def test_selection_bounds_are_padded_by_the_margin_and_clamped_to_the_image() -> None:
    r = region.job_region(Extent(200, 100), Bounds(10, 50, 30, 20), margin=32, selection_only=True)
    assert r.content == Bounds(0, 18, 72, 82)
    assert r.selection == Bounds(10, 50, 30, 20)


def test_without_a_selection_or_with_selection_only_off_the_whole_image_is_the_content() -> None:
    whole = Bounds(0, 0, 200, 100)
    assert region.job_region(Extent(200, 100), None, 64, True) == region.Region(whole, None)
    assert region.job_region(Extent(200, 100), Bounds(5, 5, 5, 5), 64, False) == region.Region(whole, None)


def test_a_selection_outside_the_canvas_is_refused() -> None:
    with pytest.raises(region.EmptySelection, match="untick 'Selection only'"):
        region.job_region(Extent(50, 50), Bounds(60, 0, 10, 10), 8, True)


def test_an_all_zero_selection_mask_is_refused() -> None:
    region.check_mask(bytes([0, 0, 1]))
    with pytest.raises(region.EmptySelection):
        region.check_mask(bytes(16))


# --- request --------------------------------------------------------------------------------------------

PONG = {"context_margin": 64, "context_margins": {"arbitrary": 64, "preset": 32, "optimize": 128}}


def test_fast_uses_the_preset_nets_for_presets_and_the_arbitrary_net_for_images() -> None:
    presets = [StyleChoice("preset", "wave"), StyleChoice("preset", "mosaic")]
    images = [StyleChoice("file", "/x/a.jpg"), StyleChoice("layer", "{id}")]
    assert request.engine_method(Settings(), presets, PONG) == "preset"
    assert request.engine_method(Settings(), images, PONG) == "arbitrary"
    with pytest.raises(request.RequestError, match="only presets or only images"):
        request.engine_method(Settings(), presets + images, PONG)


def test_quality_uses_the_optimization_method_and_its_margin_for_style_images() -> None:
    s = Settings(method="quality")
    method = request.engine_method(s, [StyleChoice("file", "/x/a.jpg")], PONG)
    assert method == "optimize" and request.context_margin(PONG, method) == 128
    with pytest.raises(request.RequestError, match="choose Fast for presets"):
        request.engine_method(s, [StyleChoice("preset", "wave")], PONG)


def test_quality_is_refused_when_the_engine_lacks_it() -> None:
    with pytest.raises(request.RequestError, match="choose Fast"):
        request.engine_method(Settings(method="quality"), [StyleChoice("file", "/a.png")],
                              {"context_margins": {"arbitrary": 64}})


def test_margin_falls_back_to_the_single_margin_then_a_default() -> None:
    assert request.context_margin({"context_margin": 48}, "arbitrary") == 48
    assert request.context_margin({}, "arbitrary") == 64


NEW_ENGINE = dict(PONG, features=["regions", "detail", "style_scale_auto"], style_scale_auto_side=1024,
                  style_scale_range=[0.25, 8.0])


def test_options_carry_the_dialog_values_and_feather_only_with_a_selection() -> None:
    s = Settings(strength=0.5, preserve_colors="histogram", style_scale=2.0, style_scale_auto=False, detail=0.5,
                 feather=12.0)
    assert request.engine_options(s, "arbitrary", True, NEW_ENGINE, (4000, 3000)) == {
        "method": "arbitrary", "strength": 0.5, "preserve_colors": "histogram", "style_scale": 2.0, "detail": 0.5,
        "feather": 12.0}
    assert request.engine_options(s, "arbitrary", False, NEW_ENGINE, (4000, 3000))["feather"] == 0.0
    assert request.engine_options(Settings(), "arbitrary", True, NEW_ENGINE, (10, 10))["preserve_colors"] is False


def test_auto_stroke_size_sends_auto_with_the_images_size_and_sizes_the_margin_by_it() -> None:
    s = Settings()  # auto is the default
    assert s.style_scale_auto and s.detail == 1.0
    options = request.engine_options(s, "preset", True, NEW_ENGINE, (4096, 2048))
    assert (options["style_scale"], options["canvas_size"], options["detail"]) == ("auto", [4096, 2048], 1.0)
    assert request.style_scale(s, NEW_ENGINE, (4096, 2048)) == 4.0  # the image's 4096 px / 1024
    assert request.context_margin(NEW_ENGINE, "preset", request.style_scale(s, NEW_ENGINE, (4096, 2048))) == 128
    assert request.style_scale(s, NEW_ENGINE, (100_000, 10)) == 8.0  # kept within the engine's range


def test_an_older_engine_gets_the_number_only() -> None:
    s = Settings(style_scale=1.5)  # auto on, but the engine does not list the features
    assert request.engine_options(s, "preset", True, PONG, (4096, 4096))["style_scale"] == 1.5
    assert "detail" not in request.engine_options(s, "preset", True, PONG, (4096, 4096))
    assert request.style_scale(s, PONG, (4096, 4096)) == 1.5


def test_style_entries_mix_presets_and_images_with_their_weights() -> None:
    img = Image(1, 1, 4, "uint8", bytes(4))
    choices = [StyleChoice("preset", "wave", 0.7), StyleChoice("file", "/x/la_muse.jpg", 0.3)]
    assert request.style_entries(choices, {1: img}) == [{"preset": "wave", "weight": 0.7},
                                                       {"image": img, "weight": 0.3}]
    with pytest.raises(request.RequestError, match="la_muse"):
        request.style_entries(choices, {})


def test_styles_with_zero_weight_take_no_part_and_none_left_is_an_error() -> None:
    kept = request.active_styles([StyleChoice("preset", "a", 0.0), StyleChoice("preset", "b", 2.0)])
    assert [c.value for c in kept] == ["b"]
    with pytest.raises(request.RequestError, match="pick a style"):
        request.active_styles([StyleChoice("preset", "a", 0.0)])


def test_layer_is_named_after_its_styles() -> None:
    choices = [StyleChoice("preset", "wave", label="Wave"), StyleChoice("file", "/x/la_muse.jpg")]
    assert request.layer_name(choices) == "Wave + la_muse (style transfer)"
    long_name = request.layer_name([StyleChoice("preset", "x" * 200)])
    assert len(long_name) < 120 and "…" in long_name


# --- settings -------------------------------------------------------------------------------------------

def test_settings_roundtrip_and_keep_keys_they_do_not_know(tmp_path: Path) -> None:
    path = tmp_path / "restyle" / "settings.json"
    s = Settings(engine_command=("/opt/restyle/bin/restyle", "serve"), method="quality", strength=0.4,
                 styles=(StyleChoice("preset", "wave", 0.5, "Wave"), StyleChoice("layer", "{uuid}", 0.5)),
                 extra={"future_option": [1, 2]})
    settings.save(path, s)
    loaded = settings.load(path)
    assert loaded.engine_command == s.engine_command and loaded.method == "quality" and loaded.strength == 0.4
    assert loaded.styles == (StyleChoice("preset", "wave", 0.5, "Wave"),)  # layer ids mean nothing next time
    assert json.loads(path.read_text())["future_option"] == [1, 2]


def test_stroke_size_choices_are_remembered_and_bad_values_replaced() -> None:
    remembered = settings.from_dict(settings.to_dict(Settings(style_scale_auto=False, style_scale=6.0, detail=0.3)))
    assert (remembered.style_scale_auto, remembered.style_scale, remembered.detail) == (False, 6.0, 0.3)
    bad = settings.from_dict({"style_scale_auto": "yes", "detail": 7, "style_scale": "big"})
    assert (bad.style_scale_auto, bad.detail, bad.style_scale) == (True, 1.0, 1.0)


def test_missing_settings_are_the_defaults(tmp_path: Path) -> None:
    assert settings.load(tmp_path / "none.json") == Settings()


def test_wrong_values_fall_back_to_defaults_or_are_clamped(tmp_path: Path) -> None:
    path = tmp_path / "s.json"
    path.write_text(json.dumps({"strength": 7, "method": "magic", "selection_only": "yes", "engine_command": "x",
                                "styles": [{"kind": "preset", "value": "wave", "weight": -1}, {"kind": "?"}]}))
    s = settings.load(path)
    assert s.strength == 1.0 and s.method == "fast" and s.selection_only is True and s.engine_command == ()
    assert s.styles == (StyleChoice("preset", "wave", 1.0),)


def test_a_corrupt_settings_file_is_reported_and_left_alone(tmp_path: Path) -> None:
    path = tmp_path / "s.json"
    path.write_text("{not json")
    with pytest.raises(settings.SettingsError, match="delete it to start from the defaults"):
        settings.load(path)
    assert path.read_text() == "{not json"


# --- a job against a fake engine ------------------------------------------------------------------------

class FakeClient:
    """Inverts the colour of masked pixels like the engine would (mask 0: bit-exact copy)."""

    def __init__(self, fail: Exception | None = None) -> None:
        self.calls: List[dict] = []
        self.fail = fail

    def stylize(self, content: Image, styles: Any, mask: Any = None, options: Any = None,
                on_progress: Any = None, cancel: Any = None) -> Result:
        self.calls.append({"content": content, "styles": styles, "mask": mask, "options": options})
        if self.fail:
            raise self.fail
        if on_progress:
            on_progress({"done": 1, "total": 2, "stage": "stylizing", "eta_s": None})
        dtype = {"uint8": np.uint8, "uint16": "<u2", "float16": "<f2", "float32": "<f4"}[content.dtype]
        px = np.frombuffer(content.data, dtype).reshape(content.height, content.width, 4).copy()
        top = 255 if content.dtype == "uint8" else 65535 if content.dtype == "uint16" else 1.0
        sel = np.ones(px.shape[:2], bool) if mask is None else np.frombuffer(mask.data, np.uint8).reshape(
            px.shape[:2]) > 0
        px[sel, :3] = top - px[sel, :3]
        return Result(Image(content.width, content.height, 4, content.dtype, px.tobytes()), "job-1", 0.1)


def _job(content: bytes, fmt: pixels.PixelFormat, box: Bounds, mask: bytes | None, linear: bool = False) -> job.Job:
    sel = Bounds(box.x + 1, box.y, 1, 1) if mask is not None else None
    return job.Job(content=content, fmt=fmt, linear=linear, region=region.Region(box, sel), mask=mask,
                   styles=(StyleChoice("preset", "wave"),), style_images={},
                   options={"method": "arbitrary", "strength": 1.0})


def test_job_sends_rgba_and_mask_and_returns_bgra_stylized_inside_clear_outside() -> None:
    fmt = pixels.FORMATS["U8"]
    krita = bytes([10, 20, 30, 255, 40, 50, 60, 255, 70, 80, 90, 128])  # 3 BGRA pixels in a row
    fake = FakeClient()
    reports: list = []
    out = job.run(fake, _job(krita, fmt, Bounds(5, 7, 3, 1), bytes([0, 255, 0])), reports.append)
    call = fake.calls[0]
    assert bytes(call["content"].data)[:4] == bytes([30, 20, 10, 255])  # RGBA to the engine
    assert (call["mask"].width, call["mask"].height, bytes(call["mask"].data)) == (3, 1, bytes([0, 255, 0]))
    assert call["styles"] == [{"preset": "wave", "weight": 1.0}]
    assert out == bytes([0, 0, 0, 0, 255 - 40, 255 - 50, 255 - 60, 255, 0, 0, 0, 0])
    assert reports and reports[0]["done"] == 1


def test_job_without_selection_keeps_every_pixel_and_its_alpha() -> None:
    fmt = pixels.FORMATS["F32"]
    krita = struct.pack("<8f", 0.25, 0.5, 0.75, 1.0, 0.0, 0.0, 0.0, 0.5)
    out = struct.unpack("<8f", job.run(FakeClient(), _job(krita, fmt, Bounds(0, 0, 2, 1), None)))
    assert out == (0.75, 0.5, 0.25, 1.0, 1.0, 1.0, 1.0, 0.5)


def test_job_on_a_linear_16_bit_layer_stylizes_in_srgb_and_returns_linear() -> None:
    fmt = pixels.FORMATS["U16"]
    grey18 = round(0.18 * 65535)
    krita = struct.pack("<4H", grey18, grey18, grey18, 65535)
    fake = FakeClient()
    out = struct.unpack("<4H", job.run(fake, _job(krita, fmt, Bounds(0, 0, 1, 1), None, linear=True)))
    sent = struct.unpack("<4H", bytes(fake.calls[0]["content"].data))
    assert sent[0] == pytest.approx(0.4613 * 65535, abs=80)
    inverted_linear = pixels.srgb_decode(1 - sent[0] / 65535)
    assert out[0] / 65535 == pytest.approx(inverted_linear, abs=2e-4) and out[3] == 65535


def test_engine_failures_become_messages_that_say_what_to_do() -> None:
    missing = job.failure_text(EngineNotRunning("cannot start the engine with ['/nope']", "set the path"))
    assert "restyle doctor" in missing and "/nope" in missing and "set the path" in missing
    refused = job.failure_text(EngineError("too_large", "the image is 9000 px wide", "select a smaller part"))
    assert "9000 px" in refused and "select a smaller part" in refused
    assert job.failure_text(JobCancelled()) == "Style transfer cancelled."
    with pytest.raises(EngineNotRunning):
        job.run(FakeClient(EngineNotRunning("the engine died")), _job(bytes(4), pixels.FORMATS["U8"],
                                                                       Bounds(0, 0, 1, 1), None))


def test_progress_text_shows_stage_percent_and_time_left() -> None:
    assert job.progress_text({"done": 3, "total": 4, "stage": "stylizing", "eta_s": 12.4}) == (
        "Stylizing… 75% (about 12 s left)", 75)
    assert job.progress_text({"stage": "queued", "position": 2}) == ("Waiting for the engine (2 job(s) ahead)…", None)
    assert job.progress_text({"done": 0, "total": 0, "stage": ""})[1] is None


def test_make_client_uses_the_installed_engine_command_and_endpoint() -> None:
    s = Settings(engine_command=("/venv/bin/restyle", "serve"), engine_endpoint="tcp://127.0.0.1:5999",
                 engine_timeout_s=7.0)
    c = job.make_client(s)
    try:
        assert c.start_command == ["/venv/bin/restyle", "serve"] and c.endpoint == "tcp://127.0.0.1:5999"
        assert c.timeout_s == 7.0
    finally:
        c.close()


def test_context_margin_grows_with_style_scale():
    pong = {"context_margins": {"arbitrary": 64, "preset": 64}}
    assert request.context_margin(pong, "arbitrary") == 64
    assert request.context_margin(pong, "preset", 2.0) == 128
    assert request.context_margin(pong, "preset", 0.25) == 64
    assert request.context_margin({"context_margin": 50}, "arbitrary", 1.0) == 52  # on the 4-pixel grid
