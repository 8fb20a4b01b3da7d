"""Debian roots holding real Krita and GIMP 3, built once each with mmdebstrap and cached.

``RECIPES`` names the roots of the host matrix (Debian 13; sid; sid with experimental's Krita 6);
``cached_root(recipe)`` builds (or finds) one read-only base root; ``session(base)`` mounts a throwaway
overlay on it with proc and dev, yields a ``HostRoot`` to copy files into and run commands in, and
always unmounts and removes the overlay. ``python3 tests/hosts/rootfs.py`` builds every root at once
(CI starts it in the background while it installs the engine).
"""
from __future__ import annotations

import argparse
import contextlib
import fcntl
import hashlib
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import threading
import time
import urllib.error
import urllib.request
from dataclasses import dataclass
from pathlib import Path
from typing import Iterator, Mapping, Optional, Sequence, Tuple

TOOLS = (
    "python3-zmq",
    "xvfb",
    "xauth",
    "dbus-x11",
    "xdotool",  # drive menus and dialogs for screenshots
    "imagemagick",  # `import -window root` takes the screenshots
    "fonts-dejavu-core",
)
EDITORS = (
    "krita",
    "python3-pyqt5",  # Krita 5's scripting needs it, and Debian's krita only recommends it
    "gimp",
    "gir1.2-gimp-3.0",
    "python3-gi",
)
# The mirror serves a fixed snapshot: the Release files of the moving suites read as expired.
SNAPSHOT = 'Acquire::Check-Valid-Until "false"'


@dataclass(frozen=True)
class Recipe:
    """How one root is built: the release mmdebstrap installs, extra suites as sources, packages, apt options."""

    name: str
    suite: str
    packages: Tuple[str, ...]
    extra_suites: Tuple[str, ...] = ()
    apt_options: Tuple[str, ...] = ()

    @property
    def suites(self) -> Tuple[str, ...]:
        return (self.suite, *self.extra_suites)

    def key(self) -> str:
        """A short hash naming a root built from this recipe (same packages in any order: same key)."""
        return root_key(self.packages, self.suite, self.extra_suites, self.apt_options)

    def command(self, target: Path, uri: str) -> list[str]:
        """The mmdebstrap command that builds this root into ``target`` from the mirror at ``uri``."""
        options = [f"--aptopt={option}" for option in self.apt_options]
        sources = [f"deb {uri} {suite} main" for suite in self.suites] if self.extra_suites else [uri]
        return ["mmdebstrap", "--variant=apt", *options, f"--include={','.join(self.packages)}", self.suite,
                str(target), *sources]


TRIXIE = Recipe("debian13", "trixie", EDITORS + TOOLS)  # Krita 5.2.9, GIMP 3.0.4
SID = Recipe("sid", "sid", EDITORS + TOOLS, apt_options=(SNAPSHOT,))  # Krita 5.3.4 (Python 3.14), GIMP 3.2.6
EXPERIMENTAL = Recipe(  # Krita 6.0.4 with PyQt6; no GIMP (sid's is the same)
    "experimental", "sid", ("krita/experimental", "krita-data/experimental", "python3-pyqt6") + TOOLS,
    extra_suites=("experimental",), apt_options=(SNAPSHOT,))
RECIPES = (TRIXIE, SID, EXPERIMENTAL)
CACHE_DIR = Path(os.environ.get("RESTYLE_HOSTS_CACHE", "/var/cache/restyle-hosts"))
BUILD_TIMEOUT_S = 1800
SOURCES = (Path("/etc/apt/sources.list.d"), Path("/etc/apt/sources.list"))
ROOT_PATH = "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"


class HostsUnavailable(Exception):
    """This machine cannot build or enter the root; the message says why and what to do."""


