"""The host-side client: its API against a fake-stylizer engine, discovery, autostart, reconnects, failures."""
from __future__ import annotations

import ast
import os
import shutil
import signal
import sys
import threading
import time

import numpy as np
import pytest

from import_guard import run_without_heavy_imports
import zmq

from engine.client import EngineClient, EngineError, EngineNotRunning, Image, JobCancelled, Result
from engine.client.discovery import write_discovery
from engine.client.protocol import serialize
from server_fixtures import ROOT, FakeStylizer, invert, running_server, server_process

CLIENT_MODULES = sorted((ROOT / "engine" / "client").glob("*.py"))


def rgba(width, height, seed=0):
    data = np.random.default_rng(seed).integers(0, 256, (height, width, 4), dtype=np.uint8)
    return data, Image(width, height, 4, "uint8", data.tobytes())


def as_array(image: Image) -> np.ndarray:
    return np.frombuffer(image.data, image.dtype).reshape(image.height, image.width, image.channels)


@pytest.fixture
def engine(tmp_path):
    fake = FakeStylizer(steps=4)
    with running_server(tmp_path, fake, progress_interval_s=0) as server:
        server.fake = fake
        yield server


def test_every_client_module_imports_without_numpy_torch_or_pil(tmp_path):
    """The package alone, as the installers copy it into a plugin: ``engine/client/`` under an empty ``engine``."""
    shutil.copytree(ROOT / "engine" / "client", tmp_path / "engine" / "client",
                    ignore=shutil.ignore_patterns("__pycache__"))
    (tmp_path / "engine" / "__init__.py").write_text("")
    modules = ", ".join(f"engine.client.{path.stem}" for path in CLIENT_MODULES if path.stem != "__init__")
    out = run_without_heavy_imports(
        f"import {modules}\n"
        "from engine.client import EngineClient, Image, Result, EngineError, EngineNotRunning, JobCancelled\n"
        "print(Image(1, 1, 3, 'uint8', bytes(3)).nbytes, sys.modules['engine.client'].__file__)\n",
        cwd=tmp_path,
        isolated=False,
    )
    assert out.returncode == 0, out.stderr
    assert out.stdout.split() == ["3", str(tmp_path / "engine" / "client" / "__init__.py")]


@pytest.mark.parametrize("path", CLIENT_MODULES, ids=lambda path: path.name)
def test_client_modules_are_python_3_8_code(path):
    tree = ast.parse(path.read_text(), feature_version=(3, 8))
    annotations = {id(n) for node in ast.walk(tree) for n in ast.walk(getattr(node, "annotation", None) or
                                                                      getattr(node, "returns", None) or ast.Pass())}
    generic = [node.lineno for node in ast.walk(tree)
               if isinstance(node, ast.Subscript) and id(node) not in annotations
               and isinstance(node.value, ast.Name) and node.value.id in ("list", "dict", "tuple", "set", "type")]
    assert generic == [], f"builtin generics evaluated at run time (3.9+) on lines {generic}"
    assert "from __future__ import annotations" in path.read_text()


def test_ping_returns_the_pong(engine):
    with EngineClient(engine.endpoint) as client:
        pong = client.ping()
    assert pong["type"] == "pong" and pong["protocol"] == 1 and pong["context_margin"] == 64


def test_styles_returns_presets_with_thumbnail_images(engine):
    with EngineClient(engine.endpoint) as client:
        styles = client.styles(thumbnail_size=24)
    assert [(s["name"], s["index"]) for s in styles] == [("wave", 0), ("mosaic", 1), ("udnie", 2)]
    thumb = styles[1]["thumbnail"]
    assert (thumb.width, thumb.height, thumb.channels, thumb.dtype) == (24, 24, 3, "uint8")
    assert set(bytes(thumb.data)) == {40}


