"""Finding, loading and downloading VGG-19 weights: lookup order, checksums, clear errors."""
from __future__ import annotations

import argparse
import hashlib
import io

import pytest
import torch

from engine.cli.weights import ProgressBar, add_commands
from engine.errors import WeightsMissing
from engine.optimize.backbones import load_vgg19, resolve_backbone
from engine.optimize.weights import VGG19_FILE, fetch_vgg19, locate_vgg19
from optimize_standins import standin_state_dict, write_standin


@pytest.fixture
def homes(tmp_path, monkeypatch):
    """Empty torch hub and engine caches, and no RESTYLE_VGG19."""
    monkeypatch.setenv("TORCH_HOME", str(tmp_path / "torch"))
    monkeypatch.setenv("RESTYLE_CACHE_DIR", str(tmp_path / "cache"))
    monkeypatch.delenv("RESTYLE_VGG19", raising=False)
    hub = tmp_path / "torch" / "hub" / "checkpoints" / VGG19_FILE
    ours = tmp_path / "cache" / "weights" / VGG19_FILE
    for path in (hub, ours):
        path.parent.mkdir(parents=True)
    return hub, ours


def test_missing_weights_name_the_fetch_command(homes):
    with pytest.raises(WeightsMissing) as err:
        locate_vgg19()
    assert "restyle fetch-weights vgg19" in err.value.hint
    assert err.value.code == "weights_missing"


def test_lookup_order_is_option_then_env_then_hub_then_engine_cache(homes, tmp_path, monkeypatch):
    hub, ours = homes
    ours.write_bytes(b"x")
    assert locate_vgg19() == ours
    hub.write_bytes(b"x")
    assert locate_vgg19() == hub
    env = tmp_path / "env.pth"
    env.write_bytes(b"x")
    monkeypatch.setenv("RESTYLE_VGG19", str(env))
    assert locate_vgg19() == env
    explicit = tmp_path / "explicit.pth"
    explicit.write_bytes(b"x")
    assert locate_vgg19(str(explicit)) == explicit


@pytest.mark.parametrize("source", ["option", "env"])
def test_a_given_path_that_is_missing_is_an_error_even_when_caches_have_weights(homes, tmp_path, monkeypatch, source):
    hub, _ = homes
    hub.write_bytes(b"x")
    missing = str(tmp_path / "nope.pth")
    if source == "env":
        monkeypatch.setenv("RESTYLE_VGG19", missing)
    with pytest.raises(WeightsMissing, match="nope.pth"):
        locate_vgg19(missing if source == "option" else None)


def test_auto_backbone_is_mobilenet_without_weights_and_vgg19_with_them(homes):
    hub, _ = homes
    assert resolve_backbone("auto", None) == ("mobilenet", None)
    write_standin(hub)
    assert resolve_backbone("auto", None) == ("vgg19", hub)
    with pytest.raises(WeightsMissing):
        resolve_backbone("vgg19", "/no/such/file.pth")


def test_loader_rejects_files_that_are_not_vgg19_checkpoints(tmp_path):
    garbage = tmp_path / "garbage.pth"
    garbage.write_bytes(b"not a checkpoint at all")
    with pytest.raises(WeightsMissing, match="not a readable VGG-19 checkpoint") as err:
        load_vgg19(garbage)
    assert "fetch-weights" in err.value.hint

    state = standin_state_dict()
    del state["features.28.weight"]
    truncated = tmp_path / "truncated.pth"
    torch.save(state, truncated)
    with pytest.raises(WeightsMissing, match="features.28.weight"):
        load_vgg19(truncated)

    wrong = tmp_path / "wrong.pth"
    torch.save({"features.0.weight": torch.zeros(1)}, wrong)
    with pytest.raises(WeightsMissing, match="wrong shape"):
        load_vgg19(wrong)


def test_fetch_writes_the_verified_file_and_reports_progress(tmp_path):
    payload = bytes(range(256)) * 5000
    source = tmp_path / "published.pth"
    source.write_bytes(payload)
    prefix = hashlib.sha256(payload).hexdigest()[:8]
    seen = []
    dest = tmp_path / "cache" / VGG19_FILE
    path = fetch_vgg19(dest, url=source.as_uri(), sha256_prefix=prefix, progress=lambda d, t: seen.append(d))
    assert path == dest and dest.read_bytes() == payload
    assert seen[-1] == len(payload)
    assert [p.name for p in dest.parent.iterdir()] == [VGG19_FILE]  # no partial file left


def test_fetch_with_a_wrong_checksum_leaves_nothing_and_keeps_an_existing_file(tmp_path):
    source = tmp_path / "tampered.pth"
    source.write_bytes(b"tampered")
    dest = tmp_path / "cache" / VGG19_FILE
    with pytest.raises(WeightsMissing, match="sha256"):
        fetch_vgg19(dest, url=source.as_uri(), sha256_prefix="00000000")
    assert list(dest.parent.iterdir()) == []

    dest.write_bytes(b"previous good file")
    with pytest.raises(WeightsMissing):
        fetch_vgg19(dest, url=source.as_uri(), sha256_prefix="00000000", force=True)
    assert dest.read_bytes() == b"previous good file"
    assert fetch_vgg19(dest, url=source.as_uri(), sha256_prefix="00000000") == dest  # present: no download


def test_fetch_from_an_unreachable_url_says_what_to_do(tmp_path):
    with pytest.raises(WeightsMissing, match="cannot download") as err:
        fetch_vgg19(tmp_path / VGG19_FILE, url=(tmp_path / "absent").as_uri())
    assert "weights=PATH" in err.value.hint


def test_fetch_weights_command_is_registered_with_its_handler():
    parser = argparse.ArgumentParser(prog="restyle")
    add_commands(parser.add_subparsers(dest="command"))
    args = parser.parse_args(["fetch-weights", "vgg19", "--force"])
    assert args.name == "vgg19" and args.force and callable(args.handler)
    with pytest.raises(SystemExit):
        parser.parse_args(["fetch-weights", "resnet"])


def test_progress_bar_draws_a_line_per_update_and_ends_it():
    stream = io.StringIO()
    bar = ProgressBar(stream, width=10)
    bar(50, 100)
    bar(100, 100)
    bar.finish()
    text = stream.getvalue()
    assert text.endswith("\n") and "[##########]" in text and "[#####.....]" in text
