"""The engine server against a fake stylizer: every message type, jobs, cancel, limits, security, shutdown."""
from __future__ import annotations

import json
import os
import subprocess
import sys
import threading
import time

import numpy as np
import pytest
import zmq

from engine import __version__
from engine.client import EngineClient, EngineNotRunning, Image
from engine.client.keys import generate_keys, load_server_keys
from engine.client.protocol import PROTOCOL
from engine.errors import BadInput
from engine.server.router import Server, ServerConfig, check_bind, is_loopback
from engine.server.stylize_request import Limits, frame_array
from server_fixtures import (
    MARGINS,
    PRESETS,
    FakeStylizer,
    RawClient,
    image_frame,
    invert,
    running_server,
    server_process,
    stylize_fields,
)


def pixels(shape, dtype, seed=0):
    rng = np.random.default_rng(seed)
    if np.dtype(dtype).kind == "u":
        return rng.integers(0, np.iinfo(dtype).max, size=shape, dtype=dtype)
    return rng.random(shape).astype(dtype)


def wait_until(condition, timeout_s=10.0, what="condition"):
    deadline = time.monotonic() + timeout_s
    while not condition():
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out waiting for {what}")
        time.sleep(0.02)


@pytest.fixture
def raw(tmp_path):
    with running_server(tmp_path) as server:
        client = RawClient(server.endpoint)
        yield client
        client.close()


def test_ping_answers_pong_with_what_plugins_need(raw):
    raw.send("ping", "p1")
    pong = raw.receive()
    assert (pong.type, pong.id, pong.header["protocol"]) == ("pong", "p1", PROTOCOL)
    assert pong.header["engine_version"] == __version__ and pong.header["device"] == "cpu"
    assert pong.header["context_margin"] == MARGINS["arbitrary"]
    assert pong.header["context_margins"] == MARGINS
    assert pong.header["queue"] == 0 and pong.header["max_pixels"] == Limits().max_pixels
    assert pong.header["max_side"] == Limits().max_side and pong.header["curve"] is False
    assert {"regions", "detail", "style_scale_auto"} <= set(pong.header["features"])
    assert pong.header["style_scale_range"] == [0.25, 8.0] and pong.header["style_scale_auto_side"] == 1024


def test_styles_lists_presets_with_thumbnails(raw):
    raw.send("styles", "s1", {"thumbnail_size": 32})
    reply = raw.receive()
    assert [s["name"] for s in reply.header["styles"]] == list(PRESETS)
    assert [s["label"] for s in reply.header["styles"]] == [p.title() for p in PRESETS]
    for i, entry in enumerate(reply.header["styles"]):
        thumb = frame_array(reply.frames[entry["thumbnail"]])
        assert thumb.shape == (32, 32, 3) and (thumb == i * 40).all()


@pytest.mark.parametrize("dtype", ["uint8", "uint16", "float16", "float32"])
@pytest.mark.parametrize("channels", [3, 4])
def test_stylize_answers_accepted_progress_and_the_result_in_the_request_dtype(raw, dtype, channels):
    content = pixels((5, 9, channels), dtype)
    raw.send("stylize", "j1", stylize_fields(), [image_frame("content", content)])
    replies = raw.until("j1")
    assert [m.type for m in replies][0] == "accepted" and replies[0].header["position"] == 0
    progress = [m.header for m in replies if m.type == "progress"]
    assert progress[-1]["done"] == progress[-1]["total"] == 3 and progress[-1]["stage"] == "stylize"
    result = replies[-1]
    assert result.type == "result" and result.header["elapsed_s"] >= 0
    image = result.frames["image"]
    assert image.shape == content.shape and image.dtype == dtype
    np.testing.assert_array_equal(frame_array(image), invert(content))


def test_the_mask_reaches_the_stylizer_and_pixels_outside_it_are_unchanged(tmp_path):
    fake = FakeStylizer()
    with running_server(tmp_path, fake) as server:
        raw = RawClient(server.endpoint)
        content = pixels((6, 8, 4), "uint8")
        mask = np.zeros((6, 8, 1), np.uint8)
        mask[2:4, 3:6] = 255
        raw.send("stylize", "j", stylize_fields(feather=0), [image_frame("content", content),
                                                              image_frame("mask", mask)])
        out = frame_array(raw.until("j")[-1].frames["image"])
        raw.close()
    inside = mask[..., 0] > 0
    np.testing.assert_array_equal(out[~inside], content[~inside])
    np.testing.assert_array_equal(out[inside], invert(content)[inside])
    np.testing.assert_array_equal(fake.calls[0].kwargs["mask"], mask[..., 0] / 255.0)


