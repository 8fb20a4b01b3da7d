"""The Debian roots of the host matrix: mirror lookup, recipes and cache keys, overlay sessions, hosts starting."""
from __future__ import annotations

from pathlib import Path

import pytest

from . import rootfs
from .versions import GIMPS, KRITAS

PLUGIN = Path(__file__).resolve().parents[2] / "plugins" / "krita" / "restyle"
KRITA_PROBE_DESKTOP = """[Desktop Entry]
Type=Service
ServiceTypes=Krita/PythonPlugin
X-KDE-Library=restyle_probe
X-Python-2-Compatible=false
Name=restyle probe
"""

KRITA_PROBE = """
import sys
import zmq
from krita import Extension, Krita
from restyle_probe_qt import BINDING


class Probe(Extension):
    def setup(self):
        Krita.instance().notifier().windowCreated.connect(self.report)

    def createActions(self, window):
        pass

    def report(self):
        with open("/tmp/krita_probe.txt", "w") as f:
            f.write("krita %s zmq %s python %d.%d qt %s" % (Krita.instance().version(), zmq.zmq_version(),
                                                            *sys.version_info[:2], BINDING))
        Krita.instance().action("file_quit").trigger()


Krita.instance().addExtension(Probe(Krita.instance()))
"""

GIMP_PROBE = """
import sys
import gi
gi.require_version("Gimp", "3.0")
from gi.repository import Gimp
import zmq
with open("/tmp/gimp_probe.txt", "w") as f:
    f.write("gimp %s zmq %s python %d.%d" % (Gimp.version(), zmq.zmq_version(), *sys.version_info[:2]))
"""


def test_mirror_uri_reads_deb822_and_skips_security(tmp_path: Path) -> None:
    (tmp_path / "debian.sources").write_text(
        "Types: deb\nURIs: http://security.example/debian-security\nSuites: bookworm-security\n\n"
        "Types: deb\nURIs: http://mirror.example/debian/\nSuites: bookworm\n"
    )
    assert rootfs.mirror_uri([tmp_path]) == "http://mirror.example/debian"


def test_mirror_uri_reads_one_line_format(tmp_path: Path) -> None:
    listing = tmp_path / "sources.list"
    listing.write_text("# comment\ndeb [arch=amd64 signed-by=/k.gpg] http://ftp.example/debian bookworm main\n")
    assert rootfs.mirror_uri([tmp_path / "missing.d", listing]) == "http://ftp.example/debian"


def test_mirror_uri_without_an_archive_says_what_to_add(tmp_path: Path) -> None:
    (tmp_path / "other.sources").write_text("Types: deb\nURIs: http://example.org/ubuntu\n")
    with pytest.raises(rootfs.HostsUnavailable, match="add one such as"):
        rootfs.mirror_uri([tmp_path])


def test_root_key_depends_on_the_package_set_only() -> None:
    assert rootfs.root_key(["b", "a", "a"]) == rootfs.root_key(["a", "b"])
    assert rootfs.root_key(["a", "b"]) != rootfs.root_key(["a", "b", "c"])
    assert rootfs.root_key(["a"], "trixie") != rootfs.root_key(["a"], "forky")
    assert rootfs.root_key(["a"], "sid") != rootfs.root_key(["a"], "sid", ["experimental"])
    assert rootfs.root_key(["a"], "sid") != rootfs.root_key(["a"], "sid", apt_options=[rootfs.SNAPSHOT])


def test_the_debian_13_root_keeps_the_key_it_had_before_the_matrix() -> None:
    assert rootfs.TRIXIE.key() == "e5239b28a5187983"  # roots cached by earlier runs stay valid


