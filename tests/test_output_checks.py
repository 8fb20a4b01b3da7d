"""Outputs that cannot be written are found before the work; a write that fails leaves nothing and names the file."""
from __future__ import annotations

import errno
import json
import os
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

import engine.stylizer
from engine.cli import main
from engine.errors import BadInput
from engine.imaging.io import write_image

from conftest import bench_image


@pytest.fixture()
def photo(tmp_path) -> Path:
    path = tmp_path / "photo.jpg"
    Image.fromarray(bench_image("content", "cornell.jpg", (80, 60))).save(path)
    return path


@pytest.fixture()
def no_stylizing(monkeypatch):
    """Fails the test if any image gets stylized."""
    def refuse(*args, **kwargs):
        raise AssertionError("an image was stylized before the output was checked")

    monkeypatch.setattr(engine.stylizer.Stylizer, "stylize", refuse)


def _one_line_error(capsys) -> str:
    err = capsys.readouterr().err.strip()
    assert err.startswith("restyle: error:") and len(err.splitlines()) == 1 and "internal error" not in err, err
    return err


@pytest.mark.parametrize("output, message", [
    ("a_file.png/out.png", "a_file.png is a file, not a folder"),
    ("a_file.png/deeper/out.png", "a_file.png is a file, not a folder"),
    ("out.xyz", "cannot tell the image format of out.xyz"),
    ("out", "cannot tell the image format"),
    ("existing.png", "existing.png already exists"),
])
def test_unwritable_outputs_exit_2_before_any_work(photo, tmp_path, capsys, no_stylizing, output, message):
    (tmp_path / "a_file.png").write_bytes(b"not a folder")
    (tmp_path / "existing.png").write_bytes(b"the user's picture")
    assert main(["stylize", str(photo), "--style", "preset:frost", "-o", str(tmp_path / output)]) == 2
    assert message in _one_line_error(capsys)
    assert (tmp_path / "existing.png").read_bytes() == b"the user's picture"


def test_a_folder_without_write_permission_exits_2_before_any_work(photo, tmp_path, capsys, no_stylizing, monkeypatch):
    locked = tmp_path / "locked"
    locked.mkdir()
    real_access = os.access
    monkeypatch.setattr(os, "access", lambda path, mode, **kw: Path(path) != locked and real_access(path, mode, **kw))
    for output in (locked / "out.png", locked / "new" / "folder" / "out.png"):
        assert main(["stylize", str(photo), "--style", "preset:frost", "-o", str(output)]) == 2
        assert f"no permission to write in {locked}" in _one_line_error(capsys)
    assert not any(locked.iterdir())


def test_demo_and_contact_sheet_check_their_output_first(tmp_path, capsys, no_stylizing):
    (tmp_path / "a_file").write_bytes(b"x")
    assert main(["demo", "-o", str(tmp_path / "a_file" / "demo.png")]) == 2
    assert "is a file, not a folder" in _one_line_error(capsys)
    assert main(["styles", "--sheet", str(tmp_path / "sheet.gif")]) == 2
    assert "image format" in _one_line_error(capsys)


def _fill_disk_on(monkeypatch, calls: set[int]) -> None:
    """The ``calls``-th image saves (counting from 1) write part of the file, then fail with ENOSPC."""
    real_save = Image.Image.save
    count = iter(range(1, 1000))

    def save(image, fp, *args, **kwargs):
        if next(count) in calls:
            fp.write(b"\x89PNG partial")
            raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC))
        return real_save(image, fp, *args, **kwargs)

    monkeypatch.setattr(Image.Image, "save", save)


def test_a_full_disk_leaves_no_partial_file_and_exits_2(photo, tmp_path, capsys, monkeypatch):
    _fill_disk_on(monkeypatch, {1})
    out_dir = tmp_path / "out"
    assert main(["stylize", str(photo), "--style", "preset:frost", "-o", str(out_dir / "out.png")]) == 2
    err = _one_line_error(capsys)
    assert f"could not write {out_dir / 'out.png'}" in err and "No space left on device" in err
    assert list(out_dir.iterdir()) == []


def test_a_full_disk_in_a_batch_names_the_file_and_goes_on(tmp_path, capsys, monkeypatch):
    inputs = []
    for name in ("street", "tower", "park"):
        inputs.append(tmp_path / f"{name}.jpg")
        Image.fromarray(bench_image("content", "chicago.jpg", (64, 48))).save(inputs[-1])
    _fill_disk_on(monkeypatch, {2})
    out_dir = tmp_path / "out"
    assert main(["stylize", *map(str, inputs), "--style", "preset:frost", "-o", str(out_dir), "-q"]) == 2
    err = capsys.readouterr().err
    assert f"could not write {out_dir / 'tower_frost.png'}" in err and "1 of 3 images failed" in err
    assert sorted(p.name for p in out_dir.iterdir()) == ["park_frost.png", "street_frost.png"]


def test_write_image_raises_bad_input_and_cleans_up(tmp_path, monkeypatch):
    _fill_disk_on(monkeypatch, {1})
    with pytest.raises(BadInput, match="No space left") as info:
        write_image(tmp_path / "art.tif", np.zeros((20, 20, 3), np.uint8))
    assert "nothing was written" in info.value.hint
    assert list(tmp_path.iterdir()) == []


def test_rgba_written_as_jpeg_says_it_was_flattened_onto_white(tmp_path, capsys):
    rgba = np.dstack([bench_image("content", "cornell.jpg", (80, 60)), np.full((60, 80), 255, np.uint8)])
    rgba[:, :40, 3] = 0
    Image.fromarray(rgba).save(tmp_path / "layer.png")
    out = tmp_path / "out.jpg"
    assert main(["stylize", str(tmp_path / "layer.png"), "--style", "preset:frost", "-o", str(out)]) == 0
    err = capsys.readouterr().err
    assert "flattened onto white" in err and str(out) in err
    written = np.asarray(Image.open(out)).astype(int)
    assert written[:, :32].min() > 240  # transparent half: white
    assert written[:, 48:].mean() < 200
    assert main(["stylize", str(tmp_path / "layer.png"), "--style", "preset:frost", "-o", str(out), "--overwrite",
                 "--json"]) == 0
    assert "flattened onto white" in json.loads(capsys.readouterr().out)["notes"][0]


def test_sixteen_bit_gray_is_written_as_eight_bit_jpeg(tmp_path):
    gray16 = (np.arange(40 * 40, dtype=np.uint32).reshape(40, 40) * 40).astype(np.uint16)
    write_image(tmp_path / "g.jpg", gray16)
    written = np.asarray(Image.open(tmp_path / "g.jpg")).astype(int)
    assert np.abs(written - np.rint(gray16 / 257)).mean() < 2
