"""Batch stylization on Ray (``restyle stylize --ray``, ``engine.cluster.stylize_files``): the one-process batch's
pixels, names and failures, a dead worker's file retried, a clear message without Ray.

The Ray tests share one local cluster, started by ``ray start --head`` (2 CPUs, no dashboard) for the session.
"""
from __future__ import annotations

import json
import os
import shutil
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from engine.batch import FileOutcome
from engine.cli import main
from engine.cluster.shape import Node, WorkerShape, worker_shape
from engine.errors import BadInput

from conftest import BENCH, bench_image

RESTYLE = Path(sys.executable).parent / "restyle"
STYLE = str(BENCH / "style" / "la_muse.jpg")


def _import_ray():
    """Ray, or a skip where it has no wheel for this Python (the test extras leave it out there only)."""
    try:
        import ray
    except ImportError:
        if sys.version_info >= (3, 15):
            pytest.skip(f"Ray has no wheel for Python {sys.version_info.major}.{sys.version_info.minor} yet")
        raise
    return ray


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@pytest.fixture(scope="session")
def ray_cluster(tmp_path_factory):
    """The address of a local Ray cluster started with ``ray start --head``; stopped (only it) at the end."""
    _import_ray()
    temp_dir = Path(tempfile.mkdtemp(prefix="rs-ray-", dir="/tmp"))  # short: Ray's socket paths live in it
    port = _free_port()
    env = dict(os.environ, RESTYLE_CACHE_DIR=str(tmp_path_factory.getbasetemp() / "restyle-cache"),
               RAY_USAGE_STATS_ENABLED="0", RAY_AUTH_MODE="disabled")
    log = open(temp_dir.with_suffix(".log"), "w")
    head = subprocess.Popen([str(Path(sys.executable).parent / "ray"), "start", "--head", f"--port={port}",
                             "--num-cpus=2", "--include-dashboard=false", "--disable-usage-stats",
                             f"--temp-dir={temp_dir}", "--object-store-memory=100000000", "--block"],
                            env=env, stdout=log, stderr=subprocess.STDOUT)
    try:
        deadline = time.monotonic() + 120
        while not (temp_dir / "ray_current_cluster").exists():
            assert head.poll() is None, temp_dir.with_suffix(".log").read_text()
            assert time.monotonic() < deadline, "ray start --head did not come up in 120 s"
            time.sleep(0.5)
        yield f"127.0.0.1:{port}"
    finally:
        head.terminate()  # ray start --block stops the processes it started, and only those
        try:
            head.wait(60)
        except subprocess.TimeoutExpired:
            head.kill()
        log.close()
        shutil.rmtree(temp_dir, ignore_errors=True)
        temp_dir.with_suffix(".log").unlink()


@pytest.fixture()
def ray_env(monkeypatch):
    """No RAY_ADDRESS or auth settings from outside leak into a test's Ray."""
    for name in ("RAY_ADDRESS", "RAY_AUTH_MODE"):
        monkeypatch.delenv(name, raising=False)


def _photos(folder: Path, names=("street", "tower", "park")) -> list[Path]:
    folder.mkdir()
    sources = {"street": ("cornell.jpg", (120, 90)), "tower": ("chicago.jpg", (80, 100)), "park": ("flowers.jpg", (96, 64))}
    paths = []
    for name in names:
        source, size = sources[name]
        paths.append(folder / f"{name}.jpg")
        Image.fromarray(bench_image("content", source, size)).save(paths[-1])
    return paths


def _one_process(inputs: list[Path], out: Path) -> dict[str, np.ndarray]:
    assert main(["stylize", *map(str, inputs), "--style", STYLE, "-o", str(out), "-q"]) == 0
    return {p.name: np.asarray(Image.open(p)).astype(int) for p in sorted(out.iterdir())}


def _assert_same_images(expected: dict[str, np.ndarray], folder: Path) -> None:
    written = sorted(p.name for p in folder.iterdir())
    assert written == sorted(expected)
    for name in written:
        pixels = np.asarray(Image.open(folder / name)).astype(int)
        assert pixels.shape == expected[name].shape and np.abs(pixels - expected[name]).max() <= 1, name


def _cli(*args: str, cwd: Path | None = None) -> subprocess.CompletedProcess:
    return subprocess.run([str(RESTYLE), "stylize", *args], capture_output=True, text=True, timeout=400, cwd=cwd)


# -- without a cluster ---------------------------------------------------------------------------------------------

