"""Files as photographers have them: colour profile, EXIF, XMP and resolution kept, pixels as before."""
from __future__ import annotations

import io
import json
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from engine.cli import main
from engine.imaging.io import read_image
from engine.imaging.metadata import ImageMetadata, metadata_of

from conftest import bench_image
from icc_profiles import ADOBE_RGB

ARTIST, COPYRIGHT, MAKE, MODEL, TAKEN = "Ann Photographer", "(c) 2024 Ann Photographer", "Canon", "EOS R5", "2024:05:01 10:00:00"
XMP = (b'<x:xmpmeta xmlns:x="adobe:ns:meta/"><rdf:RDF xmlns:rdf="http://www.w3.org/1999/02/22-rdf-syntax-ns#">'
       b'<rdf:Description xmlns:dc="http://purl.org/dc/elements/1.1/" xmlns:tiff="http://ns.adobe.com/tiff/1.0/" '
       b'tiff:Orientation="6"><dc:rights>(c) 2024 Ann Photographer</dc:rights></rdf:Description></rdf:RDF></x:xmpmeta>')
OUTPUTS = (".png", ".jpg", ".webp", ".tif")
SAVE = {".png": {}, ".jpg": {"quality": 95}, ".webp": {}, ".tif": {}}  # how outputs were saved before this change
FORMAT = {".png": "PNG", ".jpg": "JPEG", ".webp": "WEBP", ".tif": "TIFF"}


def camera_exif(orientation: int = 1) -> Image.Exif:
    """EXIF as a camera writes it: artist, copyright, make/model, orientation, date taken, GPS."""
    exif = Image.Exif()
    exif[0x013B], exif[0x8298], exif[0x010F], exif[0x0110], exif[0x0112] = ARTIST, COPYRIGHT, MAKE, MODEL, orientation
    exif.get_ifd(0x8769)[0x9003] = TAKEN
    exif.get_ifd(0x8825).update({1: "N", 2: (52.0, 31.0, 12.0), 3: "E", 4: (13.0, 24.0, 1.0)})
    return exif


def tagged_photo(path: Path, orientation: int = 1, size=(96, 64)) -> Path:
    """A photo tagged Adobe RGB (1998) with camera EXIF, XMP and 300 dpi, in the format ``path`` names."""
    pixels = bench_image("content", "cornell.jpg", size)
    exif = camera_exif(orientation).tobytes()
    if path.suffix == ".png":
        from PIL import PngImagePlugin

        info = PngImagePlugin.PngInfo()
        info.add_itxt("XML:com.adobe.xmp", XMP.decode())
        Image.fromarray(pixels).save(path, exif=exif, icc_profile=ADOBE_RGB, pnginfo=info, dpi=(300, 300))
    elif path.suffix == ".tif":
        tags = camera_exif(orientation)
        tags[700] = XMP
        Image.fromarray(pixels).save(path, exif=tags.tobytes(), icc_profile=ADOBE_RGB, dpi=(300, 300))
    else:
        Image.fromarray(pixels).save(path, exif=exif, icc_profile=ADOBE_RGB, xmp=XMP, dpi=(300, 300), quality=92)
    return path


def previous_output(pixels: np.ndarray, suffix: str) -> np.ndarray:
    """The pixels a file written the way outputs were written before this change decodes to."""
    buffer = io.BytesIO()
    Image.fromarray(pixels).save(buffer, FORMAT[suffix], **SAVE[suffix])
    return np.asarray(Image.open(buffer))


@pytest.fixture()
def frost(stylizer):
    """What the engine makes of a file through the path that existed before (pixels only)."""
    return lambda path: stylizer.stylize(read_image(path), "preset:frost")


@pytest.mark.parametrize("source", [".jpg", ".png", ".tif"])
def test_profile_and_tags_survive_in_every_output_format(tmp_path, frost, source):
    photo = tagged_photo(tmp_path / f"photo{source}")
    expected = frost(photo)
    for suffix in OUTPUTS:
        out = tmp_path / f"out{suffix}"
        assert main(["stylize", str(photo), "--style", "preset:frost", "-o", str(out), "-q"]) == 0
        written = Image.open(out)
        assert written.info.get("icc_profile") == ADOBE_RGB, suffix
        exif = written.getexif()
        assert (exif.get(0x013B), exif.get(0x8298), exif.get(0x010F), exif.get(0x0110)) == (ARTIST, COPYRIGHT, MAKE, MODEL)
        assert exif.get(0x0112) == 1
        assert exif.get_ifd(0x8769).get(0x9003) == TAKEN, suffix
        assert exif.get_ifd(0x8825).get(2) == (52.0, 31.0, 12.0), suffix
        assert b"Ann Photographer" in written.info["xmp"], suffix
        assert b'tiff:Orientation="1"' in written.info["xmp"], suffix
        dpi = written.info.get("dpi") or (exif.get(0x011A), exif.get(0x011B))  # WebP: in the EXIF
        assert dpi == pytest.approx((300, 300), abs=0.01), suffix
        if suffix != ".tif":
            assert not {256, 257, 273, 279} & set(exif), suffix  # a TIFF source's layout tags stay behind
        assert np.array_equal(np.asarray(written), previous_output(expected, suffix)), suffix