def mirror_uri(sources: Sequence[Path] = SOURCES) -> str:
    """The Debian archive URI from the system's apt sources (deb822 or one-line format)."""
    files: list[Path] = []
    for src in sources:
        if src.is_dir():
            files += sorted(src.glob("*.sources")) + sorted(src.glob("*.list"))
        elif src.is_file():
            files.append(src)
    for path in files:
        for uri in _uris(path.read_text(errors="replace"), deb822=path.suffix == ".sources"):
            if "security" not in uri and "/debian" in uri:
                return uri.rstrip("/")
    raise HostsUnavailable(
        "no Debian archive URI in the apt sources (/etc/apt/sources.list.d/*.sources or sources.list); "
        "add one such as http://deb.debian.org/debian"
    )


def _uris(text: str, deb822: bool) -> list[str]:
    """The archive URIs named in one apt sources file."""
    uris = []
    for line in text.splitlines():
        line = line.strip()
        if deb822 and line.lower().startswith("uris:"):
            uris += line.split(":", 1)[1].split()
        elif not deb822 and line.startswith("deb "):
            words = [w for w in line.split()[1:] if not w.startswith("[")]
            uris += [w for w in words if "://" in w][:1]
    return uris


def root_key(packages: Sequence[str], suite: str = TRIXIE.suite, extra_suites: Sequence[str] = (),
             apt_options: Sequence[str] = ()) -> str:
    """A short hash naming a root built from this package list, suites and apt options."""
    recipe = "\n".join(["variant=apt", suite, *sorted(set(packages))])
    if extra_suites or apt_options:  # a Debian 13 root keeps the key it had before the matrix
        recipe += "\n" + "\n".join([*(f"suite={s}" for s in extra_suites), *(f"aptopt={o}" for o in apt_options)])
    return hashlib.sha256(recipe.encode()).hexdigest()[:16]


def check_can_build() -> None:
    """Raise ``HostsUnavailable`` unless this process can build and enter a root."""
    if os.geteuid() != 0:
        raise HostsUnavailable("the real-host tests need root (mmdebstrap, mount, chroot); run pytest as root")
    if shutil.which("mmdebstrap") is None:
        raise HostsUnavailable("mmdebstrap is not installed; run `apt-get install mmdebstrap`")


def check_mirror(uri: str, suite: str, timeout_s: float = 15.0) -> None:
    """Raise ``HostsUnavailable`` unless the mirror serves ``suite``."""
    url = f"{uri}/dists/{suite}/InRelease"
    try:
        with urllib.request.urlopen(urllib.request.Request(url, method="HEAD"), timeout=timeout_s):
            pass
    except (urllib.error.URLError, OSError) as exc:
        raise HostsUnavailable(f"the apt mirror does not answer for {url} ({exc}); check the network") from exc