def test_style_images_arrive_as_rgb_arrays_and_presets_as_names(tmp_path):
    fake = FakeStylizer()
    style = pixels((10, 12, 4), "uint8", seed=3)
    with running_server(tmp_path, fake) as server:
        raw = RawClient(server.endpoint)
        raw.send("stylize", "j", {"styles": [{"image": "s", "weight": 3}, {"preset": "udnie", "weight": 1}],
                                  "options": {"strength": 0.25, "method": "preset", "iterations": 7}},
                 [image_frame("content", pixels((4, 4, 3), "uint8")), image_frame("s", style)])
        assert raw.until("j")[-1].type == "result"
        raw.close()
    kwargs = fake.calls[0].kwargs
    np.testing.assert_array_equal(kwargs["style"][0], style[..., :3])
    assert kwargs["style"][1] == "preset:udnie" and kwargs["weights"] == [3.0, 1.0]
    assert kwargs["strength"] == 0.25 and kwargs["method"] == "preset" and kwargs["options"] == {"iterations": 7}


def test_previews_are_sent_as_small_images(tmp_path):
    with running_server(tmp_path, FakeStylizer(preview=True)) as server:
        raw = RawClient(server.endpoint)
        raw.send("stylize", "j", stylize_fields(), [image_frame("content", pixels((4, 4, 3), "uint8"))])
        previews = [m for m in raw.until("j") if m.type == "preview"]
        raw.close()
    assert previews and frame_array(previews[0].frames["image"]).shape == (4, 4, 3)


def test_status_and_heartbeat_list_the_clients_own_jobs(tmp_path):
    with running_server(tmp_path, FakeStylizer(steps=200, step_s=0.02), progress_interval_s=0) as server:
        raw, other = RawClient(server.endpoint), RawClient(server.endpoint)
        raw.send("stylize", "mine", stylize_fields(), [image_frame("content", pixels((4, 4, 3), "uint8"))])
        raw.until("mine", ("progress",))
        raw.send("status", "st")
        status = raw.until("st", ("status",))[-1].header
        assert status["running"] == 1 and status["queue"] == 0 and status["clients"] == 1
        assert status["jobs"][0]["job"] == "mine" and status["jobs"][0]["state"] == "running"
        raw.send("heartbeat", "hb")
        assert raw.until("hb", ("heartbeat",))[-1].header["jobs"][0]["job"] == "mine"
        other.send("heartbeat", "hb2")
        assert other.until("hb2", ("heartbeat",))[-1].header["jobs"] == []
        raw.send("cancel", "c", {"job": "mine"})
        assert raw.until("mine")[-1].header["code"] == "cancelled"
        raw.close()
        other.close()


def test_a_stylizer_error_is_forwarded_and_the_engine_keeps_serving(raw):
    raw.send("stylize", "bad", stylize_fields(preset="nope"), [image_frame("content", pixels((4, 4, 3), "uint8"))])
    error = raw.until("bad")[-1]
    assert error.type == "error" and error.header["code"] == "bad_input" and "nope" in error.header["message"]
    raw.send("stylize", "boom", stylize_fields(explode=True), [image_frame("content", pixels((4, 4, 3), "uint8"))])
    error = raw.until("boom")[-1]
    assert error.header["code"] == "internal" and "exploded" in error.header["message"]
    raw.send("stylize", "ok", stylize_fields(), [image_frame("content", pixels((4, 4, 3), "uint8"))])
    assert raw.until("ok")[-1].type == "result"


def test_a_request_beyond_the_limits_is_refused_as_too_large(tmp_path):
    with running_server(tmp_path, limits=Limits(max_side=16, max_pixels=200)) as server:
        raw = RawClient(server.endpoint)
        raw.send("stylize", "big", stylize_fields(), [image_frame("content", pixels((15, 15, 3), "uint8"))])
        error = raw.receive()
        raw.close()
    assert (error.id, error.type, error.header["code"]) == ("big", "error", "too_large")