def test_without_ray_the_cli_says_how_to_install_it(tmp_path, capsys, monkeypatch):
    inputs = _photos(tmp_path / "in", ("street", "tower"))
    monkeypatch.setitem(sys.modules, "ray", None)  # import ray raises ImportError
    assert main(["stylize", *map(str, inputs), "--style", STYLE, "-o", str(tmp_path / "out"), "--ray"]) == 2
    err = capsys.readouterr().err.strip()
    assert len(err.splitlines()) == 1 and "pip install 'restyle[ray]'" in err
    assert not (tmp_path / "out").exists()


def test_outputs_are_checked_before_ray_is_touched(tmp_path, capsys, monkeypatch):
    import engine.cluster.connect

    inputs = _photos(tmp_path / "in", ("street", "tower"))
    (tmp_path / "out").mkdir()
    (tmp_path / "out" / "tower_la_muse.png").write_bytes(b"the user's file")
    monkeypatch.setattr(engine.cluster.connect, "import_ray", lambda: pytest.fail("Ray was started"))
    assert main(["stylize", *map(str, inputs), "--style", STYLE, "-o", str(tmp_path / "out"), "--ray"]) == 2
    assert "tower_la_muse.png already exists" in capsys.readouterr().err
    assert (tmp_path / "out" / "tower_la_muse.png").read_bytes() == b"the user's file"


@pytest.mark.parametrize("args, message", [
    (["--ray", "photo.jpg"], "--ray takes an address"),
    (["--ray-workers", "2"], "--ray-workers needs --ray"),
    (["--ray", "--engine", "tcp://127.0.0.1:5555"], "--ray and --engine"),
])
def test_ray_arguments_that_cannot_work_exit_2(tmp_path, capsys, args, message):
    inputs = _photos(tmp_path / "in", ("street",))
    assert main(["stylize", str(inputs[0]), "--style", STYLE, "-o", str(tmp_path / "out.png"), *args]) == 2
    assert message in capsys.readouterr().err
    assert not (tmp_path / "out.png").exists()


def test_import_engine_and_help_load_no_ray():
    code = ("import sys, engine, engine.cluster\nfrom engine.cli import main\n"
            "try:\n    main(['stylize', '--help'])\nexcept SystemExit:\n    pass\n"
            "print(sorted(m for m in sys.modules if m.split('.')[0] == 'ray'))\n")
    proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=300)
    assert proc.returncode == 0, proc.stderr
    assert "--ray-workers" in proc.stdout and proc.stdout.strip().splitlines()[-1] == "[]"


def test_workers_default_to_one_per_node_or_one_per_gpu():
    assert worker_shape([Node(2)]) == WorkerShape(1, 2, 0.0)
    assert worker_shape([Node(2)], workers=2) == WorkerShape(2, 1, 0.0)
    assert worker_shape([Node(0), Node(16), Node(8)]) == WorkerShape(2, 8, 0.0)  # a head without CPUs runs none
    assert worker_shape([Node(8, 4), Node(8, 4)]) == WorkerShape(8, 2, 1.0)
    assert worker_shape([Node(8, 4)], gpus_per_worker=0, workers=2, threads=3) == WorkerShape(2, 3, 0.0)


@pytest.mark.parametrize("kwargs, message", [
    (dict(workers=3), "do not fit"), (dict(threads=4), "do not fit"), (dict(gpus_per_worker=1), "no GPUs"),
    (dict(workers=0), "at least 1"),
])
def test_workers_that_cannot_fit_are_refused(kwargs, message):
    with pytest.raises(BadInput, match=message):
        worker_shape([Node(2)], **kwargs)


class _FakeRay:
    """Just enough of Ray for the pool: actors run at once in this process; a file in ``crashes`` kills its actor."""

    class exceptions:
        RayActorError = type("RayActorError", (Exception,), {})

    def __init__(self, crashes: set[str]) -> None:
        self.crashes, self.results, self.calls = crashes, {}, []

    def remote(self, worker_class):
        ray = self

        class Actor:
            def __init__(self, **_):
                self.ready = _Method(ray, lambda: ("cpu", None))
                self.stylize = _Method(ray, self._stylize)

            def _stylize(self, source, output, overwrite):
                ray.calls.append((source, overwrite))
                if source in ray.crashes:
                    raise ray.exceptions.RayActorError(f"died on {source}")
                return FileOutcome(source, output, (1, 1))

        class ActorClass:
            def options(self, **_):
                return self

            def remote(self, **kwargs):
                return Actor(**kwargs)

        return ActorClass()

    def wait(self, refs, num_returns=1):
        return refs[:1], refs[1:]

    def get(self, ref):
        value = self.results.pop(ref)
        if isinstance(value, BaseException):
            raise value
        return value

    def kill(self, actor):
        pass


class _Method:
    def __init__(self, ray, call):
        self.ray, self.call = ray, call

    def remote(self, *args):
        ref = object()
        try:
            self.ray.results[ref] = self.call(*args)
        except Exception as exc:
            self.ray.results[ref] = exc
        return ref