def test_stylize_returns_the_result_and_reports_progress(engine):
    content, image = rgba(13, 7)
    reports = []
    with EngineClient(engine.endpoint) as client:
        result = client.stylize(image, [{"preset": "wave", "weight": 0.5}, {"preset": "udnie", "weight": 0.5}],
                                options={"strength": 0.5}, on_progress=reports.append)
    assert isinstance(result, Result) and result.job_id.startswith("job-") and result.elapsed_s > 0
    assert (result.image.width, result.image.height, result.image.channels) == (13, 7, 4)
    np.testing.assert_array_equal(as_array(result.image), invert(content))
    assert reports[0]["stage"] == "queued" and reports[0]["position"] == 0
    assert [r["done"] for r in reports[1:]] == [1, 2, 3, 4] and reports[-1]["total"] == 4
    kwargs = engine.fake.calls[0].kwargs
    assert kwargs["weights"] == [0.5, 0.5] and kwargs["strength"] == 0.5


def test_stylize_sends_a_float_mask_and_style_images(engine):
    content, image = rgba(6, 5)
    mask = np.zeros((5, 6), np.float32)
    mask[1:4, 2:5] = 1.0
    style, style_image = rgba(9, 9, seed=4)
    with EngineClient(engine.endpoint) as client:
        result = client.stylize(image, {"image": style_image}, mask=Image(6, 5, 1, "float32", mask.tobytes()),
                                options={"feather": 2.0, "invert_mask": False})
    out = as_array(result.image)
    np.testing.assert_array_equal(out[mask == 0], content[mask == 0])
    np.testing.assert_array_equal(out[mask == 1], invert(content)[mask == 1])
    kwargs = engine.fake.calls[0].kwargs
    np.testing.assert_array_equal(kwargs["mask"], mask)
    np.testing.assert_array_equal(kwargs["style"][0], style[..., :3])


def test_the_engines_refusal_raises_engine_error_with_code_and_hint(engine):
    _, image = rgba(4, 4)
    with EngineClient(engine.endpoint) as client:
        with pytest.raises(EngineError) as info:
            client.stylize(image, [{"preset": "nope"}])
        assert info.value.code == "bad_input" and "nope" in info.value.message and info.value.hint
        with pytest.raises(EngineError) as info:
            client.stylize(image, [{"preset": "wave"}], options={"strength": 7})
        assert info.value.code == "bad_input" and "strength" in info.value.message
        assert client.ping()["queue"] == 0


def test_the_cancel_flag_cancels_the_job_on_the_engine(tmp_path):
    fake = FakeStylizer(steps=10_000, step_s=0.02)
    with running_server(tmp_path, fake, progress_interval_s=0) as server:
        _, image = rgba(4, 4)
        reports = []
        with EngineClient(server.endpoint) as client:
            with pytest.raises(JobCancelled):
                client.stylize(image, [{"preset": "wave"}], on_progress=reports.append,
                               cancel=lambda: len(reports) > 3)
            assert client.status()["running"] == 0
    assert fake.calls[0].outcome == "cancelled"


def test_an_exception_in_the_progress_callback_cancels_the_job(tmp_path):
    fake = FakeStylizer(steps=10_000, step_s=0.02)
    with running_server(tmp_path, fake, progress_interval_s=0) as server:
        def explode(report):
            if report["done"] > 2:
                raise KeyError("plugin bug")

        with EngineClient(server.endpoint) as client:
            with pytest.raises(KeyError):
                client.stylize(rgba(4, 4)[1], [{"preset": "wave"}], on_progress=explode)
            deadline = time.monotonic() + 5
            while fake.calls[0].outcome == "running" and time.monotonic() < deadline:
                time.sleep(0.02)
    assert fake.calls[0].outcome == "cancelled"


@pytest.mark.parametrize("make", [
    lambda: Image(4, 4, 3, "uint8", bytes(47)),
    lambda: Image(4, 4, 3, "int8", bytes(48)),
    lambda: Image(0, 4, 3, "uint8", b""),
])
def test_an_image_whose_bytes_do_not_match_its_size_is_refused(make):
    with pytest.raises(ValueError):
        make()