def test_a_frame_over_the_message_size_limit_drops_only_that_connection(tmp_path):
    limits = Limits(max_side=16, max_pixels=16)  # frames of at most 256 bytes
    with running_server(tmp_path, limits=limits) as server:
        raw = RawClient(server.endpoint)
        raw.send_parts([b"{}", b"\0" * 100_000])
        healthy = RawClient(server.endpoint)
        healthy.send("ping", "p")
        assert healthy.receive().type == "pong"
        healthy.close()
        raw.close()


def test_a_full_queue_answers_busy(tmp_path):
    with running_server(tmp_path, FakeStylizer(steps=500, step_s=0.02), max_queue=1, progress_interval_s=0) as server:
        raw = RawClient(server.endpoint)
        content = [image_frame("content", pixels((4, 4, 3), "uint8"))]
        raw.send("stylize", "running", stylize_fields(), content)
        raw.until("running", ("progress",))
        raw.send("stylize", "waiting", stylize_fields(), content)
        assert raw.until("waiting", ("accepted",))[-1].header["position"] == 0
        raw.send("stylize", "refused", stylize_fields(), content)
        busy = raw.until("refused", ("error",))[-1]
        assert busy.header["code"] == "busy" and busy.header["hint"]
        raw.close()


def test_resending_a_job_id_does_not_queue_it_twice(tmp_path):
    fake = FakeStylizer(steps=100, step_s=0.02)
    with running_server(tmp_path, fake, progress_interval_s=0) as server:
        raw = RawClient(server.endpoint)
        content = [image_frame("content", pixels((4, 4, 3), "uint8"))]
        raw.send("stylize", "j", stylize_fields(), content)
        raw.send("stylize", "j", stylize_fields(), content)
        replies = raw.until("j", ("result", "error"))
        raw.close()
    assert [m.type for m in replies].count("accepted") == 2 and replies[-1].type == "result"
    assert len(fake.calls) == 1


def test_cancel_frees_the_worker_within_one_step_and_the_next_job_runs(tmp_path):
    fake = FakeStylizer(steps=10_000, step_s=0.25)  # a job that would run for 40 minutes
    with running_server(tmp_path, fake, progress_interval_s=0) as server:
        raw = RawClient(server.endpoint)
        raw.send("stylize", "long", stylize_fields(), [image_frame("content", np.full((4, 4, 3), 1, np.uint8))])
        raw.until("long", ("progress",))
        raw.send("stylize", "next", stylize_fields(), [image_frame("content", np.full((4, 4, 3), 2, np.uint8))])
        assert raw.until("next", ("accepted",))[-1].header["position"] == 0
        steps_at_cancel = fake.calls[0].steps
        raw.send("cancel", "c1", {"job": "long"})
        ack = raw.until("c1", ("cancelling",))[-1]
        assert ack.header == dict(ack.header, job="long", found=True)
        assert raw.until("long")[-1].header["code"] == "cancelled"
        fake.step_s = 0.0
        assert raw.until("next")[-1].type == "result"
        raw.close()
    long_call, next_call = fake.calls
    assert long_call.outcome == "cancelled" and long_call.steps <= steps_at_cancel + 2
    assert next_call.outcome == "done"


def test_cancelling_a_waiting_job_answers_for_it_at_once(tmp_path):
    fake = FakeStylizer(steps=500, step_s=0.02)
    with running_server(tmp_path, fake, progress_interval_s=0) as server:
        raw = RawClient(server.endpoint)
        content = [image_frame("content", pixels((4, 4, 3), "uint8"))]
        raw.send("stylize", "running", stylize_fields(), content)
        raw.until("running", ("progress",))
        raw.send("stylize", "waiting", stylize_fields(), content)
        raw.until("waiting", ("accepted",))
        raw.send("cancel", "c", {"job": "waiting"})
        assert raw.until("waiting")[-1].header["code"] == "cancelled"
        raw.send("cancel", "c2", {"job": "never-sent"})
        assert raw.until("c2", ("cancelling",))[-1].header["found"] is False
        raw.send("cancel", "c3", {"job": "running"})
        assert raw.until("running")[-1].header["code"] == "cancelled"
        raw.close()
    assert len(fake.calls) == 1


