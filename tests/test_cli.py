"""The restyle command: real runs, exit codes, one-line errors, no overwrites."""
from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from engine.cli import main

from conftest import BENCH, bench_image


@pytest.fixture()
def photo(tmp_path) -> Path:
    path = tmp_path / "photo.jpg"
    Image.fromarray(bench_image("content", "cornell.jpg", (200, 150))).save(path)
    return path


def test_stylize_writes_a_stylized_image_at_full_resolution(photo, tmp_path, capsys):
    out = tmp_path / "out.png"
    assert main(["stylize", str(photo), "--style", str(BENCH / "style" / "sketch.png"), "-o", str(out), "--json"]) == 0
    summary = json.loads(capsys.readouterr().out)
    assert summary["output"] == str(out) and summary["size"] == [200, 150]
    result = np.asarray(Image.open(out))
    assert result.shape == (150, 200, 3)
    assert np.abs(result.astype(float) - np.asarray(Image.open(photo))).mean() > 10


def test_mask_feather_and_blend_options(photo, tmp_path):
    mask = np.zeros((150, 200), np.uint8)
    mask[:, 100:] = 255
    Image.fromarray(mask).save(tmp_path / "mask.png")
    out = tmp_path / "masked.png"
    code = main([
        "stylize", str(photo), "--style", "preset:scarlet", "--style", "preset:frost", "--weights", "0.7,0.3",
        "--mask", str(tmp_path / "mask.png"), "--feather", "4", "--strength", "0.9", "--preserve-colors", "-o", str(out), "-q",
    ])
    assert code == 0
    result = np.asarray(Image.open(out)).astype(int)
    original = np.asarray(Image.open(photo).convert("RGB")).astype(int)
    assert np.array_equal(result[:, :95], original[:, :95])
    assert np.abs(result[:, 110:] - original[:, 110:]).mean() > 3


@pytest.mark.parametrize(
    "args, message",
    [
        (["stylize", "{photo}", "--style", "preset:nope", "-o", "{tmp}/a.png"], "unknown preset"),
        (["stylize", "{tmp}/missing.jpg", "--style", "preset:frost", "-o", "{tmp}/a.png"], "image not found"),
        (["stylize", "{photo}", "--style", "preset:frost", "--strength", "nan", "-o", "{tmp}/a.png"], "strength"),
        (["stylize", "{photo}", "--style", "preset:frost", "--mask", "{photo}", "--feather", "-2", "-o", "{tmp}/a.png"], "feather"),
        (["stylize", "{photo}", "--style", "preset:frost", "-o", "{tmp}/a.xyz"], "image format"),
        (["stylize", "{photo}"], "--style"),
        (["stylize", "{photo}", "--style", "preset:frost", "--option", "novalue", "-o", "{tmp}/a.png"], "KEY=VALUE"),
        (["stylize", "{photo}", "--style", "preset:frost", "--style-scale", "big", "-o", "{tmp}/a.png"], "number or auto"),
        (["stylize", "{photo}", "--style", "preset:frost", "--style-scale", "9", "-o", "{tmp}/a.png"], "style_scale"),
        (["stylize", "{photo}", "--style", "preset:frost", "--detail", "2", "-o", "{tmp}/a.png"], "detail"),
    ],
)
def test_bad_input_exits_2_with_one_line(photo, tmp_path, capsys, args, message):
    argv = [a.format(photo=photo, tmp=tmp_path) for a in args]
    assert main(argv) == 2
    err = capsys.readouterr().err.strip()
    assert message in err and err.startswith("restyle: error:") and len(err.splitlines()) == 1


def test_existing_output_is_kept_without_overwrite(photo, tmp_path, capsys):
    out = tmp_path / "keep.png"
    out.write_bytes(b"precious")
    assert main(["stylize", str(photo), "--style", "preset:frost", "-o", str(out)]) == 2
    assert out.read_bytes() == b"precious"
    assert "--overwrite" in capsys.readouterr().err
    assert main(["stylize", str(photo), "--style", "preset:frost", "-o", str(out), "--overwrite", "-q"]) == 0
    assert Image.open(out).size == (200, 150)


def test_styles_lists_all_presets_and_renders_a_sheet(tmp_path, capsys):
    assert main(["styles", "--json"]) == 0
    presets = json.loads(capsys.readouterr().out)
    assert len(presets) == 26 and len({p["name"] for p in presets}) == 26
    sheet = tmp_path / "sheet.png"
    assert main(["styles", "--sheet", str(sheet)]) == 0
    assert Image.open(sheet).size[0] > 7 * 150