def test_rotated_photos_are_written_upright_with_orientation_1(tmp_path, frost):
    photo = tagged_photo(tmp_path / "photo.jpg", orientation=6)
    out = tmp_path / "out.png"
    assert main(["stylize", str(photo), "--style", "preset:frost", "-o", str(out), "-q"]) == 0
    written = Image.open(out)
    assert written.size == (64, 96) and written.getexif()[0x0112] == 1
    assert np.array_equal(np.asarray(written), frost(photo))


def test_strip_metadata_keeps_only_the_colour_profile(tmp_path):
    photo = tagged_photo(tmp_path / "photo.jpg")
    for suffix in OUTPUTS:
        out = tmp_path / f"out{suffix}"
        args = ["stylize", str(photo), "--style", "preset:frost", "-o", str(out), "-q", "--strip-metadata"]
        assert main(args) == 0
        written = Image.open(out)
        assert written.info.get("icc_profile") == ADOBE_RGB
        assert 0x013B not in written.getexif() and 0x8298 not in written.getexif() and "xmp" not in written.info


def test_files_without_a_profile_get_none_and_the_same_pixels(tmp_path, frost):
    photo = tmp_path / "plain.png"
    Image.fromarray(bench_image("content", "chicago.jpg", (80, 60))).save(photo)
    out = tmp_path / "out.png"
    assert main(["stylize", str(photo), "--style", "preset:frost", "-o", str(out), "-q"]) == 0
    written = Image.open(out)
    assert "icc_profile" not in written.info and not written.getexif()
    assert np.array_equal(np.asarray(written), frost(photo))


def test_engine_runs_keep_the_profile_too(tmp_path):
    from server_fixtures import running_server

    photo = tagged_photo(tmp_path / "photo.jpg")
    out = tmp_path / "remote.webp"
    with running_server(tmp_path) as server:
        assert main(["stylize", str(photo), "--style", "preset:wave", "--engine", server.endpoint, "-o", str(out), "-q"]) == 0
    written = Image.open(out)
    assert written.info["icc_profile"] == ADOBE_RGB and written.getexif()[0x8298] == COPYRIGHT


def test_python_api_keeps_the_profile_of_pil_images_and_files(tmp_path, stylizer):
    pixels = bench_image("content", "cornell.jpg", (64, 48))
    image = Image.fromarray(pixels)
    image.info["icc_profile"] = ADOBE_RGB
    result = stylizer.stylize(image, "preset:frost")
    assert result.info["icc_profile"] == ADOBE_RGB
    assert np.array_equal(np.asarray(result), stylizer.stylize(pixels, "preset:frost"))
    from_file = stylizer.stylize(str(tagged_photo(tmp_path / "photo.jpg")), "preset:frost")
    assert from_file.info["icc_profile"] == ADOBE_RGB and from_file.getexif()[0x013B] == ARTIST
    assert "icc_profile" not in stylizer.stylize(Image.fromarray(pixels), "preset:frost").info


def test_tiff_layout_tags_stay_behind(tmp_path):
    photo = tagged_photo(tmp_path / "photo.tif")
    metadata = metadata_of(Image.open(photo))
    exif = Image.Exif()
    exif.load(metadata.exif)
    assert exif[0x013B] == ARTIST and not {256, 257, 258, 273, 279, 700, 34675} & set(exif)
    assert metadata.xmp == XMP and metadata.icc_profile == ADOBE_RGB


def test_metadata_upright_rewrites_orientation_in_exif_and_xmp():
    metadata = ImageMetadata(exif=camera_exif(8).tobytes(), xmp=XMP.replace(b'"6"', b'"8"')).upright()
    exif = Image.Exif()
    exif.load(metadata.exif)
    assert exif[0x0112] == 1 and exif[0x013B] == ARTIST
    assert b'tiff:Orientation="1"' in metadata.xmp


def test_json_summary_lists_notes(tmp_path, capsys):
    photo = tagged_photo(tmp_path / "photo.jpg")
    assert main(["stylize", str(photo), "--style", "preset:frost", "-o", str(tmp_path / "o.png"), "--json"]) == 0
    assert json.loads(capsys.readouterr().out)["notes"] == []


def test_a_profile_that_does_not_describe_the_written_pixels_is_left_out_with_a_note(tmp_path, capsys):
    cmyk_profile = ADOBE_RGB[:16] + b"CMYK" + ADOBE_RGB[20:]
    pixels = np.dstack([bench_image("content", "cornell.jpg", (64, 48)), np.zeros((48, 64), np.uint8)])
    Image.fromarray(pixels, "CMYK").save(tmp_path / "print.jpg", icc_profile=cmyk_profile)
    out = tmp_path / "out.png"
    assert main(["stylize", str(tmp_path / "print.jpg"), "--style", "preset:frost", "-o", str(out)]) == 0
    assert "icc_profile" not in Image.open(out).info
    assert "colour profile (CMYK) does not describe RGB pixels" in capsys.readouterr().err
    assert ImageMetadata(icc_profile=cmyk_profile).describing("RGB").icc_profile is None
    assert ImageMetadata(icc_profile=ADOBE_RGB).describing("RGBA").icc_profile == ADOBE_RGB