def test_recipes_give_mmdebstrap_the_suites_sources_and_snapshot_option() -> None:
    trixie = rootfs.TRIXIE.command(Path("/r"), "http://m/debian")
    assert trixie[-3:] == ["trixie", "/r", "http://m/debian"] and not any("aptopt" in a for a in trixie)
    experimental = rootfs.EXPERIMENTAL.command(Path("/r"), "http://m/debian")
    assert experimental[-4:] == ["sid", "/r", "deb http://m/debian sid main", "deb http://m/debian experimental main"]
    assert '--aptopt=Acquire::Check-Valid-Until "false"' in experimental
    assert "krita/experimental" in next(a for a in experimental if a.startswith("--include=")).split("=", 1)[1]
    assert len({r.key() for r in rootfs.RECIPES}) == len(rootfs.RECIPES)


@pytest.mark.hosts
@pytest.mark.slow
def test_session_writes_go_to_the_overlay_and_everything_is_unmounted(host_base: Path) -> None:
    with rootfs.session(host_base) as host:
        host.write_text("/tmp/marker", "hello\n")
        proc = host.run(["sh", "-c", "cat /tmp/marker; test -c /dev/null && test -d /proc/self && echo mounted"], 30)
        merged = host.path
    assert proc.returncode == 0 and proc.stdout.split() == ["hello", "mounted"]
    assert not (host_base / "tmp" / "marker").exists()
    assert not merged.exists()
    assert rootfs._mounts_below(merged.parent) == []


@pytest.mark.hosts
@pytest.mark.slow
def test_run_kills_everything_it_started_after_the_timeout(host: rootfs.HostRoot) -> None:
    proc = host.run(["sh", "-c", "sleep 600 & echo started; sleep 600"], timeout_s=2)
    assert proc.returncode == -9
    assert "started" in proc.stdout
    assert rootfs._pids_in_root(host.path) == []


@pytest.mark.hosts
@pytest.mark.slow
@pytest.mark.parametrize("gimp", GIMPS, ids=[g.id for g in GIMPS])
def test_each_gimp_of_the_matrix_starts_inside_with_pyzmq(host_roots, gimp) -> None:
    with rootfs.session(host_roots(gimp.recipe)) as host:
        host.write_text("/tmp/gimp_probe.py", GIMP_PROBE)
        run = host.run([*gimp.console, "-b", "exec(open('/tmp/gimp_probe.py').read())", "--quit"], timeout_s=120)
        report = host.inside("/tmp/gimp_probe.txt")
        assert report.exists(), run.stdout[-3000:]
        assert report.read_text().startswith(f"gimp {gimp.release}")
        assert " zmq 4." in report.read_text()


@pytest.mark.hosts
@pytest.mark.slow
@pytest.mark.parametrize("krita", KRITAS, ids=[k.id for k in KRITAS])
def test_each_krita_of_the_matrix_starts_inside_with_pyzmq_and_its_own_pyqt(host_roots, krita) -> None:
    """The probe imports Qt the way the plugin does (its qt module), so Krita 6 must get PyQt6."""
    with rootfs.session(host_roots(krita.recipe)) as host:
        pykrita = "/root/.local/share/krita/pykrita"
        host.write_text(f"{pykrita}/restyle_probe.desktop", KRITA_PROBE_DESKTOP)
        host.write_text(f"{pykrita}/restyle_probe/__init__.py", KRITA_PROBE)
        host.copy_in(PLUGIN / "qt_binding.py", f"{pykrita}/restyle_probe_qt/qt_binding.py")
        host.copy_in(PLUGIN / "qt.py", f"{pykrita}/restyle_probe_qt/__init__.py")
        host.write_text("/root/.config/kritarc", "[python]\nenable_restyle_probe=true\n")
        run = host.run(["xvfb-run", "-a", "krita", "--nosplash"], timeout_s=120)
        report = host.inside("/tmp/krita_probe.txt")
        assert report.exists(), run.stdout[-3000:]
        text = report.read_text()
        assert text.startswith(f"krita {krita.version}.") and f" python {krita.python} " in text, text
        assert " zmq 4." in text and text.endswith(f"qt {krita.binding}"), text