def test_a_client_cannot_cancel_another_clients_job(tmp_path):
    with running_server(tmp_path, FakeStylizer(steps=20, step_s=0.02), progress_interval_s=0) as server:
        owner, intruder = RawClient(server.endpoint), RawClient(server.endpoint)
        owner.send("stylize", "j", stylize_fields(), [image_frame("content", pixels((4, 4, 3), "uint8"))])
        owner.until("j", ("accepted",))
        intruder.send("cancel", "c", {"job": "j"})
        assert intruder.until("c", ("cancelling",))[-1].header["found"] is False
        assert owner.until("j")[-1].type == "result"
        owner.close()
        intruder.close()


def test_eight_clients_with_five_jobs_each_get_their_own_results(tmp_path):
    with running_server(tmp_path, FakeStylizer(steps=2, step_s=0.005), workers=2) as server:
        failures = []

        def client_jobs(n):
            with EngineClient(server.endpoint, timeout_s=30) as client:
                for j in range(5):
                    content = pixels((16 + n, 8 + j, 4), "uint16", seed=n * 10 + j)
                    image = Image(content.shape[1], content.shape[0], 4, "uint16", content.tobytes())
                    result = client.stylize(image, [{"preset": "wave"}])
                    got = np.frombuffer(result.image.data, np.uint16).reshape(content.shape)
                    if not np.array_equal(got, invert(content)):
                        failures.append((n, j))

        threads = [threading.Thread(target=client_jobs, args=(n,)) for n in range(8)]
        for t in threads:
            t.start()
        for t in threads:
            t.join(120)
        assert not any(t.is_alive() for t in threads)
        assert failures == []
        assert server.queue.waiting == 0 and server.queue.running == 0


CLIENT_SCRIPT = """
import sys, time
sys.path.insert(0, {root!r})
from engine.client import EngineClient, Image
client = EngineClient({endpoint!r}, timeout_s=60)
client.stylize(Image(4, 4, 3, "uint8", bytes(48)), [{{"preset": "wave"}}],
               on_progress=lambda p: print(p["stage"], flush=True))
"""


def test_a_client_killed_mid_job_leaves_no_job_behind(tmp_path):
    fake = FakeStylizer(steps=10_000, step_s=0.05)
    with running_server(tmp_path, fake, progress_interval_s=0) as server:
        root = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
        script = CLIENT_SCRIPT.format(root=root, endpoint=server.endpoint)
        child = subprocess.Popen([sys.executable, "-c", script], stdout=subprocess.PIPE, text=True)
        assert child.stdout.readline().strip() == "queued"
        wait_until(lambda: fake.calls and fake.calls[0].steps > 0, what="the job to start")
        child.kill()
        child.wait(10)
        child.stdout.close()
        wait_until(lambda: server.queue.running == 0 and server.queue.waiting == 0, what="the job to be dropped")
        assert fake.calls[0].outcome == "cancelled"
        fake.step_s = 0.0
        with EngineClient(server.endpoint, timeout_s=10) as client:
            assert client.stylize(Image(2, 2, 3, "uint8", bytes(12)), [{"preset": "wave"}]).image.width == 2
            assert client.status()["clients"] == 0


def test_a_silent_client_gets_its_jobs_cancelled_after_the_client_timeout(tmp_path):
    fake = FakeStylizer(steps=10_000, step_s=0.02)
    with running_server(tmp_path, fake, client_timeout_s=0.5) as server:
        raw = RawClient(server.endpoint)  # connected, but it never sends a heartbeat
        raw.send("stylize", "j", stylize_fields(), [image_frame("content", pixels((4, 4, 3), "uint8"))])
        wait_until(lambda: fake.calls and fake.calls[0].outcome == "cancelled", what="the job to be cancelled")
        wait_until(lambda: server.queue.running == 0, what="the worker to be free")
        raw.send("heartbeat", "hb")
        assert raw.until("hb", ("heartbeat",))[-1].header["jobs"] == []
        raw.close()


def test_the_discovery_file_is_written_while_serving_and_removed_after(tmp_path):
    discovery = tmp_path / "engine.json"
    with running_server(tmp_path, discovery_file=discovery) as server:
        info = json.loads(discovery.read_text())
        assert info["endpoint"] == server.endpoint and info["pid"] == os.getpid()
        assert info["protocol"] == PROTOCOL and info["engine_version"] == __version__
        assert info["curve_public_key"] is None
        assert oct(discovery.stat().st_mode & 0o777) == oct(0o600)
    assert not discovery.exists()


