"""Every preset that a message, help text, doc or example names is one the engine has."""
from __future__ import annotations

import re
from pathlib import Path
from typing import Iterator, Tuple

import numpy as np
import pytest

from engine.preset_names import PRESET_NAMES
from engine.client.protocol import CLIENT_TYPES, ProtocolError, deserialize, serialize
from engine.server.stylize_request import Limits, array_frame, parse_stylize

ROOT = Path(__file__).resolve().parents[1]
# Where users read preset names: the engine's and plugins' messages, the installer, the docs.
SOURCES = ("engine", "plugins", "install", "docs", "README.md")
PATTERNS = (
    re.compile(r"preset:([A-Za-z0-9_-]+)"),  # CLI and Python API: preset:NAME
    re.compile(r"""["']preset["']\s*:\s*["']([^"']+)["']"""),  # protocol: {"preset": "NAME"}
    re.compile(r"preset(?: name)? such as '([^']+)'"),  # messages: a preset such as 'NAME'
)
PLACEHOLDERS = ("NAME", "N")  # preset:NAME in usage texts


def named_presets(text: str) -> Iterator[str]:
    """The preset names ``text`` mentions in any of the forms users copy."""
    for pattern in PATTERNS:
        for match in pattern.finditer(text):
            yield match.group(1)


def mentions() -> Iterator[Tuple[str, int, str]]:
    """(file, line, name) of every preset named in the sources users read."""
    for source in SOURCES:
        path = ROOT / source
        files = [path] if path.is_file() else sorted(p for p in path.rglob("*") if p.suffix in (".py", ".md"))
        for file in files:
            for number, line in enumerate(file.read_text(encoding="utf-8").splitlines(), 1):
                for name in named_presets(line):
                    if "{" not in name and name not in PLACEHOLDERS:  # not filled in at run time
                        yield str(file.relative_to(ROOT)), number, name


def test_the_finder_sees_each_form_and_the_repository_names_presets_somewhere():
    text = """restyle stylize a.jpg --style preset:frost; {"preset": "wave"}; a preset name such as 'mosaic'"""
    assert list(named_presets(text)) == ["frost", "wave", "mosaic"]
    assert len(list(mentions())) >= 3  # the README's examples at least: the scan is looking at real files


def test_every_preset_named_in_messages_docs_and_examples_exists():
    unknown = [f"{file}:{line}: {name}" for file, line, name in mentions()
               if name.strip().lower().replace("_", "-") not in PRESET_NAMES]
    assert unknown == [], "these name presets the engine does not have (`restyle styles` lists them)"


@pytest.mark.parametrize("fields", [{"styles": []}, {"regions": []}])
def test_a_bad_styles_or_regions_field_gets_a_hint_with_the_first_real_preset(fields):
    header = {"options": {}, **fields}
    content = array_frame("content", np.zeros((4, 6, 3), np.uint8))
    message = deserialize(serialize("stylize", "job1", header, [content]), CLIENT_TYPES)
    with pytest.raises(ProtocolError) as info:
        parse_stylize(message, Limits())
    assert f'"preset": "{PRESET_NAMES[0]}"' in info.value.hint, info.value.hint