def test_demo_runs_from_a_fresh_process(tmp_path):
    """The README's first command, as a user runs it: a new process, the console script."""
    out = tmp_path / "demo.png"
    proc = subprocess.run([sys.executable, "-m", "engine.cli", "demo", "-o", str(out)], capture_output=True, text=True, timeout=300)
    assert proc.returncode == 0, proc.stderr
    assert "NASA" in proc.stdout
    image = np.asarray(Image.open(out))
    assert image.shape == (512, 512, 3) and image.std() > 20
    again = subprocess.run([sys.executable, "-m", "engine.cli", "demo", "-o", str(out)], capture_output=True, text=True, timeout=300)
    assert again.returncode == 2 and "Traceback" not in again.stderr


def test_regions_get_their_own_styles_and_strengths(photo, tmp_path, capsys):
    left, right = np.zeros((150, 200), np.uint8), np.zeros((150, 200), np.uint8)
    left[:, :80] = 255
    right[:, 120:] = 255
    Image.fromarray(left).save(tmp_path / "left.png")
    Image.fromarray(right).save(tmp_path / "right.png")
    out = tmp_path / "regions.png"
    code = main([
        "stylize", str(photo), "--region", str(tmp_path / "left.png"), "preset:scarlet",
        "--region", str(tmp_path / "right.png"), "preset:frost", "0.5", "-o", str(out), "--json",
    ])
    assert code == 0
    assert json.loads(capsys.readouterr().out)["styles"] == ["preset:scarlet", "preset:frost"]
    result = np.asarray(Image.open(out))
    original = np.asarray(Image.open(photo).convert("RGB"))
    assert np.array_equal(result[:, 80:120], original[:, 80:120])  # outside both masks: untouched

    from engine import Region, Stylizer

    expected = Stylizer(device="cpu").stylize(
        original, regions=[Region(left, "preset:scarlet"), Region(right, "preset:frost", strength=0.5)]
    )
    assert np.array_equal(result, expected)
    assert np.abs(result[:, :80].astype(int) - original[:, :80]).mean() > 10


@pytest.mark.parametrize(
    "extra, message",
    [
        (["--region", "{tmp}/m.png"], "MASK STYLE [STRENGTH]"),
        (["--region", "{tmp}/m.png", "preset:frost", "strong"], "strength must be a number"),
        (["--region", "{tmp}/m.png", "preset:frost", "--style", "preset:frost"], "--region replaces --style"),
        (["--region", "{tmp}/m.png", "preset:frost", "--mask", "{tmp}/m.png"], "--region replaces --mask"),
        (["--region", "{tmp}/small.png", "preset:frost"], "mask"),
    ],
)
def test_bad_region_arguments_exit_2_and_write_nothing(photo, tmp_path, capsys, extra, message):
    Image.fromarray(np.full((150, 200), 255, np.uint8)).save(tmp_path / "m.png")
    Image.fromarray(np.full((10, 10), 255, np.uint8)).save(tmp_path / "small.png")
    out = tmp_path / "out.png"
    args = ["stylize", str(photo), *[a.format(tmp=tmp_path) for a in extra], "-o", str(out)]
    assert main(args) == 2
    err = capsys.readouterr().err.strip()
    assert message in err and len(err.splitlines()) == 1, err
    assert not out.exists()


def test_engine_runs_give_the_local_pixels(photo, tmp_path):
    """``--engine`` sends the same request to a running engine: the same pixels as a local run."""
    from server_fixtures import running_server

    from engine import Stylizer

    mask = np.zeros((150, 200), np.uint16)
    mask[20:130, 30:170] = 65535
    Image.fromarray(mask).save(tmp_path / "mask16.png")
    left = np.zeros((150, 200), np.uint8)
    left[:, :90] = 255
    Image.fromarray(left).save(tmp_path / "left.png")
    cases = {
        "masked": ["--style", "preset:frost", "--mask", str(tmp_path / "mask16.png"), "--feather", "3"],
        "regions": ["--region", str(tmp_path / "left.png"), "preset:scarlet",
                    "--region", str(tmp_path / "left.png"), str(BENCH / "style" / "sketch.png"), "0.5", "--invert-mask"],
        "scaled": ["--style", "preset:frost", "--style-scale", "2.5", "--detail", "0.5"],
        "auto": ["--style", str(BENCH / "style" / "sketch.png"), "--style-scale", "auto"],
    }
    with running_server(tmp_path, Stylizer(device="cpu")) as server:
        for name, extra in cases.items():
            local, remote = tmp_path / f"{name}_local.png", tmp_path / f"{name}_remote.png"
            assert main(["stylize", str(photo), *extra, "-o", str(local), "-q"]) == 0
            assert main(["stylize", str(photo), *extra, "--engine", server.endpoint, "-o", str(remote), "-q"]) == 0
            assert np.array_equal(np.asarray(Image.open(local)), np.asarray(Image.open(remote))), name
    original = np.asarray(Image.open(photo).convert("RGB"))
    masked = np.asarray(Image.open(tmp_path / "masked_remote.png"))
    assert np.array_equal(masked[:5], original[:5]) and not np.array_equal(masked[60:90, 60:140], original[60:90, 60:140])


