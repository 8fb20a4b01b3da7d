"""Test doubles for the engine server: a fake stylizer, in-thread and subprocess servers, raw sockets.

Run as a script it serves the fake stylizer, for tests that kill the engine or measure its memory:
``python tests/server_fixtures.py --endpoint ipc://... --discovery-file ...``.
"""
from __future__ import annotations

import argparse
import contextlib
import logging
import subprocess
import sys
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Dict, Iterator, List, Optional

import numpy as np
import zmq

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from engine.errors import BadInput  # noqa: E402
from engine.progress import ProgressMeter  # noqa: E402
from engine.client.protocol import ENGINE_TYPES, Frame, Message, deserialize, serialize  # noqa: E402
from engine.server.router import Server, ServerConfig  # noqa: E402
from engine.server.stylize_request import Limits  # noqa: E402

PRESETS = ("wave", "mosaic", "udnie")
MARGINS = {"arbitrary": 64, "preset": 32, "optimize": 128}


@dataclass(frozen=True)
class FakePreset:
    index: int
    name: str
    label: str


@dataclass
class Call:
    """What one ``stylize`` call saw and how it ended."""

    tag: float  # content[0, 0, 0]: tells the calls of a test apart
    kwargs: Dict[str, Any]
    steps: int = 0
    outcome: str = "running"  # running | done | cancelled


@dataclass
class FakeStylizer:
    """Inverts the content in ``steps`` steps of ``step_s`` seconds, honouring mask, progress and cancel.

    Like ``engine.Stylizer``: same dtype and channels out, alpha copied, pixels where the mask is 0 unchanged.
    """

    steps: int = 3
    step_s: float = 0.0
    preview: bool = False
    device: str = "cpu"
    calls: List[Call] = field(default_factory=list)

    def presets(self) -> List[FakePreset]:
        return [FakePreset(i, name, name.title()) for i, name in enumerate(PRESETS)]

    def preset_thumbnail(self, name: str, size: int) -> np.ndarray:
        return np.full((size, size, 3), PRESETS.index(name) * 40, np.uint8)

    def context_margin(self, method: str) -> int:
        return MARGINS[method]

    def stylize(self, content: np.ndarray, *, progress: Any, cancel: Any, **kwargs: Any) -> np.ndarray:
        for style in kwargs["style"]:
            if isinstance(style, str) and style[len("preset:"):] not in PRESETS:
                raise BadInput(f"unknown preset {style!r}", "pick one of the engine's styles")
        if kwargs["method"] not in (None, *MARGINS):
            raise BadInput(f"unknown method {kwargs['method']!r}", "use arbitrary, preset or optimize")
        if kwargs["options"].get("explode"):
            raise RuntimeError("the fake stylizer exploded")
        call = Call(float(content[0, 0, 0]), kwargs)
        self.calls.append(call)
        meter = ProgressMeter(total=self.steps, stage="stylize", cancel=cancel, callback=progress)
        try:
            for _ in range(self.steps):
                time.sleep(self.step_s)
                call.steps += 1
                meter.step(preview=np.zeros((4, 4, 3), np.uint8) if self.preview else None)
        except BaseException:
            call.outcome = "cancelled"
            raise
        call.outcome = "done"
        return composite(content, invert(content), kwargs["mask"], kwargs["invert_mask"])


def invert(pixels: np.ndarray) -> np.ndarray:
    """The negative of RGB(A) pixels, alpha kept."""
    top = np.iinfo(pixels.dtype).max if pixels.dtype.kind == "u" else 1.0
    out = pixels.copy()
    out[..., :3] = top - pixels[..., :3]
    return out


def composite(content: np.ndarray, styled: np.ndarray, mask: Optional[np.ndarray], invert_mask: bool) -> np.ndarray:
    """``styled`` where the mask is on, ``content`` (bit-exact) where it is 0."""
    if mask is None:
        return styled
    keep = (mask > 0) if not invert_mask else (mask < 1)
    return np.where(keep[..., None], styled, content)


@contextlib.contextmanager
def running_server(tmp_path: Path, stylizer: Optional[FakeStylizer] = None, **config: Any) -> Iterator[Server]:
    """A server on an ipc socket in ``tmp_path``, serving in a thread until the block ends."""
    fake = stylizer or FakeStylizer()
    config.setdefault("endpoint", f"ipc://{tmp_path}/engine-{time.monotonic_ns()}.sock")
    server = Server(ServerConfig(**config), lambda: fake)
    thread = threading.Thread(target=server.serve, name="test-server", daemon=True)
    thread.start()
    try:
        server.wait_ready(10.0)
        yield server
    finally:
        server.stop()
        thread.join(10.0)
        assert not thread.is_alive(), "the server did not stop"