def cached_root(recipe: Recipe = TRIXIE, cache_dir: Optional[Path] = None) -> Path:
    """The built root for ``recipe``, building it first when it is not in ``cache_dir``."""
    check_can_build()
    cache_dir = cache_dir or CACHE_DIR
    key = recipe.key()
    final = cache_dir / key
    cache_dir.mkdir(parents=True, exist_ok=True)
    with open(cache_dir / f"{key}.lock", "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)  # a second session waits here for the first one's build
        if (final / "etc" / "os-release").exists():
            return final
        for stale in cache_dir.glob(f"{key}.tmp-*"):
            _remove_tree(stale)
        uri = mirror_uri()
        for suite in recipe.suites:
            check_mirror(uri, suite)
        building = Path(tempfile.mkdtemp(prefix=f"{key}.tmp-", dir=cache_dir))
        try:
            _mmdebstrap(recipe.command(building / "root", uri))
            (building / "root").rename(final)
        finally:
            _remove_tree(building)
    return final


def _mmdebstrap(cmd: Sequence[str]) -> None:
    """Run an mmdebstrap command; raise ``HostsUnavailable`` with its log tail on failure."""
    try:
        proc = subprocess.run(cmd, capture_output=True, text=True, timeout=BUILD_TIMEOUT_S)
    except subprocess.TimeoutExpired as exc:
        raise HostsUnavailable(f"mmdebstrap took over {BUILD_TIMEOUT_S} s; check the mirror's speed") from exc
    if proc.returncode != 0:
        tail = "\n".join((proc.stdout + proc.stderr).splitlines()[-20:])
        raise HostsUnavailable(f"mmdebstrap failed ({' '.join(cmd)}):\n{tail}")


def build_all(recipes: Sequence[Recipe] = RECIPES, cache_dir: Optional[Path] = None) -> dict:
    """Build (or find) every root at once, one thread each; ``{name: path or the error}``."""
    results: dict = {}

    def build(recipe: Recipe) -> None:
        try:
            results[recipe.name] = cached_root(recipe, cache_dir)
        except HostsUnavailable as exc:
            results[recipe.name] = exc

    threads = [threading.Thread(target=build, args=(r,)) for r in recipes]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return results


def _mounts_below(path: Path) -> list[str]:
    """Mount points at or below ``path``, deepest first."""
    prefix = str(path.resolve())
    points = []
    for line in Path("/proc/self/mountinfo").read_text().splitlines():
        point = line.split()[4].replace("\\040", " ")
        if point == prefix or point.startswith(prefix + "/"):
            points.append(point)
    return sorted(points, key=len, reverse=True)


def _unmount_below(path: Path) -> None:
    """Unmount everything mounted at or below ``path`` (lazily when busy)."""
    for point in _mounts_below(path):
        if subprocess.run(["umount", point], capture_output=True).returncode != 0:
            subprocess.run(["umount", "-l", point], capture_output=True)
    if _mounts_below(path):
        raise RuntimeError(f"could not unmount everything below {path}; run `umount -R -l {path}`")


def _remove_tree(path: Path) -> None:
    """Delete ``path`` after making sure nothing (such as a bound /dev) is mounted inside it."""
    if path.exists():
        _unmount_below(path)
        shutil.rmtree(path)


@dataclass(frozen=True)
class HostRoot:
    """A mounted, writable root: copy files in, run commands inside, read files back."""

    path: Path

    def inside(self, path: str) -> Path:
        """The outside path of ``path`` as seen inside the root."""
        return self.path / path.lstrip("/")

    def copy_in(self, src: Path, dest: str) -> Path:
        """Copy a file or folder to ``dest`` inside the root (folders merge); return the outside path."""
        target = self.inside(dest)
        target.parent.mkdir(parents=True, exist_ok=True)
        if Path(src).is_dir():
            shutil.copytree(src, target, dirs_exist_ok=True, ignore=shutil.ignore_patterns("__pycache__"))
        else:
            shutil.copy2(src, target)
        return target

    def write_text(self, dest: str, text: str, mode: int = 0o644) -> Path:
        """Write ``text`` to ``dest`` inside the root; return the outside path."""
        target = self.inside(dest)
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_text(text)
        target.chmod(mode)
        return target

    def run(
        self, argv: Sequence[str], timeout_s: float, env: Mapping[str, str] | None = None
    ) -> subprocess.CompletedProcess:
        """Run ``argv`` inside the root as root with a clean environment; kill it all after ``timeout_s``.

        Output (stdout and stderr together) is in ``.stdout``; a timeout gives return code -9 and
        the output so far, never an exception, so the caller can judge by the files it wrote.
        """
        base = {"HOME": "/root", "PATH": ROOT_PATH, "LANG": "C.UTF-8", "USER": "root", "TMPDIR": "/tmp"}
        base.update(env or {})
        cmd = ["chroot", str(self.path), "env", "-i", *(f"{k}={v}" for k, v in base.items()), *argv]
        with tempfile.TemporaryFile() as out:
            proc = subprocess.Popen(cmd, stdout=out, stderr=subprocess.STDOUT, start_new_session=True)
            try:
                code = proc.wait(timeout=timeout_s)
            except subprocess.TimeoutExpired:
                code = -signal.SIGKILL
            self._kill_all(proc.pid)
            proc.wait()
            _wait_gone(self.path)
            out.seek(0)
            text = out.read().decode(errors="replace")
        return subprocess.CompletedProcess(cmd, code, text, "")

    def mount_machine(self, at: str = "/host") -> str:
        """Bind this machine's root filesystem, with proc and dev, at ``at`` inside the root; return ``at``.

        A command inside can then run this machine's software (the engine and its venv) with
        ``chroot /host ...``; everything is unmounted, and such processes killed, with the session.
        """
        target = self.inside(at)
        target.mkdir(parents=True, exist_ok=True)
        _mount("--bind", "/", target)
        _mount("-t", "proc", "proc", target / "proc")
        _mount("--rbind", "/dev", target / "dev")
        _mount("--make-rslave", target / "dev")
        return at

    def _kill_all(self, session: int) -> None:
        """Kill the session started for one command and anything else still running in this root."""
        with contextlib.suppress(ProcessLookupError, PermissionError):
            os.killpg(session, signal.SIGKILL)
        for pid in _pids_in_root(self.path):
            with contextlib.suppress(ProcessLookupError, PermissionError):
                os.kill(pid, signal.SIGKILL)


def _pids_in_root(root: Path) -> list[int]:
    """Processes whose root directory is ``root`` or a folder inside it."""
    target = str(root.resolve())
    pids = []
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            with contextlib.suppress(OSError):
                seen = os.readlink(entry / "root")
                if seen == target or seen.startswith(target + "/"):
                    pids.append(int(entry.name))
    return pids


@contextlib.contextmanager
def session(base: Path) -> Iterator[HostRoot]:
    """A throwaway writable overlay on ``base`` with proc, dev, dev/pts and dev/shm mounted."""
    work = Path(tempfile.mkdtemp(prefix="restyle-host-"))
    upper, scratch, merged = work / "upper", work / "work", work / "root"
    for d in (upper, scratch, merged):
        d.mkdir()
    try:
        _mount("-t", "overlay", "overlay", "-o", f"lowerdir={base},upperdir={upper},workdir={scratch}", merged)
        _mount("-t", "proc", "proc", merged / "proc")
        _mount("--rbind", "/dev", merged / "dev")
        _mount("--make-rslave", merged / "dev")
        host = HostRoot(merged)
        yield host
    finally:
        for pid in _pids_in_root(merged):
            with contextlib.suppress(ProcessLookupError):
                os.kill(pid, signal.SIGKILL)
        _wait_gone(merged)
        _remove_tree(work)


def _mount(*args: object) -> None:
    """Run ``mount`` with ``args``; raise ``HostsUnavailable`` with its message when it fails."""
    proc = subprocess.run(["mount", *map(str, args)], capture_output=True, text=True)
    if proc.returncode != 0:
        raise HostsUnavailable(f"mount {' '.join(map(str, args))} failed: {proc.stderr.strip()}")


def _wait_gone(root: Path, timeout_s: float = 10.0) -> None:
    """Wait until no process runs inside ``root`` (killed processes take a moment to exit)."""
    deadline = time.monotonic() + timeout_s
    while _pids_in_root(root) and time.monotonic() < deadline:
        time.sleep(0.05)


def main(argv: Optional[Sequence[str]] = None) -> int:
    """Build the roots named on the command line (all by default), in parallel; 1 if one failed."""
    parser = argparse.ArgumentParser(description="Build the cached Debian roots of the real-host tests.")
    names = [r.name for r in RECIPES]
    parser.add_argument("names", nargs="*", help=f"which roots: {', '.join(names)} (default: all)")
    args = parser.parse_args(argv)
    unknown = sorted(set(args.names) - set(names))
    if unknown:
        parser.error(f"unknown root {', '.join(unknown)}: choose from {', '.join(names)}")
    chosen = [r for r in RECIPES if not args.names or r.name in args.names]
    started = time.monotonic()
    failed = 0
    for name, result in build_all(chosen).items():
        failed += isinstance(result, Exception)
        print(f"root {name}: {result}")
    print(f"roots ready in {time.monotonic() - started:.0f} s")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
