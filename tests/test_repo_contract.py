"""What CI and a new user rely on: the README's commands, .ci/run, the packaged sample."""
from __future__ import annotations

import os
import re
import subprocess
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]


def _readme_commands() -> list[str]:
    block = re.search(r"```sh\n(.*?)```", (REPO / "README.md").read_text(), re.S).group(1)
    return [line for line in block.splitlines() if line and not line.startswith("#")]


def test_readme_opens_with_install_demo_and_install_test_commands():
    demo, tests = _readme_commands()[:2]
    assert "pip install" in demo and demo.endswith("restyle demo")
    assert "pip install" in tests and "pytest" in tests


def test_ci_runs_exactly_the_readme_test_command():
    tests = _readme_commands()[1]
    assert tests in (REPO / ".ci" / "run").read_text().splitlines()


def test_ci_treats_no_tests_collected_as_failure(tmp_path):
    """Run .ci/run's exit-code handling with a pytest that collects nothing (exit 5)."""
    script = (REPO / ".ci" / "run").read_text()
    tests = _readme_commands()[1]
    fake = script.replace(tests, "(exit 5)")
    fake = re.sub(r"(?ms)^if ! command -v mmdebstrap.*?^fi\n", "", fake)
    fake = re.sub(r"(?ms)^if .*?tests/hosts/rootfs.py.*?^fi\n", "", fake)  # no root builds for this check
    (tmp_path / ".ci").mkdir()
    (tmp_path / ".ci" / "run").write_text(fake)
    proc = subprocess.run(["bash", str(tmp_path / ".ci" / "run")], capture_output=True, text=True, env={**os.environ})
    assert proc.returncode != 0 and "no tests" in proc.stderr


def test_sample_photo_ships_with_the_package():
    from engine.samples import sample_photo

    assert sample_photo().shape == (512, 512, 3)