class RawClient:
    """A bare DEALER socket that speaks protocol v1, for tests that need exact control over messages."""

    def __init__(self, endpoint: str, identity: Optional[bytes] = None) -> None:
        self.ctx = zmq.Context()
        self.sock = self.ctx.socket(zmq.DEALER)
        self.sock.setsockopt(zmq.LINGER, 0)
        if identity:
            self.sock.setsockopt(zmq.ROUTING_ID, identity)
        self.sock.connect(endpoint)

    def send(self, msg_type: str, msg_id: Optional[str], fields: Optional[dict] = None,
             frames: List[Frame] = ()) -> None:
        self.sock.send_multipart(serialize(msg_type, msg_id, fields, frames), copy=False)

    def send_parts(self, parts: List[bytes]) -> None:
        self.sock.send_multipart(parts)

    def receive(self, timeout_s: float = 5.0) -> Message:
        if not self.sock.poll(int(timeout_s * 1000)):
            raise AssertionError(f"no message from the engine within {timeout_s} s")
        return deserialize(self.sock.recv_multipart(copy=False), ENGINE_TYPES)

    def until(self, msg_id: str, types: tuple = ("result", "error"), timeout_s: float = 10.0) -> List[Message]:
        """Messages about ``msg_id`` up to and including the first of ``types``."""
        seen: List[Message] = []
        deadline = time.monotonic() + timeout_s
        while True:
            msg = self.receive(max(0.01, deadline - time.monotonic()))
            if msg.id == msg_id:
                seen.append(msg)
                if msg.type in types:
                    return seen

    def close(self) -> None:
        self.sock.close()
        self.ctx.term()

    def __enter__(self) -> "RawClient":
        return self

    def __exit__(self, *exc: Any) -> None:
        self.close()


def image_frame(name: str, pixels: np.ndarray) -> Frame:
    """A frame of a numpy image (made contiguous)."""
    pixels = np.ascontiguousarray(pixels)
    return Frame(name, tuple(pixels.shape), pixels.dtype.name, pixels.tobytes())


def stylize_fields(preset: str = "wave", **options: Any) -> dict:
    return {"styles": [{"preset": preset, "weight": 1.0}], "options": options}


@contextlib.contextmanager
def server_process(tmp_path: Path, *args: str) -> Iterator[subprocess.Popen]:
    """This script serving the fake stylizer in a child process, ready once its discovery file exists.

    Its log goes to ``tmp_path / "engine.stderr"``.
    """
    discovery = tmp_path / "engine.json"
    log = tmp_path / "engine.stderr"
    with open(log, "ab") as err:
        proc = subprocess.Popen([sys.executable, __file__, "--discovery-file", str(discovery), *args],
                                cwd=str(ROOT), stderr=err)
    try:
        deadline = time.monotonic() + 30
        while not discovery.exists():
            if proc.poll() is not None or time.monotonic() > deadline:
                raise AssertionError(f"the test engine did not start: {log.read_text()}")
            time.sleep(0.05)
        yield proc
    finally:
        if proc.poll() is None:
            proc.kill()
        proc.wait(10)


def rss_bytes(pid: int) -> int:
    """Resident memory of a process (Linux)."""
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) * 1024
    raise AssertionError("no VmRSS line")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--endpoint", required=True)
    parser.add_argument("--discovery-file", type=Path, required=True)
    parser.add_argument("--steps", type=int, default=3)
    parser.add_argument("--step-s", type=float, default=0.0)
    parser.add_argument("--client-timeout", type=float, default=10.0)
    parser.add_argument("--max-queue", type=int, default=8)
    parser.add_argument("--shared-memory", type=Path)
    args = parser.parse_args()
    logging.basicConfig(level=logging.WARNING, format="%(levelname)s %(name)s: %(message)s")
    server = Server(ServerConfig(endpoint=args.endpoint, discovery_file=args.discovery_file,
                                 client_timeout_s=args.client_timeout, max_queue=args.max_queue,
                                 shared_memory=args.shared_memory,
                                 limits=Limits(max_side=4096, max_pixels=4096 * 4096)),
                    lambda: FakeStylizer(steps=args.steps, step_s=args.step_s))
    server.serve()


if __name__ == "__main__":
    main()