@pytest.mark.parametrize("kwargs", [
    dict(styles=[]),
    dict(styles=[{"preset": "wave", "image": None}]),
    dict(styles=[{"image": b"raw"}]),
    dict(styles=[{"preset": "wave"}], mask=Image(3, 4, 1, "uint8", bytes(12))),
    dict(styles=[{"preset": "wave"}], mask=Image(4, 4, 3, "uint8", bytes(48))),
    dict(),
    dict(regions=[]),
    dict(regions={"styles": [{"preset": "wave"}]}),
    dict(regions=[{"mask": Image(4, 4, 1, "uint8", bytes(16))}]),
    dict(regions=[{"styles": [{"preset": "wave"}], "mask": Image(3, 4, 1, "uint8", bytes(12))}]),
    dict(regions=[{"styles": [{"preset": "wave"}]}], styles=[{"preset": "wave"}]),
    dict(regions=[{"styles": [{"preset": "wave"}]}], mask=Image(4, 4, 1, "uint8", bytes(16))),
])
def test_bad_stylize_arguments_raise_value_error_before_sending(kwargs):
    with EngineClient("ipc:///nonexistent/engine.sock", timeout_s=0.5) as client:
        with pytest.raises(ValueError):
            client.stylize(Image(4, 4, 3, "uint8", bytes(48)), **kwargs)


def test_without_a_discovery_file_the_client_says_how_to_start_the_engine(tmp_path, monkeypatch):
    monkeypatch.setenv("RESTYLE_RUNTIME_DIR", str(tmp_path))
    with EngineClient() as client:
        with pytest.raises(EngineNotRunning) as info:
            client.ping()
    assert "no engine is running" in info.value.message and "restyle serve" in info.value.hint


def test_nothing_listening_raises_engine_not_running_after_the_timeout(tmp_path):
    with EngineClient(f"ipc://{tmp_path}/nobody.sock", timeout_s=0.6) as client:
        started = time.monotonic()
        with pytest.raises(EngineNotRunning):
            client.stylize(Image(2, 2, 3, "uint8", bytes(12)), [{"preset": "wave"}])
        assert time.monotonic() - started >= 0.6
        with pytest.raises(EngineNotRunning) as info:
            client.ping(timeout_s=0.3)
    assert "did not answer" in info.value.message


def test_the_client_finds_the_engine_and_its_curve_key_through_the_discovery_file(tmp_path, monkeypatch):
    from engine.client.keys import generate_keys, load_server_keys

    monkeypatch.setenv("RESTYLE_RUNTIME_DIR", str(tmp_path))
    keys = load_server_keys(generate_keys(tmp_path / "keys")[1])
    with running_server(tmp_path, endpoint="tcp://127.0.0.1:*", curve_keys=keys,
                        discovery_file=tmp_path / "engine.json") as server:
        with EngineClient() as client:
            assert client.ping()["curve"] is True
            result = client.stylize(rgba(3, 3)[1], [{"preset": "mosaic"}])
            assert result.image.width == 3
        assert server.endpoint.startswith("tcp://127.0.0.1:")


def test_an_engine_speaking_another_protocol_is_reported(tmp_path):
    ctx = zmq.Context()
    router = ctx.socket(zmq.ROUTER)
    endpoint = f"ipc://{tmp_path}/future.sock"
    router.bind(endpoint)

    def answer():
        identity, header = router.recv_multipart()
        reply = serialize("pong", "x")
        reply[0] = reply[0].replace(b'"protocol":1', b'"protocol":2')
        router.send_multipart([identity] + reply)

    thread = threading.Thread(target=answer)
    thread.start()
    try:
        with EngineClient(endpoint, timeout_s=5) as client:
            with pytest.raises(EngineError) as info:
                client.ping()
        assert info.value.code == "unsupported_protocol" and "protocol 1" in info.value.hint
    finally:
        thread.join(5)
        router.close(0)
        ctx.term()


