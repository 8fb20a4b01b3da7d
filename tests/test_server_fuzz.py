"""Fuzzing the engine: whatever arrives, each message gets one reply, and the engine keeps serving."""
from __future__ import annotations

import json
import random
import time
from typing import List, Optional, Tuple

import pytest

from engine.client.protocol import PROTOCOL
from server_fixtures import RawClient, rss_bytes, server_process

DTYPES = ("uint8", "uint16", "float16", "float32")
ITEMSIZE = {"uint8": 1, "uint16": 2, "float16": 2, "float32": 4}
WEIRD = [float("nan"), float("inf"), -float("inf"), 1e308, -1e308, 10 ** 30, -1, 0, "x" * 300, "", [], {}, True,
         None, [1, [2, [3]]], {"a": {"b": 1}}]


def frame(rng: random.Random, name: str, shape: List[int], dtype: str) -> Tuple[dict, bytes]:
    size = ITEMSIZE[dtype]
    for side in shape:
        size *= side
    return {"name": name, "shape": shape, "dtype": dtype}, rng.randbytes(size)


def valid_message(rng: random.Random, msg_id: str) -> Tuple[dict, List[bytes]]:
    """A well-formed request of a random type."""
    kind = rng.choice(["ping", "status", "heartbeat", "styles", "cancel", "stylize", "stylize"])
    header = {"protocol": PROTOCOL, "id": msg_id, "type": kind, "frames": []}
    data: List[bytes] = []
    if kind == "styles":
        header["thumbnail_size"] = rng.randint(16, 64)
    elif kind == "cancel":
        header["job"] = f"fz{rng.randint(0, 100)}"
    elif kind == "stylize":
        h, w = rng.randint(1, 24), rng.randint(1, 24)
        spec, pixels = frame(rng, "content", [h, w, rng.choice([3, 4])], rng.choice(DTYPES))
        header["frames"].append(spec)
        data.append(pixels)
        if rng.random() < 0.5:
            spec, pixels = frame(rng, "mask", [h, w, 1], rng.choice(["uint8", "float32"]))
            header["frames"].append(spec)
            data.append(pixels)
        styles = [{"preset": rng.choice(["wave", "mosaic"]), "weight": rng.random()}]
        if rng.random() < 0.5:
            spec, pixels = frame(rng, "s0", [rng.randint(1, 16), rng.randint(1, 16), 3], "uint8")
            header["frames"].append(spec)
            data.append(pixels)
            styles.append({"image": "s0", "weight": 1.0})
        header["styles"] = styles
        header["options"] = {"strength": rng.random(), "style_scale": 1.0, "feather": 2.0,
                             "preserve_colors": rng.choice([False, True, "histogram"])}
    return header, data


def mutate(rng: random.Random, header: dict, data: List[bytes]) -> List[bytes]:
    """The message broken in one random way (or, rarely, left valid)."""
    how = rng.randrange(19)
    if how == 0:
        return [rng.randbytes(rng.randint(0, 200))] + data
    if how == 1:
        text = json.dumps(header).encode()
        return [text[: rng.randint(0, len(text) - 1)]] + data
    if how == 2:
        return [json.dumps(rng.choice([[1, 2], "text", 42, None, 1.5])).encode()] + data
    if how == 3:
        target = header.setdefault("options", {}) if rng.random() < 0.7 else header
        target[rng.choice(["strength", "style_scale", "feather", "eta", "thumbnail_size"])] = rng.choice(WEIRD)
    elif how == 4:
        for entry in header.get("styles", [{}]):
            entry["weight"] = rng.choice(WEIRD)
        header["thumbnail_size"] = rng.choice(WEIRD)
        header["job"] = rng.choice(WEIRD)
    elif how == 5:
        header["type"] = rng.choice(["pong", "result", "format", "", 7, None, "x" * 500])
    elif how == 6:
        header["protocol"] = rng.choice([0, 2, "1", None, True, 1.5, -1])
    elif how == 7:
        header["id"] = rng.choice([None, 5, "", "x" * 200, ["a"]]) if rng.random() < 0.8 else header.pop("id")
    elif how == 8 and data:
        i = rng.randrange(len(data))
        data[i] = data[i][: rng.randint(0, max(0, len(data[i]) - 1))]
    elif how == 9 and data:
        i = rng.randrange(len(data))
        data[i] = data[i] + rng.randbytes(rng.randint(1, 5000))
    elif how == 10 and header["frames"]:
        rng.choice(header["frames"])["dtype"] = rng.choice(["float64", "int8", "", None, 3, "uint32"])
    elif how == 11 and header["frames"]:
        rng.choice(header["frames"])["shape"] = rng.choice(
            [[-1, 2, 3], [0, 1, 3], [1.5, 2, 3], ["1", 2, 3], [1, 1, 1, 1, 1], [2 ** 40, 1, 3], [9000, 1, 3], 7])
    elif how == 12:
        data.append(rng.randbytes(rng.randint(0, 100)))
    elif how == 13 and data:
        data.pop(rng.randrange(len(data)))
    elif how == 14:
        header.pop(rng.choice(["styles", "options", "frames", "type", "protocol"]), None)
    elif how == 15:
        depth = rng.choice([5, 5000, 40000])
        return [json.dumps(header)[:-1].encode() + b', "deep": ' + b"[" * depth + b"]" * depth + b"}"] + data
    elif how == 16:
        header["frames"] = rng.choice([{"name": "content"}, "frames", [None], [[1, 2]], list(range(40))])
    elif how == 17 and header["frames"]:
        rng.choice(header["frames"])["shm"] = rng.choice(["../engine.json", "engine", "x" * 100, 5, None, "s1-abc"])
    # how == 18 and the cases with nothing to break: left valid
    return [json.dumps(header).encode()] + data


