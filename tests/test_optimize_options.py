"""The optimize options dict: defaults, accepted forms and the errors for bad values."""
from __future__ import annotations

import math

import pytest

from engine.errors import BadInput
from engine.optimize.options import OptimizeOptions


def test_defaults_are_the_documented_ones():
    options = OptimizeOptions.from_dict(None)
    assert (options.backbone, options.fusion, options.optimizer, options.init) == ("auto", "gram", "lbfgs", "fast")
    assert options.total_iterations == options.iterations


def test_values_are_parsed_and_case_folded():
    options = OptimizeOptions.from_dict(
        {"fusion": "Gram+Attention", "iterations": 5.0, "layer_weights": "1,2,0,1,1", "scales": 2}
    )
    assert options.uses_gram and options.uses_attention
    assert options.iterations == 5 and isinstance(options.iterations, int)
    assert options.layer_weights == (1.0, 2.0, 0.0, 1.0, 1.0)
    assert options.total_iterations == 10


def test_iterations_may_differ_per_scale():
    options = OptimizeOptions.from_dict({"scales": 3, "iterations": [50, 20, 10]})
    assert [options.iterations_at(i) for i in range(3)] == [50, 20, 10]
    assert options.total_iterations == 80
    assert OptimizeOptions.from_dict({"iterations": "40"}).iterations == 40


def test_iteration_counts_must_match_the_scales():
    with pytest.raises(BadInput, match="2 counts for 3 scale") as err:
        OptimizeOptions.from_dict({"scales": 3, "iterations": [50, 20]})
    assert "one iteration count per scale" in err.value.hint


def test_unknown_keys_are_refused_with_the_list_of_valid_ones():
    with pytest.raises(BadInput, match="iteratoins") as err:
        OptimizeOptions.from_dict({"iteratoins": 10})
    assert "iterations" in err.value.hint


@pytest.mark.parametrize(
    "key, value, words",
    [
        ("fusion", "sum", "gram, attention"),
        ("optimizer", 3, "lbfgs, adam"),
        ("iterations", 0, "[1,"),
        ("iterations", 2.5, "whole number"),
        ("iterations", True, "whole number"),
        ("style_weight", math.nan, "number"),
        ("style_weight", -1, "[0.0,"),
        ("tv_weight", "a lot", "number"),
        ("learning_rate", 0, "1e-06"),
        ("scales", 9, "6"),
        ("layer_weights", [0, 0], "positive weight"),
        ("layer_weights", "1,x", "e.g."),
        ("weights", 5, ".pth"),
        ("color", "sepia", "full, luminance"),
    ],
)
def test_bad_values_say_what_is_accepted(key, value, words):
    with pytest.raises(BadInput) as err:
        OptimizeOptions.from_dict({key: value})
    assert key in err.value.message
    assert words in err.value.hint
