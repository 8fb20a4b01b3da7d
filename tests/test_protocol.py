"""Protocol v1 framing and the checks on a ``stylize`` request, without sockets."""
from __future__ import annotations

import json

import numpy as np
import pytest

from engine.errors import BadInput, TooLarge
from engine.client.protocol import (
    CLIENT_TYPES,
    ENGINE_TYPES,
    MAX_HEADER_BYTES,
    PROTOCOL,
    Frame,
    ProtocolError,
    deserialize,
    field_bool,
    field_int,
    field_number,
    field_str,
    serialize,
)
from engine.server.stylize_request import Limits, array_frame, describe, frame_array, parse_stylize, stylizer_call


def header_bytes(**fields) -> bytes:
    base = {"protocol": PROTOCOL, "id": "m1", "type": "ping", "frames": []}
    base.update(fields)
    return json.dumps(base).encode()


def refused(parts, accepted=CLIENT_TYPES) -> ProtocolError:
    with pytest.raises(ProtocolError) as info:
        deserialize(parts, accepted)
    return info.value


@pytest.mark.parametrize("msg_type", sorted(CLIENT_TYPES | ENGINE_TYPES))
def test_every_message_type_round_trips_with_its_fields(msg_type):
    parts = serialize(msg_type, "abc", {"position": 3, "stage": "tiles", "nested": {"a": [1, 2.5, None]}})
    msg = deserialize(parts, CLIENT_TYPES | ENGINE_TYPES)
    assert (msg.type, msg.id, msg.header["protocol"]) == (msg_type, "abc", PROTOCOL)
    assert msg.header["nested"] == {"a": [1, 2.5, None]} and msg.header["position"] == 3
    assert msg.frames == {}


@pytest.mark.parametrize("dtype", ["uint8", "uint16", "float16", "float32"])
def test_frames_round_trip_bit_exact_in_every_dtype(dtype):
    rng = np.random.default_rng(0)
    pixels = (rng.random((5, 7, 4)) * 200).astype(dtype)
    mask = (rng.random((5, 7, 1)) * 255).astype(np.uint8)
    parts = serialize("stylize", "j", {}, [array_frame("content", pixels), array_frame("mask", mask)])
    msg = deserialize(parts, CLIENT_TYPES)
    assert msg.frames["content"].shape == (5, 7, 4) and msg.frames["content"].dtype == dtype
    np.testing.assert_array_equal(frame_array(msg.frames["content"]), pixels)
    np.testing.assert_array_equal(frame_array(msg.frames["mask"]), mask)


def test_array_frame_sends_without_copying_a_contiguous_array():
    pixels = np.zeros((4, 4, 3), np.uint8)
    frame = array_frame("image", pixels)
    pixels[0, 0, 0] = 9
    assert bytes(frame.data)[0] == 9


def test_serialize_refuses_a_frame_whose_bytes_do_not_match_its_shape():
    with pytest.raises(ValueError, match="needs 12"):
        serialize("result", "j", {}, [Frame("image", (2, 2, 3), "uint8", b"\0" * 11)])


def test_serialize_refuses_nan_and_reserved_fields():
    with pytest.raises(ValueError):
        serialize("progress", "j", {"eta_s": float("nan")})
    with pytest.raises(ValueError, match="set by serialize"):
        serialize("pong", "j", {"protocol": 2})


@pytest.mark.parametrize("raw", [b"", b"{", b"\xff\xfe", b"[1, 2]", b'"text"', b"12", b"[" * 5000 + b"]" * 5000,
                                 b'{"protocol": 1, "id": "x", "type": "ping", "v": NaN}',
                                 b'{"protocol": 1, "id": "x", "type": "ping", "v": Infinity}',
                                 b'{"protocol": 1, "id": "x", "type": "ping", "v": 1e999}'])
def test_unreadable_headers_are_refused_without_an_id(raw):
    error = refused([raw])
    assert error.code == "bad_message" and error.msg_id is None and error.hint


def test_a_header_larger_than_the_limit_is_refused_before_parsing():
    error = refused([header_bytes(pad="x" * MAX_HEADER_BYTES)])
    assert "header is" in error.message