def _batch_inputs(tmp_path: Path) -> list[Path]:
    folder = tmp_path / "in"
    folder.mkdir()
    paths = []
    for name, (w, h) in (("street", (120, 90)), ("tower", (80, 100))):
        paths.append(folder / f"{name}.jpg")
        Image.fromarray(bench_image("content", "chicago.jpg" if name == "tower" else "cornell.jpg", (w, h))).save(paths[-1])
    return paths


def test_several_images_go_to_a_folder_with_the_single_image_pixels(tmp_path, capsys):
    inputs = _batch_inputs(tmp_path)
    out_dir = tmp_path / "out"
    assert main(["stylize", *map(str, inputs), "--style", "preset:frost", "-o", str(out_dir), "--json"]) == 0
    lines = [json.loads(line) for line in capsys.readouterr().out.splitlines()]
    assert [line["input"] for line in lines] == [str(p) for p in inputs]
    for path in inputs:
        written = out_dir / f"{path.stem}_frost.png"
        single = tmp_path / f"single_{path.stem}.png"
        assert main(["stylize", str(path), "--style", "preset:frost", "-o", str(single), "-q"]) == 0
        assert np.array_equal(np.asarray(Image.open(written)), np.asarray(Image.open(single)))


def test_a_bad_image_in_a_batch_fails_alone_and_exit_is_2(tmp_path, capsys):
    inputs = _batch_inputs(tmp_path)
    broken = tmp_path / "in" / "broken.jpg"
    broken.write_bytes(inputs[0].read_bytes()[:200])  # truncated
    out_dir = tmp_path / "out"
    code = main(["stylize", str(inputs[0]), str(broken), str(inputs[1]), "--style", "preset:frost", "-o", str(out_dir), "-q"])
    err = capsys.readouterr().err
    assert code == 2
    assert sorted(p.name for p in out_dir.iterdir()) == ["street_frost.png", "tower_frost.png"]
    assert str(broken) in err and "1 of 3 images failed" in err


def test_a_batch_checks_every_output_before_writing_any(tmp_path, capsys):
    inputs = _batch_inputs(tmp_path)
    out_dir = tmp_path / "out"
    out_dir.mkdir()
    kept = out_dir / "tower_frost.png"
    kept.write_bytes(b"the user's file")
    assert main(["stylize", *map(str, inputs), "--style", "preset:frost", "-o", str(out_dir), "-q"]) == 2
    assert "tower_frost.png already exists" in capsys.readouterr().err
    assert sorted(p.name for p in out_dir.iterdir()) == ["tower_frost.png"] and kept.read_bytes() == b"the user's file"


@pytest.mark.parametrize("case, message", [("file_as_folder", "is a file"), ("same_names", "would both be written")])
def test_batch_output_conflicts_exit_2(tmp_path, capsys, case, message):
    inputs = _batch_inputs(tmp_path)
    if case == "file_as_folder":
        target = tmp_path / "out.png"
        target.write_bytes(b"x")
    else:
        other = tmp_path / "other"
        other.mkdir()
        inputs.append(other / inputs[0].name)
        inputs[-1].write_bytes(inputs[0].read_bytes())
        target = tmp_path / "out"
    assert main(["stylize", *map(str, inputs), "--style", "preset:frost", "-o", str(target), "-q"]) == 2
    assert message in capsys.readouterr().err
    assert not (tmp_path / "out").is_dir() or not any((tmp_path / "out").iterdir())


@pytest.mark.parametrize("target", ["existing", "new/"])
def test_one_image_into_a_folder(photo, tmp_path, target):
    (tmp_path / "existing").mkdir()
    folder = tmp_path / target
    assert main(["stylize", str(photo), "--style", "preset:frost", "-o", str(folder) + ("/" if target.endswith("/") else ""), "-q"]) == 0
    assert (folder / "photo_frost.png").is_file()