@pytest.mark.slow
def test_an_engine_killed_mid_job_raises_engine_not_running_within_the_timeout(tmp_path):
    endpoint = f"ipc://{tmp_path}/e.sock"
    with server_process(tmp_path, "--endpoint", endpoint, "--steps", "10000", "--step-s", "0.05") as proc:
        outcome = {}

        def run():
            with EngineClient(endpoint, timeout_s=2.0) as client:
                started = time.monotonic()
                try:
                    client.stylize(rgba(8, 8)[1], [{"preset": "wave"}],
                                   on_progress=lambda p: p["done"] >= 2 and os.kill(proc.pid, signal.SIGKILL))
                except EngineError as e:
                    outcome["error"] = e
                outcome["elapsed"] = time.monotonic() - started

        thread = threading.Thread(target=run)
        thread.start()
        thread.join(30)
        assert not thread.is_alive(), "the client kept waiting for a dead engine"
    assert isinstance(outcome["error"], EngineNotRunning), outcome
    assert "stopped answering for 2 s" in outcome["error"].message
    assert outcome["elapsed"] < 2.0 + 3.0  # the timeout plus generous slack for a loaded machine


@pytest.mark.slow
def test_a_job_survives_an_engine_restart_at_the_same_endpoint(tmp_path):
    endpoint = f"ipc://{tmp_path}/e.sock"
    first = server_process(tmp_path, "--endpoint", endpoint, "--steps", "10000", "--step-s", "0.05")
    proc = first.__enter__()
    killed = threading.Event()

    def kill_once(report):
        if report["done"] >= 2 and not killed.is_set():
            killed.set()
            proc.kill()

    content, image = rgba(5, 4)
    result = {}
    with EngineClient(endpoint, timeout_s=20.0) as client:
        thread = threading.Thread(target=lambda: result.update(r=client.stylize(image, [{"preset": "wave"}],
                                                                                on_progress=kill_once)))
        thread.start()
        assert killed.wait(20)
        first.__exit__(None, None, None)
        (tmp_path / "engine.json").unlink()
        with server_process(tmp_path, "--endpoint", endpoint):
            thread.join(60)
    assert not thread.is_alive()
    np.testing.assert_array_equal(as_array(result["r"].image), invert(content))


def test_ensure_running_starts_the_engine_and_waits_for_it(tmp_path, monkeypatch):
    monkeypatch.setenv("RESTYLE_RUNTIME_DIR", str(tmp_path))
    command = [sys.executable, str(ROOT / "tests" / "server_fixtures.py"), "--endpoint", f"ipc://{tmp_path}/e.sock",
               "--discovery-file", str(tmp_path / "engine.json")]
    statuses = []
    with EngineClient(start_command=command, timeout_s=5) as client:
        pong = client.ensure_running(wait_s=60, on_status=statuses.append)
        try:
            assert pong["type"] == "pong" and statuses[0] == "starting the engine"
            assert client.ensure_running(wait_s=5)["pid"] == pong["pid"]  # already running: not started twice
        finally:
            os.kill(pong["pid"], signal.SIGKILL)


def test_ensure_running_reports_an_engine_that_fails_to_start(tmp_path, monkeypatch):
    monkeypatch.setenv("RESTYLE_RUNTIME_DIR", str(tmp_path))
    command = [sys.executable, "-c", "import sys; print('restyle serve: no such device cuda:7', file=sys.stderr); "
                                     "sys.exit(2)"]
    with EngineClient(start_command=command, timeout_s=2) as client:
        with pytest.raises(EngineNotRunning) as info:
            client.ensure_running(wait_s=30)
    assert "exited with code 2" in info.value.message and "no such device cuda:7" in info.value.message


def test_ensure_running_reports_a_missing_executable(tmp_path, monkeypatch):
    monkeypatch.setenv("RESTYLE_RUNTIME_DIR", str(tmp_path))
    with EngineClient(start_command=[str(tmp_path / "no-restyle"), "serve"], timeout_s=1) as client:
        with pytest.raises(EngineNotRunning) as info:
            client.ensure_running(wait_s=5)
    assert "cannot start the engine" in info.value.message and "executable" in info.value.hint


def test_a_stale_discovery_file_counts_as_not_running(tmp_path, monkeypatch):
    monkeypatch.setenv("RESTYLE_RUNTIME_DIR", str(tmp_path))
    write_discovery(tmp_path / "engine.json", {"endpoint": f"ipc://{tmp_path}/gone.sock", "pid": 999999,
                                               "log_file": str(tmp_path / "engine.log")})
    with EngineClient(timeout_s=1) as client:
        with pytest.raises(EngineNotRunning) as info:
            client.ping(timeout_s=0.5)
    assert str(tmp_path / "engine.log") in info.value.hint