@pytest.mark.parametrize("version", [0, 2, "1", True, None, 1.5])
def test_another_protocol_version_is_refused_naming_the_supported_one(version):
    error = refused([header_bytes(protocol=version)])
    assert error.code == "unsupported_protocol" and error.msg_id == "m1"
    assert f"protocol {PROTOCOL}" in error.message and f"protocol {PROTOCOL}" in error.hint


@pytest.mark.parametrize("msg_id", [None, "", 5, "x" * 129, ["a"]])
def test_a_request_without_a_usable_id_is_refused(msg_id):
    assert "id" in refused([header_bytes(id=msg_id)]).message


def test_an_error_reply_may_carry_a_null_id():
    msg = deserialize(serialize("error", None, {"code": "bad_message", "message": "m", "hint": "h"}), ENGINE_TYPES)
    assert msg.id is None and msg.header["code"] == "bad_message"


def test_an_unknown_type_is_refused_listing_the_known_ones():
    error = refused([header_bytes(type="format_disk")])
    assert error.code == "unknown_type" and error.msg_id == "m1" and "stylize" in error.hint
    assert refused([header_bytes(type="pong")]).code == "unknown_type"  # an engine reply is no request


FRAME = {"name": "content", "shape": [2, 2, 3], "dtype": "uint8"}


@pytest.mark.parametrize("frames, data, needle", [
    ([FRAME], [], "1 binary frames but 0"),
    ([], [b"x"], "0 binary frames but 1"),
    ([FRAME], [b"\0" * 11], "has 11 bytes"),
    ([FRAME], [b"\0" * 13], "has 13 bytes"),
    ([dict(FRAME, dtype="float64")], [b"\0" * 12], "unsupported dtype"),
    ([dict(FRAME, dtype=None)], [b"\0" * 12], "unsupported dtype"),
    ([dict(FRAME, shape=[2, -2, 3])], [b""], "positive integers"),
    ([dict(FRAME, shape=[2, 2.0, 3])], [b"\0" * 12], "positive integers"),
    ([dict(FRAME, shape=[True, 2, 3])], [b"\0" * 6], "positive integers"),
    ([dict(FRAME, shape=[1, 1, 1, 1, 1])], [b"\0"], "positive integers"),
    ([dict(FRAME, shape=[2 ** 31, 1, 1])], [b""], "positive integers"),
    ([dict(FRAME, shape="2x2")], [b""], "positive integers"),
    ([dict(FRAME, name="")], [b"\0" * 12], "frame name"),
    ([FRAME, FRAME], [b"\0" * 12] * 2, "used twice"),
    ("content", [b""], "frame descriptions"),
    (["content"], [b""], "not an object"),
])
def test_frames_that_do_not_match_their_description_are_refused(frames, data, needle):
    error = refused([header_bytes(type="stylize", frames=frames)] + data)
    assert needle in error.message and error.msg_id == "m1"


def test_field_helpers_check_type_and_range():
    fields = {"n": 0.5, "big": 10 ** 400, "flag": True, "one": 1, "name": "wave", "t": True}
    assert field_number(fields, "n", 0.0, 0.0, 1.0) == 0.5
    assert field_number(fields, "missing", 0.25, 0.0, 1.0) == 0.25
    assert field_int(fields, "one", 0, 0, 5) == 1 and field_bool(fields, "flag", False) is True
    assert field_str(fields, "name") == "wave"
    for check in (lambda: field_number(fields, "big", 0, 0, 1), lambda: field_number(fields, "t", 0, 0, 1),
                  lambda: field_int(fields, "n", 0, 0, 1), lambda: field_bool(fields, "one", False),
                  lambda: field_str(fields, "one"), lambda: field_str(fields, "missing")):
        with pytest.raises(ProtocolError) as info:
            check()
        assert info.value.code == "bad_input"


LIMITS = Limits(max_side=64, max_pixels=64 * 32)


