"""The GIMP plug-in's region arithmetic: selection bounds plus context margin, inside the layer."""
from __future__ import annotations

import sys
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "plugins" / "gimp" / "restyle"))

from engine.client.geometry import Bounds  # noqa: E402
from restyle_gimp.errors import PluginError  # noqa: E402
from restyle_gimp.region import plan_region  # noqa: E402

LAYER = Bounds(10, 20, 300, 200)  # offset (10, 20) in the image


def test_no_selection_sends_the_whole_layer_unmasked():
    region = plan_region(LAYER, None, 64)
    assert region.crop == Bounds(0, 0, 300, 200)
    assert not region.masked
    assert region.in_image == LAYER


def test_selection_grows_by_the_margin_and_is_masked():
    region = plan_region(LAYER, Bounds(100, 80, 40, 30), 16)
    assert region.crop == Bounds(84, 64, 72, 62)
    assert region.masked
    assert region.in_image == Bounds(94, 84, 72, 62)


def test_margin_stops_at_the_layer_edges():
    region = plan_region(LAYER, Bounds(5, 190, 20, 10), 64)
    assert region.crop == Bounds(0, 126, 89, 74)


def test_selection_partly_outside_the_layer_is_cut_to_it():
    assert plan_region(LAYER, Bounds(-50, -50, 60, 60), 0).crop == Bounds(0, 0, 10, 10)


def test_selection_that_misses_the_layer_says_what_to_do():
    with pytest.raises(PluginError, match="Select › None"):
        plan_region(LAYER, Bounds(0, 0, 0, 0), 64)
    with pytest.raises(PluginError, match="does not cover"):
        plan_region(LAYER, Bounds(400, 0, 10, 10), 64)


def test_negative_margin_is_a_programming_error():
    with pytest.raises(ValueError):
        plan_region(LAYER, None, -1)