def test_the_discovery_file_is_private(tmp_path, monkeypatch):
    monkeypatch.setenv("RESTYLE_RUNTIME_DIR", str(tmp_path / "rt"))
    from engine.client.discovery import ensure_runtime_dir

    folder = ensure_runtime_dir()
    assert oct(folder.stat().st_mode & 0o777) == oct(0o700)
    folder.chmod(0o755)
    with pytest.raises(Exception, match="shared with other users"):
        ensure_runtime_dir()


def big_rgba(seed=0):
    return rgba(640, 480, seed)  # 1.2 MiB: travels in shared memory


@pytest.fixture
def shm_engine(tmp_path):
    folder = tmp_path / "shm"
    folder.mkdir(mode=0o700)
    fake = FakeStylizer(steps=1)
    with running_server(tmp_path, fake, shared_memory=folder) as server:
        server.fake, server.folder = fake, folder
        yield server


@pytest.mark.skipif(os.name != "posix", reason="shared memory is POSIX only")
def test_large_images_travel_in_shared_memory_and_results_are_not_overwritten(shm_engine):
    import mmap

    first, image = big_rgba(1)
    second, image2 = big_rgba(2)
    with EngineClient(shm_engine.endpoint) as client:
        assert client.ping()["shm_dir"] == str(shm_engine.folder)
        kept = client.stylize(image, [{"preset": "wave"}])
        assert isinstance(kept.image.data.obj, mmap.mmap)  # the result is a view of a shared segment
        files = sorted(p.name for p in shm_engine.folder.iterdir())
        assert len(files) == 2 and all(p.stat().st_mode & 0o777 == 0o600 for p in shm_engine.folder.iterdir())
        other = client.stylize(image2, [{"preset": "wave"}])
        np.testing.assert_array_equal(as_array(kept.image), invert(first))  # still there: nothing lost
        np.testing.assert_array_equal(as_array(other.image), invert(second))
        assert len(list(shm_engine.folder.iterdir())) == 3  # the held result's segment was not reused
        del kept, other
        again = client.stylize(image, [{"preset": "wave"}])
        np.testing.assert_array_equal(as_array(again.image), invert(first))
        assert len(list(shm_engine.folder.iterdir())) == 3  # free segments are reused
        np.testing.assert_array_equal(shm_engine.fake.calls[0].kwargs["style"], ["preset:wave"])
    assert list(shm_engine.folder.iterdir()) == []  # close() removes the client's files
    np.testing.assert_array_equal(as_array(again.image), invert(first))  # and results stay readable


@pytest.mark.skipif(os.name != "posix", reason="shared memory is POSIX only")
def test_when_the_engine_cannot_map_the_segment_the_client_sends_pixels_inline(shm_engine, tmp_path):
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir(mode=0o700)
    content, image = big_rgba(3)
    with EngineClient(shm_engine.endpoint) as client:
        client.ping()
        client._pong["shm_dir"] = str(elsewhere)  # as for a client reaching the engine through a tunnel
        result = client.stylize(image, [{"preset": "wave"}])
        np.testing.assert_array_equal(as_array(result.image), invert(content))
        assert isinstance(result.image.data.obj, zmq.Frame)  # it came inline
        result = client.stylize(image, [{"preset": "wave"}])  # and stays inline without asking again
        assert isinstance(result.image.data.obj, zmq.Frame)
    assert list(shm_engine.folder.iterdir()) == []


@pytest.mark.skipif(os.name != "posix", reason="shared memory is POSIX only")
@pytest.mark.parametrize("name, make", [
    ("../engine", None),
    ("a.b", None),
    ("missing", None),
    ("link", lambda folder: (folder / "link").symlink_to(folder / "real")),
    ("small", lambda folder: (folder / "small").write_bytes(b"\0" * 10)),
    ("dir", lambda folder: (folder / "dir").mkdir()),
])
def test_the_engine_refuses_segments_it_must_not_map(shm_engine, name, make):
    from server_fixtures import RawClient
    from engine.client.protocol import Frame

    (shm_engine.folder / "real").write_bytes(b"\0" * 48)
    if make:
        make(shm_engine.folder)
    with RawClient(shm_engine.endpoint) as raw:
        raw.send("stylize", "j", {"styles": [{"preset": "wave"}]}, [Frame("content", (4, 4, 3), "uint8", None, name)])
        reply = raw.receive()
    assert reply.type == "error" and reply.header["code"] == "shm_unavailable" and reply.id == "j"