def stylize_message(fields=None, frames=None):
    content = np.arange(4 * 6 * 4, dtype=np.uint8).reshape(4, 6, 4)
    frames = [array_frame("content", content)] if frames is None else frames
    header = {"styles": [{"preset": "wave"}], "options": {}}
    header.update(fields or {})
    return deserialize(serialize("stylize", "job1", header, frames), CLIENT_TYPES)


def test_a_valid_stylize_request_becomes_stylizer_arguments():
    content = np.full((4, 6, 3), 7, np.uint16)
    style = np.full((8, 8, 4), 200, np.uint8)
    mask = np.zeros((4, 6, 1), np.uint8)
    mask[1:3, 2:5] = 255
    options = {"method": "preset", "strength": 0.5, "preserve_colors": "histogram", "style_scale": 2,
               "feather": 3, "invert_mask": True, "iterations": 10, "layers": ["a", "b"]}
    msg = stylize_message({"styles": [{"preset": "wave", "weight": 2}, {"image": "s0", "weight": 1}],
                           "options": options},
                          [array_frame("content", content), array_frame("mask", mask), array_frame("s0", style)])
    request = parse_stylize(msg, LIMITS)
    assert request.nbytes == content.nbytes + mask.nbytes + style.nbytes
    array, kwargs = stylizer_call(request)
    np.testing.assert_array_equal(array, content)
    assert kwargs["style"][0] == "preset:wave" and kwargs["style"][1].shape == (8, 8, 3)
    assert kwargs["weights"] == [2.0, 1.0]
    assert (kwargs["method"], kwargs["strength"], kwargs["preserve_colors"]) == ("preset", 0.5, "histogram")
    assert (kwargs["style_scale"], kwargs["feather"], kwargs["invert_mask"]) == (2.0, 3.0, True)
    assert kwargs["options"] == {"iterations": 10, "layers": ["a", "b"]}
    assert kwargs["mask"].dtype == np.float32 and kwargs["mask"].shape == (4, 6)
    np.testing.assert_array_equal(kwargs["mask"], mask[..., 0] / 255.0)


def test_defaults_fill_in_missing_options():
    _, kwargs = stylizer_call(parse_stylize(stylize_message(), LIMITS))
    assert kwargs["method"] is None and kwargs["strength"] == 1.0 and kwargs["mask"] is None  # the engine picks
    assert kwargs["preserve_colors"] is False and kwargs["style_scale"] == 1.0 and kwargs["weights"] == [1.0]
    assert kwargs["detail"] == 1.0


@pytest.mark.parametrize("options, style_scale", [
    ({"style_scale": "auto", "canvas_size": [4096, 2048]}, 4.0),  # a crop of a 4096 x 2048 picture
    ({"style_scale": "auto"}, 0.25),  # the content itself (6 x 4) is the picture
    ({"style_scale": 3, "canvas_size": [4096, 2048]}, 3.0),  # a number stays what it is
])
def test_auto_style_scale_is_worked_out_for_the_canvas_and_detail_passes_through(options, style_scale):
    content = [array_frame("content", np.zeros((4, 6, 3), np.uint8))]
    for fields in ({"styles": [{"preset": "wave"}]}, {"regions": [{"styles": [{"preset": "wave"}]}]}):
        header = dict(fields, options=dict(options, detail=0.25))
        _, kwargs = stylizer_call(parse_stylize(deserialize(serialize("stylize", "j", header, content), CLIENT_TYPES), LIMITS))
        assert (kwargs["style_scale"], kwargs["detail"]) == (style_scale, 0.25)


