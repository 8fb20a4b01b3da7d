"""Every kind of bad input gets a clear error that says what to do, and the engine keeps working."""
from __future__ import annotations

import io

import numpy as np
import pytest
from PIL import Image

import engine
from engine.errors import BadInput, TooLarge
from engine.imaging.io import decode_image, read_image, write_image


@pytest.mark.parametrize(
    "kwargs, match",
    [
        (dict(style="preset:not-a-style"), "unknown preset"),
        (dict(style="/no/such/painting.jpg"), "style image not found"),
        (dict(style="preset:frost", strength=float("nan")), "strength"),
        (dict(style="preset:frost", strength=1.5), "strength"),
        (dict(style="preset:frost", strength=-0.1), "strength"),
        (dict(style="preset:frost", style_scale=0), "style_scale"),
        (dict(style="preset:frost", style_scale=float("inf")), "style_scale"),
        (dict(style="preset:frost", feather=-3), "feather"),
        (dict(style="preset:frost", feather=float("nan"), mask=np.ones((120, 160), bool)), "feather"),
        (dict(style=["preset:frost", "preset:batik"], weights=[1, -1]), "weights"),
        (dict(style=["preset:frost", "preset:batik"], weights=[1]), "weights"),
        (dict(style=["preset:frost", "preset:batik"], weights=[0, 0]), "weights"),
        (dict(style="preset:frost", method="magic"), "unknown method"),
        (dict(style="preset:frost", preserve_colors="sepia"), "preserve_colors"),
        (dict(style="preset:frost", mask=np.ones((10, 10), bool)), "mask is 10x10 but the image is 160x120"),
        (dict(style="preset:frost", mask=np.zeros((120, 160), np.uint8)), "selects nothing"),
        (dict(style="preset:frost", mask=np.full((120, 160), 2.0, np.float32)), "0..1"),
        (dict(style="preset:frost", invert_mask=True), "invert_mask needs a mask"),
        (dict(style=None), "no style"),
        (dict(style=["preset:frost", np.zeros((64, 64, 3), np.uint8)]), "cannot blend presets with style images"),
        (dict(style=np.zeros((64, 64, 3), np.uint8), method="preset"), "preset method takes only presets"),
    ],
)
def test_bad_parameters_raise_bad_input_with_a_message(stylizer, content_small, kwargs, match):
    with pytest.raises(BadInput, match=match):
        stylizer.stylize(content_small, **kwargs)
    assert stylizer.stylize(content_small, "preset:frost").shape == content_small.shape  # still works


@pytest.mark.parametrize(
    "content, match",
    [
        (np.zeros((8, 300, 3), np.uint8), "at least 16"),
        (np.zeros((64, 64, 3), np.int32), "dtype"),
        (np.zeros((64, 64, 5), np.uint8), "shape"),
        (np.full((64, 64, 3), np.nan, np.float32), "NaN"),
        ("/does/not/exist.png", "not found"),
        (12345, "cannot stylize"),
    ],
)
def test_bad_content_is_refused(stylizer, content, match):
    with pytest.raises(BadInput, match=match):
        stylizer.stylize(content, "preset:frost")


def _png(size=(64, 48)) -> bytes:
    buffer = io.BytesIO()
    Image.new("RGB", size, (10, 200, 30)).save(buffer, format="PNG")
    return buffer.getvalue()


def test_truncated_and_corrupt_files_are_reported(tmp_path):
    data = _png()
    (tmp_path / "cut.png").write_bytes(data[: len(data) // 2])
    (tmp_path / "noise.jpg").write_bytes(bytes(range(256)) * 20)
    for name in ("cut.png", "noise.jpg"):
        with pytest.raises(BadInput, match="not a complete image") as info:
            read_image(tmp_path / name)
        assert "re-export" in info.value.hint


def test_huge_images_are_refused_before_decoding(monkeypatch):
    monkeypatch.setenv("RESTYLE_MAX_PIXELS", str(100 * 100))
    with pytest.raises(TooLarge, match="more than the limit") as info:
        decode_image(_png((200, 200)))
    assert "RESTYLE_MAX_PIXELS" in info.value.hint
    with pytest.raises(TooLarge):
        engine.Stylizer(device="cpu").stylize(np.zeros((200, 200, 3), np.uint8), "preset:frost")


def test_existing_files_are_never_overwritten_silently(tmp_path):
    target = tmp_path / "art.png"
    target.write_bytes(b"the user's work")
    with pytest.raises(BadInput, match="already exists"):
        write_image(target, np.zeros((20, 20, 3), np.uint8))
    assert target.read_bytes() == b"the user's work"
    write_image(target, np.zeros((20, 20, 3), np.uint8), overwrite=True)
    assert Image.open(target).size == (20, 20)
    assert [p.name for p in tmp_path.iterdir()] == ["art.png"]  # no temporary files left
    assert target.stat().st_mode & 0o777 == 0o666 & ~_umask()


def _umask() -> int:
    import os

    mask = os.umask(0)
    os.umask(mask)
    return mask


def test_sixteen_bit_and_alpha_files_keep_their_depth(tmp_path):
    gray16 = (np.arange(64 * 64, dtype=np.uint32).reshape(64, 64) * 16).astype(np.uint16)
    Image.fromarray(gray16).save(tmp_path / "g16.png")
    assert read_image(tmp_path / "g16.png").dtype == np.uint16
    rgba = np.zeros((32, 32, 4), np.uint8)
    rgba[..., 3] = 128
    Image.fromarray(rgba).save(tmp_path / "a.png")
    assert read_image(tmp_path / "a.png").shape == (32, 32, 4)
