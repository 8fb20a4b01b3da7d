"""What a client sends for the stroke size, from the engine's pong (engine/client/stroke_size.py, which the plugins
carry), and that it works "auto" out as the engine does (engine/style_scale.py)."""
from __future__ import annotations

import pytest

from engine import style_scale
from engine.client.stroke_size import (AUTO, engine_auto_scale, engine_takes_stroke_size, request_style_scale,
                                       stroke_options)
from engine.server.router import FEATURES

NEW = {"features": ["regions", "detail", "style_scale_auto"], "style_scale_auto_side": 1024,
       "style_scale_range": [0.25, 8.0]}
OLD = {"features": ["regions"]}


def test_an_engine_takes_the_stroke_size_fields_only_when_its_pong_lists_both_features():
    assert engine_takes_stroke_size(NEW)
    assert not engine_takes_stroke_size(OLD) and not engine_takes_stroke_size({})
    assert not engine_takes_stroke_size({"features": ["detail"]}) and not engine_takes_stroke_size({"features": "x"})


def test_auto_is_the_canvas_longer_side_over_the_engines_reference_kept_in_its_range():
    assert engine_auto_scale(NEW, (4096, 3000)) == 4.0
    assert engine_auto_scale(NEW, (256, 100)) == 0.25
    assert engine_auto_scale(dict(NEW, style_scale_auto_side=2048, style_scale_range=[0.5, 2.0]), (8192, 10)) == 2.0
    bogus = dict(NEW, style_scale_auto_side="big", style_scale_range=[0, "x"])
    assert engine_auto_scale(bogus, (2048, 10)) == 2.0  # a malformed pong falls back to 1024 and 0.25..8


def test_options_send_auto_with_the_canvas_or_the_number_and_never_new_fields_to_an_old_engine():
    assert stroke_options(NEW, True, 3.0, 0.5, (5000, 4000)) == {"style_scale": "auto", "canvas_size": [5000, 4000],
                                                                 "detail": 0.5}
    assert stroke_options(NEW, False, 3.0, 0.5, (5000, 4000)) == {"style_scale": 3.0, "detail": 0.5}
    assert stroke_options(OLD, True, 3.0, 0.5, (5000, 4000)) == {"style_scale": 3.0}
    assert request_style_scale(NEW, True, 3.0, (5000, 4000)) == 5000 / 1024
    assert request_style_scale(OLD, True, 3.0, (5000, 4000)) == 3.0


@pytest.mark.parametrize("canvas", [(100, 50), (1024, 1024), (3000, 4096), (5000, 20), (20000, 9000)])
def test_the_client_works_auto_out_as_the_engine_does_from_its_pong_or_without_one(canvas):
    pong = {"features": list(FEATURES), "style_scale_auto_side": style_scale.AUTO_REFERENCE_SIDE,
            "style_scale_range": list(style_scale.STYLE_SCALE_RANGE)}
    assert engine_takes_stroke_size(pong) and AUTO == style_scale.AUTO
    assert engine_auto_scale(pong, canvas) == style_scale.auto_style_scale(*canvas)
    assert engine_auto_scale({}, canvas) == style_scale.auto_style_scale(*canvas)  # a pong without the numbers