@pytest.mark.parametrize("fields", [
    {"styles": []},
    {"styles": "wave"},
    {"styles": [{"preset": "wave", "image": "s0"}]},
    {"styles": [{}]},
    {"styles": [{"preset": ""}]},
    {"styles": [{"preset": "wave", "weight": -1}]},
    {"styles": [{"preset": "wave", "weight": 0}]},
    {"styles": [{"image": "nope"}]},
    {"styles": [{"preset": "wave"}] * 9},
    {"options": []},
    {"options": {"strength": 1.5}},
    {"options": {"strength": "high"}},
    {"options": {"style_scale": 0}},
    {"options": {"style_scale": 1e300}},
    {"options": {"style_scale": "big"}},
    {"options": {"style_scale": "AUTO"}},
    {"options": {"style_scale": None}},
    {"options": {"detail": 1.5}},
    {"options": {"detail": -0.1}},
    {"options": {"detail": "sharp"}},
    {"options": {"detail": True}},
    {"options": {"style_scale": "auto", "canvas_size": [0, 5]}},
    {"options": {"canvas_size": [4000]}},
    {"options": {"canvas_size": "4000x3000"}},
    {"options": {"canvas_size": [1.5, 2]}},
    {"options": {"canvas_size": [True, 2]}},
    {"options": {"canvas_size": [4000, 1 << 21]}},
    {"options": {"feather": -1}},
    {"options": {"feather": 1e9}},
    {"options": {"invert_mask": 1}},
    {"options": {"preserve_colors": "yes"}},
    {"options": {"preserve_colors": 0}},
    {"options": {"method": 3}},
    {"options": {"iterations": {"deep": 1}}},
    {"options": {"iterations": 1e300}},
    {"options": {"tags": list(range(100))}},
    {"options": {f"k{i}": 1 for i in range(40)}},
])
def test_bad_stylize_fields_are_refused_as_bad_input(fields):
    with pytest.raises(ProtocolError) as info:
        parse_stylize(stylize_message(fields), LIMITS)
    assert info.value.code == "bad_input" and info.value.hint


@pytest.mark.parametrize("frames", [
    [],
    [array_frame("content", np.zeros((4, 6), np.uint8))],
    [array_frame("content", np.zeros((4, 6, 2), np.uint8))],
    [array_frame("content", np.zeros((4, 6, 3), np.uint8)), array_frame("mask", np.zeros((4, 5), np.uint8))],
    [array_frame("content", np.zeros((4, 6, 3), np.uint8)), array_frame("mask", np.zeros((4, 6), np.uint16))],
    [array_frame("content", np.zeros((4, 6, 3), np.uint8)), array_frame("extra", np.zeros((1,), np.uint8))],
])
def test_bad_stylize_frames_are_refused(frames):
    with pytest.raises(ProtocolError):
        parse_stylize(stylize_message(frames=frames), LIMITS)


@pytest.mark.parametrize("shape", [(1, 65, 3), (40, 60, 3)])
def test_images_beyond_the_limits_are_refused_as_too_large(shape):
    with pytest.raises(TooLarge, match="larger than the engine accepts"):
        parse_stylize(stylize_message(frames=[array_frame("content", np.zeros(shape, np.uint8))]), LIMITS)
    style = {"styles": [{"image": "s"}]}
    frames = [array_frame("content", np.zeros((2, 2, 3), np.uint8)), array_frame("s", np.zeros(shape, np.uint8))]
    with pytest.raises(TooLarge):
        parse_stylize(stylize_message(style, frames), LIMITS)


@pytest.mark.parametrize("bad", [np.nan, np.inf, -np.inf])
def test_non_finite_float_pixels_are_bad_input(bad):
    content = np.zeros((2, 3, 3), np.float32)
    content[1, 2, 0] = bad
    request = parse_stylize(stylize_message(frames=[array_frame("content", content)]), LIMITS)
    with pytest.raises(BadInput, match="NaN or infinity"):
        stylizer_call(request)


def test_a_float_mask_outside_0_to_1_is_bad_input():
    frames = [array_frame("content", np.zeros((2, 3, 3), np.float32)),
              array_frame("mask", np.full((2, 3), 1.5, np.float32))]
    with pytest.raises(BadInput, match="0..1"):
        stylizer_call(parse_stylize(stylize_message(frames=frames), LIMITS))


def regions_message(regions, frames, options=None):
    header = {"regions": regions, "options": options or {}}
    return deserialize(serialize("stylize", "job1", header, frames), CLIENT_TYPES)