def test_stopping_the_engine_tells_clients_of_their_pending_jobs(tmp_path):
    with running_server(tmp_path, FakeStylizer(steps=10_000, step_s=0.02), progress_interval_s=0) as server:
        raw = RawClient(server.endpoint)
        content = [image_frame("content", pixels((4, 4, 3), "uint8"))]
        raw.send("stylize", "running", stylize_fields(), content)
        raw.until("running", ("progress",))
        raw.send("stylize", "waiting", stylize_fields(), content)
        raw.until("waiting", ("accepted",))
        server.stop()
        codes = {raw.until(job)[-1].header["code"] for job in ("running", "waiting")}
        raw.close()
    assert codes == {"shutting_down"}


@pytest.mark.parametrize("endpoint, loopback", [
    ("tcp://127.0.0.1:5555", True), ("tcp://127.0.0.2:5555", True), ("tcp://localhost:5555", True),
    ("tcp://[::1]:5555", True), ("ipc:///tmp/x.sock", True), ("inproc://x", True),
    ("tcp://0.0.0.0:5555", False), ("tcp://*:5555", False), ("tcp://192.168.1.4:5555", False),
    ("tcp://eth0:5555", False), ("tcp://[::]:5555", False), ("ws://127.0.0.1:5555", False),
])
def test_only_loopback_endpoints_count_as_local(endpoint, loopback):
    assert is_loopback(endpoint) is loopback


def test_binding_beyond_loopback_needs_curve():
    with pytest.raises(BadInput, match="without CURVE"):
        check_bind("tcp://0.0.0.0:5555", curve=False)
    check_bind("tcp://0.0.0.0:5555", curve=True)
    with pytest.raises(BadInput, match="without CURVE"):
        Server(ServerConfig(endpoint="tcp://*:5555"), FakeStylizer)


def test_with_curve_only_clients_holding_the_server_key_are_served(tmp_path):
    public_path, secret_path = generate_keys(tmp_path / "keys")
    keys = load_server_keys(secret_path)
    with running_server(tmp_path, endpoint="tcp://127.0.0.1:*", curve_keys=keys) as server:
        with EngineClient(server.endpoint, timeout_s=5, server_public_key=str(public_path)) as trusted:
            assert trusted.ping(timeout_s=5)["curve"] is True
        with EngineClient(server.endpoint, timeout_s=1) as plain:
            with pytest.raises(EngineNotRunning):
                plain.ping(timeout_s=1)
        wrong_key = zmq.curve_keypair()[0]
        with EngineClient(server.endpoint, timeout_s=1, server_public_key=wrong_key) as impostor:
            with pytest.raises(EngineNotRunning):
                impostor.ping(timeout_s=1)


def test_an_engine_process_answers_ping_over_tcp(tmp_path):
    with server_process(tmp_path, "--endpoint", "tcp://127.0.0.1:*") as proc:
        info = json.loads((tmp_path / "engine.json").read_text())
        assert info["pid"] == proc.pid and info["endpoint"].startswith("tcp://127.0.0.1:")
        with EngineClient(info["endpoint"], timeout_s=5) as client:
            assert client.ping()["pid"] == proc.pid


def serve_args(*argv):
    import argparse

    from engine.server.serve import add_commands

    parser = argparse.ArgumentParser(prog="restyle")
    add_commands(parser.add_subparsers())
    return parser.parse_args(list(argv))


def test_serve_refuses_a_non_loopback_bind_without_curve_with_exit_2(tmp_path, capsys):
    args = serve_args("serve", "--endpoint", "tcp://0.0.0.0:5555", "--discovery-file", str(tmp_path / "e.json"))
    assert args.func(args) == 2
    err = capsys.readouterr().err.strip()
    assert err.count("\n") == 0 and "without CURVE" in err and "restyle keys generate" in err
    assert not (tmp_path / "e.json").exists()


def test_serve_refuses_a_missing_curve_key_file_with_exit_2(tmp_path, capsys):
    args = serve_args("serve", "--endpoint", "tcp://0.0.0.0:5555", "--curve", str(tmp_path / "nope.key_secret"),
                      "--discovery-file", str(tmp_path / "e.json"))
    assert args.func(args) == 2
    assert "restyle keys generate" in capsys.readouterr().err