@pytest.mark.parametrize(
    "environ, platform, expected",
    [
        ({}, "linux", "glibc.malloc.hugetlb=1"),
        ({"GLIBC_TUNABLES": "glibc.malloc.arena_max=2"}, "linux", "glibc.malloc.arena_max=2:glibc.malloc.hugetlb=1"),
        ({"GLIBC_TUNABLES": "glibc.malloc.hugetlb=0"}, "linux", "glibc.malloc.hugetlb=0"),  # the user's choice wins
        ({"RESTYLE_MALLOC": "system"}, "linux", None),
        ({}, "darwin", None),
        ({}, "win32", None),
    ],
)
def test_a_started_engine_gets_a_huge_page_heap_on_linux_only(environ, platform, expected):
    from engine.client.engine_client import engine_environment

    env = engine_environment({"PATH": "/bin", **environ}, platform)
    assert env.get("GLIBC_TUNABLES") == expected
    assert env["PATH"] == "/bin"


def test_regions_are_refused_before_sending_when_the_engine_does_not_list_them(tmp_path, monkeypatch):
    import engine.server.router

    monkeypatch.setattr(engine.server.router, "FEATURES", ())  # an engine from before regions
    fake = FakeStylizer(steps=1)
    with running_server(tmp_path, fake) as server:
        with EngineClient(server.endpoint, timeout_s=5) as client:
            assert client.ping()["features"] == []
            with pytest.raises(EngineError) as info:
                client.stylize(Image(4, 4, 3, "uint8", bytes(48)), regions=[{"styles": [{"preset": "wave"}]}])
    assert info.value.code == "unsupported" and "update restyle" in info.value.hint
    assert fake.calls == []  # nothing was sent


@pytest.mark.parametrize("options, feature", [
    ({"detail": 0.5}, "detail"),
    ({"style_scale": "auto"}, "style_scale_auto"),
    ({"style_scale": 2.0, "canvas_size": [4000, 3000]}, "style_scale_auto"),
])
def test_detail_and_auto_scale_are_refused_before_sending_when_the_engine_does_not_list_them(tmp_path, monkeypatch,
                                                                                                options, feature):
    import engine.server.router

    monkeypatch.setattr(engine.server.router, "FEATURES", ("regions",))  # an engine from before detail and auto
    fake = FakeStylizer(steps=1)
    with running_server(tmp_path, fake) as server:
        with EngineClient(server.endpoint, timeout_s=5) as client:
            with pytest.raises(EngineError) as info:
                client.stylize(Image(4, 4, 3, "uint8", bytes(48)), [{"preset": "wave"}], options=options)
            assert feature in info.value.message
            client.stylize(Image(4, 4, 3, "uint8", bytes(48)), [{"preset": "wave"}], options={"style_scale": 2.0})
    assert info.value.code == "unsupported" and len(fake.calls) == 1  # only the request it understands was sent


def test_a_send_that_cannot_go_out_ends_as_engine_not_running_instead_of_hanging(monkeypatch):
    """A peer that refuses the handshake can leave the socket with no pipe: sends wait at most the timeout."""
    with EngineClient("tcp://127.0.0.1:9", timeout_s=1.5) as client:
        sock = client._connection()
        assert sock.getsockopt(zmq.SNDTIMEO) == 1500

        def blocked(*args, **kwargs):
            raise zmq.Again()

        monkeypatch.setattr(sock, "send_multipart", blocked)
        with pytest.raises(EngineNotRunning, match="took no message for 1.5 s"):
            client.ping(timeout_s=1.5)
        assert client._socket is None  # dropped: the next call starts on a fresh socket
