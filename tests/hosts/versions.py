"""The host matrix: each Krita and GIMP version the real-host tests run, and the root that holds it."""
from __future__ import annotations

from dataclasses import dataclass
from typing import List

from . import rootfs


@dataclass(frozen=True)
class Krita:
    """One Krita release line and the root that has it."""

    version: str  # major.minor, what Krita.instance().version() starts with
    python: str  # the Python Krita runs plugins with there
    binding: str  # the PyQt the plugin must choose
    recipe: rootfs.Recipe

    @property
    def id(self) -> str:
        return f"krita-{self.version}"


@dataclass(frozen=True)
class Gimp:
    """One GIMP 3 release line and the root that has it."""

    version: str  # major.minor: names the binaries and the user folder
    release: str  # the full version, for gimprc's config-version
    recipe: rootfs.Recipe

    @property
    def id(self) -> str:
        return f"gimp-{self.version}"

    @property
    def config_dir(self) -> str:
        """GIMP's user folder inside the root."""
        return f"/root/.config/GIMP/{self.version}"

    @property
    def console(self) -> List[str]:
        return [f"gimp-console-{self.version}", "-i", "--batch-interpreter=python-fu-eval"]

    @property
    def gui(self) -> List[str]:
        return ["xvfb-run", "-a", "-s", "-screen 0 1280x800x24", f"gimp-{self.version}", "--no-splash",
                "--batch-interpreter=python-fu-eval"]

    @property
    def gimprc(self) -> str:
        """A gimprc that skips the welcome window of a fresh user folder (it takes focus and covers screenshots)."""
        return f'(show-welcome-dialog no)\n(config-version "{self.release}")\n'


KRITAS = (
    Krita("5.2", "3.13", "PyQt5", rootfs.TRIXIE),
    Krita("5.3", "3.14", "PyQt5", rootfs.SID),
    Krita("6.0", "3.14", "PyQt6", rootfs.EXPERIMENTAL),
)
GIMPS = (
    Gimp("3.0", "3.0.4", rootfs.TRIXIE),
    Gimp("3.2", "3.2.6", rootfs.SID),
)