def test_serve_refuses_to_start_beside_a_running_engine(tmp_path, capsys):
    discovery = tmp_path / "engine.json"
    with running_server(tmp_path, discovery_file=discovery) as server:
        args = serve_args("serve", "--discovery-file", str(discovery))
        assert args.func(args) == 2
        assert "already running" in capsys.readouterr().err
        assert json.loads(discovery.read_text())["endpoint"] == server.endpoint


def test_keys_generate_writes_a_key_pair_once(tmp_path, capsys):
    args = serve_args("keys", "generate", "--dir", str(tmp_path / "keys"))
    assert args.func(args) == 0
    public = load_server_keys(tmp_path / "keys" / "server.key_secret")[0].decode()
    assert f"public key: {public}" in capsys.readouterr().out
    assert oct((tmp_path / "keys" / "server.key_secret").stat().st_mode & 0o777) == oct(0o600)
    assert args.func(args) == 2
    assert "already exist" in capsys.readouterr().err
    assert load_server_keys(tmp_path / "keys" / "server.key_secret")[0].decode() == public  # not overwritten


def test_the_real_engine_stylizes_a_masked_preset_job_end_to_end(tmp_path):
    import torch

    from engine.stylizer import Stylizer

    torch.set_num_threads(1)
    content = pixels((48, 64, 4), "uint16", seed=5)
    mask = np.zeros((48, 64), np.uint8)
    mask[10:40, 16:50] = 255
    with running_server(tmp_path, Stylizer(device="cpu", threads=1)) as server:
        with EngineClient(server.endpoint, timeout_s=60) as client:
            pong = client.ping()
            preset = client.styles(thumbnail_size=16)[1]
            result = client.stylize(Image(64, 48, 4, "uint16", content.tobytes()), [{"preset": preset["name"]}],
                                    mask=Image(64, 48, 1, "uint8", mask.tobytes()),
                                    options={"method": "preset", "strength": 1.0})
    assert pong["device"] == "cpu" and pong["context_margins"]["preset"] > 0
    assert (preset["thumbnail"].width, preset["thumbnail"].channels) == (16, 3)
    out = np.frombuffer(result.image.data, np.uint16).reshape(content.shape)
    outside = mask == 0
    np.testing.assert_array_equal(out[outside], content[outside])
    np.testing.assert_array_equal(out[..., 3], content[..., 3])
    assert (out[~outside][:, :3] != content[~outside][:, :3]).mean() > 0.9


def test_the_real_engine_gives_each_region_its_own_style(tmp_path):
    import torch

    from engine.stylizer import Region, Stylizer

    torch.set_num_threads(1)
    content = pixels((48, 64, 3), "uint8", seed=7)
    left, right = np.zeros((48, 64), np.uint8), np.zeros((48, 64), np.uint8)
    left[:, :24] = 255
    right[:, 40:] = 255
    style = pixels((32, 32, 3), "uint8", seed=8)
    stylizer = Stylizer(device="cpu", threads=1)
    with running_server(tmp_path, stylizer) as server:
        with EngineClient(server.endpoint, timeout_s=60) as client:
            result = client.stylize(
                Image(64, 48, 3, "uint8", content.tobytes()),
                regions=[
                    {"mask": Image(64, 48, 1, "uint8", left.tobytes()), "styles": [{"preset": "frost"}]},
                    {"mask": Image(64, 48, 1, "uint8", right.tobytes()), "styles": [{"image": Image(32, 32, 3, "uint8", style.tobytes())}],
                     "strength": 0.5},
                ],
            )
    out = np.frombuffer(result.image.data, np.uint8).reshape(content.shape)
    np.testing.assert_array_equal(out[:, 24:40], content[:, 24:40])  # outside both regions: untouched
    # The same pixels as the API's multi-region call (a preset region beside a style-image one).
    expected = stylizer.stylize(content, regions=[Region(left / 255.0, "preset:frost"), Region(right / 255.0, style, strength=0.5)])
    np.testing.assert_array_equal(out, expected)
    assert np.abs(out[:, :24].astype(int) - content[:, :24]).mean() > 5