def first_reply(raw: RawClient, msg_id: Optional[str]):
    """The first reply to the message just sent: one with its id, or an error with a null id."""
    while True:
        msg = raw.receive(timeout_s=10)
        if msg.id == msg_id or (msg.id is None and msg.type == "error"):
            return msg


def fuzz(raw: RawClient, rng: random.Random, start: int, count: int) -> dict:
    """Send ``count`` fuzzed messages one at a time; count the replies by type."""
    replies: dict = {}
    for i in range(start, start + count):
        header, data = valid_message(rng, f"fz{i}")
        parts = mutate(rng, header, data)
        raw.send_parts(parts)
        try:
            sent = json.loads(parts[0])
            msg_id = sent.get("id") if isinstance(sent, dict) else None
        except (ValueError, RecursionError):
            msg_id = None
        reply = first_reply(raw, msg_id if isinstance(msg_id, str) and 0 < len(msg_id) <= 128 else None)
        if reply.type == "error":
            assert all(isinstance(reply.header[k], str) and reply.header[k] for k in ("code", "message", "hint"))
        replies[reply.type] = replies.get(reply.type, 0) + 1
    return replies


def run_fuzz(tmp_path, count: int) -> None:
    endpoint = f"ipc://{tmp_path}/fuzz.sock"
    shm = tmp_path / "shm"
    shm.mkdir(mode=0o700)
    (shm / "s1-abc").write_bytes(bytes(4096))  # a real segment, so that some shared-memory frames map
    with server_process(tmp_path, "--endpoint", endpoint, "--steps", "1", "--max-queue", "64",
                        "--shared-memory", str(shm)) as proc:
        with RawClient(endpoint) as raw:
            rng = random.Random(1234)
            warmup = min(1000, count // 5)
            replies = fuzz(raw, rng, 0, warmup)
            rss_before = rss_bytes(proc.pid)
            for kind, n in fuzz(raw, rng, warmup, count - warmup).items():
                replies[kind] = replies.get(kind, 0) + n
            rss_after = rss_bytes(proc.pid)
            assert sum(replies.values()) == count
            assert replies["error"] > count * 0.6, replies  # most mutations break the message
            deadline = time.monotonic() + 10
            while True:
                raw.send("status", "final")
                status = raw.until("final", ("status",)).pop().header
                if status["running"] == status["queue"] == 0 or time.monotonic() > deadline:
                    break
                time.sleep(0.1)
            assert (status["running"], status["queue"], status["clients"]) == (0, 0, 0)
            raw.send("ping", "still-there")
            assert raw.until("still-there", ("pong",))[-1].type == "pong"
        assert proc.poll() is None
    assert rss_after - rss_before < 40 << 20, f"engine memory grew by {(rss_after - rss_before) >> 20} MiB"
    log = (tmp_path / "engine.stderr").read_text()
    assert log.count("refused a ") == replies["error"]  # every refusal is answered and logged
    assert "Traceback" not in log


def test_fuzzed_messages_each_get_a_reply_and_the_engine_survives(tmp_path):
    run_fuzz(tmp_path, 400)


@pytest.mark.slow
def test_ten_thousand_fuzzed_messages_leave_the_engine_serving_with_bounded_memory(tmp_path):
    run_fuzz(tmp_path, 10_000)