def test_a_file_that_kills_every_worker_fails_alone_after_three_tries():
    from engine.cluster.pool import ATTEMPTS, run_files

    ray = _FakeRay({"bad.jpg"})
    jobs = [(name, f"out/{name}.png") for name in ("a.jpg", "bad.jpg", "b.jpg", "c.jpg")]
    outcomes = run_files(ray, jobs, WorkerShape(2, 1, 0.0), {})
    assert [o.source for o in outcomes] == [source for source, _ in jobs]
    assert [o.failed for o in outcomes] == [False, True, False, False]
    assert f"died on it {ATTEMPTS} times" in outcomes[1].error
    assert [overwrite for source, overwrite in ray.calls if source == "bad.jpg"] == [False, True, True]


def test_when_every_worker_is_dead_for_good_the_files_left_fail():
    from engine.cluster.pool import RESTARTS, run_files

    names = [f"{k}.jpg" for k in range(RESTARTS + 3)]
    outcomes = run_files(_FakeRay(set(names)), [(n, f"out/{n}.png") for n in names], WorkerShape(1, 1, 0.0), {})
    assert all(o.failed for o in outcomes)
    assert "every Ray worker died" in outcomes[-1].error


# -- on a local cluster --------------------------------------------------------------------------------------------

@pytest.mark.slow
def test_ray_address_writes_what_the_one_process_batch_writes(ray_cluster, ray_env, tmp_path):
    inputs = _photos(tmp_path / "in")
    expected = _one_process(inputs, tmp_path / "one")
    relative = [str(p.relative_to(tmp_path)) for p in inputs]  # to where the command runs, not the workers
    proc = _cli(*relative, "--style", STYLE, "-o", "ray", "--ray", ray_cluster, "--ray-workers", "2", "--json",
                cwd=tmp_path)
    assert proc.returncode == 0, proc.stderr
    lines = [json.loads(line) for line in proc.stdout.splitlines()]
    assert sorted((line["input"], line["output"]) for line in lines) == sorted(
        (r, f"ray/{Path(r).stem}_la_muse.png") for r in relative)
    _assert_same_images(expected, tmp_path / "ray")


@pytest.mark.slow
def test_ray_without_an_address_starts_one_here(ray_env, tmp_path):
    inputs = _photos(tmp_path / "in", ("street", "tower"))
    expected = _one_process(inputs, tmp_path / "one")
    proc = _cli(*map(str, inputs), "--style", STYLE, "-o", str(tmp_path / "ray"), "--ray")
    assert proc.returncode == 0, proc.stderr
    written = sorted(line.split("  (")[0] for line in proc.stdout.splitlines())
    assert written == sorted(f"{p} -> {tmp_path / 'ray' / (p.stem + '_la_muse.png')}" for p in inputs)
    _assert_same_images(expected, tmp_path / "ray")


@pytest.mark.slow
def test_a_corrupt_file_fails_alone_on_ray(ray_cluster, ray_env, tmp_path, capsys):
    inputs = _photos(tmp_path / "in", ("street", "tower"))
    broken = tmp_path / "in" / "broken.jpg"
    broken.write_bytes(inputs[0].read_bytes()[:200])
    proc = _cli(str(inputs[0]), str(broken), str(inputs[1]), "--style", "preset:frost", "-o", str(tmp_path / "out"),
                "--ray", ray_cluster, "-q")
    assert proc.returncode == 2
    assert sorted(p.name for p in (tmp_path / "out").iterdir()) == ["street_frost.png", "tower_frost.png"]
    errors = [line for line in proc.stderr.splitlines() if line.startswith("restyle:")]
    assert errors[-1] == "restyle: 1 of 3 images failed; the others were written"
    assert any(line.startswith(f"restyle: error: {broken}: ") for line in errors)


@pytest.mark.slow
def test_a_worker_that_dies_has_its_file_done_by_another(ray_cluster, ray_env, tmp_path):
    from engine.cluster import stylize_files
    from engine.cluster.worker import CRASH_ONCE_ENV

    inputs = _photos(tmp_path / "in")
    expected = _one_process(inputs, tmp_path / "one")
    marker = tmp_path / "a worker died"
    seen = []
    outcomes = stylize_files(inputs, tmp_path / "ray", STYLE, address=ray_cluster, workers=2, on_file=seen.append,
                             runtime_env={"env_vars": {CRASH_ONCE_ENV: str(marker)}})
    assert marker.exists()  # one worker did die on its first file
    assert [o.source for o in outcomes] == list(map(str, inputs)) and not any(o.failed for o in outcomes)
    assert sorted(o.source for o in seen) == sorted(map(str, inputs))
    _assert_same_images(expected, tmp_path / "ray")