def test_a_regions_request_becomes_one_region_per_entry():
    content = np.zeros((4, 6, 3), np.uint8)
    left, right = np.zeros((4, 6), np.uint8), np.zeros((4, 6), np.float32)
    left[:, :3] = 255
    right[:, 3:] = 0.5
    style = np.full((8, 8, 3), 90, np.uint8)
    msg = regions_message(
        [{"mask": "m0", "styles": [{"preset": "wave"}, {"image": "s1", "weight": 3}]},
         {"mask": "m1", "styles": [{"preset": "frost"}], "strength": 0.25, "feather": 0, "invert_mask": False},
         {"styles": [{"preset": "ink"}]}],
        [array_frame("content", content), array_frame("m0", left), array_frame("m1", right), array_frame("s1", style)],
        options={"strength": 0.75, "feather": 2, "invert_mask": True, "method": "arbitrary"},
    )
    request = parse_stylize(msg, LIMITS)
    assert request.nbytes == content.nbytes + left.nbytes + right.nbytes + style.nbytes
    _, kwargs = stylizer_call(request)
    assert "style" not in kwargs and "mask" not in kwargs and kwargs["method"] == "arbitrary"
    first, second, third = kwargs["regions"]
    np.testing.assert_array_equal(first.mask, left / 255.0)
    assert first.style[0] == "preset:wave" and first.style[1].shape == (8, 8, 3) and first.weights == [1.0, 3.0]
    assert (first.strength, first.feather, first.invert) == (0.75, 2.0, True)  # from the options
    np.testing.assert_array_equal(second.mask, right)
    assert (second.strength, second.feather, second.invert) == (0.25, 0.0, False)  # its own
    assert third.mask is None and third.style == ["preset:ink"]


@pytest.mark.parametrize("regions, frame_names, needle", [
    ([], ["m0"], "1 to 16 regions"),
    ("all", [], "1 to 16 regions"),
    ([{"styles": [{"preset": "wave"}]}] * 17, [], "1 to 16 regions"),
    ([7], [], "each region must be an object"),
    ([{"mask": "m0"}], ["m0"], "'styles'"),
    ([{"mask": "nope", "styles": [{"preset": "wave"}]}], [], "'nope' is missing"),
    ([{"mask": "content", "styles": [{"preset": "wave"}]}], [], "'content' is missing"),
    ([{"mask": "small", "styles": [{"preset": "wave"}]}], ["small"], "mask must be [4, 6]"),
    ([{"mask": "m0", "styles": [{"preset": "wave"}], "strength": 2}], ["m0"], "strength"),
    ([{"styles": [{"preset": "wave"}]}], ["m0"], "not referenced"),
])
def test_bad_regions_are_refused_as_bad_input(regions, frame_names, needle):
    frames = [array_frame("content", np.zeros((4, 6, 3), np.uint8))]
    frames += [array_frame(n, np.zeros((2, 2) if n == "small" else (4, 6), np.uint8)) for n in frame_names]
    with pytest.raises(ProtocolError) as info:
        parse_stylize(regions_message(regions, frames), LIMITS)
    assert info.value.code == "bad_input" and info.value.hint and needle in info.value.message


def test_regions_exclude_top_level_styles_and_mask():
    frames = [array_frame("content", np.zeros((4, 6, 3), np.uint8)), array_frame("mask", np.zeros((4, 6), np.uint8))]
    msg = stylize_message({"regions": [{"styles": [{"preset": "wave"}]}]}, frames)
    with pytest.raises(ProtocolError, match="either 'styles'"):
        parse_stylize(msg, LIMITS)


def test_the_log_line_of_a_request_says_its_size_method_and_stroke_size():
    auto = parse_stylize(stylize_message({"options": {"method": "preset", "style_scale": "auto",
                                                      "canvas_size": [4000, 3000], "detail": 0.5}}), LIMITS)
    assert describe(auto) == ("6x4 uint8, method preset, style scale auto on a 4000x3000 canvas = 3.91, "
                              "detail 0.5")
    assert describe(parse_stylize(stylize_message(), LIMITS)) == ("6x4 uint8, method by style, style scale 1.00, "
                                                                   "detail 1")
